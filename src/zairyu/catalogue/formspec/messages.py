"""The messages of the form catalogue: each names the field (its label) and says how to fix the
answer. They are lazy, rendered in the language active when they are shown.

A field required only in some cases says which case applies (:func:`required_reason`): the
parts of its condition that hold, with the catalogue's labels of the fields and choices named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.functional import Promise, lazy
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue.formspec.choices import BOOLEAN_CHOICES, choice_index
from zairyu.catalogue.formspec.conditions import Condition
from zairyu.catalogue.formspec.specs import CODED_TYPES, FieldSpec
from zairyu.catalogue.loader import Localized

M_REQUIRED = _("%(label)s: this is required; please fill it in.")
M_REQUIRED_CHOICE = _("%(label)s: choose one of the options.")
M_REQUIRED_MULTI = _("%(label)s: choose at least one option.")
M_REQUIRED_BOOLEAN = _("%(label)s: answer yes or no.")
# A field required in some cases: %(reason)s is one of the M_WHEN_* below, or two joined by
# M_WHEN_BOTH. In Japanese, each M_WHEN_* ends in a form that takes ため (「…である」).
M_REQUIRED_BECAUSE = _("%(label)s: required because %(reason)s; please fill it in.")
M_REQUIRED_CHOICE_BECAUSE = _("%(label)s: required because %(reason)s; choose one of the options.")
M_REQUIRED_MULTI_BECAUSE = _("%(label)s: required because %(reason)s; choose at least one option.")
M_REQUIRED_BOOLEAN_BECAUSE = _("%(label)s: required because %(reason)s; answer yes or no.")
M_WHEN_EQUALS = _("“%(field)s” is “%(value)s”")
M_WHEN_ANSWERED = _("the answer to “%(field)s” is “%(value)s”")
M_WHEN_NOT_EQUALS = _("“%(field)s” is not “%(value)s”")
M_WHEN_CONTAINS = _("“%(field)s” includes “%(value)s”")
M_WHEN_SET = _("“%(field)s” is filled in")
M_WHEN_NOT_SET = _("“%(field)s” is not filled in")
M_WHEN_BOTH = _("%(first)s and %(second)s")
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


def required_template(spec: FieldSpec, *, because: bool = False) -> Any:
    """The message of a required field left blank, by what kind of answer it wants; ``because``:
    the one that also says why (``%(reason)s``). A declaration has none: its box is the reason."""
    if spec.must_be is not None:
        return M_DECLARATION
    if spec.type == "boolean":
        return M_REQUIRED_BOOLEAN_BECAUSE if because else M_REQUIRED_BOOLEAN
    if spec.type == "multi_choice":
        return M_REQUIRED_MULTI_BECAUSE if because else M_REQUIRED_MULTI
    if spec.type in CODED_TYPES:
        return M_REQUIRED_CHOICE_BECAUSE if because else M_REQUIRED_CHOICE
    return M_REQUIRED_BECAUSE if because else M_REQUIRED


def required_message(spec: FieldSpec, label: Any, reason: Any = None) -> Any:
    """The message of a required field left blank; with the ``reason`` (:func:`required_reason`)
    of a field required only in some cases."""
    if reason is None or spec.must_be is not None:
        return message(required_template(spec), label=label)
    return message(required_template(spec, because=True), label=label, reason=reason)


# --- why a field is required ----------------------------------------------------------------------

# A test and the one that holds when it does not (``not``); ``in``/``not_in`` name a list.
_NEGATED = {"equals": "not_equals", "not_equals": "equals", "in": "not_in", "not_in": "in"}


def required_reason(
    condition: Condition,
    answer: Callable[[str], Any],
    field_of: Callable[[str], FieldSpec | None],
    today: dt.date,
) -> Any:
    """Why a field whose requirement is ``condition`` is required now, as a lazy phrase that names
    the fields and values with the catalogue's labels (“the answer to “Do you have a passport?” is
    “Yes””); ``None`` when the condition does not hold now, is a constant, or cannot be told
    (an answer to a field ``field_of`` does not know, a ``not`` of a list or of several tests).

    ``answer`` looks an answer up as the condition does (unset when blank, invalid or hidden).
    Only what holds is named: for ``any`` the first part that holds, for ``all`` each part."""
    if condition.is_constant or not _of_answers_only(condition):
        return None
    atoms = _holding_atoms(condition, answer)
    if not atoms:
        return None
    named = {atom.name for atom in atoms if atom.test != "is_set"}
    # "Given and not Japan": that it is given goes without saying once its value is named.
    atoms = [a for a in atoms if not (a.test == "is_set" and a.value is True and a.name in named)]
    clauses = [_clause(atom, answer, field_of, today) for atom in atoms]
    if any(clause is None for clause in clauses):
        return None
    reason = clauses[0]
    for clause in clauses[1:]:
        reason = message(M_WHEN_BOTH, first=reason, second=clause)
    return reason


def _of_answers_only(condition: Condition) -> bool:
    """Whether ``condition`` speaks of answers only (the context is evaluated by ``form_for``)."""
    if condition.op == "context":
        return False
    return all(_of_answers_only(part) for part in condition.parts)


def _holding_atoms(condition: Condition, answer: Callable[[str], Any]) -> list[Condition] | None:
    """The tests of answers that make ``condition`` hold now; ``None`` when it does not, or when
    what makes it hold cannot be said as tests of answers."""
    if not condition.evaluate(answer):
        return None
    if condition.op == "true":
        return []
    if condition.op == "answer":
        return [condition]
    if condition.op == "not":
        inner = condition.parts[0]
        if inner.op != "answer":
            return None
        if inner.test == "is_set":
            return [Condition("answer", name=inner.name, test="is_set", value=not inner.value)]
        if inner.test not in _NEGATED:
            return None
        return [Condition("answer", name=inner.name, test=_NEGATED[inner.test], value=inner.value)]
    if condition.op == "any":
        for part in condition.parts:
            atoms = _holding_atoms(part, answer)
            if atoms is not None:
                return atoms
        return None
    found: list[Condition] = []
    for part in condition.parts:  # all
        atoms = _holding_atoms(part, answer)
        if atoms is None:
            return None
        found += [atom for atom in atoms if atom not in found]
    return found


def _clause(
    atom: Condition, answer: Callable[[str], Any], field_of: Callable[[str], FieldSpec | None], today: dt.date
) -> Any:
    """One test of an answer that holds, in words; ``None`` when it cannot be told."""
    spec = field_of(atom.name)
    if spec is None:
        return None
    field = _plain(spec.label)
    if atom.test == "is_set":
        return message(M_WHEN_SET if atom.value else M_WHEN_NOT_SET, field=field)
    if atom.test in ("equals", "in"):
        # Of a list, the value the answer has: the case that applies.
        value = atom.value if atom.test == "equals" else answer(atom.name)
        template = M_WHEN_ANSWERED if spec.type == "boolean" else M_WHEN_EQUALS
        return message(template, field=field, value=value_label(spec, value, today))
    if atom.test == "not_equals":
        return message(M_WHEN_NOT_EQUALS, field=field, value=value_label(spec, atom.value, today))
    if atom.test == "contains":
        return message(M_WHEN_CONTAINS, field=field, value=value_label(spec, atom.value, today))
    return None  # not_in: a list of what the answer is not reads badly; the plain message says enough


def value_label(spec: FieldSpec, value: Any, today: dt.date) -> Any:
    """A canonical value of ``spec`` as the applicant sees it: a choice or a yes/no by its label
    (lazy, in the language active when shown); anything else as it is."""
    if spec.type == "boolean" and isinstance(value, bool):
        return _plain(BOOLEAN_CHOICES[0 if value else 1].label)
    if spec.type in CODED_TYPES:
        for choice in choice_index(spec, today).choices:
            if choice.code == value:
                return _plain(choice.label)
    return str(value)


_plain = lazy(str, str)  # a label as it is (not quoted as label_text does): the template quotes it
