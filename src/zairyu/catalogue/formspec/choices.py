"""The choices of a field: its own (``choices``, ``choice_set``) or those of its source
(nationalities, countries, prefectures, the statuses in force on a day), and how a typed value
finds one (a code, or a label in either language)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zairyu.catalogue.formspec.loading import get_form_library
from zairyu.catalogue.formspec.normalizers import apply_normalizers
from zairyu.catalogue.formspec.specs import Choice, FieldSpec
from zairyu.catalogue.loader import Catalogue, Localized, StatusEntry
from zairyu.catalogue.reference import nationalities
from zairyu.core import clock

BOOLEAN_CHOICES = (
    Choice("true", Localized(ja="はい", en="Yes")),
    Choice("false", Localized(ja="いいえ", en="No")),
)
"""A yes/no answer as the applicant sees it (the bulk template's drop-down, the messages)."""


def entry_in_force(entry: StatusEntry, catalogue: Catalogue, today: dt.date) -> bool:
    """The status entry, and its status, are in force on ``today``."""
    return entry.in_force(today) and catalogue.statuses[entry.status_code].in_force(today)


def choices_for(spec: FieldSpec, *, today: dt.date | None = None) -> tuple[Choice, ...]:
    """The choices of a field: its own, or those of its source (statuses: in force on ``today``)."""
    if not spec.choice_source:
        return spec.choices
    return choice_index(spec, today).choices


def choice_codes(spec: FieldSpec, today: dt.date | None = None) -> tuple[str, ...]:
    """The codes of :func:`choices_for`, in order."""
    return choice_index(spec, today).codes


def _source_choices(spec: FieldSpec, today: dt.date | None) -> tuple[Choice, ...]:
    library = get_form_library()
    catalogue = library.catalogue
    source = spec.choice_source
    if source == "prefectures":
        return tuple(Choice(p.code, p.name) for p in catalogue.prefectures.values())
    if source == "statuses_in_force":
        on = today or clock.today()
        return tuple(
            Choice(e.key, e.name) for e in catalogue.entries.values() if entry_in_force(e, catalogue, on)
        )
    base = [Choice(n.code, n.name) for n in nationalities().values()]
    if source == "nationalities_with_japan":
        return (library.japan, *base)
    if source == "countries":
        return tuple(c for c in base if c.code != "XXA") + library.extra_countries
    return tuple(base)


@dataclass(frozen=True)
class ChoiceIndex:
    """A field's choices, and how a typed value finds one (:func:`match_choice`)."""

    choices: tuple[Choice, ...]
    codes: tuple[str, ...]
    exact: dict[str, str]  # code → code
    folded: dict[str, str]  # code or label, compared as the input is → code


# The statuses in force change by the day; a field keeps the index of a few days at most.
_CHOICE_INDEX_DAYS = 4


def choice_index(spec: FieldSpec, today: dt.date | None) -> ChoiceIndex:
    """The field's choices and their lookup tables, built once per field (and per day for the
    statuses in force): the catalogue's choices do not change while the process runs."""
    key = (today or clock.today()) if spec.choice_source == "statuses_in_force" else None
    indexes = spec.choice_cache
    index = indexes.get(key)
    if index is None:
        choices = _source_choices(spec, key) if spec.choice_source else spec.choices
        exact: dict[str, str] = {}
        folded: dict[str, str] = {}
        for choice in choices:
            exact.setdefault(choice.code, choice.code)
            for text in (choice.code.casefold(), choice.label.ja, choice.label.en.casefold()):
                folded.setdefault(text, choice.code)
        # A label is also found as the input is: through the field's normalizers, then
        # case-folded ("大学院（修士）" typed as is becomes "大学院(修士)" before it is looked up).
        # After the keys above, so that whatever was found before is found the same.
        for choice in choices:
            for label in (choice.label.ja, choice.label.en):
                text = apply_normalizers(spec, label).casefold()
                if text:
                    folded.setdefault(text, choice.code)
        index = ChoiceIndex(choices=choices, codes=tuple(c.code for c in choices), exact=exact, folded=folded)
        if len(indexes) >= _CHOICE_INDEX_DAYS:
            indexes.clear()
        indexes[key] = index
    return index


def match_choice(spec: FieldSpec, text: str, today: dt.date) -> str | None:
    """The code of the choice ``text`` (normalised) names: a code as is; else a code or a label
    in either language, compared case-folded with the label normalised as the input was."""
    index = choice_index(spec, today)
    code = index.exact.get(text)
    if code is None:
        code = index.folded.get(text.casefold())
    return code
