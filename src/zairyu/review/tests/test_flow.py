"""An application taken to its end through the officers' pages, with the filer's pages beside:
the F-06 state the filer sees at each step, the e-mails (each once), the registry (changed only
when the card is issued)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.constants import OfficerRole
from zairyu.applications.constants import ApplicationState
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.core.models import AuditEvent
from zairyu.notifications.models import OutboundEmail
from zairyu.registry.models import Resident
from zairyu.review.models import Decision, DocumentRequest, InvalidatedCard, Issue, Payment
from zairyu.review.services import postal_reminders_send
from zairyu.review.tests.factories import filer, officer, pdf_upload, submitted

pytestmark = pytest.mark.django_db

S = ApplicationState


def shown_state(client, application) -> str:
    """The F-06 state the filer's detail page shows."""
    page = client.get(f"/applications/{application.public_id}/")
    assert page.status_code == 200
    return page.context["application"].state


def emails(kind: str) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(kind=kind))


def test_an_extension_with_p6_and_p7_goes_from_submitted_to_complete_by_post(
    django_capture_on_commit_callbacks,
):
    scrivener = filer(email="scrivener@example.com")
    application = submitted(procedure="P3", add_ons=("P6", "P7"), by=scrivener, method="post")
    resident = application.applicant_resident
    registry_before = Resident.objects.filter(pk=resident.pk).values().get()
    applicant = signed_in_client(scrivener)
    desk = signed_in_client(officer("tokyo"))
    base = f"/staff/review/applications/{application.pk}"
    assert shown_state(applicant, application) == S.SUBMITTED

    queue = desk.get("/staff/review/?queue=submitted")
    assert [a.pk for a in queue.context["page"].object_list] == [application.pk]
    assert desk.get("/staff/").context["application_queue"]["submitted"] == 1
    page = desk.get(f"{base}/")
    assert page.status_code == 200 and page.context["can_take_up"]
    assert page.context["crosscheck"].ok and resident.card_number in page.content.decode()

    assert desk.post(f"{base}/take-up/").status_code == 302
    assert shown_state(applicant, application) == S.UNDER_REVIEW

    deadline = clock.today() + dt.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"{base}/request-documents/",
            {"message": "The latest tax certificate, please.", "deadline": deadline.isoformat()},
        )
    assert response.status_code == 302
    assert shown_state(applicant, application) == S.UNDER_REVIEW  # and waiting for documents:
    detail = applicant.get(f"/applications/{application.public_id}/").content.decode()
    assert "The latest tax certificate, please." in detail and deadline.isoformat() in detail
    manage = applicant.get(f"/applications/{application.public_id}/manage/").content.decode()
    assert "The latest tax certificate, please." in manage
    (mail,) = emails("review_documents_requested")
    assert mail.to == "scrivener@example.com" and "The latest tax certificate, please." in mail.body
    assert [a.pk for a in desk.get("/staff/review/?queue=waiting_documents").context["page"].object_list] == [
        application.pk
    ]
    assert not desk.get("/staff/review/?queue=under_review").context["page"].object_list

    response = applicant.post(
        f"/applications/{application.public_id}/manage/",
        {
            "action": "document",
            "document_type": "tax_certificate",
            "file": pdf_upload("tax.pdf"),
            "declared": "on",
        },
    )
    assert response.status_code == 302
    request = DocumentRequest.objects.get()
    assert request.state == "answered" and request.answer.document.original_name == "tax.pdf"
    assert [a.pk for a in desk.get("/staff/review/?queue=under_review").context["page"].object_list] == [
        application.pk
    ]
    assert "tax.pdf" in desk.get(f"{base}/").content.decode()

    expiry = clock.today() + dt.timedelta(days=3 * 365)
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post(
            f"{base}/decide/",
            {
                "outcome": "permit",
                "status": "engineer_humanities",
                "period_of_stay": "3y",
                "stay_expires_on": expiry.isoformat(),
                "P6_outcome": "permit",
                "P6_reentry_kind": "multiple",
                "P7_outcome": "deny",
                "P7_reason": "The planned activity is full-time work.",
            },
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert shown_state(applicant, application) == S.AWAITING_ISSUE
    decision = Decision.objects.get(application=application)
    assert (
        decision.period_of_stay == "3Y" and decision.fee_yen == 5500 + 6500
    )  # extension + multiple re-entry
    assert {row.procedure: row.outcome for row in decision.add_ons.all()} == {"P6": "permit", "P7": "deny"}
    (complete,) = emails("review_complete")
    assert "14 days" in complete.body and "current residence card" in complete.body
    assert "The planned activity is full-time work." in complete.body
    assert Resident.objects.filter(pk=resident.pk).values().get() == registry_before  # not yet

    # Everything must arrive before the card is posted.
    response = desk.post(f"{base}/issue-post/", {"tracking_number": "JP123456789"}, follow=True)
    assert "Still missing" in response.content.decode()
    assert desk.post(f"{base}/postal-items/", {"envelope": "on", "card": "on"}).status_code == 302
    assert desk.post(f"{base}/postal-items/", {"fee_form": "on"}).status_code == 302
    assert Payment.objects.get(application=application).method == "revenue_stamps"
    with django_capture_on_commit_callbacks(execute=True):
        assert desk.post(f"{base}/issue-post/", {"tracking_number": "JP123456789"}).status_code == 302
    assert shown_state(applicant, application) == S.COMPLETE
    resident.refresh_from_db()
    issue = Issue.objects.get(application=application)
    assert resident.card_number == issue.new_card_number != registry_before["card_number"]
    assert resident.status == "engineer_humanities" and resident.period_of_stay == "3Y"
    assert resident.stay_expires_on == expiry == resident.card_expires_on
    assert InvalidatedCard.objects.get().card_number == registry_before["card_number"]
    (posted,) = emails("review_card_issued")
    assert "JP123456789" in posted.body and resident.card_number in posted.body
    detail = applicant.get(f"/applications/{application.public_id}/").content.decode()
    assert "JP123456789" in detail and "Complete" in detail

    history = [(e.action, e.to_state) for e in application.events.all()]
    assert history == [
        ("taken_up", "under_review"),
        ("documents_requested", "under_review"),
        ("document_added", "under_review"),
        ("documents_request_answered", "under_review"),
        ("decided", "awaiting_issue"),
        ("postal_items_received", "awaiting_issue"),
        ("postal_items_received", "awaiting_issue"),
        ("issued_by_post", "complete"),
    ]
    actions = set(AuditEvent.objects.filter(action__startswith="review.").values_list("action", flat=True))
    assert {
        "review.taken_up",
        "review.documents_requested",
        "review.decided",
        "review.issued_by_post",
    } <= actions
    assert AuditEvent.objects.filter(action="review.decided", actor_kind="officer").exists()


def test_a_window_receipt_is_complete_at_the_decision_and_the_registry_changes_at_the_hand_over(
    django_capture_on_commit_callbacks,
):
    application = submitted(procedure="P3", method="window")
    before = application.applicant_resident.card_number
    desk = signed_in_client(officer("tokyo"))
    base = f"/staff/review/applications/{application.pk}"
    desk.post(f"{base}/take-up/")
    expiry = clock.today() + dt.timedelta(days=365)
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(
            f"{base}/decide/",
            {
                "outcome": "permit",
                "status": "engineer_humanities",
                "period_of_stay": "1Y",
                "stay_expires_on": expiry,
            },
        )
    application.refresh_from_db()
    assert application.state == S.COMPLETE
    (mail,) = emails("review_complete")
    assert "bureau window" in mail.body and "passport" in mail.body
    assert Resident.objects.get(pk=application.applicant_resident_id).card_number == before
    assert [a.pk for a in desk.get("/staff/review/?queue=window").context["page"].object_list] == [
        application.pk
    ]
    assert desk.post(f"{base}/issue-window/", {}).status_code == 400  # the fee is not paid yet
    assert desk.post(f"{base}/issue-window/", {"fee_stamps_received": "on"}).status_code == 302
    resident = Resident.objects.get(pk=application.applicant_resident_id)
    assert resident.card_number != before and resident.stay_expires_on == expiry
    assert not desk.get("/staff/review/?queue=window").context["page"].object_list
    assert OutboundEmail.objects.filter(kind="review_card_issued").count() == 0  # handed over in person


def test_a_short_period_is_a_passport_stamp_at_the_window_even_if_post_was_chosen():
    application = submitted(procedure="P3", method="post")
    desk = signed_in_client(officer("tokyo"))
    base = f"/staff/review/applications/{application.pk}"
    desk.post(f"{base}/take-up/")
    desk.post(
        f"{base}/decide/",
        {
            "outcome": "permit",
            "status": "engineer_humanities",
            "period_of_stay": "3M",
            "stay_expires_on": clock.today() + dt.timedelta(days=90),
        },
    )
    issue = Issue.objects.get(application=application)
    application.refresh_from_db()
    assert (issue.kind, issue.method, application.state) == ("passport_stamp", "window", S.COMPLETE)
    card = application.applicant_resident.card_number
    desk.post(f"{base}/issue-window/", {"fee_stamps_received": "on"})
    resident = Resident.objects.get(pk=application.applicant_resident_id)
    assert resident.card_number == card and resident.period_of_stay == "3M"  # no new card: a stamp


def test_a_denial_is_complete_and_emails_the_reason(django_capture_on_commit_callbacks):
    application = submitted(procedure="P2", status="engineer_humanities", add_ons=("P7",))
    desk = signed_in_client(officer("tokyo"))
    base = f"/staff/review/applications/{application.pk}"
    desk.post(f"{base}/take-up/")
    assert desk.post(f"{base}/decide/", {"outcome": "deny"}).status_code == 400  # a reason is needed
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"{base}/decide/", {"outcome": "deny", "reason": "The employer could not be confirmed."})
    application.refresh_from_db()
    decision = Decision.objects.get(application=application)
    assert application.state == S.COMPLETE and decision.fee_yen == 0
    assert decision.add_ons.get().outcome == "deny"  # an add-on falls with the main application
    (mail,) = emails("review_decision")
    assert "denied" in mail.body and "The employer could not be confirmed." in mail.body
    assert not Issue.objects.exists()


