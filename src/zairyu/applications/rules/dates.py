"""Calendar arithmetic the rules share: months counted the way the bureau counts them."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` later (earlier when negative), or the last day of
    that month when it is shorter: 2027-05-31 minus 3 months is 2027-02-28."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def birthday(date_of_birth: dt.date, age: int) -> dt.date:
    """The day a person born on ``date_of_birth`` turns ``age`` (29 February → 28 February in
    a common year)."""
    return add_months(date_of_birth, 12 * age)
