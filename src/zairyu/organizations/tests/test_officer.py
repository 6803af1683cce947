"""The officers' review: the queue per office, checklists, approval (account, 30-day password
link, validity from the first password), refusal, one decision, isolation between offices,
attachments, and removing an approval."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection

from zairyu.accounts.constants import TokenPurpose, UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import AccountError, password_set_with_token
from zairyu.accounts.tests.conftest import PASSWORD, EnglishClient, link_from_last_email, path_of
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations import services
from zairyu.organizations.constants import FilingState, MembershipEnd
from zairyu.organizations.models import Enrolment, StaffMembership, UsageApplication
from zairyu.organizations.tests.conftest import signed_in
from zairyu.organizations.tests.factories import (
    EnrolmentFactory,
    file_usage_application,
    mandate,
    officer,
    pdf,
    staff_member,
    support_enrolment,
)
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db


def ticked(application_or_checklist) -> dict[str, str]:
    from zairyu.organizations.checklists import usage_application_checklist

    checklist = (
        application_or_checklist
        if isinstance(application_or_checklist, list)
        else usage_application_checklist(application_or_checklist)
    )
    return {f"check_{item.code}": "on" for item in checklist}


def test_the_queue_shows_the_offices_items_oldest_first_with_the_counts_on_the_officer_home():
    tokyo = officer("tokyo")
    with time_machine.travel(clock.now() - dt.timedelta(days=3)):
        older = file_usage_application(ReceivingOrganizationFactory(), email="a@example.com")
    newer = file_usage_application(ReceivingOrganizationFactory(), email="b@example.com")
    file_usage_application(ReceivingOrganizationFactory(prefecture="27"), email="c@example.com")
    client = signed_in(tokyo)
    page = client.get("/staff/organizations/")
    assert list(page.context["queues"]["new"]) == [older, newer]
    home = client.get("/staff/").content.decode()
    assert "2 usage applications waiting" in home and "/staff/organizations/" in home
    # Applicant-side users cannot open the officers' pages.
    assert signed_in(staff_member()).get("/staff/organizations/").status_code == 403


def test_approval_needs_every_criterion_ticked_and_creates_the_account_with_a_30_day_link(
    django_capture_on_commit_callbacks,
):
    application = file_usage_application(ReceivingOrganizationFactory(category=3))
    client = signed_in(officer())
    url = f"/staff/organizations/applications/{application.pk}/"
    page = client.get(url)
    codes = [item.code for item in page.context["checklist"]]
    assert {"registry", "category", "notifications", "category_3", "pledge", "agent", "removal"} <= set(codes)
    assert page.context["attachments"][0].document == application.supporting_document

    partial = ticked(application)
    partial.pop("check_notifications")
    response = client.post(f"{url}approve/", partial)
    assert response.status_code == 400 and "Confirm this criterion" in response.content.decode()
    application.refresh_from_db()
    assert application.state == FilingState.SUBMITTED and not User.objects.filter(kind="U5").exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{url}approve/", ticked(application))
    assert response.status_code == 302
    application.refresh_from_db()
    user = User.objects.get(kind="U5")
    assert application.state == FilingState.APPROVED and user.state == UserState.PENDING
    assert user.staff_membership.application == application and user.email == application.email
    enrolment = Enrolment.objects.get(organization=application.organization)
    assert enrolment.office == "tokyo" and enrolment.valid_until is None  # starts with the password
    email = OutboundEmail.objects.get(kind="org_application_approved")
    assert user.auth_id_display in email.body and "30 days" in email.body
    token = user.email_tokens.get(purpose=TokenPurpose.SET_PASSWORD)
    assert abs(token.expires_at - token.created_at - dt.timedelta(days=30)) < dt.timedelta(seconds=1)


def test_the_password_link_works_for_30_days_and_the_first_password_starts_the_validity(settings):
    settings.ORGANIZATION_USER_VALIDITY_DAYS = 3 * 365  # configurable: the 2026 system's 3 years
    enrolment = EnrolmentFactory(valid_until=None)
    first = file_usage_application(enrolment.organization, email="first@example.com")
    services.usage_application_approve(application_id=first.pk, officer=officer())
    link = path_of(link_from_last_email("org_application_approved", to="first@example.com"))
    token = link.rstrip("/").split("/")[-1]

    with time_machine.travel(clock.now() + dt.timedelta(days=30, minutes=1)):
        assert EnglishClient().get(link).status_code == 410
        with pytest.raises(AccountError):
            password_set_with_token(raw_token=token, password=PASSWORD)

    later = clock.today() + dt.timedelta(days=29)
    with time_machine.travel(clock.start_of_day(later) + dt.timedelta(hours=10)):
        response = EnglishClient().post(link, {"password": PASSWORD, "password_again": PASSWORD})
        assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/"
    user = User.objects.get(email="first@example.com")
    enrolment.refresh_from_db()
    assert user.state == UserState.ACTIVE
    assert enrolment.valid_until == services.add_years(later, 3) == user.valid_until

    # A colleague approved later takes the organization's validity, it does not start a new one.
    second = services.additional_application_submit(
        filer=user,
        staff=services.StaffDetails(
            full_name="ITO AIKO", email="aiko@example.com", qualification_facts="Trained."
        ),
        pledge=True,
        supporting_document=pdf(),
    )
    colleague = services.usage_application_approve(application_id=second.pk, officer=officer())
    assert colleague.valid_until == enrolment.valid_until
    raw = link_from_last_email("org_application_approved", to="aiko@example.com").rstrip("/").split("/")[-1]
    password_set_with_token(raw_token=raw, password=PASSWORD)
    colleague.refresh_from_db()
    enrolment.refresh_from_db()
    assert colleague.valid_until == enrolment.valid_until == services.add_years(later, 3)


def test_refusal_needs_a_reason_which_is_emailed_to_the_staff_member_and_the_filer():
    enrolment = EnrolmentFactory()
    filer = staff_member(enrolment, email="filer@example.com")
    application = services.additional_application_submit(
        filer=filer,
        staff=services.StaffDetails(
            full_name="ITO AIKO", email="aiko@example.com", qualification_facts="Trained."
        ),
        pledge=True,
        supporting_document=pdf(),
    )
    client = signed_in(officer())
    url = f"/staff/organizations/applications/{application.pk}/"
    assert client.post(f"{url}refuse/", {"reason": "   "}).status_code == 400
    response = client.post(f"{url}refuse/", {"reason": "The training certificate is missing."})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == FilingState.REFUSED
    for to in ("aiko@example.com", "filer@example.com"):
        email = OutboundEmail.objects.get(kind="org_application_refused", to=to)
        assert "The training certificate is missing." in email.body
    assert not User.objects.filter(email="aiko@example.com").exists()


def test_two_decisions_on_one_filing_make_one():
    application = file_usage_application(ReceivingOrganizationFactory())
    first, second = officer(), officer()
    services.usage_application_approve(application_id=application.pk, officer=first)
    with pytest.raises(services.OrganizationError) as refused:
        services.usage_application_refuse(application_id=application.pk, officer=second, reason="No.")
    assert refused.value.code == "already_decided"
    with pytest.raises(services.OrganizationError):
        services.usage_application_approve(application_id=application.pk, officer=second)
    assert User.objects.filter(kind="U5").count() == 1
    assert (
        OutboundEmail.objects.filter(kind__startswith="org_application_")
        .exclude(kind="org_application_received")
        .count()
        == 1
    )
    # Through the page, the second officer is told and nothing changes.
    response = signed_in(second).post(
        f"/staff/organizations/applications/{application.pk}/approve/", ticked(application), follow=True
    )
    assert "already decided" in response.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_approving_at_the_same_moment_make_one_decision(postgres_only):
    application = file_usage_application(ReceivingOrganizationFactory())
    officers = [officer(), officer()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(who):
        try:
            barrier.wait()
            services.usage_application_approve(application_id=application.pk, officer=who)
            outcomes.append("approved")
        except services.OrganizationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(who,)) for who in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already_decided", "approved"]
    assert User.objects.filter(kind="U5").count() == 1


def _every_officer_url(objects) -> list[tuple[str, str]]:
    application, report, change, enrolment, membership, document = objects
    return [
        ("get", f"/staff/organizations/applications/{application.pk}/"),
        ("post", f"/staff/organizations/applications/{application.pk}/approve/"),
        ("post", f"/staff/organizations/applications/{application.pk}/refuse/"),
        ("get", f"/staff/organizations/reports/{report.pk}/"),
        ("post", f"/staff/organizations/reports/{report.pk}/approve/"),
        ("post", f"/staff/organizations/reports/{report.pk}/refuse/"),
        ("get", f"/staff/organizations/changes/{change.pk}/"),
        ("post", f"/staff/organizations/changes/{change.pk}/approve/"),
        ("post", f"/staff/organizations/changes/{change.pk}/refuse/"),
        ("get", f"/staff/organizations/organizations/{enrolment.pk}/"),
        ("post", f"/staff/organizations/staff/{membership.pk}/remove/"),
        ("get", f"/staff/organizations/documents/{document.pk}/"),
    ]


def _one_of_everything():
    enrolment = EnrolmentFactory(valid_until=clock.today() + dt.timedelta(days=30))
    member = staff_member(enrolment)
    application = services.additional_application_submit(
        filer=member,
        staff=services.StaffDetails(
            full_name="ITO AIKO", email="aiko@example.com", qualification_facts="Trained."
        ),
        pledge=True,
        supporting_document=pdf(),
    )
    report = services.periodic_report_submit(filer=member, staff_continuing=[], supporting_document=pdf())
    change = services.change_notification_submit(
        filer=member, kind="organization", new_name="NEW NAME K.K.", supporting_document=pdf()
    )
    return application, report, change, enrolment, member.staff_membership, application.supporting_document


def test_officers_of_another_office_get_404_for_every_object_and_nothing_changes():
    objects = _one_of_everything()
    osaka = signed_in(officer("osaka"))
    data = {"reason": "Not ours.", f"remove-{objects[4].pk}-reason": "Not ours."}
    for method, url in _every_officer_url(objects):
        response = getattr(osaka, method)(url, data)
        assert response.status_code == 404, url
    application, report, change, enrolment, membership, _document = objects
    for filing in (application, report, change):
        filing.refresh_from_db()
        assert filing.state == FilingState.SUBMITTED
    membership.refresh_from_db()
    assert membership.ended_at is None
    # The office's own officer can open every one of them.
    tokyo = signed_in(officer("tokyo"))
    for method, url in _every_officer_url(objects):
        if method == "get":
            assert tokyo.get(url).status_code == 200, url
    # Staff of the organization are not officers.
    staff = signed_in(membership.user)
    assert all(
        getattr(staff, method)(url).status_code in (302, 403) for method, url in _every_officer_url(objects)
    )


def test_attachments_are_served_to_the_office_and_the_organizations_own_staff_only():
    enrolment = support_enrolment()
    member = staff_member(enrolment)
    principal = ReceivingOrganizationFactory()
    change = services.change_notification_submit(
        filer=member,
        kind="mandate_added",
        new_mandates=[
            services.MandateUpload(principal.corporate_number, pdf("mandate.pdf"), pdf("pledge.pdf"))
        ],
    )
    document = change.new_mandates.get().mandate_document
    response = signed_in(officer("tokyo")).get(f"/staff/organizations/documents/{document.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"].startswith("inline")
        and response["X-Content-Type-Options"] == "nosniff"
    )
    b"".join(response.streaming_content)
    download = signed_in(member).get(f"/organizations/documents/{document.pk}/?download=1")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    b"".join(download.streaming_content)
    assert (
        signed_in(officer("osaka")).get(f"/staff/organizations/documents/{document.pk}/").status_code == 404
    )
    assert signed_in(staff_member()).get(f"/organizations/documents/{document.pk}/").status_code == 404
    # Even the receiving organization that gave the mandate does not see the support organization's files.
    principal_staff = staff_member(EnrolmentFactory(organization=principal))
    assert signed_in(principal_staff).get(f"/organizations/documents/{document.pk}/").status_code == 404


def test_removing_an_approval_needs_a_reason_and_sends_one_email_saying_until_when():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment, email="kenji@example.com")
    client = signed_in(officer())
    url = f"/staff/organizations/staff/{member.staff_membership.pk}/remove/"
    prefix = f"remove-{member.staff_membership.pk}"
    assert client.post(url, {f"{prefix}-reason": ""}).status_code == 400
    response = client.post(url, {f"{prefix}-reason": "Filed for another company's employees."})
    assert response.status_code == 302
    member.refresh_from_db()
    membership = StaffMembership.objects.get(user=member)
    assert member.state == UserState.REMOVED and membership.end_reason == MembershipEnd.BUREAU
    emails = OutboundEmail.objects.filter(to="kenji@example.com")
    assert list(emails.values_list("kind", flat=True)) == ["org_approval_removed"]
    assert services.add_years(clock.today(), 1).isoformat() in emails.get().body
    assert client.post(url, {f"{prefix}-reason": "Again."}).status_code == 404  # already removed


def test_a_mandate_is_active_only_once_approved_and_a_refused_one_never():
    enrolment = support_enrolment()
    member = staff_member(enrolment)
    mandate(enrolment)
    principal = ReceivingOrganizationFactory()
    upload = services.MandateUpload(principal.corporate_number, pdf(), pdf())
    change = services.change_notification_submit(filer=member, kind="mandate_added", new_mandates=[upload])
    from zairyu.organizations.access import organizations_in_scope

    assert principal not in organizations_in_scope(member)
    services.change_notification_refuse(
        change_id=change.pk, officer=officer(), reason="The pledge is unsigned."
    )
    assert principal not in organizations_in_scope(member)
    again = services.change_notification_submit(
        filer=member,
        kind="mandate_added",
        new_mandates=[services.MandateUpload(principal.corporate_number, pdf(), pdf())],
    )
    client = signed_in(officer())
    from zairyu.organizations.checklists import change_notification_checklist

    response = client.post(
        f"/staff/organizations/changes/{again.pk}/approve/", ticked(change_notification_checklist(again))
    )
    assert response.status_code == 302
    assert principal in organizations_in_scope(member)
    assert OutboundEmail.objects.filter(kind="org_change_result", to=member.email).count() == 2
    assert UsageApplication.objects.count() == 0


def test_every_page_renders_in_japanese_too():
    from django.test import Client
    from django.utils import translation

    application, report, change, enrolment, membership, _document = _one_of_everything()
    with translation.override("ja"):
        staff, desk = Client(), Client()
        staff.force_login(membership.user)
        desk.force_login(officer())
        for url in [
            "/organizations/",
            "/organizations/additional/",
            "/organizations/report/",
            "/organizations/changes/",
            "/organizations/leave/",
            "/accounts/",
        ]:
            assert staff.get(url).status_code == 200, url
        for url in [
            "/staff/",
            "/staff/organizations/",
            f"/staff/organizations/applications/{application.pk}/",
            f"/staff/organizations/reports/{report.pk}/",
            f"/staff/organizations/changes/{change.pk}/",
            "/staff/organizations/organizations/",
            f"/staff/organizations/organizations/{enrolment.pk}/",
        ]:
            assert desk.get(url).status_code == 200, url
        assert Client().get("/organizations/apply/").status_code == 200
        assert Client().get("/accounts/register/").status_code == 200
