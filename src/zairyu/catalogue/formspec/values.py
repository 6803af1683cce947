"""One answer: its canonical value (:func:`normalize_value`) and its bounds (:func:`check_bounds`).

Canonical values are JSON-ready: dates ``"YYYY-MM-DD"``, months ``"YYYY-MM"``, integers and yen
amounts ``int``, booleans ``bool``, multiple choices a list of codes, everything else ``str``.
What people type is read generously — ``令和2年4月1日``, ``25万``, ``はい``, a country's name — and
what cannot be read raises :class:`Invalid` with a message naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from zairyu.catalogue import validators
from zairyu.catalogue.formspec import messages as m
from zairyu.catalogue.formspec.choices import choice_codes, entry_in_force, match_choice
from zairyu.catalogue.formspec.conditions import UNSET
from zairyu.catalogue.formspec.loading import DATE_BOUND_RE, get_form_library
from zairyu.catalogue.formspec.messages import message, validator_problem
from zairyu.catalogue.formspec.normalizers import DASHES, apply_normalizers
from zairyu.catalogue.formspec.specs import NUMBER_TYPES, TEXT_TYPES, FieldSpec


class Invalid(Exception):
    """An answer that cannot be read or is out of bounds: ``code`` and the message to show."""

    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def is_blank(raw: Any) -> bool:
    if raw is None or raw is UNSET:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | dict):
        return not raw
    return False


_ERAS = {"令和": 2018, "r": 2018, "平成": 1988, "h": 1988, "昭和": 1925, "s": 1925}
_DATE_PATTERNS = (
    re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
_ERA_DATE = re.compile(
    r"(令和|平成|昭和|[rhs])\s*([0-9]{1,2}|元)[年./-]\s*([0-9]{1,2})[月./-]\s*([0-9]{1,2})日?"
)
_MONTH_PATTERNS = (
    re.compile(r"([0-9]{4})[-/.年]([0-9]{1,2})月?"),
    re.compile(r"([0-9]{4})([0-9]{2})"),
)
_ERA_MONTH = re.compile(r"(令和|平成|昭和|[rhs])\s*([0-9]{1,2}|元)[年./-]\s*([0-9]{1,2})月?")


def _era_year(era: str, year: str) -> int:
    return _ERAS[era.lower()] + (1 if year == "元" else int(year))


def read_date(text: str) -> dt.date | None:
    """A date typed in any of the forms a date item accepts (2026-11-20, 2026/11/20, 令和…), or
    ``None`` — for a rule that needs the date before the item's own validation has run."""
    parts = _parse_date(text.strip())
    try:
        return dt.date(*parts) if parts is not None else None
    except ValueError:
        return None


def _parse_date(text: str) -> tuple[int, int, int] | None:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return int(match[1]), int(match[2]), int(match[3])
    match = _ERA_DATE.fullmatch(text.lower())
    if match:
        return _era_year(match[1], match[2]), int(match[3]), int(match[4])
    return None


def _parse_month(text: str) -> tuple[int, int] | None:
    for pattern in _MONTH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return int(match[1]), int(match[2])
    match = _ERA_MONTH.fullmatch(text.lower())
    if match:
        return _era_year(match[1], match[2]), int(match[3])
    return None


_TRUE = {"true", "yes", "y", "1", "on", "はい", "有", "有り", "あり", "○", "◯"}
_FALSE = {"false", "no", "n", "0", "off", "いいえ", "無", "無し", "なし", "×"}
_KANJI_NAME_RE = re.compile(
    r"[\u3005\u3006\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f ]+"
)
PASSPORT_RE = re.compile(r"[A-Z0-9]{5,12}")
INTERNATIONAL_PHONE_RE = re.compile(r"\+[0-9][0-9-]{6,20}")
_POSTAL_RE = re.compile(r"〒?([0-9]{3})-?([0-9]{4})")
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_INTEGER_NOISE_RE = re.compile(r"[,\s_]|人|名|時間|回|%$")
_MONEY_NOISE_RE = re.compile(r"[,\s_¥￥]|円$|jpy")
_MULTI_SEPARATOR_RE = re.compile(r"[,、;；/\n]")
_MAN_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)万([0-9]{0,4})")

# The types whose canonical form a value validator of the catalogue checks.
_VALUE_VALIDATORS: dict[str, Callable[[str], None]] = {
    "roman_name": validators.validate_roman_name,
    "card_number": validators.validate_card_number,
    "corporate_number": validators.validate_corporate_number,
    "prefecture": validators.validate_prefecture,
    "period_of_stay": validators.validate_period_of_stay,
}


def date_bound(bound: Any, today: dt.date) -> dt.date:
    """A ``min``/``max`` of a date field on ``today``: a date, ``today`` or ``today±N(d|y)``."""
    if isinstance(bound, dt.date):
        return bound
    match = DATE_BOUND_RE.fullmatch(bound)
    if match is None:
        return dt.date.fromisoformat(bound)
    if not match[1]:
        return today
    amount = int(match[2]) * (1 if match[1] == "+" else -1)
    if match[3] == "d":
        return today + dt.timedelta(days=amount)
    try:
        return today.replace(year=today.year + amount)
    except ValueError:  # 29 February
        return today.replace(year=today.year + amount, day=28)


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """A field's ``pattern``, compiled once (the catalogue's patterns are few and fixed)."""
    return re.compile(pattern)


