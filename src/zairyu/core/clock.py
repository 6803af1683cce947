"""The one clock of the system, in Japan Standard Time.

Deadlines, expiry and "today" are always read from here. Tests move it with time-machine;
nothing in the code base calls ``datetime.now()`` or ``date.today()`` directly.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def now() -> datetime:
    """The current instant, as an aware datetime in JST."""
    return timezone.now().astimezone(JST)


def today() -> date:
    """Today's date in Japan (the date that counts for receipts and periods of stay)."""
    return now().date()


def start_of_day(day: date) -> datetime:
    """Midnight JST at the start of ``day``."""
    return datetime.combine(day, time.min, tzinfo=JST)