def test_after_14_days_without_the_documents_the_filer_is_reminded_once(django_capture_on_commit_callbacks):
    application = submitted(procedure="P3", method="post")
    tokyo = officer("tokyo")
    desk = signed_in_client(tokyo)
    base = f"/staff/review/applications/{application.pk}"
    desk.post(f"{base}/take-up/")
    desk.post(
        f"{base}/decide/",
        {
            "outcome": "permit",
            "status": "engineer_humanities",
            "period_of_stay": "1Y",
            "stay_expires_on": clock.today() + dt.timedelta(days=365),
        },
    )
    response = desk.post(f"{base}/remind/", follow=True)
    assert "has until" in response.content.decode()  # not yet: 14 days
    assert postal_reminders_send() == 0
    with time_machine.travel(clock.now() + dt.timedelta(days=15)):
        desk = signed_in_client(tokyo)  # a new working day, a new sign-in
        with django_capture_on_commit_callbacks(execute=True):
            assert desk.post(f"{base}/remind/").status_code == 302
            assert postal_reminders_send() == 0  # already reminded
        assert "already reminded" in desk.post(f"{base}/remind/", follow=True).content.decode()
    (mail,) = emails("review_post_reminder")
    assert "current residence card" in mail.body and "envelope" in mail.body.lower()


