"""Normalising and validating the registry's identifiers and names.

Each value has two pure functions:

* ``normalize_<value>(raw) -> str`` fixes what can be fixed without guessing: full-width
  characters to half-width (NFKC), lower case to upper case, spaces and hyphens people type
  into numbers. It never raises; what it cannot fix it leaves for the validator to name.
* ``validate_<value>(value) -> None`` raises :class:`django.core.exceptions.ValidationError`
  with a ``code`` and a message saying what is wrong and how to fix it. It checks the canonical
  form, so run the normaliser first (the models do, in ``clean_fields``).

Patterns use ``[0-9]``/``[A-Z]`` and ``fullmatch``: Python's ``\\d`` also matches Arabic-Indic
and other digits, and ``$`` lets a trailing newline through.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.reference import nationalities

# Characters people type for a hyphen or dash, beyond what NFKC already maps to "-": the
# hyphen and dash block, the minus sign, and the katakana prolonged sound mark a Japanese
# input method produces for "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u30fc\uff70"
_APOSTROPHES = "\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032"
_DASH_TABLE = {ord(c): "-" for c in _DASHES}
_APOSTROPHE_TABLE = {ord(c): "'" for c in _APOSTROPHES}

# Latin letters NFKD does not decompose into a base letter and a mark.
_LATIN_FOLD = {
    "Đ": "D",
    "Ð": "D",
    "Ø": "O",
    "Æ": "AE",
    "Œ": "OE",
    "Þ": "TH",
    "Ł": "L",
    "Ħ": "H",
    "Ŧ": "T",
    "Ŋ": "NG",
    "ẞ": "SS",
    "ß": "SS",
}

CARD_NUMBER_RE = re.compile(r"[A-Z]{2}[0-9]{8}[A-Z]{2}")
CORPORATE_NUMBER_RE = re.compile(r"[0-9]{13}")
AGENT_CERTIFICATE_NUMBER_RE = re.compile(r"[0-9]{12}")
PERIOD_OF_STAY_RE = re.compile(r"(?:([0-9]{1,2})Y)?(?:([0-9]{1,2})M)?(?:([0-9]{1,3})D)?")
PHONE_RE = re.compile(r"0[0-9]{1,4}-?[0-9]{1,4}-?[0-9]{3,4}")
# A name is words of capital letters separated by single spaces. Inside a word a single hyphen,
# apostrophe or period may join letters, and a period may end it: O'NEIL, JEAN-PIERRE, ST.JOHN,
# MA. LOURDES. A word never begins with one of them.
_ROMAN_WORD = r"[A-Z]+(?:[-'.][A-Z]+)*\.?"
ROMAN_NAME_RE = re.compile(rf"{_ROMAN_WORD}(?: {_ROMAN_WORD})*")
ROMAN_NAME_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ '.-")
ROMAN_NAME_MAX_LENGTH = 100


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _compact(value: object) -> str:
    """NFKC, upper case, without any whitespace, hyphens or dashes: for numbers people type with
    separators (``ab-1234 5678-cd``, ``7000-01-205-0002``)."""
    text = unicodedata.normalize("NFKC", _text(value)).translate(_DASH_TABLE).upper()
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


# --- residence card number ----------------------------------------------------------------------


def normalize_card_number(value: object) -> str:
    return _compact(value)


def validate_card_number(value: str) -> None:
    if not CARD_NUMBER_RE.fullmatch(value or ""):
        raise ValidationError(
            _(
                "“%(value)s” is not a residence card number. It is two letters, eight digits and two "
                "letters, as printed at the top right of the card, e.g. AB12345678CD."
            ),
            code="invalid_card_number",
            params={"value": value},
        )


# --- corporate number (法人番号) -----------------------------------------------------------------


def corporate_number_check_digit(base12: str) -> int:
    """The check digit of a 12-digit base: 9 − (Σ Pn × Qn mod 9), where Pn is the n-th digit
    counted from the right and Qn is 1 for odd n and 2 for even n."""
    if not re.fullmatch(r"[0-9]{12}", base12):
        raise ValueError("the base of a corporate number is exactly 12 ASCII digits")
    total = sum(int(digit) * (1 if n % 2 else 2) for n, digit in enumerate(reversed(base12), start=1))
    return 9 - total % 9


def corporate_number_with_check_digit(base12: str) -> str:
    """The 13-digit corporate number for a 12-digit base (the check digit goes first)."""
    return f"{corporate_number_check_digit(base12)}{base12}"


def normalize_corporate_number(value: object) -> str:
    return _compact(value)


def validate_corporate_number(value: str) -> None:
    if not CORPORATE_NUMBER_RE.fullmatch(value or ""):
        raise ValidationError(
            _(
                "A corporate number is 13 digits; “%(value)s” is not. Copy it from the National Tax Agency's site."
            ),
            code="corporate_number_format",
            params={"value": value},
        )
    if int(value[0]) != corporate_number_check_digit(value[1:]):
        raise ValidationError(
            _(
                "The corporate number %(value)s is not valid: its first digit (the check digit) does not "
                "match the other twelve. Check for a mistyped digit."
            ),
            code="corporate_number_check_digit",
            params={"value": value},
        )


# --- agent certificate number ------------------------------------------------------------------


def normalize_agent_certificate_number(value: object) -> str:
    return _compact(value)


def validate_agent_certificate_number(value: str) -> None:
    if not AGENT_CERTIFICATE_NUMBER_RE.fullmatch(value or ""):
        raise ValidationError(
            _("An agent certificate number is 12 digits, as printed on the certificate; “%(value)s” is not."),
            code="invalid_agent_certificate_number",
            params={"value": value},
        )


# --- roman name --------------------------------------------------------------------------------


def fold_latin(text: str) -> str:
    """Remove diacritics from Latin letters (NGUYỄN → NGUYEN, ÇELIK → CELIK, ĐẶNG → DANG).

    The card prints names in plain A–Z, so a name typed with its accents must still match.
    Letters of other scripts are left alone (and rejected by the validator).
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(_LATIN_FOLD.get(ch, ch) for ch in stripped)


