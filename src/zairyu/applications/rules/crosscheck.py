"""The identity cross-check against the residence-card record (F-02).

The applicant's nationality, name, sex, date of birth, address (prefecture and municipality),
card number and card expiry must match the registry. Two things the original system did badly
are done differently here:

* What can be read unambiguously is normalised, not refused: full-width characters, lower case,
  commas or several spaces between the parts of a name, a prefecture given by name or code, a
  card number typed with spaces or hyphens, dates written 1995/4/1 or １９９５年４月１日. The
  normalised values come back so that the page can show how they were read.
* A mismatch names the item to look at again ("the date of birth does not match"), so that an
  honest applicant can fix a typo, but never shows what the registry holds: the messages and
  their ``data`` only ever contain what the user typed. The caller throttles and audits repeated
  mismatches (see :func:`mismatch_fingerprint`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zairyu.applications.rules.results import Problem, format_message
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import role_field_id
from zairyu.catalogue.reference import nationalities
from zairyu.catalogue.validators import (
    CARD_NUMBER_RE,
    normalize_card_number,
    normalize_nationality,
    normalize_prefecture,
    normalize_roman_name,
    roman_name_match_key,
    validate_card_number,
    validate_nationality,
    validate_prefecture,
    validate_roman_name,
)
from zairyu.registry.constants import Sex
from zairyu.registry.models import Resident

DateInput = dt.date | str | None


@dataclass(frozen=True)
class IdentityInput:
    """The identity items as entered (or, in :attr:`CrosscheckResult.normalized`, as read).
    Dates may be given as text; a date that cannot be read stays text."""

    nationality: str = ""
    roman_name: str = ""
    sex: str = ""
    date_of_birth: DateInput = None
    prefecture: str = ""
    municipality: str = ""
    card_number: str = ""
    card_expires_on: DateInput = None


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(IdentityInput))


def identity_field_id(item: str) -> str:
    """The form field of an identity item (``prefecture`` → ``address_prefecture``): the field
    with the catalogue's role ``identity.<item>``. For naming, in a form, the item a
    :class:`Problem` of :func:`crosscheck` is about (its ``field`` is the item)."""
    return role_field_id(f"identity.{item}")


def identity_from_answers(answers: Mapping[str, Any]) -> IdentityInput:
    """The identity items as answered in a form (the fields of the ``identity.*`` roles)."""

    def text(item: str) -> str:
        return str(answers.get(identity_field_id(item), ""))

    return IdentityInput(
        nationality=text("nationality"),
        roman_name=text("roman_name"),
        sex=text("sex"),
        date_of_birth=answers.get(identity_field_id("date_of_birth")),
        prefecture=text("prefecture"),
        municipality=text("municipality"),
        card_number=text("card_number"),
        card_expires_on=answers.get(identity_field_id("card_expires_on")),
    )


@dataclass(frozen=True)
class CrosscheckResult:
    ok: bool
    normalized: IdentityInput
    mismatched: tuple[str, ...] = ()  # fields that are well-formed but differ from the record
    messages: list[Problem] = field(default_factory=list)
    changed: tuple[str, ...] = ()  # fields whose normalised form differs from what was typed


# --- labels and messages -----------------------------------------------------------------------

_LABELS: dict[str, Promise] = {
    "nationality": _("nationality or region"),
    "roman_name": _("name"),
    "sex": _("sex"),
    "date_of_birth": _("date of birth"),
    "prefecture": _("prefecture"),
    "municipality": _("municipality (city, ward, town or village)"),
    "card_number": _("residence card number"),
    "card_expires_on": _("card expiry date"),
}

# One message per item: which item differs and where to look. Never the record's value.
_MISMATCH: dict[str, Promise] = {
    "nationality": _(
        "The nationality or region does not match the residence card record. Check it against the "
        "front of the residence card and choose the country or region printed there."
    ),
    "roman_name": _(
        "The name does not match the residence card record. Enter it exactly as printed on the "
        "card, with every part in the same order and without abbreviations."
    ),
    "sex": _(
        "The sex does not match the residence card record. Check it against the front of the residence card."
    ),
    "date_of_birth": _(
        "The date of birth does not match the residence card record. Check it against your "
        "residence card (year, month and day)."
    ),
    "prefecture": _(
        "The prefecture of the address does not match the residence card record. Check the address "
        "on the card; after a move the latest address is written on the back."
    ),
    "municipality": _(
        "The municipality of the address does not match the residence card record. Enter the city, "
        "ward, town or village in full as on the card (with 市, 区, 町 or 村); after a move the latest "
        "address is written on the back."
    ),
    "card_number": _(
        "The residence card number does not match the applicant's record. Check the twelve "
        "characters at the top right of the card."
    ),
    "card_expires_on": _(
        "The card expiry date does not match the residence card record. Enter the date printed on "
        "the card as its expiry (it can differ from the end of the period of stay)."
    ),
}

_CARD_NOT_FOUND = _(
    "No residence card with the number %(number)s was found. Check the number against the twelve "
    "characters at the top right of the card; if the card was renewed, use the number of the new card."
)
_REQUIRED = _("Enter the %(item)s as printed on the residence card.")
_BAD_DATE = _("“%(value)s” is not a date we can read. Enter the %(item)s as year-month-day, e.g. 1995-04-01.")
_BAD_SEX = _("“%(value)s” is not a sex as printed on a residence card. Choose M (male) or F (female).")


# --- normalising -------------------------------------------------------------------------------

_SEX_WORDS = {
    Sex.MALE.value: ("M", "MALE", "男", "男性"),
    Sex.FEMALE.value: ("F", "FEMALE", "女", "女性"),
}
_DATE_RES = (
    re.compile(r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?"),
    re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})"),
)
_KE_TABLE = str.maketrans({"ヶ": "ケ", "ヵ": "カ", "ゖ": "ケ", "ゕ": "カ"})
# A town or village in a district: the card prints 郡 + town, people often type the town alone.
_DISTRICT_RE = re.compile(r"(.+?郡)(.+[町村])")


def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", "" if value is None else str(value)).strip()


def normalize_sex(value: object) -> str:
    text = _nfkc(value).upper()
    for code, words in _SEX_WORDS.items():
        if text in words:
            return code
    return text


def normalize_date(value: DateInput) -> DateInput:
    """A date, or text that does not read as one (kept for the message), or ``None`` if empty."""
    if value is None or isinstance(value, dt.date):
        return value
    text = _nfkc(value)
    if not text:
        return None
    for pattern in _DATE_RES:
        match = pattern.fullmatch(text)
        if match:
            try:
                return dt.date(*(int(part) for part in match.groups()))
            except ValueError:
                return text
    return text


def normalize_identity_nationality(value: object) -> str:
    """The three-letter code, also from the country's name in Japanese or English (ベトナム,
    viet nam → VNM)."""
    code = normalize_nationality(value)
    known = nationalities()
    if code in known or not code:
        return code
    text = _nfkc(value).casefold()
    for nationality in known.values():
        if text in (nationality.name.ja.casefold(), nationality.name.en.casefold()):
            return nationality.code
    return code


def normalize_identity_prefecture(value: object) -> str:
    """The two-digit code: by code, by Japanese or English name in any case, with or without the
    suffix 都/道/府/県 (東京 → 13)."""
    code = normalize_prefecture(value)
    prefectures = get_catalogue().prefectures
    if code in prefectures:
        return code
    text = _nfkc(value)
    for prefecture in prefectures.values():
        if text.casefold() == prefecture.name.en.casefold() or text == prefecture.name.ja[:-1]:
            return prefecture.code
    return code


def normalize_municipality(value: object, prefecture_code: str = "") -> str:
    """NFKC, without spaces, and without a leading prefecture name (東京都新宿区 → 新宿区)."""
    text = "".join(_nfkc(value).split())
    prefecture = get_catalogue().prefectures.get(prefecture_code)
    if prefecture is not None and text.startswith(prefecture.name.ja) and text != prefecture.name.ja:
        text = text[len(prefecture.name.ja) :]
    return text


def normalize_identity(entered: IdentityInput) -> IdentityInput:
    prefecture = normalize_identity_prefecture(entered.prefecture)
    return IdentityInput(
        nationality=normalize_identity_nationality(entered.nationality),
        roman_name=normalize_roman_name(entered.roman_name),
        sex=normalize_sex(entered.sex),
        date_of_birth=normalize_date(entered.date_of_birth),
        prefecture=prefecture,
        municipality=normalize_municipality(entered.municipality, prefecture),
        card_number=normalize_card_number(entered.card_number),
        card_expires_on=normalize_date(entered.card_expires_on),
    )


# --- comparing ---------------------------------------------------------------------------------


def _municipality_key(value: str) -> str:
    return value.translate(_KE_TABLE)


def municipalities_match(entered: str, recorded: str) -> bool:
    """Equal up to ヶ/ケ spelling, or the record is "district + town/village" and the town or
    village was typed without its district (西多摩郡瑞穂町 / 瑞穂町): within a prefecture the
    town names are unique. A missing 市/区/町/村 is *not* accepted: 府中 could be 府中市 or
    府中町, and the check must not accept a different municipality."""
    a, b = _municipality_key(entered), _municipality_key(recorded)
    if a == b:
        return True
    district = _DISTRICT_RE.fullmatch(b)
    return district is not None and a == district.group(2)


def _field_problems(normalized: IdentityInput) -> dict[str, Problem]:
    """Items that are missing or malformed, by field: these are not compared."""
    problems: dict[str, Problem] = {}
    for name in FIELDS:
        value = getattr(normalized, name)
        if value is None or value == "":
            problems[name] = Problem(
                f"{name}_required", format_message(_REQUIRED, item=_LABELS[name]), field=name
            )
        elif isinstance(value, str) and name in ("date_of_birth", "card_expires_on"):
            problems[name] = Problem(
                f"{name}_invalid",
                format_message(_BAD_DATE, value=value, item=_LABELS[name]),
                field=name,
            )
    if "sex" not in problems and normalized.sex not in _SEX_WORDS:
        problems["sex"] = Problem("sex_invalid", format_message(_BAD_SEX, value=normalized.sex), field="sex")
    for name, validate in (
        ("nationality", validate_nationality),
        ("roman_name", validate_roman_name),
        ("prefecture", validate_prefecture),
        ("card_number", validate_card_number),
    ):
        if name in problems:
            continue
        try:
            validate(getattr(normalized, name))
        except ValidationError as error:
            problems[name] = Problem(
                f"{name}_invalid", format_message(error.message, **(error.params or {})), field=name
            )
    return problems


def _recorded_matches(name: str, entered: IdentityInput, resident: Resident) -> bool:
    if name == "roman_name":
        return roman_name_match_key(entered.roman_name) == roman_name_match_key(resident.roman_name)
    if name == "municipality":
        return municipalities_match(entered.municipality, resident.municipality)
    if name == "card_number":
        return entered.card_number == normalize_card_number(resident.card_number)
    return getattr(entered, name) == getattr(resident, name)


def crosscheck(*, entered: IdentityInput, resident: Resident | None) -> CrosscheckResult:
    """Check ``entered`` against ``resident``, the record found for the card number (see
    :func:`lookup_resident`); ``None`` when there is none.

    Every problem is blocking. Malformed items are reported with what is wrong with them; the
    well-formed ones are compared with the record, and each that differs gets its own message
    naming the item. No message or ``data`` carries a value from the record.
    """
    normalized = normalize_identity(entered)
    changed = tuple(name for name in FIELDS if getattr(normalized, name) != getattr(entered, name))
    invalid = _field_problems(normalized)
    problems = [invalid[name] for name in FIELDS if name in invalid]

    if resident is None:
        if "card_number" not in invalid:
            problems.append(
                Problem(
                    "card_not_found",
                    format_message(_CARD_NOT_FOUND, number=normalized.card_number),
                    field="card_number",
                )
            )
        return CrosscheckResult(
            ok=False,
            normalized=normalized,
            mismatched=("card_number",) if "card_number" not in invalid else (),
            messages=problems,
            changed=changed,
        )

    mismatched = tuple(
        name for name in FIELDS if name not in invalid and not _recorded_matches(name, normalized, resident)
    )
    problems.extend(Problem(f"{name}_mismatch", _MISMATCH[name], field=name) for name in mismatched)
    return CrosscheckResult(
        ok=not problems,
        normalized=normalized,
        mismatched=mismatched,
        messages=problems,
        changed=changed,
    )


def readback(result: CrosscheckResult) -> dict[str, DateInput]:
    """The items normalisation changed, as read: for "we read your name as NGUYEN VAN AN"."""
    return {name: getattr(result.normalized, name) for name in result.changed}


def lookup_resident(card_number: str) -> Resident | None:
    """The registry record for ``card_number`` as typed (normalised first); ``None`` when the
    number is malformed or unknown. Malformed numbers do not reach the database."""
    number = normalize_card_number(card_number)
    if not CARD_NUMBER_RE.fullmatch(number):
        return None
    return Resident.objects.filter(card_number=number).first()


_CARD_MISSING = _(
    "Enter the applicant's residence card number as printed at the top right of the card "
    "(2 letters, 8 digits, 2 letters, e.g. AB12345678CD)."
)


def card_number_problem(typed: str) -> Problem:
    """Why a card number typed to start an application finds no record, in three cases a filer
    can act on: nothing typed, not the shape of a card number (the validator's message, with what
    was typed), or well-formed but unknown to the registry (check it against the card; a renewed
    card has a new number). Nothing from any record is said."""
    number = normalize_card_number(typed)
    if not number:
        return Problem("card_number_required", _CARD_MISSING, field="card_number")
    try:
        validate_card_number(number)
    except ValidationError as error:
        return Problem(
            error.code or "invalid_card_number",
            format_message(error.message, **(error.params or {})),
            field="card_number",
        )
    return Problem("card_not_found", format_message(_CARD_NOT_FOUND, number=number), field="card_number")


def mismatch_fingerprint(entered: IdentityInput | str) -> str:
    """A key for throttling and auditing repeated mismatches: a keyed hash (HMAC with the
    site's secret) of the normalised card number, hex.

    Only the card number goes in, on purpose: someone guessing a date of birth for a known card
    changes the other items with every try, and must still hit the same key. The key reveals
    nothing without the secret, so it may be stored in caches and logs.
    """
    number = entered if isinstance(entered, str) else entered.card_number
    return salted_hmac(
        "zairyu.applications.rules.crosscheck.mismatch", normalize_card_number(number), algorithm="sha256"
    ).hexdigest()
