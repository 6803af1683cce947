"""When an application may be filed online (F-01).

The online system takes applications 24 hours a day, every day, except:

* from abroad (a foreign network address), whoever files;
* on the last day of the applicant's period of stay, and after it has ended: the window only;
* for an acquisition of status (after a birth or another event), more than 30 days after it;
* on the day a move-in notification was filed: from the next day;
* while the applicant is abroad on a re-entry permit or a special re-entry permit.

An extension can be filed from about three months before the period of stay ends; earlier
filings are not refused by law, so this is a warning with the date from which it is expected.

:func:`timing_problems` is asked at every step of the application and again at submission
(the day may have changed in between). A COE (P1) is about someone who is not yet in Japan:
only the network rule applies to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zairyu.applications.rules.dates import add_months
from zairyu.applications.rules.procedures import (
    ACQUISITION,
    CHANGE,
    COE,
    EMPLOYMENT_CERTIFICATE,
    EXTENSION,
    procedure_code,
)
from zairyu.applications.rules.results import Problem, Severity, format_message
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.calendar import is_business_day, next_business_day
from zairyu.catalogue.loader import Office
from zairyu.catalogue.validators import normalize_period_of_stay, period_of_stay_parts
from zairyu.core.net import FOREIGN_NETWORK_MESSAGE
from zairyu.registry.models import Resident

ACQUISITION_DEADLINE_DAYS = 30
"""An acquisition of status must be filed within this many days of the birth or the event
(loss of Japanese nationality, …); the day of the event itself is not counted."""

EXTENSION_OPENS_MONTHS_BEFORE = 3
"""An extension is accepted from about this many months before the period of stay ends."""

EXTENSION_RULE_MIN_PERIOD_MONTHS = 6
"""The three-month rule is stated for periods of stay of six months or more; for shorter
periods the sources give no earliest date, so no warning is raised."""

# Procedures about someone who already lives in Japan with a period of stay.
_STAY_PROCEDURES = frozenset({CHANGE, EXTENSION, EMPLOYMENT_CERTIFICATE})
# Procedures about someone in Japan (the acquisition applicant usually has no card yet, but
# when the registry knows them the move-in and re-entry rules still hold).
_IN_JAPAN_PROCEDURES = _STAY_PROCEDURES | {ACQUISITION}


def earliest_extension_date(expiry: dt.date) -> dt.date:
    """The first day an extension is expected: the same day of the month three months before
    ``expiry``, or the end of that month when it is shorter (2027-05-31 → 2027-02-28)."""
    return add_months(expiry, -EXTENSION_OPENS_MONTHS_BEFORE)


def acquisition_deadline(birth_or_event_date: dt.date) -> dt.date:
    """The last day an acquisition can be filed online: 30 days after the birth or event."""
    return birth_or_event_date + dt.timedelta(days=ACQUISITION_DEADLINE_DAYS)


def timing_problems(
    *,
    procedure: str,
    add_ons: Iterable[str] = (),
    resident: Resident | None,
    today: dt.date,
    birth_or_event_date: dt.date | None = None,
    client_ip_allowed: bool = True,
    at_submission: bool = False,
    disclose_dates: bool = True,
) -> list[Problem]:
    """What stops (or questions) filing ``procedure`` online on ``today``; empty when it may go.

    ``resident`` is the applicant's registry record (``None`` for a COE, a newborn, or before
    the card number has been entered). ``add_ons`` (re-entry, activity permission) are filed
    with the main procedure and share its timing. ``client_ip_allowed`` is the network check's
    answer; every request to the applicant side (pages, bulk uploads and the API alike) is held
    to it before it reaches a view by ``accounts.middleware.NetworkAllowListMiddleware``, with
    the same message, so callers leave it true. ``at_submission`` makes a missing birth/event date of an
    acquisition blocking: during the steps it may simply not have been entered yet.
    ``disclose_dates`` is the disclosure policy's answer (:mod:`zairyu.applications.disclosure`):
    when false the messages say what the rule is without the record's dates, which a filer
    who has not shown that they hold the card may not learn.
    """
    code = procedure_code(procedure)
    for add_on in add_ons:
        procedure_code(add_on)  # unknown codes are a programming error; combinations are the catalogue's
    problems = _network_problems(client_ip_allowed)

    if code == COE:
        return problems  # the applicant is abroad by nature; no stay-period rules

    if code == ACQUISITION:
        problems.extend(_acquisition_problems(birth_or_event_date, today, at_submission=at_submission))

    if resident is None or code not in _IN_JAPAN_PROCEDURES:
        return problems

    problems.extend(_presence_problems(resident, today))

    if code in _STAY_PROCEDURES:
        found = _stay_problems(code, resident, today)
        problems.extend(found if disclose_dates else [_without_dates(p) for p in found])
    return problems


def _network_problems(client_ip_allowed: bool) -> list[Problem]:
    """The network rule: nothing is filed online from a network abroad."""
    if client_ip_allowed:
        return []
    return [Problem("foreign_network", FOREIGN_NETWORK_MESSAGE)]


def _presence_problems(resident: Resident, today: dt.date) -> list[Problem]:
    """The presence rules: not while abroad on a re-entry permit, not on a move-in day."""
    problems: list[Problem] = []
    if resident.abroad_on_reentry:
        problems.append(
            Problem(
                "abroad_on_reentry",
                _(
                    "The applicant is out of Japan on a re-entry permit (or a special re-entry permit), "
                    "and no application can be filed online while the applicant is abroad. File after "
                    "the applicant has come back to Japan."
                ),
            )
        )

    if resident.move_in_notified_on == today:
        available_from = today + dt.timedelta(days=1)
        problems.append(
            Problem(
                "move_in_today",
                format_message(
                    _(
                        "A move-in notification for the applicant was filed today, and an online "
                        "application cannot be filed on the same day. Apply online from %(date)s."
                    ),
                    date=available_from.isoformat(),
                ),
                data={"available_from": available_from},
            )
        )
    return problems


_UNDISCLOSED: dict[str, Promise] = {
    "stay_last_day": _(
        "By the residence card record, an online application cannot be filed for this applicant "
        "today (the period of stay ends today). File at the window of the regional immigration "
        "bureau; the dates are shown once the identity items you enter match the card."
    ),
    "stay_expired": _(
        "By the residence card record, the applicant's period of stay has ended, and applications "
        "cannot be filed online after it. Contact the regional immigration bureau's window at once."
    ),
    "extension_too_early": _(
        "An extension is normally filed from about three months before the period of stay ends, "
        "and for this applicant that day has not come yet. You may go on; the dates are shown once "
        "the identity items you enter match the card."
    ),
}


def _without_dates(problem: Problem) -> Problem:
    """The same verdict without the record's dates (for a filer whose link is not proven)."""
    message = _UNDISCLOSED.get(problem.code)
    if message is None:
        return problem
    return Problem(problem.code, message, field=problem.field, severity=problem.severity, data={})


