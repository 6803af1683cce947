"""The messages of the form catalogue: each names the field (its label) and says how to fix the
answer. They are lazy, rendered in the language active when they are shown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue.formspec.specs import CODED_TYPES, FieldSpec
from zairyu.catalogue.loader import Localized

M_REQUIRED = _("%(label)s: this is required; please fill it in.")
M_REQUIRED_CHOICE = _("%(label)s: choose one of the options.")
M_REQUIRED_MULTI = _("%(label)s: choose at least one option.")
M_REQUIRED_BOOLEAN = _("%(label)s: answer yes or no.")
M_DECLARATION = _(
    "%(label)s: tick the box to make this declaration; the application cannot be filed without it."
)
M_DATE = _("%(label)s: enter a date such as %(example)s.")
M_DATE_NONEXISTENT = _("%(label)s: %(value)s is not a date in the calendar; check the day and the month.")
M_MONTH = _("%(label)s: enter a year and month such as %(example)s.")
M_DATE_MIN = _("%(label)s: the date must be %(bound)s or later.")
M_DATE_MAX = _("%(label)s: the date must be %(bound)s or earlier.")
M_INTEGER = _("%(label)s: enter a whole number in digits, e.g. 12.")
M_MONEY = _("%(label)s: enter an amount in yen in digits, e.g. 250,000.")
M_NUMBER_MIN = _("%(label)s: enter %(bound)s or more.")
M_NUMBER_MAX = _("%(label)s: enter %(bound)s or less.")
M_MIN_FIELD = _("%(label)s: cannot be earlier or lower than “%(other)s” (%(other_value)s).")
M_MAX_FIELD = _("%(label)s: cannot be later or higher than “%(other)s” (%(other_value)s).")
M_CHOICE = _("%(label)s: “%(value)s” is not one of the options; choose from the list (e.g. %(codes)s).")
M_DJANGO_CHOICE = _("%(label)s: “%%(value)s” is not one of the options; choose from the list.")
M_BOOLEAN = _("%(label)s: “%(value)s” is not an answer to a yes/no question; answer yes or no.")
M_EMAIL = _("%(label)s: “%(value)s” is not an e-mail address; write it like name@example.com.")
M_POSTAL = _("%(label)s: enter the 7-digit postal code, e.g. 160-0023.")
M_KANJI = _("%(label)s: write the name in kanji or kana; these characters cannot be used: %(characters)s.")
M_PASSPORT = _(
    "%(label)s: enter the passport number as printed, 5 to 12 letters and digits, e.g. C1234567; “%(value)s” is not."
)
M_PHONE_INTERNATIONAL = _(
    "%(label)s: enter a Japanese number such as 03-1234-5678, or a number abroad with its country code, "
    "such as +84 24 1234 5678."
)
M_TOO_LONG = _("%(label)s: at most %(limit)s characters; shorten it by %(excess)s.")
M_TOO_SHORT = _("%(label)s: at least %(limit)s characters.")
M_PATTERN = _("%(label)s: write it in the form %(example)s.")
M_REGISTRY = _("%(label)s: %(problem)s")
M_NOT_IN_FORCE = _("%(label)s: %(value)s is not a status of residence in force on %(today)s.")
M_FIXED = _(
    "%(label)s: this application is for %(expected)s (chosen at the first step); to apply for another, "
    "start a new application."
)
M_UNKNOWN = _("“%(key)s” is not a question of the application forms; remove it or check its spelling.")
M_ROWS = _("%(section)s: send a list of rows, one per entry.")
M_ROWS_MIN = _("%(section)s: enter at least %(count)s (one row each).")
M_ROWS_MAX = _("%(section)s: at most %(count)s rows; remove %(excess)s.")
M_ROW_LABEL = _("%(label)s (row %(row)s)")
M_TEXT = _("%(label)s: enter text, not a list or a number.")


def label_text(label: Localized) -> str:
    """A label inside a message; quoted when it is a question or a sentence, so that
    "Do you have a passport?: answer yes or no" reads “Do you have a passport?”: …"""
    text = str(label)
    if text and text[-1] in "?.？。":
        return f"「{text}」" if (get_language() or "ja").startswith("ja") else f"“{text}”"
    return text


def _render(template: Any, params: Mapping[str, Any]) -> str:
    values = {
        k: label_text(v) if isinstance(v, Localized) else str(v) if isinstance(v, Promise) else v
        for k, v in params.items()
    }
    return str(template) % values


_lazy_render = lazy(_render, str)


def message(template: Any, **params: Any) -> Any:
    """A lazily translated message: rendered in the language active when it is shown."""
    return _lazy_render(template, params)


def validator_problem(exc: ValidationError) -> Any:
    """The message of a value validator's ``ValidationError`` (``zairyu.catalogue.validators``),
    lazily rendered with its parameters."""
    return _lazy_render(exc.message, exc.params or {})


def required_template(spec: FieldSpec) -> Any:
    """The message of a required field left blank, by what kind of answer it wants."""
    if spec.must_be is not None:
        return M_DECLARATION
    if spec.type == "boolean":
        return M_REQUIRED_BOOLEAN
    if spec.type == "multi_choice":
        return M_REQUIRED_MULTI
    if spec.type in CODED_TYPES:
        return M_REQUIRED_CHOICE
    return M_REQUIRED
