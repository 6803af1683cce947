import datetime as dt

import pytest

from zairyu.catalogue.calendar import add_business_days, is_business_day, next_business_day
from zairyu.catalogue.fees import fee_for, fee_variants

BEFORE, CHANGEOVER = dt.date(2025, 3, 31), dt.date(2025, 4, 1)


@pytest.mark.parametrize(
    ("procedure", "variant", "before", "window_after", "online_after"),
    [
        ("P2", None, 4000, 6000, 5500),
        ("P3", None, 4000, 6000, 5500),
        ("P5", None, 1200, 2000, 1600),
        ("P6", "single", 3000, 4000, 3500),
        ("P6", "multiple", 6000, 7000, 6500),
        ("P7", None, 0, 0, 0),
        ("P1", None, 0, 0, 0),
    ],
)
def test_fee_by_date_and_channel(procedure, variant, before, window_after, online_after):
    for channel in ("online", "window"):
        assert fee_for(procedure=procedure, variant=variant, on=BEFORE, channel=channel) == before
    assert fee_for(procedure=procedure, variant=variant, on=CHANGEOVER, channel="window") == window_after
    assert fee_for(procedure=procedure, variant=variant, on=CHANGEOVER, channel="online") == online_after
    assert fee_for(procedure=procedure, variant=variant, on=dt.date(2030, 1, 1)) == online_after


def test_re_entry_needs_its_variant():
    assert fee_variants("P6") == ["multiple", "single"]
    with pytest.raises(LookupError):
        fee_for(procedure="P6", on=CHANGEOVER)
    with pytest.raises(LookupError):
        fee_for(procedure="P9", on=CHANGEOVER)
    with pytest.raises(ValueError):
        fee_for(procedure="P2", on=CHANGEOVER, channel="post")  # type: ignore[arg-type]


def test_business_days_skip_weekends_holidays_and_the_year_end_closure():
    assert is_business_day(dt.date(2026, 11, 20))  # Friday
    assert not is_business_day(dt.date(2026, 11, 21))  # Saturday
    assert not is_business_day(dt.date(2026, 11, 23))  # Labour Thanksgiving Day (Monday)
    assert next_business_day(dt.date(2026, 11, 21)) == dt.date(2026, 11, 24)
    assert not is_business_day(dt.date(2026, 12, 29)) and not is_business_day(dt.date(2027, 1, 3))
    assert add_business_days(dt.date(2026, 12, 28), 1) == dt.date(2027, 1, 4)
    assert add_business_days(dt.date(2026, 11, 20), 0) == dt.date(2026, 11, 20)
    with pytest.raises(ValueError):
        add_business_days(dt.date(2026, 11, 20), -1)