def normalize_roman_name(value: object) -> str:
    """The canonical form of a name as the residence card prints it.

    NFKC (full-width to half-width, ideographic space to space), upper case, diacritics removed,
    typographic apostrophes and dashes to ``'`` and ``-``, commas and middle dots to spaces,
    runs of whitespace to one space, no space around a hyphen, trimmed:
    ``"ｎｇｕｙｅｎ　van,an"`` → ``"NGUYEN VAN AN"``. Anything else (digits, other scripts)
    is kept for :func:`validate_roman_name` to reject.
    """
    text = unicodedata.normalize("NFKC", _text(value))
    text = text.translate(_DASH_TABLE).translate(_APOSTROPHE_TABLE)
    text = re.sub(r"[,、，・･]", " ", text)
    text = fold_latin(text.upper()).upper()
    text = " ".join(text.split())
    return re.sub(r" ?- ?", "-", text)


def validate_roman_name(value: str) -> None:
    normalized = normalize_roman_name(value)
    if not normalized:
        raise ValidationError(
            _("Enter the name in Latin letters as printed on the residence card or passport."),
            code="roman_name_empty",
        )
    bad = sorted({ch for ch in normalized if ch not in ROMAN_NAME_ALLOWED})
    if bad:
        raise ValidationError(
            _(
                "The name contains characters that cannot appear in the name on a residence card: "
                "%(characters)s. Use the Latin letters A–Z as in your passport; spaces, hyphens (-), "
                "apostrophes (') and periods (.) are allowed."
            ),
            code="roman_name_characters",
            params={"characters": " ".join(bad)},
        )
    if len(normalized) > ROMAN_NAME_MAX_LENGTH:
        raise ValidationError(
            _("The name is too long: at most %(limit)d characters."),
            code="roman_name_too_long",
            params={"limit": ROMAN_NAME_MAX_LENGTH},
        )
    if not ROMAN_NAME_RE.fullmatch(normalized):
        raise ValidationError(
            _(
                "Each part of the name must begin and end with a letter (a period may end it), with at "
                "most one hyphen, apostrophe or period in a row: “%(value)s” does not."
            ),
            code="roman_name_format",
            params={"value": normalized},
        )
    if normalized != value:
        raise ValidationError(
            _("Write the name as “%(normalized)s”: capital letters, one space between the parts."),
            code="roman_name_not_normalized",
            params={"normalized": normalized},
        )


