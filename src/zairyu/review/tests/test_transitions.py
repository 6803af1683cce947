"""Every transition refuses from a wrong state and changes nothing; two officers deciding at once
make one decision; requests of the filer and receipt errors; every e-mail is queued once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from zairyu.accounts.constants import OfficerRole
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application, ApplicationEvent
from zairyu.applications.services import application_request, receipt_numbers_retry
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail
from zairyu.review import services
from zairyu.review.models import Decision, DocumentRequest, Issue, Payment
from zairyu.review.tests.factories import officer, submitted

pytestmark = pytest.mark.django_db

S = ApplicationState
RECEIVED_STATES = [S.SUBMITTED, S.UNDER_REVIEW, S.AWAITING_ISSUE, S.COMPLETE, S.ERROR_RECEIPT, S.WITHDRAWN]
LATER = dt.timedelta(days=365)


def _decide(application_id, desk, **fields):
    values = {
        "outcome": "permit",
        "status": "engineer_humanities",
        "period_of_stay": "1Y",
        "stay_expires_on": clock.today() + LATER,
    }
    values.update(fields)
    return services.application_decide(application_id=application_id, officer=desk, **values)


TRANSITIONS = {
    # name: (allowed states, call)
    "take_up": ({S.SUBMITTED}, lambda a, d: services.application_take_up(application_id=a.pk, officer=d)),
    "documents_request": (
        {S.UNDER_REVIEW},
        lambda a, d: services.documents_request(
            application_id=a.pk, officer=d, message="More.", deadline=clock.today() + dt.timedelta(days=7)
        ),
    ),
    "decide": ({S.UNDER_REVIEW}, lambda a, d: _decide(a.pk, d)),
    "postal_items_record": (
        {S.AWAITING_ISSUE},
        lambda a, d: services.postal_items_record(application_id=a.pk, officer=d, envelope=True),
    ),
    "postal_reminder_send": (
        {S.AWAITING_ISSUE},
        lambda a, d: services.postal_reminder_send(application_id=a.pk, officer=d),
    ),
    "issue_by_post": (
        {S.AWAITING_ISSUE},
        lambda a, d: services.issue_by_post(application_id=a.pk, officer=d, tracking_number="JP1"),
    ),
    "issue_at_window": (
        {S.COMPLETE},
        lambda a, d: services.issue_at_window(application_id=a.pk, officer=d, fee_stamps_received=True),
    ),
    "put_back": (
        {S.ERROR_RECEIPT},
        lambda a, d: services.application_put_back(application_id=a.pk, officer=d),
    ),
    "assign": (
        {S.SUBMITTED, S.UNDER_REVIEW, S.AWAITING_ISSUE, S.ERROR_RECEIPT},
        lambda a, d: services.application_assign(application_id=a.pk, officer=d, assignee_id=d.pk),
    ),
}


def _in_state(state: str) -> Application:
    return submitted(state=state)


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_every_transition_refuses_from_a_wrong_state_and_changes_nothing(name):
    allowed, call = TRANSITIONS[name]
    desk = officer("tokyo", role=OfficerRole.SUPERVISOR)
    for state in RECEIVED_STATES:
        if state in allowed:
            continue
        application = _in_state(state)
        events = ApplicationEvent.objects.count()
        with pytest.raises(services.ReviewRefused) as refused:
            call(application, desk)
        assert refused.value.code == "wrong_state", (name, state, refused.value.code)
        application.refresh_from_db()
        assert application.state == state and ApplicationEvent.objects.count() == events
    assert (
        not Decision.objects.exists() and not DocumentRequest.objects.exists() and not Issue.objects.exists()
    )


def test_a_draft_was_never_received_and_does_not_exist_for_officers():
    application = submitted()
    Application.objects.filter(pk=application.pk).update(state=S.DRAFT, submitted_at=None, office="tokyo")
    with pytest.raises(services.ReviewRefused) as refused:
        services.application_take_up(application_id=application.pk, officer=officer("tokyo"))
    assert refused.value.code == "not_found"
    assert (
        signed_in_client(officer("tokyo")).get(f"/staff/review/applications/{application.pk}/").status_code
        == 404
    )


def test_an_issue_can_be_done_once_and_a_decision_taken_once():
    application = submitted(method="post")
    desk = officer("tokyo")
    services.application_take_up(application_id=application.pk, officer=desk)
    _decide(application.pk, desk)
    with pytest.raises(services.ReviewRefused):
        _decide(application.pk, desk)
    services.postal_items_record(
        application_id=application.pk, officer=desk, envelope=True, fee_form=True, card=True
    )
    with pytest.raises(services.ReviewRefused) as refused:
        services.postal_items_record(application_id=application.pk, officer=desk, envelope=True)
    assert refused.value.code == "nothing_recorded"
    services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    with pytest.raises(services.ReviewRefused) as refused:
        services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP2")
    assert refused.value.code == "wrong_state"
    assert Payment.objects.count() == 1 and Decision.objects.count() == 1


def test_two_officers_deciding_one_after_the_other_make_one_decision():
    application = submitted()
    assignee = officer("tokyo")
    supervisor = officer("tokyo", role=OfficerRole.SUPERVISOR)
    services.application_take_up(application_id=application.pk, officer=assignee)
    _decide(application.pk, assignee)
    with pytest.raises(services.ReviewRefused) as refused:
        services.application_decide(
            application_id=application.pk, officer=supervisor, outcome="deny", reason="No."
        )
    assert refused.value.code == "wrong_state"
    assert Decision.objects.get().outcome == "permit"
    response = signed_in_client(supervisor).post(
        f"/staff/review/applications/{application.pk}/decide/",
        {"outcome": "deny", "reason": "No."},
        follow=True,
    )
    assert "nothing was changed" in response.content.decode()
    assert (
        Decision.objects.count() == 1
        and OutboundEmail.objects.filter(kind__startswith="review_").count() == 1
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_deciding_at_the_same_moment_make_one_decision(postgres_only):
    application = submitted()
    assignee = officer("tokyo")
    supervisor = officer("tokyo", role=OfficerRole.SUPERVISOR)
    services.application_take_up(application_id=application.pk, officer=assignee)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(who, outcome):
        try:
            barrier.wait()
            if outcome == "permit":
                _decide(application.pk, who)
            else:
                services.application_decide(
                    application_id=application.pk, officer=who, outcome="deny", reason="No."
                )
            outcomes.append(outcome)
        except services.ReviewRefused as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(assignee, "permit")),
        threading.Thread(target=decide, args=(supervisor, "deny")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["deny", "wrong_state"], ["permit", "wrong_state"])
    decision = Decision.objects.get()
    assert decision.outcome in outcomes
    assert ApplicationEvent.objects.filter(action="decided").count() == 1
    assert OutboundEmail.objects.filter(kind__in=["review_complete", "review_decision"]).count() == 1


def test_a_withdrawal_accepted_withdraws_and_a_correction_is_noted(django_capture_on_commit_callbacks):
    application = submitted()
    desk = officer("tokyo")
    services.application_take_up(application_id=application.pk, officer=desk)
    services.documents_request(
        application_id=application.pk,
        officer=desk,
        message="x",
        deadline=clock.today() + dt.timedelta(days=3),
    )
    correction = application_request(
        application=application, user=application.filer, kind="correction", message="Salary."
    )
    withdrawal = application_request(
        application=application, user=application.filer, kind="withdrawal", message="Moving."
    )
    client = signed_in_client(desk)
    assert (
        client.post(
            f"/staff/review/requests/{correction.pk}/decline/", {f"decline-{correction.pk}-reason": ""}
        ).status_code
        == 400
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/staff/review/requests/{correction.pk}/accept/").status_code == 302
    application.refresh_from_db()
    assert application.state == S.UNDER_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/staff/review/requests/{withdrawal.pk}/accept/").status_code == 302
    application.refresh_from_db()
    assert application.state == S.WITHDRAWN
    assert DocumentRequest.objects.get().state == "closed"
    assert OutboundEmail.objects.filter(kind="review_request_result").count() == 2
    with pytest.raises(services.ReviewRefused) as refused:
        services.application_request_accept(request_id=withdrawal.pk, officer=desk)
    assert refused.value.code == "already_decided"


def test_a_declined_request_emails_the_reason_and_leaves_the_application(django_capture_on_commit_callbacks):
    application = submitted()
    request = application_request(
        application=application, user=application.filer, kind="withdrawal", message="x"
    )
    client = signed_in_client(officer("tokyo"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/staff/review/requests/{request.pk}/decline/",
            {f"decline-{request.pk}-reason": "Call us first."},
        )
    assert response.status_code == 302
    request.refresh_from_db()
    application.refresh_from_db()
    assert request.state == "declined" and application.state == S.SUBMITTED
    assert "Call us first." in OutboundEmail.objects.get(kind="review_request_result").body
    assert [r.pk for r in client.get("/staff/review/?queue=requests").context["page"].object_list] == []


def test_a_receipt_error_is_put_back_and_the_receipt_email_goes_once(django_capture_on_commit_callbacks):
    application = submitted(state=S.ERROR_RECEIPT)
    client = signed_in_client(officer("tokyo"))
    assert [a.pk for a in client.get("/staff/review/?queue=receipt_errors").context["page"].object_list] == [
        application.pk
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/staff/review/applications/{application.pk}/put-back/").status_code == 302
        assert receipt_numbers_retry() == 0  # the job finds nothing left to do
    application.refresh_from_db()
    assert application.state == S.SUBMITTED and application.receipt_number.startswith("東オン-")
    assert OutboundEmail.objects.filter(kind="receipt_number").count() == 1


def test_every_email_of_a_full_run_is_queued_exactly_once(django_capture_on_commit_callbacks):
    """Each step is done, then attempted again (a double click, a retried job): the outbox holds
    one e-mail per event."""
    application = submitted(method="post", add_ons=("P6",))
    desk = officer("tokyo")
    with django_capture_on_commit_callbacks(execute=True):
        services.application_take_up(application_id=application.pk, officer=desk)
        services.documents_request(
            application_id=application.pk,
            officer=desk,
            message="x",
            deadline=clock.today() + dt.timedelta(days=3),
        )
        with pytest.raises(services.ReviewRefused):
            services.documents_request(
                application_id=application.pk,
                officer=desk,
                message="x",
                deadline=clock.today() + dt.timedelta(days=3),
            )
        _decide(
            application.pk,
            desk,
            add_ons={"P6": services.AddOnOutcome(outcome="permit", reentry_kind="single")},
        )
        with pytest.raises(services.ReviewRefused):
            _decide(application.pk, desk)
        services.postal_items_record(
            application_id=application.pk, officer=desk, envelope=True, fee_form=True, card=True
        )
        services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
        with pytest.raises(services.ReviewRefused):
            services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
        services.postal_reminders_send()
    kinds = list(
        OutboundEmail.objects.filter(kind__startswith="review_").order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["review_documents_requested", "review_complete", "review_card_issued"]
    keys = list(OutboundEmail.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) and all(keys)
    assert OutboundEmail.objects.filter(state="sent").count() == OutboundEmail.objects.count()


def test_the_validation_of_a_decision_names_the_fields():
    application = submitted(procedure="P2", add_ons=("P6", "P7"))
    desk = officer("tokyo")
    services.application_take_up(application_id=application.pk, officer=desk)
    with pytest.raises(services.ReviewRefused) as refused:
        services.application_decide(
            application_id=application.pk,
            officer=desk,
            outcome="permit",
            status="engineer_humanities",
            period_of_stay="7 years",
            stay_expires_on=clock.today() - dt.timedelta(days=1),
            add_ons={"P6": services.AddOnOutcome(outcome="deny")},
        )
    assert set(refused.value.errors) == {"period_of_stay", "stay_expires_on", "P6_reason", "P7_outcome"}
    page = signed_in_client(desk).post(
        f"/staff/review/applications/{application.pk}/decide/",
        {
            "outcome": "permit",
            "status": "engineer_humanities",
            "period_of_stay": "1Y",
            "stay_expires_on": (clock.today() + LATER).isoformat(),
            "P6_outcome": "permit",
            "P6_valid_until": (clock.today() + LATER + dt.timedelta(days=1)).isoformat(),
            "P7_outcome": "permit",
        },
    )
    assert page.status_code == 400 and "cannot outlast the period of stay" in page.content.decode()
    assert not Decision.objects.exists()
