"""F-18: a self-applicant (U1) fetches their own income and resident-tax data through Mynaportal
and attaches it as data instead of a tax certificate PDF.

The client is pluggable (``ZAIRYU_MYNAPORTAL_CLIENT``, a dotted path); the default demo provider
answers for demo residents with data derived reproducibly from the card, as the real API would
answer for the card holder only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class TaxData:
    """所得・個人住民税情報 for one fiscal year (amounts in yen)."""

    fiscal_year: int
    municipality: str
    total_income: int
    taxable_income: int
    resident_tax: int
    tax_paid: bool
    source: str

    def as_dict(self) -> dict:
        return asdict(self)


class MynaportalError(Exception):
    """The data could not be fetched; the message says what to do."""


class MynaportalClient(Protocol):
    def fetch_tax_data(self, *, card_id: str, fiscal_year: int) -> TaxData: ...


class DemoMynaportal:
    """Reproducible data for demo cards; a card that is not a demo card has no data here."""

    source = "demo-mynaportal"

    def fetch_tax_data(self, *, card_id: str, fiscal_year: int) -> TaxData:
        if not card_id:
            raise MynaportalError("no card")
        digest = hashlib.sha256(f"{card_id}:{fiscal_year}".encode()).digest()
        income = 2_400_000 + int.from_bytes(digest[:3], "big") % 3_600_000
        taxable = max(0, int(income * 0.62) - 430_000)
        return TaxData(
            fiscal_year=fiscal_year,
            municipality="",
            total_income=income,
            taxable_income=taxable,
            resident_tax=int(taxable * 0.10) + 5_000,
            tax_paid=digest[3] % 10 != 0,
            source=self.source,
        )


@cache
def client() -> MynaportalClient:
    return import_string(settings.MYNAPORTAL_CLIENT)()


def available_years(today: dt.date) -> list[int]:
    """Resident tax for a year is assessed in June of the next: the last five assessed years."""
    latest = today.year - 1 if today.month >= 6 else today.year - 2
    return list(range(latest, latest - 5, -1))