def roman_name_match_key(value: object) -> str:
    """A key for comparing two spellings of the same name: the normal form without spaces,
    hyphens, apostrophes and periods, so that ``NGUYEN VAN-AN`` and ``NGUYEN VANAN`` meet.

    Only for finding candidates; the policy of what counts as the same person is the caller's.
    """
    return re.sub(r"[ '.\-]", "", normalize_roman_name(value))


# --- codes: nationality, prefecture, status, period of stay ------------------------------------


def normalize_nationality(value: object) -> str:
    return unicodedata.normalize("NFKC", _text(value)).strip().upper()


def validate_nationality(value: str) -> None:
    if value not in nationalities():
        raise ValidationError(
            _(
                "“%(value)s” is not a nationality or region code we know. Use the three-letter code, e.g. VNM."
            ),
            code="invalid_nationality",
            params={"value": value},
        )


def normalize_prefecture(value: object) -> str:
    """``"13"``, ``"１３"``, ``"13 "`` and ``"東京都"``/``"Tokyo"`` all give ``"13"``; a single
    digit is zero-padded."""
    text = unicodedata.normalize("NFKC", _text(value)).strip()
    if text.isascii() and text.isdigit() and len(text) == 1:
        return f"0{text}"
    if text and not text.isdigit():
        prefecture = get_catalogue().prefecture_by_name(text)
        if prefecture is not None:
            return prefecture.code
    return text


def validate_prefecture(value: str) -> None:
    if value not in get_catalogue().prefectures:
        raise ValidationError(
            _(
                "“%(value)s” is not a prefecture code. Use the two-digit code from 01 (Hokkaido) to 47 (Okinawa)."
            ),
            code="invalid_prefecture",
            params={"value": value},
        )


def normalize_status(value: object) -> str:
    return unicodedata.normalize("NFKC", _text(value)).strip().lower()


def validate_status(value: str) -> None:
    if value not in get_catalogue().entries:
        raise ValidationError(
            _("“%(value)s” is not a status of residence in the catalogue."),
            code="invalid_status",
            params={"value": value},
        )


def normalize_period_of_stay(value: object) -> str:
    return _compact(value)


def validate_period_of_stay(value: str) -> None:
    """A period code: years, months and days in that order, each optional, e.g. 5Y, 6M, 4Y3M, 15D."""
    match = PERIOD_OF_STAY_RE.fullmatch(value or "")
    if not value or match is None or not any(int(part) for part in match.groups() if part):
        raise ValidationError(
            _("“%(value)s” is not a period of stay. Write years, months and days as in 5Y, 6M, 4Y3M or 15D."),
            code="invalid_period_of_stay",
            params={"value": value},
        )


def period_of_stay_parts(value: str) -> tuple[int, int, int]:
    """``"4Y3M"`` → ``(4, 3, 0)``: years, months, days."""
    match = PERIOD_OF_STAY_RE.fullmatch(value)
    if not value or match is None:
        raise ValueError(f"not a period of stay: {value!r}")
    years, months, days = (int(part) if part else 0 for part in match.groups())
    return years, months, days


# --- phone number ------------------------------------------------------------------------------


def normalize_phone_number(value: object) -> str:
    """NFKC, dashes and brackets to hyphens, no spaces: ``"０３（１２３４）５６７８"`` → ``"03-1234-5678"``."""
    text = unicodedata.normalize("NFKC", _text(value)).translate(_DASH_TABLE)
    text = re.sub(r"[()\s]+", "-", text.strip())
    return re.sub(r"-{2,}", "-", text).strip("-")


def validate_phone_number(value: str) -> None:
    digits = (value or "").replace("-", "")
    if not PHONE_RE.fullmatch(value or "") or len(digits) not in (10, 11):
        raise ValidationError(
            _(
                "“%(value)s” is not a Japanese phone number. Give 10 or 11 digits with the area code, e.g. 03-1234-5678."
            ),
            code="invalid_phone_number",
            params={"value": value},
        )
