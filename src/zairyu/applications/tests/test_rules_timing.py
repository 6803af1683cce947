"""F-01: when an application may be filed online."""

import datetime as dt

import pytest
from django.utils import translation

from zairyu.applications.rules.results import Severity, has_blocking
from zairyu.applications.rules.timing import (
    acquisition_deadline,
    earliest_extension_date,
    timing_problems,
)
from zairyu.registry.models import Resident

FRIDAY = dt.date(2026, 11, 20)  # a business day
SATURDAY = dt.date(2026, 11, 21)  # windows closed; Monday 23 is a holiday, they open on Tuesday 24


def resident(**overrides) -> Resident:
    values = {
        "roman_name": "NGUYEN VAN AN",
        "nationality": "VNM",
        "sex": "M",
        "date_of_birth": dt.date(1995, 4, 1),
        "prefecture": "13",
        "municipality": "新宿区",
        "card_number": "AB12345678CD",
        "card_expires_on": dt.date(2027, 1, 31),
        "status": "engineer_humanities",
        "period_of_stay": "3Y",
        "stay_expires_on": dt.date(2027, 1, 31),  # within three months of FRIDAY
        "move_in_notified_on": dt.date(2024, 4, 10),
        "abroad_on_reentry": False,
    }
    values.update(overrides)
    return Resident(**values)


def check(procedure="P3", *, today, person=None, **kwargs):
    return timing_problems(procedure=procedure, resident=person, today=today, **kwargs)


def codes(problems):
    return [problem.code for problem in problems]


def text(problem):
    with translation.override("en"):
        return str(problem.message)


# --- last day of the period of stay, and after it ----------------------------------------------


@pytest.mark.parametrize("procedure", ["P2", "P3", "P5"])
def test_the_last_day_of_the_period_of_stay_is_for_the_window_only(procedure):
    problems = check(procedure, today=FRIDAY, person=resident(stay_expires_on=FRIDAY))
    assert codes(problems) == ["stay_last_day"]
    assert problems[0].severity == Severity.BLOCK
    message = text(problems[0])
    assert "last day" in message and "2026-11-20" in message
    assert "window of Tokyo Regional Immigration Services Bureau today" in message
    assert problems[0].data["office"] == "tokyo"


def test_the_last_day_on_a_closed_day_names_the_next_day_the_window_opens():
    problems = check(today=SATURDAY, person=resident(stay_expires_on=SATURDAY))
    assert codes(problems) == ["stay_last_day"]
    assert problems[0].data["window_open_on"] == dt.date(2026, 11, 24)
    message = text(problems[0])
    assert "closed today" in message and "on 2026-11-24" in message


def test_the_day_before_the_last_day_is_still_online():
    assert check(today=FRIDAY, person=resident(stay_expires_on=FRIDAY + dt.timedelta(days=1))) == []


@pytest.mark.parametrize("days_after", [1, 40])
def test_after_the_period_of_stay_the_applicant_is_sent_to_the_bureau(days_after):
    expiry = FRIDAY - dt.timedelta(days=days_after)
    problems = check(today=FRIDAY, person=resident(stay_expires_on=expiry, prefecture="27"))
    assert codes(problems) == ["stay_expired"]
    message = text(problems[0])
    assert expiry.isoformat() in message
    assert "Contact Osaka Regional Immigration Services Bureau" in message and "window" in message


def test_the_office_falls_back_to_a_generic_bureau_for_an_unknown_prefecture():
    problems = check(today=FRIDAY, person=resident(stay_expires_on=FRIDAY, prefecture=""))
    assert "window of a regional immigration bureau" in text(problems[0])
    assert problems[0].data["office"] is None


# --- acquisition: 30 days from the birth or event ----------------------------------------------


def test_acquisition_is_online_until_the_30th_day_after_the_birth():
    birth = dt.date(2026, 10, 21)
    assert acquisition_deadline(birth) == dt.date(2026, 11, 20)
    assert check("P4", today=birth, birth_or_event_date=birth) == []
    assert check("P4", today=dt.date(2026, 11, 20), birth_or_event_date=birth) == []


def test_acquisition_on_the_31st_day_goes_to_the_window_and_names_the_deadline():
    birth = dt.date(2026, 10, 21)
    problems = check("P4", today=dt.date(2026, 11, 21), birth_or_event_date=birth)
    assert codes(problems) == ["acquisition_deadline_passed"]
    assert problems[0].field == "birth_or_event_date"
    assert problems[0].data["deadline"] == dt.date(2026, 11, 20)
    message = text(problems[0])
    assert "30 days" in message and "until 2026-11-20" in message and "window" in message


def test_acquisition_does_not_apply_the_period_of_stay_rules():
    # Someone acquiring a status has no period of stay yet; a stale record must not block them.
    person = resident(stay_expires_on=FRIDAY - dt.timedelta(days=3))
    assert check("P4", today=FRIDAY, person=person, birth_or_event_date=FRIDAY) == []


def test_acquisition_date_in_the_future_is_refused():
    problems = check("P4", today=FRIDAY, birth_or_event_date=FRIDAY + dt.timedelta(days=1))
    assert codes(problems) == ["acquisition_date_in_future"]


def test_acquisition_date_is_needed_at_submission_but_not_before():
    assert check("P4", today=FRIDAY) == []
    problems = check("P4", today=FRIDAY, at_submission=True)
    assert codes(problems) == ["acquisition_date_required"]
    assert "30 days" in text(problems[0])