def _acquisition_problems(event: dt.date | None, today: dt.date, *, at_submission: bool) -> list[Problem]:
    if event is None:
        if not at_submission:
            return []
        return [
            Problem(
                "acquisition_date_required",
                _(
                    "Enter the date of the birth or of the event that makes the status necessary: an "
                    "acquisition must be filed within 30 days of it."
                ),
                field="birth_or_event_date",
            )
        ]
    if event > today:
        return [
            Problem(
                "acquisition_date_in_future",
                _(
                    "The date of the birth or event is after today. Enter the date it happened, as on "
                    "the birth certificate or the document that records it."
                ),
                field="birth_or_event_date",
            )
        ]
    deadline = acquisition_deadline(event)
    if today > deadline:
        return [
            Problem(
                "acquisition_deadline_passed",
                format_message(
                    _(
                        "An acquisition of status can be filed online only within 30 days of the birth "
                        "or event, that is until %(deadline)s. That time has passed: go to a regional "
                        "immigration bureau window as soon as possible and ask what to do."
                    ),
                    deadline=deadline.isoformat(),
                ),
                field="birth_or_event_date",
                data={"deadline": deadline},
            )
        ]
    return []


def _office(resident: Resident) -> Office | None:
    try:
        return get_catalogue().office_for_prefecture(resident.prefecture)
    except KeyError:
        return None


