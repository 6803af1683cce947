"""The fee that applies to a procedure on a date, by channel (F-08)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from zairyu.catalogue import get_catalogue

Channel = Literal["online", "window"]


def fee_for(*, procedure: str, on: dt.date, channel: Channel = "online", variant: str | None = None) -> int:
    """Yen due for ``procedure`` when permitted on ``on``. Re-entry (P6) needs ``variant``
    ("single" or "multiple"). Raises ``LookupError`` for an unknown procedure or variant."""
    if channel not in ("online", "window"):
        raise ValueError(f"unknown channel {channel!r}")
    for rule in get_catalogue().fees:
        if rule.procedure == procedure and rule.variant == variant and rule.applies_on(on):
            return rule.online if channel == "online" else rule.window
    raise LookupError(f"no fee for {procedure} (variant {variant!r}) on {on}")


def fee_variants(procedure: str) -> list[str | None]:
    return sorted(
        {r.variant for r in get_catalogue().fees if r.procedure == procedure}, key=lambda v: v or ""
    )
