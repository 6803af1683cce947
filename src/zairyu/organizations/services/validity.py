"""How long an organization's approval, and with it every staff ID, is valid (F-13): one period
from the first password of the organization's first staff member, extended by each approved
periodic report. Staff accounts mirror their organization's validity."""

from __future__ import annotations

import calendar
import datetime as dt

from django.conf import settings

from zairyu.accounts.constants import UserState
from zairyu.accounts.models import User
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.organizations.constants import REPORT_WINDOW_MONTHS
from zairyu.organizations.models import Enrolment, StaffMembership


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier); the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def validity_end(start: dt.date) -> dt.date:
    """The end of one validity period from ``start``: from the first password, and added to the
    old expiry by each approved report. ``ORGANIZATION_USER_VALIDITY_DAYS``: 365 in the original,
    3 × 365 since the 2026 system. Whole multiples of 365 count as calendar years, so that
    "one year" ends on the anniversary even across a 29 February; other values count days."""
    days = settings.ORGANIZATION_USER_VALIDITY_DAYS
    years, rest = divmod(days, 365)
    return add_years(start, years) if years and not rest else start + dt.timedelta(days=days)


def report_window_opens(valid_until: dt.date) -> dt.date:
    """The day the reminder goes out and the periodic report can be filed: 2 months before expiry."""
    return add_months(valid_until, -REPORT_WINDOW_MONTHS)


def staff_validity_sync(*, organization_id: int, valid_until: dt.date | None) -> int:
    """Every staff account of the organization mirrors its validity."""
    return (
        User.objects.filter(
            staff_membership__organization_id=organization_id, staff_membership__ended_at__isnull=True
        )
        .exclude(state=UserState.REMOVED)
        .update(valid_until=valid_until)
    )


def staff_first_password_set(*, user: User) -> dt.date:
    """Called through ``accounts.signals.first_password_set`` (``organizations.receivers``), inside
    the transaction of ``accounts.services.password_set_with_token``, when a staff member sets
    their first password. The first of an organization starts its validity;
    every staff account mirrors it. Returns the user's new ``valid_until``."""
    membership = StaffMembership.objects.filter(user=user, ended_at__isnull=True).first()
    if membership is None:  # an account made outside a usage application (none should exist)
        return user.valid_until or validity_end(clock.today())
    enrolment = Enrolment.objects.select_for_update().get(organization_id=membership.organization_id)
    if enrolment.valid_until is None:
        enrolment.valid_until = validity_end(clock.today())
        enrolment.save(update_fields=["valid_until"])
        staff_validity_sync(organization_id=enrolment.organization_id, valid_until=enrolment.valid_until)
        audit_record(
            action="organizations.validity_started",
            actor=user,
            target=enrolment,
            details={"until": enrolment.valid_until.isoformat()},
        )
    return enrolment.valid_until