def _stay_problems(code: str, resident: Resident, today: dt.date) -> list[Problem]:
    """The stay-period rules: not on the last day of the period of stay nor after it; an
    extension not long before it (a warning)."""
    expiry = resident.stay_expires_on
    if expiry is None:
        return _no_period_problems(code)

    office = _office(resident)
    data: dict[str, Any] = {"stay_expires_on": expiry, "office": office.code if office else None}
    if today == expiry:
        return [_last_day_problem(expiry, office, today, data)]
    if today > expiry:
        return [_expired_problem(expiry, office, data)]
    if code == EXTENSION and _three_month_rule_applies(resident.period_of_stay):
        return _too_early_problems(expiry, today, data)
    return []


def _office_name(office: Office | None) -> Promise | str:
    return office.name if office else _("a regional immigration bureau")


def _no_period_problems(code: str) -> list[Problem]:
    """A status without a period of stay: only an extension has nothing to act on."""
    if code != EXTENSION:
        return []
    return [
        Problem(
            "no_period_to_extend",
            _(
                "The applicant's status has no period of stay (for example a permanent "
                "resident), so there is nothing to extend. To renew the residence card's "
                "validity, go to a regional immigration bureau window."
            ),
        )
    ]


def _last_day_problem(
    expiry: dt.date, office: Office | None, today: dt.date, data: dict[str, Any]
) -> Problem:
    """Today is the last day of the period of stay: the window only (today, or the next day
    it is open)."""
    window_day = next_business_day(today)
    data["window_open_on"] = window_day
    if is_business_day(today):
        template = _(
            "Today (%(expiry)s) is the last day of the applicant's period of stay, and an online "
            "application cannot be filed on that day. File at the window of %(office)s today."
        )
    else:
        template = _(
            "Today (%(expiry)s) is the last day of the applicant's period of stay, and an online "
            "application cannot be filed on that day. The windows are closed today: file at the "
            "window of %(office)s on %(window_day)s, the next day it is open."
        )
    return Problem(
        "stay_last_day",
        format_message(
            template,
            expiry=expiry.isoformat(),
            office=_office_name(office),
            window_day=window_day.isoformat(),
        ),
        data=data,
    )


def _expired_problem(expiry: dt.date, office: Office | None, data: dict[str, Any]) -> Problem:
    """The period of stay has ended: the bureau's window handles it."""
    return Problem(
        "stay_expired",
        format_message(
            _(
                "The applicant's period of stay ended on %(expiry)s, and applications cannot be "
                "filed online after it. Contact %(office)s at once: whether the applicant is "
                "waiting for the result of an earlier application or has overstayed, the "
                "bureau's window handles it."
            ),
            expiry=expiry.isoformat(),
            office=_office_name(office),
        ),
        data=data,
    )


def _too_early_problems(expiry: dt.date, today: dt.date, data: dict[str, Any]) -> list[Problem]:
    """An extension before the three-month mark: a warning with the date it is expected from."""
    earliest = earliest_extension_date(expiry)
    if today >= earliest:
        return []
    return [
        Problem(
            "extension_too_early",
            format_message(
                _(
                    "An extension is normally filed from about three months before the period "
                    "of stay ends (%(expiry)s), that is from %(earliest)s. You may go on, but "
                    "consider filing from that date."
                ),
                expiry=expiry.isoformat(),
                earliest=earliest.isoformat(),
            ),
            severity=Severity.WARNING,
            data={**data, "earliest": earliest},
        )
    ]


def _three_month_rule_applies(period_of_stay: str) -> bool:
    """True for periods of six months or more, and when the period is unknown (a warning is
    the safer guess)."""
    try:
        years, months, _days = period_of_stay_parts(normalize_period_of_stay(period_of_stay))
    except ValueError:
        return True
    return years * 12 + months >= EXTENSION_RULE_MIN_PERIOD_MONTHS
