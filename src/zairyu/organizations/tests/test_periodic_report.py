"""The periodic report (F-13): the reminder 2 months before expiry to every user (once), filing
from then on or late, validity = old expiry + one period whenever approved, and the result
e-mailed to every user."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.constants import UserState
from zairyu.accounts.services import sign_in_verify
from zairyu.accounts.tests.conftest import PASSWORD
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations import services
from zairyu.organizations.access import organization_may_file, organizations_in_scope
from zairyu.organizations.checklists import periodic_report_checklist
from zairyu.organizations.constants import FilingState, MandateState, MembershipEnd
from zairyu.organizations.models import Enrolment, PeriodicReport, StaffMembership
from zairyu.organizations.tasks import organizations_daily
from zairyu.organizations.tests.conftest import signed_in
from zairyu.organizations.tests.factories import (
    EnrolmentFactory,
    mandate,
    officer,
    pdf,
    staff_member,
    support_enrolment,
)
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db

EXPIRY = dt.date(2027, 6, 30)


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(clock.start_of_day(day) + dt.timedelta(hours=hour), tick=False)


def organization_with_staff(valid_until: dt.date = EXPIRY, *, count: int = 2):
    enrolment = EnrolmentFactory(valid_until=valid_until)
    users = [
        staff_member(enrolment, full_name=f"STAFF {n}", email=f"staff{n}@example.com") for n in range(count)
    ]
    return enrolment, users


def test_every_user_is_reminded_once_2_months_before_expiry_even_if_the_job_runs_twice():
    enrolment, users = organization_with_staff(count=3)
    staff_member(enrolment, state=UserState.PENDING, email="pending@example.com")
    left = users.pop()
    services.staff_report_left(reporter=users[0], membership_id=left.staff_membership.pk)
    with at(dt.date(2027, 4, 29)):  # 2 months and a day before
        organizations_daily()
        assert not OutboundEmail.objects.filter(kind="org_report_reminder").exists()
    with at(dt.date(2027, 4, 30)):  # 2 months before 30 June
        assert organizations_daily() == {"report_reminders": 2}
        organizations_daily()
    with at(dt.date(2027, 5, 20)):
        organizations_daily()
    reminders = OutboundEmail.objects.filter(kind="org_report_reminder")
    assert sorted(reminders.values_list("to", flat=True)) == ["staff0@example.com", "staff1@example.com"]
    assert "2027-06-30" in reminders.first().body and "/organizations/report/" in reminders.first().body

    # The next period reminds again, once.
    Enrolment.objects.filter(pk=enrolment.pk).update(valid_until=dt.date(2028, 6, 30))
    with at(dt.date(2028, 5, 1)):
        organizations_daily()
        organizations_daily()
    assert OutboundEmail.objects.filter(kind="org_report_reminder").count() == 4


def test_an_organization_that_filed_its_report_is_not_reminded():
    enrolment, users = organization_with_staff()
    with at(dt.date(2027, 4, 30)):
        services.periodic_report_submit(filer=users[0], staff_continuing=[users[1].staff_membership.pk])
        organizations_daily()
    assert not OutboundEmail.objects.filter(kind="org_report_reminder").exists()


def test_the_report_can_be_filed_from_2_months_before_expiry():
    enrolment, users = organization_with_staff()
    with at(dt.date(2027, 4, 29)):
        with pytest.raises(services.OrganizationError) as refused:
            services.periodic_report_submit(filer=users[0], staff_continuing=[])
        assert refused.value.code == "too_early" and "2027-04-30" in refused.value.message
        page = signed_in(users[0]).get("/organizations/report/")
        assert "can be filed from 2027-04-30" in page.content.decode()
    with at(dt.date(2027, 4, 30)):
        report = services.periodic_report_submit(
            filer=users[0], staff_continuing=[users[1].staff_membership.pk]
        )
        assert report.office == "tokyo" and report.expiry_at_filing == EXPIRY
        with pytest.raises(services.OrganizationError) as twice:
            services.periodic_report_submit(filer=users[1], staff_continuing=[])
        assert twice.value.code == "report_open"


@pytest.mark.parametrize(
    "filed_on, approved_on",
    [
        (dt.date(2027, 5, 1), dt.date(2027, 5, 20)),  # early, approved early
        (dt.date(2027, 6, 10), dt.date(2027, 7, 15)),  # on time, approved after expiry
        (dt.date(2027, 8, 1), dt.date(2027, 9, 1)),  # late
    ],
)
def test_validity_becomes_the_old_expiry_plus_one_period_whenever_the_report_is_approved(
    filed_on, approved_on, django_capture_on_commit_callbacks
):
    enrolment, users = organization_with_staff()
    pending = staff_member(enrolment, state=UserState.PENDING, email="pending@example.com")
    with at(filed_on):
        report = services.periodic_report_submit(
            filer=users[0], staff_continuing=[users[1].staff_membership.pk, pending.staff_membership.pk]
        )
    with at(approved_on):
        client = signed_in(officer())
        page = client.get(f"/staff/organizations/reports/{report.pk}/")
        assert page.context["new_validity"] == dt.date(2028, 6, 30)  # the anniversary, across 29 February
        checks = {f"check_{item.code}": "on" for item in periodic_report_checklist(report)}
        with django_capture_on_commit_callbacks(execute=True):
            assert (
                client.post(f"/staff/organizations/reports/{report.pk}/approve/", checks).status_code == 302
            )
        new_until = dt.date(2028, 6, 30)
        enrolment.refresh_from_db()
        assert enrolment.valid_until == new_until
        for user in [*users, pending]:
            user.refresh_from_db()
            assert user.valid_until == new_until
        assert organization_may_file(users[0])
    report.refresh_from_db()
    assert report.state == FilingState.APPROVED and report.new_valid_until == new_until
    results = OutboundEmail.objects.filter(kind="org_report_approved")
    assert sorted(results.values_list("to", flat=True)) == ["staff0@example.com", "staff1@example.com"]
    assert all(new_until.isoformat() in email.body for email in results)


def test_users_of_an_expired_organization_sign_in_and_read_but_cannot_file_until_the_report_is_approved():
    enrolment, users = organization_with_staff()
    user = users[0]
    with at(EXPIRY):
        assert organization_may_file(user)
    with at(EXPIRY + dt.timedelta(days=1)):
        permission = organization_may_file(user)
        assert not permission and "expired on 2027-06-30" in permission.reason
        assert sign_in_verify(auth_id=user.auth_id, password=PASSWORD, card_id=None) == user
        client = signed_in(user)
        home = client.get("/organizations/")
        assert home.status_code == 200 and 'data-may-file="no"' in home.content.decode()
        assert "data-history" in home.content.decode()
        additional = client.get("/organizations/additional/")
        assert 'data-may-file="no"' in additional.content.decode()
        assert 'enctype="multipart/form-data"' not in additional.content.decode()
        with pytest.raises(services.OrganizationError) as refused:
            services.additional_application_submit(
                filer=user,
                staff=services.StaffDetails(
                    full_name="ITO AIKO", email="a@example.com", qualification_facts="x"
                ),
                pledge=True,
                supporting_document=pdf(),
            )
        assert refused.value.code == "may_not_file"
        # A late report is still accepted; filing is possible again once it is approved.
        report = services.periodic_report_submit(filer=user, staff_continuing=[users[1].staff_membership.pk])
        services.periodic_report_approve(report_id=report.pk, officer=officer())
        assert organization_may_file(user)


def test_staff_reported_as_gone_in_the_report_are_removed_when_it_is_approved():
    enrolment, users = organization_with_staff(count=3)
    with at(dt.date(2027, 5, 1)):
        report = services.periodic_report_submit(
            filer=users[0], staff_continuing=[users[1].staff_membership.pk]
        )
        assert [entry["continues"] for entry in report.staff] == [True, True, False]
        assert users[2].staff_membership.ended_at is None  # nothing happens before the decision
        services.periodic_report_approve(report_id=report.pk, officer=officer())
    users[2].refresh_from_db()
    assert users[2].state == UserState.REMOVED
    assert StaffMembership.objects.get(user=users[2]).end_reason == MembershipEnd.LEFT
    assert OutboundEmail.objects.filter(kind="account_removed", to=users[2].email).count() == 1
    assert not OutboundEmail.objects.filter(kind="org_report_approved", to=users[2].email).exists()


def test_a_support_organization_reports_its_mandates_and_adds_new_ones_with_pledges():
    enrolment = support_enrolment(valid_until=EXPIRY)
    user = staff_member(enrolment)
    kept, dropped = mandate(enrolment), mandate(enrolment)
    newcomer = ReceivingOrganizationFactory()
    with at(dt.date(2027, 5, 1)):
        with pytest.raises(services.OrganizationError) as refused:
            services.periodic_report_submit(filer=user, staff_continuing=[], mandates_continuing=[kept.pk])
        assert refused.value.field == "mandates_document"
        report = services.periodic_report_submit(
            filer=user,
            staff_continuing=[],
            mandates_continuing=[kept.pk],
            new_mandates=[services.MandateUpload(newcomer.corporate_number, pdf(), pdf())],
            mandates_document=pdf("all-mandates.pdf"),
        )
        assert newcomer not in organizations_in_scope(user)
        services.periodic_report_approve(report_id=report.pk, officer=officer())
    dropped.refresh_from_db()
    assert dropped.state == MandateState.ENDED
    assert set(organizations_in_scope(user)) == {kept.principal, newcomer}


def test_a_refused_report_emails_the_reason_to_every_user_and_can_be_filed_again():
    enrolment, users = organization_with_staff()
    with at(dt.date(2027, 5, 1)):
        report = services.periodic_report_submit(
            filer=users[0], staff_continuing=[users[1].staff_membership.pk]
        )
        response = signed_in(officer()).post(
            f"/staff/organizations/reports/{report.pk}/refuse/", {"reason": "The staff list is incomplete."}
        )
        assert response.status_code == 302
        enrolment.refresh_from_db()
        assert enrolment.valid_until == EXPIRY
        refused = OutboundEmail.objects.filter(kind="org_report_refused")
        assert refused.count() == 2 and all("The staff list is incomplete." in e.body for e in refused)
        again = services.periodic_report_submit(
            filer=users[1], staff_continuing=[users[0].staff_membership.pk]
        )
    assert PeriodicReport.objects.filter(state=FilingState.SUBMITTED).get() == again


def test_the_report_page_files_the_report():
    enrolment, users = organization_with_staff()
    with at(dt.date(2027, 5, 1)):
        client = signed_in(users[0])
        page = client.get("/organizations/report/")
        assert [f.name for f in page.context["form"].staff_fields()] == [
            f"staff_{users[1].staff_membership.pk}"
        ]
        response = client.post("/organizations/report/", {f"staff_{users[1].staff_membership.pk}": "on"})
        assert response.status_code == 302
    report = PeriodicReport.objects.get()
    assert all(entry["continues"] for entry in report.staff)