# --- move-in notification ----------------------------------------------------------------------


@pytest.mark.parametrize("procedure", ["P2", "P3", "P4", "P5"])
def test_not_on_the_day_of_a_move_in_notification(procedure):
    person = resident(move_in_notified_on=FRIDAY)
    problems = check(procedure, today=FRIDAY, person=person, birth_or_event_date=FRIDAY)
    assert codes(problems) == ["move_in_today"]
    assert problems[0].data["available_from"] == dt.date(2026, 11, 21)
    assert "from 2026-11-21" in text(problems[0])


def test_the_day_after_a_move_in_notification_is_fine():
    assert check(today=FRIDAY, person=resident(move_in_notified_on=FRIDAY - dt.timedelta(days=1))) == []


# --- abroad on a re-entry permit ---------------------------------------------------------------


def test_not_while_the_applicant_is_abroad_on_a_reentry_permit():
    problems = check("P2", today=FRIDAY, person=resident(abroad_on_reentry=True))
    assert codes(problems) == ["abroad_on_reentry"]
    assert "come back to Japan" in text(problems[0])


# --- extension: from about three months before -------------------------------------------------


@pytest.mark.parametrize(
    ("expiry", "earliest"),
    [
        (dt.date(2027, 5, 31), dt.date(2027, 2, 28)),
        (dt.date(2028, 5, 31), dt.date(2028, 2, 29)),  # leap year
        (dt.date(2027, 3, 31), dt.date(2026, 12, 31)),  # across the year
        (dt.date(2027, 4, 30), dt.date(2027, 1, 30)),
        (dt.date(2027, 8, 15), dt.date(2027, 5, 15)),
    ],
)
def test_earliest_extension_date_is_three_months_before_and_month_end_safe(expiry, earliest):
    assert earliest_extension_date(expiry) == earliest


def test_an_extension_before_the_three_months_is_a_warning_with_the_date():
    person = resident(stay_expires_on=dt.date(2027, 5, 31))
    problems = check(today=dt.date(2027, 2, 27), person=person)
    assert codes(problems) == ["extension_too_early"]
    assert problems[0].severity == Severity.WARNING and not has_blocking(problems)
    assert problems[0].data["earliest"] == dt.date(2027, 2, 28)
    assert "from 2027-02-28" in text(problems[0])


def test_an_extension_from_the_earliest_date_has_no_warning():
    person = resident(stay_expires_on=dt.date(2027, 5, 31))
    assert check(today=dt.date(2027, 2, 28), person=person) == []


def test_a_change_of_status_has_no_earliest_date():
    assert check("P2", today=dt.date(2026, 1, 5), person=resident()) == []
    assert codes(check("P3", today=dt.date(2026, 1, 5), person=resident())) == ["extension_too_early"]


def test_the_three_month_rule_is_for_periods_of_six_months_or_more():
    short = resident(period_of_stay="4M", stay_expires_on=dt.date(2027, 5, 31))
    assert check(today=dt.date(2027, 1, 31), person=short) == []
    six = resident(period_of_stay="6M", stay_expires_on=dt.date(2027, 5, 31))
    assert codes(check(today=dt.date(2027, 1, 31), person=six)) == ["extension_too_early"]
    unknown = resident(period_of_stay="", stay_expires_on=dt.date(2027, 5, 31))
    assert codes(check(today=dt.date(2027, 1, 31), person=unknown)) == ["extension_too_early"]


# --- statuses without a period, COE, network ---------------------------------------------------


def test_a_permanent_resident_has_no_period_to_extend():
    person = resident(status="permanent_resident", period_of_stay="", stay_expires_on=None)
    problems = check(today=FRIDAY, person=person)
    assert codes(problems) == ["no_period_to_extend"]
    assert "window" in text(problems[0])
    assert check("P5", today=FRIDAY, person=person) == []


def test_a_coe_has_no_stay_period_rules():
    person = resident(stay_expires_on=FRIDAY, move_in_notified_on=FRIDAY, abroad_on_reentry=True)
    assert check("P1", today=FRIDAY, person=person) == []
    assert check("coe", today=FRIDAY) == []


@pytest.mark.parametrize("procedure", ["P1", "P3", "P4"])
def test_a_foreign_network_is_refused(procedure):
    problems = check(procedure, today=FRIDAY, person=resident(), client_ip_allowed=False)
    assert codes(problems) == ["foreign_network"]
    assert "network in Japan" in text(problems[0])


def test_every_problem_is_reported_at_once():
    person = resident(stay_expires_on=FRIDAY, move_in_notified_on=FRIDAY, abroad_on_reentry=True)
    problems = check("extension", add_ons=("P6", "P7"), today=FRIDAY, person=person, client_ip_allowed=False)
    assert codes(problems) == ["foreign_network", "abroad_on_reentry", "move_in_today", "stay_last_day"]
    assert all(problem.blocks for problem in problems)


def test_without_a_record_only_the_general_rules_apply():
    assert check("P3", today=FRIDAY) == []


def test_unknown_procedures_are_a_programming_error():
    with pytest.raises(KeyError):
        check("P9", today=FRIDAY)
    with pytest.raises(KeyError):
        check("P3", add_ons=("P8",), today=FRIDAY)
