"""The scope rule used by the applications feature: U5 files for their own organization's foreign
nationals, U6/U7 only for those of the organizations that mandated them; and the dates."""

from __future__ import annotations

import datetime as dt

import pytest

from zairyu.accounts.constants import UserState
from zairyu.accounts.tests.conftest import active_user
from zairyu.organizations import services
from zairyu.organizations.access import (
    applicant_in_scope,
    organization_may_file,
    organizations_in_scope,
    staff_organization,
)
from zairyu.organizations.constants import MandateState
from zairyu.organizations.tests.factories import (
    EnrolmentFactory,
    mandate,
    staff_member,
    support_enrolment,
)
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def test_company_staff_file_only_for_their_own_organizations_foreign_nationals():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment)
    own = ResidentFactory(affiliation=enrolment.organization)
    other = ResidentFactory(affiliation=ReceivingOrganizationFactory())
    unaffiliated = ResidentFactory()
    assert staff_organization(member) == enrolment.organization
    assert list(organizations_in_scope(member)) == [enrolment.organization]
    assert applicant_in_scope(member, own)
    assert not applicant_in_scope(member, other) and not applicant_in_scope(member, unaffiliated)


def test_support_staff_cannot_act_for_an_organization_that_did_not_mandate_them():
    enrolment = support_enrolment()
    member = staff_member(enrolment)
    mandated = mandate(enrolment).principal
    ended = mandate(enrolment, state=MandateState.ENDED).principal
    pending = mandate(enrolment, state=MandateState.PENDING).principal
    elsewhere = mandate(support_enrolment()).principal  # mandated another support organization
    assert set(organizations_in_scope(member)) == {mandated}
    assert applicant_in_scope(member, ResidentFactory(affiliation=mandated))
    for organization in (ended, pending, elsewhere, enrolment.organization):
        assert not applicant_in_scope(member, ResidentFactory(affiliation=organization))


def test_nobody_else_has_an_organization_scope():
    for user in (active_user("U4"), active_user("officer"), staff_member(state=UserState.REMOVED)):
        assert staff_organization(user) is None
        assert not organizations_in_scope(user).exists()
        assert not organization_may_file(user)


def test_a_removed_or_left_staff_member_loses_the_scope_at_once():
    enrolment = EnrolmentFactory()
    boss, leaver = staff_member(enrolment), staff_member(enrolment)
    resident = ResidentFactory(affiliation=enrolment.organization)
    services.staff_report_left(reporter=boss, membership_id=leaver.staff_membership.pk)
    leaver.refresh_from_db()
    assert not applicant_in_scope(leaver, resident) and not organization_may_file(leaver)
    assert applicant_in_scope(boss, resident) and organization_may_file(boss)


def test_filing_needs_an_active_account_and_a_running_approval():
    enrolment = EnrolmentFactory(valid_until=None)
    pending = staff_member(enrolment, state=UserState.PENDING)
    assert not organization_may_file(pending)
    active = staff_member(enrolment)
    allowed, reason = organization_may_file(active)  # unpacks, as the applications feature does
    assert not allowed and "not started" in reason
    enrolment.valid_until = dt.date(2099, 1, 1)
    enrolment.save()
    assert organization_may_file(active) and tuple(organization_may_file(active)) == (True, "")


@pytest.mark.parametrize(
    "day, months, expected",
    [
        (dt.date(2027, 6, 30), -2, dt.date(2027, 4, 30)),
        (dt.date(2027, 5, 31), -2, dt.date(2027, 3, 31)),
        (dt.date(2027, 4, 30), -2, dt.date(2027, 2, 28)),
        (dt.date(2028, 4, 30), -2, dt.date(2028, 2, 29)),
        (dt.date(2027, 1, 15), -2, dt.date(2026, 11, 15)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
    ],
)
def test_months_and_years_are_calendar_ones(day, months, expected):
    assert services.add_months(day, months) == expected


def test_the_validity_period_is_configurable(settings):
    start = dt.date(2027, 6, 30)
    assert services.validity_end(start) == dt.date(2028, 6, 30)
    settings.ORGANIZATION_USER_VALIDITY_DAYS = 3 * 365
    assert services.validity_end(start) == dt.date(2030, 6, 30)
    settings.ORGANIZATION_USER_VALIDITY_DAYS = 400
    assert services.validity_end(start) == start + dt.timedelta(days=400)