def _invalid_choice(spec: FieldSpec, label: Any, value: Any, today: dt.date) -> Invalid:
    codes = choice_codes(spec, today)
    shown = ", ".join(codes[:8]) + (", …" if len(codes) > 8 else "")
    return Invalid("invalid_choice", message(m.M_CHOICE, label=label, value=value, codes=shown))


def _invalid_by_validator(exc: ValidationError, label: Any) -> Invalid:
    return Invalid(exc.code or "invalid", message(m.M_REGISTRY, label=label, problem=validator_problem(exc)))


def normalize_value(spec: FieldSpec, raw: Any, label: Any, today: dt.date) -> Any:
    """The canonical value of a non-blank answer; raises :class:`Invalid` with a message."""
    kind = spec.type
    if kind == "boolean":
        return _boolean(spec, raw, label)
    if kind == "multi_choice":
        return _multi_choice(spec, raw, label, today)
    if kind == "date" and isinstance(raw, dt.date):
        return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
    if kind == "year_month" and isinstance(raw, dt.date):
        return f"{raw.year:04d}-{raw.month:02d}"
    if kind in NUMBER_TYPES and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, list | tuple | dict | set | bool):
        raise Invalid("invalid", message(m.M_TEXT, label=label))
    text = apply_normalizers(spec, str(raw))
    return _TEXT_READERS.get(kind, _text)(spec, text, raw, label, today)