def test_the_job_reminds_every_overdue_filer_once(django_capture_on_commit_callbacks):
    applications = [submitted(procedure="P3", method="post") for _ in range(2)]
    desk = officer("tokyo")
    from zairyu.review import services

    for application in applications:
        services.application_take_up(application_id=application.pk, officer=desk)
        services.application_decide(
            application_id=application.pk,
            officer=desk,
            outcome="permit",
            status="engineer_humanities",
            period_of_stay="1Y",
            stay_expires_on=clock.today() + dt.timedelta(days=365),
        )
    services.postal_items_record(
        application_id=applications[0].pk, officer=desk, envelope=True, card=True, fee_form=True
    )
    with time_machine.travel(clock.now() + dt.timedelta(days=15)):
        assert postal_reminders_send() == 1  # the second only: the first sent everything
        assert postal_reminders_send() == 0
    assert OutboundEmail.objects.filter(kind="review_post_reminder").count() == 1


def test_the_filer_pays_online_instead_of_revenue_stamps():
    scrivener = filer()
    application = submitted(procedure="P3", method="post", by=scrivener)
    desk = officer("tokyo")
    from zairyu.review import services

    services.application_take_up(application_id=application.pk, officer=desk)
    services.application_decide(
        application_id=application.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    client = signed_in_client(scrivener)
    detail = client.get(f"/applications/{application.public_id}/").content.decode()
    assert f"/public/applications/{application.public_id}/pay/" in detail
    assert client.get(f"/public/applications/{application.public_id}/pay/").status_code == 200
    assert (
        signed_in_client(filer()).get(f"/public/applications/{application.public_id}/pay/").status_code == 404
    )
    assert client.post(f"/public/applications/{application.public_id}/pay/").status_code == 302
    payment = Payment.objects.get()
    assert (
        payment.method == "electronic"
        and payment.receipt_id.startswith("DEMO-")
        and payment.amount_yen == 5500
    )
    client.post(f"/public/applications/{application.public_id}/pay/")
    assert Payment.objects.count() == 1
    services.postal_items_record(application_id=application.pk, officer=desk, envelope=True, card=True)
    services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    application.refresh_from_db()
    assert application.state == S.COMPLETE


def test_a_supervisor_reassigns_and_only_the_assignee_or_a_supervisor_works_on_it():
    application = submitted()
    first, second = officer("tokyo"), officer("tokyo")
    supervisor = officer("tokyo", role=OfficerRole.SUPERVISOR)
    signed_in_client(first).post(f"/staff/review/applications/{application.pk}/take-up/")
    base = f"/staff/review/applications/{application.pk}"
    response = signed_in_client(second).post(
        f"{base}/request-documents/",
        {"message": "x", "deadline": clock.today() + dt.timedelta(days=5)},
        follow=True,
    )
    assert "assigned to" in response.content.decode() and not DocumentRequest.objects.exists()
    assert signed_in_client(second).post(f"{base}/assign/", {"assignee": second.pk}).status_code == 302
    assert (
        application.assignment.__class__.objects.get(application=application).officer == first
    )  # not a supervisor
    assert signed_in_client(supervisor).post(f"{base}/assign/", {"assignee": second.pk}).status_code == 302
    other_office = officer("osaka")
    assert (
        signed_in_client(supervisor).post(f"{base}/assign/", {"assignee": other_office.pk}).status_code == 400
    )
    mine = signed_in_client(second).get("/staff/review/?queue=under_review&assignee=me")
    assert [a.pk for a in mine.context["page"].object_list] == [application.pk]
    assert (
        not signed_in_client(first)
        .get("/staff/review/?queue=under_review&assignee=me")
        .context["page"]
        .object_list
    )
