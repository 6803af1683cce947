"""Business days of the immigration bureaus: weekdays that are neither a national holiday
(``jpholiday``, maintained with the Cabinet Office's list) nor the year-end closure (29 Dec – 3 Jan)."""

from __future__ import annotations

import datetime as dt

import jpholiday


def is_year_end_closure(day: dt.date) -> bool:
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_business_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not jpholiday.is_holiday(day) and not is_year_end_closure(day)


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a business day, else the first one after it."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def add_business_days(day: dt.date, count: int) -> dt.date:
    """The business day ``count`` business days after ``day`` (``count`` >= 0)."""
    if count < 0:
        raise ValueError("count must not be negative")
    while count:
        day += dt.timedelta(days=1)
        if is_business_day(day):
            count -= 1
    return day
