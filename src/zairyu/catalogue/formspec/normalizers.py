"""The text normalisers of the form catalogue: what a field's ``normalizers`` may name, and the
default chain of each field type. A normaliser fixes what can be fixed without guessing
(full-width digits, spaces, ``"5年"`` → ``5Y``) and never raises."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from zairyu.catalogue import validators
from zairyu.catalogue.formspec.specs import FieldSpec

DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"

_PERIOD_YEARS_RE = re.compile(r"([0-9]+)\s*(?:years?|yrs?|年間?)")
_PERIOD_MONTHS_RE = re.compile(r"([0-9]+)\s*(?:months?|か月|ヶ月|ヵ月|カ月|ケ月|箇月|月)間?")
_PERIOD_DAYS_RE = re.compile(r"([0-9]+)\s*(?:days?|日間?)")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def period_words(text: str) -> str:
    """``"5年"``, ``"6か月"``, ``"90日"``, ``"1 year 6 months"`` → ``5Y``, ``6M``, ``90D``, ``1Y6M``."""
    text = nfkc(text).lower()
    text = _PERIOD_YEARS_RE.sub(r"\1Y", text)
    text = _PERIOD_MONTHS_RE.sub(r"\1M", text)
    text = _PERIOD_DAYS_RE.sub(r"\1D", text)
    return validators.normalize_period_of_stay(text)


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "nfkc": nfkc,
    "strip": str.strip,
    "collapse_spaces": lambda text: " ".join(text.split()),
    "strip_spaces": lambda text: "".join(text.split()),
    "strip_hyphens": lambda text: "".join(ch for ch in text if ch not in DASHES),
    "upper": str.upper,
    "lower": str.lower,
    "roman_name": validators.normalize_roman_name,
    "phone": validators.normalize_phone_number,
    "card_number": validators.normalize_card_number,
    "corporate_number": validators.normalize_corporate_number,
    "prefecture": validators.normalize_prefecture,
    "nationality": validators.normalize_nationality,
    "status": validators.normalize_status,
    "period_of_stay": period_words,
}

DEFAULT_NORMALIZERS: dict[str, tuple[str, ...]] = {
    "text": ("nfkc", "collapse_spaces"),
    "textarea": ("nfkc", "strip"),
    "date": ("nfkc", "strip"),
    "year_month": ("nfkc", "strip"),
    "integer": ("nfkc", "strip"),
    "money_yen": ("nfkc", "strip"),
    "choice": ("nfkc", "strip"),
    "multi_choice": ("nfkc", "strip"),
    "boolean": ("nfkc", "strip", "lower"),
    "email": ("nfkc", "strip_spaces"),
    "phone": ("phone",),
    "postal_code": ("nfkc", "strip_spaces"),
    "roman_name": ("roman_name",),
    "kanji_name": ("nfkc", "collapse_spaces"),
    "country": ("nationality",),
    "prefecture": ("prefecture",),
    "status_of_residence": ("status",),
    "period_of_stay": ("period_of_stay",),
    "card_number": ("card_number",),
    "passport_number": ("nfkc", "upper", "strip_spaces", "strip_hyphens"),
    "corporate_number": ("corporate_number",),
}


def apply_normalizers(spec: FieldSpec, text: str) -> str:
    """``text`` through the field's chain of normalisers."""
    for name in spec.normalizers:
        text = NORMALIZERS[name](text)
    return text
