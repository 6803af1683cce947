"""The window counts of the scorecard (applications filed at the window, per month and procedure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import OfficerRole
from zairyu.accounts.models import User
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.review.models import WindowCount
from zairyu.review.services.common import ReviewRefused, audit, office_of


@transaction.atomic
def window_count_set(
    *, officer: User, office: str, month: dt.date, procedure: str, count: int, ip: str | None = None
) -> WindowCount:
    """Enter (or correct) the number of window applications of an office, month and procedure.
    Officers enter their own office's; administrators any office's."""
    own = office_of(officer)
    if office != own and officer.role != OfficerRole.ADMINISTRATOR:
        raise ReviewRefused("other_office", _("You can enter the counts of your own office only."))
    catalogue = get_catalogue()
    if office not in catalogue.offices:
        raise ReviewRefused("invalid", _("Unknown office."), errors={"office": _("Choose an office.")})
    if procedure not in catalogue.procedures:
        raise ReviewRefused(
            "invalid", _("Unknown procedure."), errors={"procedure": _("Choose a procedure.")}
        )
    if count < 0:
        raise ReviewRefused(
            "invalid", _("A count cannot be negative."), errors={"count": _("A count cannot be negative.")}
        )
    month = month.replace(day=1)
    if month > clock.today():
        raise ReviewRefused(
            "invalid", _("That month has not begun."), errors={"month": _("That month has not begun.")}
        )
    row, _created = WindowCount.objects.update_or_create(
        office=office,
        month=month,
        procedure=procedure,
        defaults={"count": count, "entered_by": officer, "entered_at": clock.now()},
    )
    audit(
        "window_count_set",
        officer=officer,
        target=row,
        ip=ip,
        office=office,
        month=month.isoformat(),
        procedure=procedure,
        count=count,
    )
    return row


@transaction.atomic
def window_counts_import(*, officer: User, rows: list[Any], ip: str | None = None) -> int:
    """Save the rows of a checked CSV file (see ``scorecard.parse_window_counts``): all or none."""
    for row in rows:
        window_count_set(
            officer=officer,
            office=row.office,
            month=row.month,
            procedure=row.procedure,
            count=row.count,
            ip=ip,
        )
    return len(rows)