def _boolean(spec: FieldSpec, raw: Any, label: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = apply_normalizers(spec, str(raw))
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid("invalid_boolean", message(m.M_BOOLEAN, label=label, value=raw))


def _multi_choice(spec: FieldSpec, raw: Any, label: Any, today: dt.date) -> list[str]:
    items = raw if isinstance(raw, list | tuple) else _MULTI_SEPARATOR_RE.split(str(raw))
    codes: list[str] = []
    for item in items:
        text = apply_normalizers(spec, str(item))
        if not text:
            continue
        code = match_choice(spec, text, today)
        if code is None:
            raise _invalid_choice(spec, label, text, today)
        if code not in codes:
            codes.append(code)
    return codes


# Each reads the normalised ``text`` (``raw`` is the answer as sent) into the canonical value.
TextReader = Callable[[FieldSpec, str, Any, Any, dt.date], Any]


def _date(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    parts = _parse_date(text)
    if parts is None:
        raise Invalid("invalid_date", message(m.M_DATE, label=label, example=spec.example or "1990-04-01"))
    try:
        return dt.date(*parts).isoformat()
    except ValueError:
        raise Invalid("date_nonexistent", message(m.M_DATE_NONEXISTENT, label=label, value=text)) from None


def _year_month(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    month = _parse_month(text) or (lambda d: d[:2] if d else None)(_parse_date(text))
    if month is None or not 1 <= month[1] <= 12:
        raise Invalid(
            "invalid_year_month", message(m.M_MONTH, label=label, example=spec.example or "2020-03")
        )
    return f"{month[0]:04d}-{month[1]:02d}"


def _integer(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> int:
    compact = _INTEGER_NOISE_RE.sub("", text)
    if not _INTEGER_RE.fullmatch(compact):
        raise Invalid("invalid_integer", message(m.M_INTEGER, label=label))
    return int(compact)


def _money_yen(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> int:
    compact = _MONEY_NOISE_RE.sub("", text.lower())
    match = _MAN_RE.fullmatch(compact)
    if match:
        try:
            return int(Decimal(match[1]) * 10000) + int(match[2] or 0)
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits
            pass
    if not _INTEGER_RE.fullmatch(compact):
        raise Invalid("invalid_money", message(m.M_MONEY, label=label))
    return int(compact)


def _choice(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    code = match_choice(spec, text, today)
    if code is None:
        raise _invalid_choice(spec, label, text, today)
    return code


def _email(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    local, at, domain = text.rpartition("@")
    value = f"{local}@{domain.lower()}" if at else text
    try:
        validate_email(value)
    except ValidationError:
        raise Invalid("invalid_email", message(m.M_EMAIL, label=label, value=text)) from None
    return value


def _phone(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    if spec.international and text.startswith("+"):
        if not INTERNATIONAL_PHONE_RE.fullmatch(text):
            raise Invalid("invalid_phone", message(m.M_PHONE_INTERNATIONAL, label=label))
        return text
    try:
        validators.validate_phone_number(text)
    except ValidationError as exc:
        if spec.international:
            raise Invalid("invalid_phone", message(m.M_PHONE_INTERNATIONAL, label=label)) from None
        raise Invalid(
            exc.code or "invalid_phone", message(m.M_REGISTRY, label=label, problem=validator_problem(exc))
        ) from None
    return text


def _postal_code(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    match = _POSTAL_RE.fullmatch(text.translate({ord(c): "-" for c in DASHES}))
    if match is None:
        raise Invalid("invalid_postal_code", message(m.M_POSTAL, label=label))
    return f"{match[1]}-{match[2]}"


def _kanji_name(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    if not _KANJI_NAME_RE.fullmatch(text):
        bad = sorted({ch for ch in text if not _KANJI_NAME_RE.fullmatch(ch)})
        raise Invalid("invalid_kanji_name", message(m.M_KANJI, label=label, characters=" ".join(bad)))
    return text


def _passport_number(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    if not PASSPORT_RE.fullmatch(text):
        raise Invalid("invalid_passport_number", message(m.M_PASSPORT, label=label, value=text))
    return text


def _validated(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    try:
        _VALUE_VALIDATORS[spec.type](text)
    except ValidationError as exc:
        raise _invalid_by_validator(exc, label) from None
    return text


def _country(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    code = match_choice(spec, text, today) or match_choice(spec, str(raw).strip(), today)
    if code is None:
        if spec.choice_source == "nationalities":
            try:
                validators.validate_nationality(text)
            except ValidationError as exc:
                raise _invalid_by_validator(exc, label) from None
        raise _invalid_choice(spec, label, text, today)
    return code


def _status_of_residence(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    catalogue = get_form_library().catalogue
    if text not in catalogue.entries:
        for entry in catalogue.entries.values():
            if str(raw).strip() in (entry.name.ja, entry.name.en):
                text = entry.key
    try:
        validators.validate_status(text)
    except ValidationError as exc:
        raise _invalid_by_validator(exc, label) from None
    if not entry_in_force(catalogue.entries[text], catalogue, today):
        raise Invalid(
            "status_not_in_force",
            message(m.M_NOT_IN_FORCE, label=label, value=text, today=today.isoformat()),
        )
    return text


def _text(spec: FieldSpec, text: str, raw: Any, label: Any, today: dt.date) -> str:
    """text, textarea"""
    if spec.type == "text" and spec.pattern and not _pattern(spec.pattern).fullmatch(text):
        raise Invalid("invalid_format", message(m.M_PATTERN, label=label, example=spec.example))
    return text


_TEXT_READERS: dict[str, TextReader] = {
    "date": _date,
    "year_month": _year_month,
    "integer": _integer,
    "money_yen": _money_yen,
    "choice": _choice,
    "email": _email,
    "phone": _phone,
    "postal_code": _postal_code,
    "kanji_name": _kanji_name,
    "passport_number": _passport_number,
    **dict.fromkeys(_VALUE_VALIDATORS, _validated),
    "country": _country,
    "status_of_residence": _status_of_residence,
}


def check_bounds(
    spec: FieldSpec, value: Any, label: Any, today: dt.date, lookup: Callable[[str], Any]
) -> None:
    """min/max, conditional limits, min_field/max_field, lengths. Raises :class:`Invalid`."""
    kind = spec.type
    if kind in TEXT_TYPES and isinstance(value, str):
        if spec.max_length and len(value) > spec.max_length:
            raise Invalid(
                "too_long",
                message(
                    m.M_TOO_LONG, label=label, limit=spec.max_length, excess=len(value) - spec.max_length
                ),
            )
        if spec.min_length and len(value) < spec.min_length:
            raise Invalid("too_short", message(m.M_TOO_SHORT, label=label, limit=spec.min_length))
    if kind in NUMBER_TYPES:
        low, high = spec.min, spec.max
        for limit in spec.limits:
            if limit.when.evaluate(lookup):
                low = limit.min if limit.min is not None and (low is None or limit.min > low) else low
                high = limit.max if limit.max is not None and (high is None or limit.max < high) else high
        if low is not None and value < low:
            raise Invalid("too_small", message(m.M_NUMBER_MIN, label=label, bound=f"{low:,}"))
        if high is not None and value > high:
            raise Invalid("too_large", message(m.M_NUMBER_MAX, label=label, bound=f"{high:,}"))
    if kind in ("date", "year_month"):
        width = 10 if kind == "date" else 7
        for bound, code, template in (
            (spec.min, "too_early", m.M_DATE_MIN),
            (spec.max, "too_late", m.M_DATE_MAX),
        ):
            if bound is None:
                continue
            limit_text = date_bound(bound, today).isoformat()[:width]
            if (value < limit_text) if code == "too_early" else (value > limit_text):
                raise Invalid(code, message(template, label=label, bound=limit_text))
    for other_id, code, template in (
        (spec.min_field, "before_other", m.M_MIN_FIELD),
        (spec.max_field, "after_other", m.M_MAX_FIELD),
    ):
        if other_id is None:
            continue
        other = lookup(other_id)
        if other is UNSET or type(other) is not type(value):
            continue
        if (value < other) if code == "before_other" else (value > other):
            other_label = get_form_library().fields[other_id].label
            raise Invalid(code, message(template, label=label, other=other_label, other_value=other))
