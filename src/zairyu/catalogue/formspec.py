"""The catalogue of application forms: what the applicant (and the organization) is asked, for
every procedure, status of residence and user category.

One declarative source (``data/forms/``: ``fields.yaml``, ``structure.yaml``, ``choices.yaml``)
from which everything else is derived: the web steps (:func:`django_form_class`), the
confirmation page and printed form (walk :class:`FormSpec`), the bulk template
(:func:`flat_columns`), the API schema (:func:`json_schema`) and the one validator
(:func:`normalize_and_validate`). Nothing here is typed twice.

Forms
    :func:`form_for` picks, from the one structure, the steps, sections and fields that apply to a
    procedure (P1–P5, with the add-ons P6/P7 for P2–P4), a status entry (which gives the
    input-screen group), a user category and the add-ons. Steps are ``2-1`` and ``2-2`` (the
    applicant's part), ``2-3`` (the organization's part, which differs by screen group; a
    self-applicant U1 attaches it as a PDF instead, see :func:`organization_part_as_pdf`) and
    ``confirm`` (declarations). A field that does not apply is absent; a field hidden by the
    answers (``show_when``) is neither shown nor required, and a value sent for it is dropped.
    There are no dummy values.

Conditions
    ``required`` is ``always``, ``never`` or ``{when: <condition>}``; ``applies`` (is the field or
    section in the form at all) and ``show_when`` (is it shown) are conditions. A condition is::

        {answer: <field id>, <test>}     the (normalised) answer to another field
        {context: <variable>, <test>}    procedure, group, status, user_category, add_ons,
                                         organization_part, status_family,
                                         organization_part_as_pdf
        {all: [<condition>, ...]}        and
        {any: [<condition>, ...]}        or
        {not: <condition>}

    and ``<test>`` is exactly one of ``equals: v``, ``not_equals: v``, ``in: [v, ...]``,
    ``not_in: [v, ...]``, ``contains: v`` (add_ons, multi_choice answers) or ``is_set: true|false``.
    An answer that is blank, invalid or hidden is *unset*: ``equals``, ``in`` and ``contains`` are
    false for it, ``not_equals`` and ``not_in`` true. ``status`` matches an entry key
    (``highly_skilled_professional/1b``) or the whole status (``highly_skilled_professional``).
    ``status_family`` is true for the family sub-categories of Designated Activities;
    ``organization_part`` is the group's (employer, school, host, supporter,
    supervising_organization, none). ``applies`` may use only the context. Inside a repeatable
    section an answer is looked up in the same row first, then in the rest of the form.
    :func:`form_for` evaluates the context, so the conditions of a :class:`FormSpec` speak of
    answers only.

Values
    ``normalize_and_validate`` returns JSON-ready canonical values: dates ``"YYYY-MM-DD"``, months
    ``"YYYY-MM"``, integers and yen amounts ``int``, booleans ``bool``, multiple choices a list of
    codes, everything else ``str``; repeatable sections a list of row dicts. Row numbers in errors
    count from 1, in the order the rows were sent (blank rows are skipped, not renumbered).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.functional import Promise, lazy
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import get_catalogue
from zairyu.catalogue import validators as registry
from zairyu.catalogue.loader import DATA_DIR, ORGANIZATION_PARTS, Catalogue, Localized, StatusEntry
from zairyu.catalogue.reference import nationalities as registry_nationalities
from zairyu.core import clock

FORMS_DIR = DATA_DIR / "forms"

FIELD_TYPES = frozenset(
    {
        "text",
        "textarea",
        "date",
        "year_month",
        "integer",
        "money_yen",
        "choice",
        "multi_choice",
        "boolean",
        "email",
        "phone",
        "postal_code",
        "roman_name",
        "kanji_name",
        "country",
        "prefecture",
        "status_of_residence",
        "period_of_stay",
        "card_number",
        "passport_number",
        "corporate_number",
    }
)
CHOICE_SOURCES = frozenset(
    {"nationalities", "nationalities_with_japan", "countries", "prefectures", "statuses_in_force"}
)
# Which dynamic sources a typed field may draw on (the first is its default).
_TYPE_SOURCES = {
    "country": ("nationalities", "nationalities_with_japan", "countries"),
    "prefecture": ("prefectures",),
    "status_of_residence": ("statuses_in_force",),
}
_CODED_TYPES = frozenset({"choice", "multi_choice", "country", "prefecture", "status_of_residence"})
_NUMBER_TYPES = frozenset({"integer", "money_yen"})
_TEXT_TYPES = frozenset({"text", "textarea", "kanji_name", "email"})
STEP_KINDS = frozenset({"applicant", "organization", "confirmation"})
CONTEXT_VARIABLES = frozenset(
    {
        "procedure",
        "group",
        "status",
        "user_category",
        "add_ons",
        "organization_part",
        "status_family",
        "organization_part_as_pdf",
    }
)
TESTS = frozenset({"equals", "not_equals", "in", "not_in", "contains", "is_set"})

FIELD_KEYS = frozenset(
    {
        "id",
        "type",
        "label_ja",
        "label_en",
        "help_ja",
        "help_en",
        "required",
        "applies",
        "show_when",
        "choice_set",
        "choices",
        "choice_source",
        "max_length",
        "min_length",
        "min",
        "max",
        "min_field",
        "max_field",
        "limits",
        "pattern",
        "example",
        "normalizers",
        "value_from",
        "must_be",
        "international",
    }
)
SECTION_KEYS = frozenset(
    {
        "id",
        "title_ja",
        "title_en",
        "help_ja",
        "help_en",
        "applies",
        "show_when",
        "repeat",
        "row_label_ja",
        "row_label_en",
        "fields",
    }
)
STEP_KEYS = frozenset({"id", "kind", "title_ja", "title_en", "sections"})

_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
_DATE_BOUND_RE = re.compile(r"today(?:([+-])([0-9]+)([dy]))?")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d"


class FormSpecError(Exception):
    """The form catalogue's data files are inconsistent."""


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


# --- conditions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A node of the condition language (see the module docstring).

    ``op`` is ``true``/``false`` (constants: ``required: always``/``never``), ``answer``,
    ``context``, ``all``, ``any`` or ``not``.
    """

    op: str
    name: str = ""
    test: str = ""
    value: Any = None
    parts: tuple[Condition, ...] = ()

    @property
    def is_constant(self) -> bool:
        return self.op in ("true", "false")

    def evaluate(self, answer: Callable[[str], Any], context: Mapping[str, Any] | None = None) -> bool:
        if self.op == "true":
            return True
        if self.op == "false":
            return False
        if self.op == "all":
            return all(part.evaluate(answer, context) for part in self.parts)
        if self.op == "any":
            return any(part.evaluate(answer, context) for part in self.parts)
        if self.op == "not":
            return not self.parts[0].evaluate(answer, context)
        if self.op == "answer":
            return _apply_test(self.test, answer(self.name), self.value)
        if context is None:
            raise ValueError(f"the condition on context '{self.name}' needs a context")
        return _context_test(self, context)

    def resolve(self, context: Mapping[str, Any]) -> Condition:
        """The condition with every context test replaced by its value, simplified."""
        if self.op in ("true", "false", "answer"):
            return self
        if self.op == "context":
            return ALWAYS if _context_test(self, context) else NEVER
        parts = [part.resolve(context) for part in self.parts]
        if self.op == "not":
            inner = parts[0]
            return (
                NEVER if inner == ALWAYS else ALWAYS if inner == NEVER else Condition("not", parts=(inner,))
            )
        absorbing, neutral = (NEVER, ALWAYS) if self.op == "all" else (ALWAYS, NEVER)
        if any(part == absorbing for part in parts):
            return absorbing
        kept = tuple(part for part in parts if part != neutral)
        if not kept:
            return neutral
        return kept[0] if len(kept) == 1 else Condition(self.op, parts=kept)

    def answer_refs(self) -> set[str]:
        if self.op == "answer":
            return {self.name}
        return set().union(*(part.answer_refs() for part in self.parts)) if self.parts else set()

    def to_data(self) -> Any:
        """The condition in its YAML/JSON form (``always``/``never`` for the constants)."""
        if self.op == "true":
            return "always"
        if self.op == "false":
            return "never"
        if self.op in ("all", "any"):
            return {self.op: [part.to_data() for part in self.parts]}
        if self.op == "not":
            return {"not": self.parts[0].to_data()}
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {self.op: self.name, self.test: value}


ALWAYS = Condition("true")
NEVER = Condition("false")


def _apply_test(test: str, actual: Any, expected: Any) -> bool:
    if test == "is_set":
        return (actual is not UNSET) == expected
    if actual is UNSET:
        return test in ("not_equals", "not_in")
    if test == "equals":
        return bool(actual == expected)
    if test == "not_equals":
        return bool(actual != expected)
    if test == "in":
        return actual in expected
    if test == "not_in":
        return actual not in expected
    if test == "contains":
        return isinstance(actual, list | tuple) and expected in actual
    raise ValueError(f"unknown test {test!r}")


def _context_test(condition: Condition, context: Mapping[str, Any]) -> bool:
    if condition.name == "status":
        key = context["status"]
        names = {key, key.split("/")[0]}
        if condition.test == "equals":
            return condition.value in names
        if condition.test == "not_equals":
            return condition.value not in names
        if condition.test == "in":
            return bool(names & set(condition.value))
        if condition.test == "not_in":
            return not names & set(condition.value)
    actual = context[condition.name]
    if condition.test == "is_set":
        return bool(actual) == condition.value
    return _apply_test(condition.test, actual, condition.value)


# --- specs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    code: str
    label: Localized


@dataclass(frozen=True)
class Limit:
    """An extra bound that holds under a condition (e.g. 28 hours a week for a comprehensive
    activity permission)."""

    when: Condition
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    label: Localized
    required: Condition
    help: Localized | None = None
    applies: Condition = ALWAYS
    show_when: Condition = ALWAYS
    choices: tuple[Choice, ...] = ()
    choice_set: str | None = None
    choice_source: str | None = None
    max_length: int | None = None
    min_length: int | None = None
    min: Any = None
    max: Any = None
    min_field: str | None = None
    max_field: str | None = None
    limits: tuple[Limit, ...] = ()
    pattern: str | None = None
    example: str | None = None
    normalizers: tuple[str, ...] = ()
    value_from: str | None = None
    value_from_when: Condition = ALWAYS
    must_be: bool | None = None
    international: bool = False
    # Set in a FormSpec: the value given by the context (value_from), and where the field is.
    fixed_value: str | None = None
    step: str = ""
    section: str = ""
    row_section: str | None = None

    @property
    def statically_required(self) -> bool:
        """Required whatever the other answers are (what an HTML ``required`` may say)."""
        return self.fixed_value is None and self.required == ALWAYS and self.show_when == ALWAYS

    @property
    def conditionally_required(self) -> bool:
        return self.fixed_value is None and not self.statically_required and self.required != NEVER

    def choice_codes(self, today: dt.date | None = None) -> tuple[str, ...]:
        return _choice_index(self, today).codes

    @cached_property
    def _choice_indexes(self) -> dict[dt.date | None, _ChoiceIndex]:
        """The field's :class:`_ChoiceIndex`, built once (by day for the statuses in force): the
        spec is immutable, and a copy made with ``replace`` starts with an empty one."""
        return {}


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: Localized
    fields: tuple[FieldSpec, ...]
    help: Localized | None = None
    applies: Condition = ALWAYS
    show_when: Condition = ALWAYS
    repeat_min: int = 0
    repeat_max: int | None = None
    row_label: Localized | None = None
    step: str = ""

    @property
    def repeatable(self) -> bool:
        return self.repeat_max is not None

    @cached_property
    def fields_by_id(self) -> dict[str, FieldSpec]:
        return {f.id: f for f in self.fields}


@dataclass(frozen=True)
class StepSpec:
    id: str
    kind: str
    title: Localized
    sections: tuple[SectionSpec, ...]

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for section in self.sections for f in section.fields)


@dataclass(frozen=True)
class FormSpec:
    """The form of one procedure (with add-ons) for one status entry and user category."""

    procedure: str
    status: str
    group: str
    organization_part: str
    user_category: str
    add_ons: tuple[str, ...]
    steps: tuple[StepSpec, ...]
    organization_part_as_pdf: bool = False

    @property
    def key(self) -> tuple[str, str, str, tuple[str, ...]]:
        return (self.procedure, self.status, self.user_category, self.add_ons)

    @property
    def step_ids(self) -> tuple[str, ...]:
        return tuple(step.id for step in self.steps)

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"this form has no step {step_id!r} (it has {', '.join(self.step_ids)})")

    # The form is immutable: what is derived from its steps is computed once.
    @cached_property
    def sections(self) -> tuple[SectionSpec, ...]:
        return tuple(section for step in self.steps for section in step.sections)

    @cached_property
    def fields(self) -> tuple[FieldSpec, ...]:
        """Every field, in order, including those of repeatable sections."""
        return tuple(f for step in self.steps for f in step.fields)

    @cached_property
    def top_fields_by_id(self) -> dict[str, FieldSpec]:
        """The fields outside repeatable sections, by id, in order."""
        return {f.id: f for f in self.fields if f.row_section is None}

    def field(self, field_id: str) -> FieldSpec:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def section(self, section_id: str) -> SectionSpec:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)

    def has_field(self, field_id: str) -> bool:
        return any(f.id == field_id for f in self.fields)

    @property
    def context(self) -> dict[str, Any]:
        return {
            "procedure": self.procedure,
            "status": self.status,
            "group": self.group,
            "organization_part": self.organization_part,
            "user_category": self.user_category,
            "add_ons": self.add_ons,
            "organization_part_as_pdf": self.organization_part_as_pdf,
        }


@dataclass(frozen=True)
class FormLibrary:
    fields: dict[str, FieldSpec]
    choice_sets: dict[str, tuple[Choice, ...]]
    steps: tuple[StepSpec, ...]
    organization_part_as_pdf: Condition
    extra_countries: tuple[Choice, ...]
    japan: Choice
    catalogue: Catalogue
    _forms: dict[tuple[str, str, str, tuple[str, ...]], FormSpec] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def section_ids(self) -> set[str]:
        return {section.id for step in self.steps for section in step.sections}

    @cached_property
    def answer_keys(self) -> frozenset[str]:
        """What an answer may be keyed by: a field or a section of the library."""
        return frozenset(self.fields) | frozenset(self.section_ids)


# --- loading ------------------------------------------------------------------------------------


# The C loader when PyYAML has it: the field library is large and loaded by every process.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise FormSpecError(f"{name}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise FormSpecError(f"{name}: the top level must be a mapping")
    return data


def _known_keys(entry: Any, allowed: frozenset[str] | set[str], where: str) -> None:
    if not isinstance(entry, dict):
        raise FormSpecError(f"{where}: must be a mapping")
    unknown = set(entry) - allowed
    if unknown:
        raise FormSpecError(f"{where}: unknown key(s) {sorted(map(str, unknown))}")


def _text(entry: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = entry.get(key)
    if value is None:
        if optional:
            return None
        raise FormSpecError(f"{where}: '{key}' is missing")
    if not isinstance(value, str) or not value.strip():
        raise FormSpecError(f"{where}: '{key}' must be a non-empty text")
    return value


def _localized(entry: dict[str, Any], prefix: str, where: str, *, optional: bool = False) -> Localized | None:
    ja = _text(entry, f"{prefix}_ja", where, optional=optional)
    en = _text(entry, f"{prefix}_en", where, optional=optional)
    if ja is None and en is None:
        return None
    if ja is None or en is None:
        raise FormSpecError(f"{where}: give both '{prefix}_ja' and '{prefix}_en'")
    return Localized(ja=ja, en=en)


def _parse_choices(raw: Any, where: str) -> tuple[Choice, ...]:
    if not isinstance(raw, dict) or not raw:
        raise FormSpecError(f"{where}: choices must be a non-empty mapping code → {{ja, en}}")
    choices = []
    for code, labels in raw.items():
        if not isinstance(code, str) or not code:
            raise FormSpecError(f"{where}: choice code {code!r} must be a text")
        _known_keys(labels, {"ja", "en"}, f"{where}: choice '{code}'")
        if not all(isinstance(labels.get(k), str) and labels.get(k) for k in ("ja", "en")):
            raise FormSpecError(f"{where}: choice '{code}' needs 'ja' and 'en' labels")
        choices.append(Choice(code=code, label=Localized(ja=labels["ja"], en=labels["en"])))
    return tuple(choices)


def _parse_condition(raw: Any, where: str) -> Condition:
    if isinstance(raw, bool):
        return ALWAYS if raw else NEVER
    if not isinstance(raw, dict):
        raise FormSpecError(f"{where}: a condition must be a mapping, not {raw!r}")
    for op in ("all", "any"):
        if op in raw:
            _known_keys(raw, {op}, where)
            items = raw[op]
            if not isinstance(items, list) or not items:
                raise FormSpecError(f"{where}: '{op}' needs a non-empty list of conditions")
            return Condition(
                op, parts=tuple(_parse_condition(item, f"{where}.{op}[{i}]") for i, item in enumerate(items))
            )
    if "not" in raw:
        _known_keys(raw, {"not"}, where)
        return Condition("not", parts=(_parse_condition(raw["not"], f"{where}.not"),))
    kinds = [k for k in ("answer", "context") if k in raw]
    if len(kinds) != 1:
        raise FormSpecError(
            f"{where}: a condition names exactly one of 'answer', 'context', 'all', 'any', 'not' (got {sorted(map(str, raw))})"
        )
    kind = kinds[0]
    tests = [k for k in raw if k != kind]
    if len(tests) != 1 or tests[0] not in TESTS:
        raise FormSpecError(
            f"{where}: a condition has exactly one test of {sorted(TESTS)} (got {sorted(map(str, tests))})"
        )
    test = tests[0]
    name = raw[kind]
    if not isinstance(name, str):
        raise FormSpecError(f"{where}: '{kind}' must name a field or a context variable")
    value = raw[test]
    if test in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise FormSpecError(f"{where}: '{test}' needs a non-empty list")
        value = tuple(value)
    elif test == "is_set":
        if not isinstance(value, bool):
            raise FormSpecError(f"{where}: 'is_set' must be true or false")
    elif isinstance(value, list | dict):
        raise FormSpecError(f"{where}: '{test}' needs a single value")
    if kind == "context" and name not in CONTEXT_VARIABLES:
        raise FormSpecError(
            f"{where}: unknown context variable '{name}' (known: {sorted(CONTEXT_VARIABLES)})"
        )
    return Condition(kind, name=name, test=test, value=value)


def _parse_required(raw: Any, where: str) -> Condition:
    if raw == "always":
        return ALWAYS
    if raw == "never":
        return NEVER
    if isinstance(raw, dict) and set(raw) == {"when"}:
        return _parse_condition(raw["when"], f"{where}.when")
    raise FormSpecError(f"{where}: must be 'always', 'never' or {{when: <condition>}}, not {raw!r}")


def _parse_bound(value: Any, where: str, field_type: str) -> Any:
    if value is None:
        return None
    if field_type in _NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormSpecError(f"{where}: must be a whole number")
        return value
    if field_type in ("date", "year_month"):
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and (
            _DATE_BOUND_RE.fullmatch(value) or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
        ):
            return value
        raise FormSpecError(f"{where}: must be a date (YYYY-MM-DD), 'today' or 'today±N(d|y)'")
    raise FormSpecError(f"{where}: min/max apply to numbers and dates only, not to a {field_type}")


def _parse_field(raw: Any, index: int, choice_sets: dict[str, tuple[Choice, ...]]) -> FieldSpec:
    where = f"fields.yaml: fields[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where = f"fields.yaml: field '{raw['id']}'"
    _known_keys(raw, FIELD_KEYS, where)
    field_id = _text(raw, "id", where)
    assert field_id is not None
    where = f"fields.yaml: field '{field_id}'"
    if not _ID_RE.fullmatch(field_id):
        raise FormSpecError(f"{where}: the id must be snake_case")
    field_type = raw.get("type")
    if field_type not in FIELD_TYPES:
        raise FormSpecError(f"{where}: type {field_type!r} is not one of {sorted(FIELD_TYPES)}")
    label = _localized(raw, "label", where)
    assert label is not None
    if "required" not in raw:
        raise FormSpecError(f"{where}: 'required' is missing (always, never or {{when: ...}})")
    spec: dict[str, Any] = {
        "id": field_id,
        "type": field_type,
        "label": label,
        "help": _localized(raw, "help", where, optional=True),
        "required": _parse_required(raw["required"], f"{where}: required"),
    }
    for key in ("applies", "show_when"):
        if key in raw:
            spec[key] = _parse_condition(raw[key], f"{where}: {key}")

    given = [key for key in ("choice_set", "choices", "choice_source") if key in raw]
    if field_type in ("choice", "multi_choice"):
        if len(given) != 1:
            raise FormSpecError(
                f"{where}: a {field_type} needs exactly one of choice_set, choices, choice_source"
            )
    elif field_type in _TYPE_SOURCES:
        if given not in ([], ["choice_source"]):
            raise FormSpecError(f"{where}: a {field_type} takes only 'choice_source'")
    elif given:
        raise FormSpecError(f"{where}: a {field_type} has no choices")
    if "choice_set" in raw:
        if raw["choice_set"] not in choice_sets:
            raise FormSpecError(f"{where}: unknown choice set {raw['choice_set']!r} (see choices.yaml)")
        spec["choice_set"] = raw["choice_set"]
        spec["choices"] = choice_sets[raw["choice_set"]]
    if "choices" in raw:
        spec["choices"] = _parse_choices(raw["choices"], f"{where}: choices")
    if field_type in _TYPE_SOURCES or "choice_source" in raw:
        allowed = _TYPE_SOURCES.get(field_type, tuple(sorted(CHOICE_SOURCES)))
        source = raw.get("choice_source", allowed[0])
        if source not in CHOICE_SOURCES:
            raise FormSpecError(
                f"{where}: unknown choice source {source!r} (known: {sorted(CHOICE_SOURCES)})"
            )
        if source not in allowed:
            raise FormSpecError(
                f"{where}: a {field_type} cannot draw on {source!r} (allowed: {list(allowed)})"
            )
        spec["choice_source"] = source

    for key in ("max_length", "min_length"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FormSpecError(f"{where}: '{key}' must be a positive whole number")
            if field_type not in _TEXT_TYPES | {"postal_code"}:
                raise FormSpecError(f"{where}: '{key}' applies to text fields only")
            spec[key] = value
    for key in ("min", "max"):
        if key in raw:
            spec[key] = _parse_bound(raw[key], f"{where}: {key}", field_type)
    for key in ("min_field", "max_field"):
        if key in raw:
            if field_type not in _NUMBER_TYPES | {"date", "year_month"}:
                raise FormSpecError(f"{where}: '{key}' applies to numbers and dates only")
            spec[key] = _text(raw, key, where)
    if "limits" in raw:
        if field_type not in _NUMBER_TYPES or not isinstance(raw["limits"], list) or not raw["limits"]:
            raise FormSpecError(f"{where}: 'limits' is a non-empty list, for numbers only")
        limits = []
        for i, item in enumerate(raw["limits"]):
            lwhere = f"{where}: limits[{i}]"
            _known_keys(item, {"when", "min", "max"}, lwhere)
            if "when" not in item or not ({"min", "max"} & set(item)):
                raise FormSpecError(f"{lwhere}: needs 'when' and 'min' or 'max'")
            limits.append(
                Limit(
                    when=_parse_condition(item["when"], f"{lwhere}.when"),
                    min=_parse_bound(item.get("min"), f"{lwhere}.min", field_type),
                    max=_parse_bound(item.get("max"), f"{lwhere}.max", field_type),
                )
            )
        spec["limits"] = tuple(limits)
    if "pattern" in raw:
        if field_type != "text":
            raise FormSpecError(f"{where}: 'pattern' applies to text fields only")
        try:
            re.compile(raw["pattern"])
        except (re.error, TypeError) as exc:
            raise FormSpecError(f"{where}: 'pattern' is not a regular expression: {exc}") from exc
        if "example" not in raw:
            raise FormSpecError(f"{where}: a 'pattern' needs an 'example' (error messages show it)")
        spec["pattern"] = raw["pattern"]
    if "example" in raw:
        spec["example"] = _text(raw, "example", where)
        if "pattern" in spec and not re.fullmatch(spec["pattern"], spec["example"]):
            raise FormSpecError(f"{where}: the example does not match the pattern")
    if "normalizers" in raw:
        names = raw["normalizers"]
        if not isinstance(names, list) or not names or any(n not in NORMALIZERS for n in names):
            raise FormSpecError(f"{where}: 'normalizers' must be a list of {sorted(NORMALIZERS)}")
        spec["normalizers"] = tuple(names)
    else:
        spec["normalizers"] = DEFAULT_NORMALIZERS[field_type]
    if "value_from" in raw:
        value_from = raw["value_from"]
        if isinstance(value_from, dict):
            _known_keys(value_from, {"context", "when"}, f"{where}: value_from")
            spec["value_from_when"] = _parse_condition(
                value_from.get("when", True), f"{where}: value_from.when"
            )
            value_from = value_from.get("context")
        if value_from != "status" or field_type != "status_of_residence":
            raise FormSpecError(
                f"{where}: value_from can only take 'status', into a status_of_residence field"
            )
        spec["value_from"] = value_from
    if "must_be" in raw:
        if field_type != "boolean" or raw["must_be"] is not True:
            raise FormSpecError(f"{where}: 'must_be' is 'true', on boolean declarations only")
        spec["must_be"] = True
    if "international" in raw:
        if field_type != "phone" or not isinstance(raw["international"], bool):
            raise FormSpecError(f"{where}: 'international' is true or false, on phone fields only")
        spec["international"] = raw["international"]
    return FieldSpec(**spec)


def _source_codes(
    source: str, catalogue: Catalogue, extra_countries: tuple[Choice, ...], japan: Choice
) -> set[str]:
    if source == "prefectures":
        return set(catalogue.prefectures)
    if source == "statuses_in_force":
        return set(catalogue.entries)
    codes = set(registry_nationalities())
    if source == "nationalities_with_japan":
        codes.add(japan.code)
    if source == "countries":
        codes = (codes - {"XXA"}) | {c.code for c in extra_countries}
    return codes


def _check_condition(
    condition: Condition,
    where: str,
    *,
    fields: dict[str, FieldSpec],
    catalogue: Catalogue,
    codes_of: Callable[[FieldSpec], set[str] | None],
    context_only: bool = False,
    allowed_context: frozenset[str] = CONTEXT_VARIABLES,
) -> None:
    """Refuse references to unknown fields, procedures, groups, statuses, codes."""
    for part in condition.parts:
        _check_condition(
            part,
            where,
            fields=fields,
            catalogue=catalogue,
            codes_of=codes_of,
            context_only=context_only,
            allowed_context=allowed_context,
        )
    if condition.op not in ("answer", "context"):
        return
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    test = condition.test
    if condition.op == "answer":
        if context_only:
            raise FormSpecError(f"{where}: may only use the context, not the answer to '{condition.name}'")
        target = fields.get(condition.name)
        if target is None:
            raise FormSpecError(f"{where}: unknown field '{condition.name}'")
        if test == "is_set":
            return
        if test == "contains" and target.type != "multi_choice":
            raise FormSpecError(
                f"{where}: 'contains' needs a multi_choice field, '{target.id}' is a {target.type}"
            )
        if target.type == "boolean":
            if not all(isinstance(v, bool) for v in values):
                raise FormSpecError(
                    f"{where}: '{target.id}' is a yes/no question; compare it with true or false"
                )
            return
        codes = codes_of(target)
        if codes is not None:
            unknown = [v for v in values if v not in codes]
            if unknown:
                raise FormSpecError(f"{where}: {unknown} are not choices of '{target.id}'")
        return
    name = condition.name
    if name not in allowed_context:
        raise FormSpecError(f"{where}: the context variable '{name}' cannot be used here")
    if test == "is_set":
        return
    if name in ("status_family", "organization_part_as_pdf"):
        if test not in ("equals", "not_equals") or not isinstance(condition.value, bool):
            raise FormSpecError(f"{where}: '{name}' is true or false; use equals/not_equals")
        return
    if name == "add_ons":
        if test != "contains":
            raise FormSpecError(f"{where}: test the add-ons with 'contains' (or 'is_set')")
        known = {code for code, p in catalogue.procedures.items() if p.add_on}
    elif test == "contains":
        raise FormSpecError(f"{where}: 'contains' applies to add_ons and multi_choice answers only")
    elif name == "procedure":
        known = set(catalogue.procedures)
    elif name == "group":
        known = set(catalogue.groups)
    elif name == "status":
        known = set(catalogue.entries) | set(catalogue.statuses)
    elif name == "user_category":
        known = set(catalogue.user_categories)
    else:  # organization_part
        known = set(ORGANIZATION_PARTS)
    unknown = [v for v in values if v not in known]
    if unknown:
        raise FormSpecError(f"{where}: unknown {name} {unknown}")


def load_form_library(directory: Path = FORMS_DIR, *, catalogue: Catalogue | None = None) -> FormLibrary:
    """Read and check the form catalogue; raise :class:`FormSpecError` naming the file and entry."""
    catalogue = catalogue or get_catalogue()
    choices_data = _read(directory, "choices.yaml")
    _known_keys(choices_data, {"choice_sets", "extra_countries", "japan"}, "choices.yaml")
    choice_sets: dict[str, tuple[Choice, ...]] = {}
    raw_sets = choices_data.get("choice_sets") or {}
    if not isinstance(raw_sets, dict):
        raise FormSpecError("choices.yaml: 'choice_sets' must be a mapping")
    for name, raw in raw_sets.items():
        choice_sets[name] = _parse_choices(raw, f"choices.yaml: choice set '{name}'")
    extra_countries = _parse_choices(
        choices_data.get("extra_countries") or {}, "choices.yaml: extra_countries"
    )
    clash = {c.code for c in extra_countries} & set(registry_nationalities())
    if clash:
        raise FormSpecError(f"choices.yaml: extra_countries repeats registry nationalities {sorted(clash)}")
    raw_japan = choices_data.get("japan")
    _known_keys(raw_japan, {"code", "ja", "en"}, "choices.yaml: japan")
    japan = Choice(code=raw_japan["code"], label=Localized(ja=raw_japan["ja"], en=raw_japan["en"]))

    fields_data = _read(directory, "fields.yaml")
    _known_keys(fields_data, {"fields"}, "fields.yaml")
    raw_fields = fields_data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise FormSpecError("fields.yaml: 'fields' must be a non-empty list")
    fields: dict[str, FieldSpec] = {}
    labels: dict[str, str] = {}
    for index, raw in enumerate(raw_fields):
        spec = _parse_field(raw, index, choice_sets)
        if spec.id in fields:
            raise FormSpecError(f"fields.yaml: field '{spec.id}' appears twice")
        for text in (spec.label.ja, spec.label.en):
            if text in labels:
                raise FormSpecError(
                    f"fields.yaml: field '{spec.id}' has the label {text!r} of field '{labels[text]}'; "
                    "labels name fields in error messages and bulk headers, so they must differ"
                )
            labels[text] = spec.id
        fields[spec.id] = spec

    def codes_of(target: FieldSpec) -> set[str] | None:
        if target.choice_source:
            return _source_codes(target.choice_source, catalogue, extra_countries, japan)
        if target.choices:
            return {c.code for c in target.choices}
        return None

    def check(condition: Condition, where: str, **kwargs: Any) -> None:
        _check_condition(condition, where, fields=fields, catalogue=catalogue, codes_of=codes_of, **kwargs)

    for spec in fields.values():
        where = f"fields.yaml: field '{spec.id}'"
        check(spec.applies, f"{where}: applies", context_only=True)
        check(spec.show_when, f"{where}: show_when")
        check(spec.required, f"{where}: required")
        check(spec.value_from_when, f"{where}: value_from.when", context_only=True)
        for limit in spec.limits:
            check(limit.when, f"{where}: limits")
        for key in ("min_field", "max_field"):
            other_id = getattr(spec, key)
            if other_id is None:
                continue
            other = fields.get(other_id)
            if other is None:
                raise FormSpecError(f"{where}: {key} names unknown field '{other_id}'")
            kinds = {spec.type, other.type}
            if not (kinds <= _NUMBER_TYPES or len(kinds) == 1):
                raise FormSpecError(
                    f"{where}: {key} '{other_id}' is a {other.type}, not comparable with a {spec.type}"
                )

    structure = _read(directory, "structure.yaml")
    _known_keys(structure, {"organization_part_as_pdf", "steps"}, "structure.yaml")
    if "organization_part_as_pdf" not in structure:
        raise FormSpecError("structure.yaml: 'organization_part_as_pdf' is missing")
    pdf_rule = _parse_condition(
        structure["organization_part_as_pdf"], "structure.yaml: organization_part_as_pdf"
    )
    check(
        pdf_rule,
        "structure.yaml: organization_part_as_pdf",
        context_only=True,
        allowed_context=frozenset({"user_category", "group", "organization_part"}),
    )
    raw_steps = structure.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise FormSpecError("structure.yaml: 'steps' must be a non-empty list")
    steps: list[StepSpec] = []
    section_ids: set[str] = set()
    placements: dict[str, list[SectionSpec]] = {}
    for s_index, raw_step in enumerate(raw_steps):
        where = f"structure.yaml: steps[{s_index}]"
        _known_keys(raw_step, STEP_KEYS, where)
        step_id = str(_text(raw_step, "id", where))
        where = f"structure.yaml: step '{step_id}'"
        if step_id in {s.id for s in steps}:
            raise FormSpecError(f"{where}: appears twice")
        kind = raw_step.get("kind")
        if kind not in STEP_KINDS:
            raise FormSpecError(f"{where}: kind {kind!r} is not one of {sorted(STEP_KINDS)}")
        title = _localized(raw_step, "title", where)
        assert title is not None
        raw_sections = raw_step.get("sections")
        if not isinstance(raw_sections, list) or not raw_sections:
            raise FormSpecError(f"{where}: 'sections' must be a non-empty list")
        sections: list[SectionSpec] = []
        for c_index, raw_section in enumerate(raw_sections):
            swhere = f"{where}: sections[{c_index}]"
            _known_keys(raw_section, SECTION_KEYS, swhere)
            section_id = str(_text(raw_section, "id", swhere))
            swhere = f"structure.yaml: section '{section_id}'"
            if not _ID_RE.fullmatch(section_id):
                raise FormSpecError(f"{swhere}: the id must be snake_case")
            if section_id in section_ids:
                raise FormSpecError(f"{swhere}: appears twice")
            if section_id in fields:
                raise FormSpecError(f"{swhere}: has the id of a field (they share the answers' keys)")
            section_ids.add(section_id)
            field_ids = raw_section.get("fields")
            if not isinstance(field_ids, list) or not field_ids:
                raise FormSpecError(f"{swhere}: 'fields' must be a non-empty list of field ids")
            unknown = [f for f in field_ids if f not in fields]
            if unknown:
                raise FormSpecError(f"{swhere}: unknown field id(s) {unknown}")
            if len(set(field_ids)) != len(field_ids):
                raise FormSpecError(f"{swhere}: lists a field twice")
            repeat_min, repeat_max, row_label = 0, None, None
            if "repeat" in raw_section:
                repeat = raw_section["repeat"]
                _known_keys(repeat, {"min", "max"}, f"{swhere}: repeat")
                repeat_min, repeat_max = repeat.get("min", 0), repeat.get("max")
                if (
                    not isinstance(repeat_max, int)
                    or not isinstance(repeat_min, int)
                    or not 0 <= repeat_min <= repeat_max
                    or repeat_max < 1
                ):
                    raise FormSpecError(f"{swhere}: repeat needs 0 <= min <= max and max >= 1")
                row_label = _localized(raw_section, "row_label", swhere)
            elif "row_label_ja" in raw_section or "row_label_en" in raw_section:
                raise FormSpecError(f"{swhere}: a row label needs 'repeat'")
            section = SectionSpec(
                id=section_id,
                title=_localized(raw_section, "title", swhere),  # type: ignore[arg-type]
                help=_localized(raw_section, "help", swhere, optional=True),
                fields=tuple(fields[f] for f in field_ids),
                applies=_parse_condition(raw_section.get("applies", True), f"{swhere}: applies"),
                show_when=_parse_condition(raw_section.get("show_when", True), f"{swhere}: show_when"),
                repeat_min=repeat_min,
                repeat_max=repeat_max,
                row_label=row_label,
                step=step_id,
            )
            check(section.applies, f"{swhere}: applies", context_only=True)
            check(section.show_when, f"{swhere}: show_when")
            for f in section.fields:
                placements.setdefault(f.id, []).append(section)
            sections.append(section)
        steps.append(StepSpec(id=step_id, kind=kind, title=title, sections=tuple(sections)))

    unused = [f for f in fields if f not in placements]
    if unused:
        raise FormSpecError(f"fields.yaml: field(s) used in no section of structure.yaml: {unused}")
    _check_scopes(fields, placements)
    _check_no_cycles(fields, placements)
    return FormLibrary(
        fields=fields,
        choice_sets=choice_sets,
        steps=tuple(steps),
        organization_part_as_pdf=pdf_rule,
        extra_countries=extra_countries,
        japan=japan,
        catalogue=catalogue,
    )


def _field_refs(spec: FieldSpec) -> set[str]:
    refs = spec.show_when.answer_refs() | spec.required.answer_refs()
    for limit in spec.limits:
        refs |= limit.when.answer_refs()
    return refs | {f for f in (spec.min_field, spec.max_field) if f}


def _check_scopes(fields: dict[str, FieldSpec], placements: dict[str, list[SectionSpec]]) -> None:
    """A field of a repeatable section lives in rows: only its own section may refer to it."""
    row_home = {}
    for field_id, sections in placements.items():
        repeatable = [s for s in sections if s.repeatable]
        if repeatable and len(sections) > 1:
            raise FormSpecError(
                f"structure.yaml: field '{field_id}' of a repeatable section is placed more than once"
            )
        if repeatable:
            row_home[field_id] = repeatable[0].id
            if fields[field_id].value_from:
                raise FormSpecError(
                    f"structure.yaml: field '{field_id}' takes its value from the context; it cannot repeat"
                )
    for field_id, sections in placements.items():
        own = row_home.get(field_id)
        for ref in _field_refs(fields[field_id]):
            if ref in row_home and row_home[ref] != own:
                raise FormSpecError(
                    f"fields.yaml: field '{field_id}' refers to '{ref}', a field of the rows of section "
                    f"'{row_home[ref]}', which it cannot see"
                )
        for section in sections:
            for ref in section.show_when.answer_refs():
                if ref in row_home:
                    raise FormSpecError(
                        f"structure.yaml: section '{section.id}' is shown by '{ref}', a row field"
                    )


def _check_no_cycles(fields: dict[str, FieldSpec], placements: dict[str, list[SectionSpec]]) -> None:
    """Whether a field is shown may depend on other answers, but never on itself."""
    depends: dict[str, set[str]] = {}
    for field_id, spec in fields.items():
        refs = set(spec.show_when.answer_refs())
        for section in placements.get(field_id, []):
            refs |= section.show_when.answer_refs()
        depends[field_id] = refs
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node) :] + [node]
            raise FormSpecError(
                f"fields.yaml: show_when conditions go round in a circle: {' → '.join(cycle)}"
            )
        state[node] = 1
        for ref in depends.get(node, ()):
            visit(ref, [*path, node])
        state[node] = 2

    for field_id in fields:
        visit(field_id, [])


@cache
def get_form_library() -> FormLibrary:
    """The form catalogue of this process, loaded and checked once."""
    return load_form_library()


# --- choices ------------------------------------------------------------------------------------


def _entry_in_force(entry: StatusEntry, catalogue: Catalogue, today: dt.date) -> bool:
    return entry.in_force(today) and catalogue.statuses[entry.status_code].in_force(today)


def choices_for(spec: FieldSpec, *, today: dt.date | None = None) -> tuple[Choice, ...]:
    """The choices of a field: its own, or those of its source (statuses: in force on ``today``)."""
    if not spec.choice_source:
        return spec.choices
    return _choice_index(spec, today).choices


def _source_choices(spec: FieldSpec, today: dt.date | None) -> tuple[Choice, ...]:
    library = get_form_library()
    catalogue = library.catalogue
    source = spec.choice_source
    if source == "prefectures":
        return tuple(Choice(p.code, p.name) for p in catalogue.prefectures.values())
    if source == "statuses_in_force":
        on = today or clock.today()
        return tuple(
            Choice(e.key, e.name) for e in catalogue.entries.values() if _entry_in_force(e, catalogue, on)
        )
    base = [Choice(n.code, n.name) for n in registry_nationalities().values()]
    if source == "nationalities_with_japan":
        return (library.japan, *base)
    if source == "countries":
        return tuple(c for c in base if c.code != "XXA") + library.extra_countries
    return tuple(base)


@dataclass(frozen=True)
class _ChoiceIndex:
    """A field's choices, and how a typed value finds one (:func:`_match_choice`)."""

    choices: tuple[Choice, ...]
    codes: tuple[str, ...]
    exact: dict[str, str]  # code → code
    folded: dict[str, str]  # code or label, compared as the input is → code


# The statuses in force change by the day; a field keeps the index of a few days at most.
_CHOICE_INDEX_DAYS = 4


def _choice_index(spec: FieldSpec, today: dt.date | None) -> _ChoiceIndex:
    """The field's choices and their lookup tables, built once per field (and per day for the
    statuses in force): the catalogue's choices do not change while the process runs."""
    key = (today or clock.today()) if spec.choice_source == "statuses_in_force" else None
    indexes = spec._choice_indexes
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
                text = _apply_normalizers(spec, label).casefold()
                if text:
                    folded.setdefault(text, choice.code)
        index = _ChoiceIndex(
            choices=choices, codes=tuple(c.code for c in choices), exact=exact, folded=folded
        )
        if len(indexes) >= _CHOICE_INDEX_DAYS:
            indexes.clear()
        indexes[key] = index
    return index


# --- forms --------------------------------------------------------------------------------------


def organization_part_as_pdf(user_category: str, group: str | Any) -> bool:
    """Whether the organization's part (step 2-3) is attached as a PDF instead of entered:
    F-03, a self-applicant (U1) stops at step 2-2. False when the group has no such part."""
    return _organization_part_as_pdf(get_form_library(), user_category, getattr(group, "code", group))


def _organization_part_as_pdf(library: FormLibrary, user_category: str, code: str) -> bool:
    screen_group = library.catalogue.groups[code]
    if not screen_group.has_organization_part:
        return False
    context = {
        "user_category": user_category,
        "group": code,
        "organization_part": screen_group.organization_part,
    }
    return library.organization_part_as_pdf.evaluate(lambda _: UNSET, context)


def _resolve_field(spec: FieldSpec, context: Mapping[str, Any], step: str, section: SectionSpec) -> FieldSpec:
    fixed = None
    if spec.value_from and spec.value_from_when.resolve(context) == ALWAYS:
        fixed = context[spec.value_from]
    return replace(
        spec,
        applies=ALWAYS,
        required=spec.required.resolve(context),
        show_when=spec.show_when.resolve(context),
        limits=tuple(
            replace(limit, when=limit.when.resolve(context))
            for limit in spec.limits
            if limit.when.resolve(context) != NEVER
        ),
        value_from=None,
        value_from_when=ALWAYS,
        fixed_value=fixed,
        step=step,
        section=section.id,
        row_section=section.id if section.repeatable else None,
    )


def _conjunction(*conditions: Condition) -> Condition:
    return Condition("all", parts=conditions).resolve({})


def form_for(*, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...] = ()) -> FormSpec:
    """The form that applies: its steps, sections and fields, in order, with the context's
    conditions evaluated. Raises ``ValueError`` for codes the catalogue does not know or a
    combination that cannot be filed online (an add-on alone, an add-on with P1/P5, a status
    that is not online, U8)."""
    library = get_form_library()
    add_ons = tuple(sorted(set(add_ons)))
    key = (procedure, status, user_category, add_ons)
    if key not in library._forms:
        library._forms[key] = _build_form(library, procedure, status, user_category, add_ons)
    return library._forms[key]


def _build_form(
    library: FormLibrary, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...]
) -> FormSpec:
    catalogue = library.catalogue
    main = catalogue.procedures.get(procedure)
    if main is None:
        raise ValueError(f"unknown procedure {procedure!r}")
    if main.add_on:
        raise ValueError(f"{procedure} is filed only together with one of {', '.join(main.add_on_to)}")
    entry = catalogue.entries.get(status)
    if entry is None:
        raise ValueError(f"unknown status entry {status!r}")
    if not entry.online or entry.group is None:
        raise ValueError(f"{status} cannot be filed online")
    category = catalogue.user_categories.get(user_category)
    if category is None:
        raise ValueError(f"unknown user category {user_category!r}")
    if not category.files_online:
        raise ValueError(f"{user_category} cannot file online")
    for add_on in add_ons:
        extra = catalogue.procedures.get(add_on)
        if extra is None or not extra.add_on:
            raise ValueError(f"{add_on!r} is not an add-on procedure")
        if procedure not in extra.add_on_to:
            raise ValueError(
                f"{add_on} can be filed only with {', '.join(extra.add_on_to)}, not with {procedure}"
            )
    group = entry.group
    as_pdf = _organization_part_as_pdf(library, user_category, group.code)
    context = {
        "procedure": procedure,
        "status": entry.key,
        "group": group.code,
        "user_category": user_category,
        "add_ons": add_ons,
        "organization_part": group.organization_part,
        "status_family": entry.family,
        "organization_part_as_pdf": as_pdf,
    }
    steps: list[StepSpec] = []
    seen: dict[str, str] = {}
    for step in library.steps:
        if step.kind == "organization" and (not group.has_organization_part or as_pdf):
            continue
        sections: list[SectionSpec] = []
        for section in step.sections:
            if section.applies.resolve(context) != ALWAYS:
                continue
            show_when = section.show_when.resolve(context)
            if show_when == NEVER:
                continue
            resolved = tuple(
                _resolve_field(f, context, step.id, section)
                for f in section.fields
                if f.applies.resolve(context) == ALWAYS
            )
            if show_when != ALWAYS and not section.repeatable:
                # A field of a hidden section is hidden: say so on the field, so that whoever
                # looks at one field (an HTML "required", a schema property) sees it.
                resolved = tuple(replace(f, show_when=_conjunction(show_when, f.show_when)) for f in resolved)
            resolved = tuple(f for f in resolved if f.show_when != NEVER)
            if not resolved:
                continue
            for f in resolved:
                if f.id in seen:
                    raise FormSpecError(
                        f"structure.yaml: field '{f.id}' is in both section '{seen[f.id]}' and '{section.id}' "
                        f"of the form {procedure}/{status}/{user_category}"
                    )
                seen[f.id] = section.id
            sections.append(replace(section, fields=resolved, applies=ALWAYS, show_when=show_when))
        if sections:
            steps.append(replace(step, sections=tuple(sections)))
    return FormSpec(
        procedure=procedure,
        status=entry.key,
        group=group.code,
        organization_part=group.organization_part,
        user_category=user_category,
        add_ons=add_ons,
        steps=tuple(steps),
        organization_part_as_pdf=as_pdf,
    )


# --- normalisation ------------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _period_words(text: str) -> str:
    """``"5年"``, ``"6か月"``, ``"90日"``, ``"1 year 6 months"`` → ``5Y``, ``6M``, ``90D``, ``1Y6M``."""
    text = _nfkc(text).lower()
    text = _PERIOD_YEARS_RE.sub(r"\1Y", text)
    text = _PERIOD_MONTHS_RE.sub(r"\1M", text)
    text = _PERIOD_DAYS_RE.sub(r"\1D", text)
    return registry.normalize_period_of_stay(text)


_PERIOD_YEARS_RE = re.compile(r"([0-9]+)\s*(?:years?|yrs?|年間?)")
_PERIOD_MONTHS_RE = re.compile(r"([0-9]+)\s*(?:months?|か月|ヶ月|ヵ月|カ月|ケ月|箇月|月)間?")
_PERIOD_DAYS_RE = re.compile(r"([0-9]+)\s*(?:days?|日間?)")


NORMALIZERS: dict[str, Callable[[str], str]] = {
    "nfkc": _nfkc,
    "strip": str.strip,
    "collapse_spaces": lambda text: " ".join(text.split()),
    "strip_spaces": lambda text: "".join(text.split()),
    "strip_hyphens": lambda text: "".join(ch for ch in text if ch not in _DASHES),
    "upper": str.upper,
    "lower": str.lower,
    "roman_name": registry.normalize_roman_name,
    "phone": registry.normalize_phone_number,
    "card_number": registry.normalize_card_number,
    "corporate_number": registry.normalize_corporate_number,
    "prefecture": registry.normalize_prefecture,
    "nationality": registry.normalize_nationality,
    "status": registry.normalize_status,
    "period_of_stay": _period_words,
}

_REGISTRY_VALIDATORS: dict[str, Callable[[str], None]] = {
    "roman_name": registry.validate_roman_name,
    "card_number": registry.validate_card_number,
    "corporate_number": registry.validate_corporate_number,
    "prefecture": registry.validate_prefecture,
    "period_of_stay": registry.validate_period_of_stay,
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


class _Invalid(Exception):
    def __init__(self, code: str, message: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


def _label_text(label: Localized) -> str:
    """A label inside a message; quoted when it is a question or a sentence, so that
    "Do you have a passport?: answer yes or no" reads “Do you have a passport?”: …"""
    text = str(label)
    if text and text[-1] in "?.？。":
        return f"「{text}」" if (get_language() or "ja").startswith("ja") else f"“{text}”"
    return text


def _render(template: Any, params: Mapping[str, Any]) -> str:
    values = {
        k: _label_text(v) if isinstance(v, Localized) else str(v) if isinstance(v, Promise) else v
        for k, v in params.items()
    }
    return str(template) % values


_lazy_render = lazy(_render, str)


def _message(template: Any, **params: Any) -> Any:
    """A lazily translated message: rendered in the language active when it is shown."""
    return _lazy_render(template, params)


def _registry_problem(exc: ValidationError) -> Any:
    return _lazy_render(exc.message, exc.params or {})


def _is_blank(raw: Any) -> bool:
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
_PASSPORT_RE = re.compile(r"[A-Z0-9]{5,12}")
_POSTAL_RE = re.compile(r"〒?([0-9]{3})-?([0-9]{4})")
_INTERNATIONAL_PHONE_RE = re.compile(r"\+[0-9][0-9-]{6,20}")
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_INTEGER_NOISE_RE = re.compile(r"[,\s_]|人|名|時間|回|%$")
_MONEY_NOISE_RE = re.compile(r"[,\s_¥￥]|円$|jpy")
_MULTI_SEPARATOR_RE = re.compile(r"[,、;；/\n]")
_MAN_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)万([0-9]{0,4})")

_M_REQUIRED = _("%(label)s: this is required; please fill it in.")
_M_REQUIRED_CHOICE = _("%(label)s: choose one of the options.")
_M_REQUIRED_MULTI = _("%(label)s: choose at least one option.")
_M_REQUIRED_BOOLEAN = _("%(label)s: answer yes or no.")
_M_DECLARATION = _(
    "%(label)s: tick the box to make this declaration; the application cannot be filed without it."
)
_M_DATE = _("%(label)s: enter a date such as %(example)s.")
_M_DATE_NONEXISTENT = _("%(label)s: %(value)s is not a date in the calendar; check the day and the month.")
_M_MONTH = _("%(label)s: enter a year and month such as %(example)s.")
_M_DATE_MIN = _("%(label)s: the date must be %(bound)s or later.")
_M_DATE_MAX = _("%(label)s: the date must be %(bound)s or earlier.")
_M_INTEGER = _("%(label)s: enter a whole number in digits, e.g. 12.")
_M_MONEY = _("%(label)s: enter an amount in yen in digits, e.g. 250,000.")
_M_NUMBER_MIN = _("%(label)s: enter %(bound)s or more.")
_M_NUMBER_MAX = _("%(label)s: enter %(bound)s or less.")
_M_MIN_FIELD = _("%(label)s: cannot be earlier or lower than “%(other)s” (%(other_value)s).")
_M_MAX_FIELD = _("%(label)s: cannot be later or higher than “%(other)s” (%(other_value)s).")
_M_CHOICE = _("%(label)s: “%(value)s” is not one of the options; choose from the list (e.g. %(codes)s).")
_M_DJANGO_CHOICE = _("%(label)s: “%%(value)s” is not one of the options; choose from the list.")
_M_BOOLEAN = _("%(label)s: “%(value)s” is not an answer to a yes/no question; answer yes or no.")
_M_EMAIL = _("%(label)s: “%(value)s” is not an e-mail address; write it like name@example.com.")
_M_POSTAL = _("%(label)s: enter the 7-digit postal code, e.g. 160-0023.")
_M_KANJI = _("%(label)s: write the name in kanji or kana; these characters cannot be used: %(characters)s.")
_M_PASSPORT = _(
    "%(label)s: enter the passport number as printed, 5 to 12 letters and digits, e.g. C1234567; “%(value)s” is not."
)
_M_PHONE_INTERNATIONAL = _(
    "%(label)s: enter a Japanese number such as 03-1234-5678, or a number abroad with its country code, "
    "such as +84 24 1234 5678."
)
_M_TOO_LONG = _("%(label)s: at most %(limit)s characters; shorten it by %(excess)s.")
_M_TOO_SHORT = _("%(label)s: at least %(limit)s characters.")
_M_PATTERN = _("%(label)s: write it in the form %(example)s.")
_M_REGISTRY = _("%(label)s: %(problem)s")
_M_NOT_IN_FORCE = _("%(label)s: %(value)s is not a status of residence in force on %(today)s.")
_M_FIXED = _(
    "%(label)s: this application is for %(expected)s (chosen at the first step); to apply for another, "
    "start a new application."
)
_M_UNKNOWN = _("“%(key)s” is not a question of the application forms; remove it or check its spelling.")
_M_ROWS = _("%(section)s: send a list of rows, one per entry.")
_M_ROWS_MIN = _("%(section)s: enter at least %(count)s (one row each).")
_M_ROWS_MAX = _("%(section)s: at most %(count)s rows; remove %(excess)s.")
_M_ROW_LABEL = _("%(label)s (row %(row)s)")
_M_TEXT = _("%(label)s: enter text, not a list or a number.")


def _date_bound(bound: Any, today: dt.date) -> dt.date:
    if isinstance(bound, dt.date):
        return bound
    match = _DATE_BOUND_RE.fullmatch(bound)
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


def _apply_normalizers(spec: FieldSpec, text: str) -> str:
    for name in spec.normalizers:
        text = NORMALIZERS[name](text)
    return text


def _match_choice(spec: FieldSpec, text: str, today: dt.date) -> str | None:
    """The code of the choice ``text`` (normalised) names: a code as is; else a code or a label
    in either language, compared case-folded with the label normalised as the input was."""
    index = _choice_index(spec, today)
    code = index.exact.get(text)
    if code is None:
        code = index.folded.get(text.casefold())
    return code


def _invalid_choice(spec: FieldSpec, label: Any, value: Any, today: dt.date) -> _Invalid:
    codes = spec.choice_codes(today)
    shown = ", ".join(codes[:8]) + (", …" if len(codes) > 8 else "")
    return _Invalid("invalid_choice", _message(_M_CHOICE, label=label, value=value, codes=shown))


def _normalize(spec: FieldSpec, raw: Any, label: Any, today: dt.date) -> Any:
    """The canonical value of a non-blank answer; raises :class:`_Invalid` with a message."""
    kind = spec.type
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        text = _apply_normalizers(spec, str(raw))
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _Invalid("invalid_boolean", _message(_M_BOOLEAN, label=label, value=raw))
    if kind == "multi_choice":
        items = raw if isinstance(raw, list | tuple) else _MULTI_SEPARATOR_RE.split(str(raw))
        codes: list[str] = []
        for item in items:
            text = _apply_normalizers(spec, str(item))
            if not text:
                continue
            code = _match_choice(spec, text, today)
            if code is None:
                raise _invalid_choice(spec, label, text, today)
            if code not in codes:
                codes.append(code)
        return codes
    if kind == "date" and isinstance(raw, dt.date):
        return (raw.date() if isinstance(raw, dt.datetime) else raw).isoformat()
    if kind == "year_month" and isinstance(raw, dt.date):
        return f"{raw.year:04d}-{raw.month:02d}"
    if kind in _NUMBER_TYPES and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, list | tuple | dict | set | bool):
        raise _Invalid("invalid", _message(_M_TEXT, label=label))
    text = _apply_normalizers(spec, str(raw))

    if kind == "date":
        parts = _parse_date(text)
        if parts is None:
            raise _Invalid(
                "invalid_date", _message(_M_DATE, label=label, example=spec.example or "1990-04-01")
            )
        try:
            return dt.date(*parts).isoformat()
        except ValueError:
            raise _Invalid(
                "date_nonexistent", _message(_M_DATE_NONEXISTENT, label=label, value=text)
            ) from None
    if kind == "year_month":
        month = _parse_month(text) or (lambda d: d[:2] if d else None)(_parse_date(text))
        if month is None or not 1 <= month[1] <= 12:
            raise _Invalid(
                "invalid_year_month", _message(_M_MONTH, label=label, example=spec.example or "2020-03")
            )
        return f"{month[0]:04d}-{month[1]:02d}"
    if kind == "integer":
        compact = _INTEGER_NOISE_RE.sub("", text)
        if not _INTEGER_RE.fullmatch(compact):
            raise _Invalid("invalid_integer", _message(_M_INTEGER, label=label))
        return int(compact)
    if kind == "money_yen":
        compact = _MONEY_NOISE_RE.sub("", text.lower())
        match = _MAN_RE.fullmatch(compact)
        if match:
            try:
                return int(Decimal(match[1]) * 10000) + int(match[2] or 0)
            except InvalidOperation:  # pragma: no cover - the pattern admits only digits
                pass
        if not _INTEGER_RE.fullmatch(compact):
            raise _Invalid("invalid_money", _message(_M_MONEY, label=label))
        return int(compact)
    if kind == "choice":
        code = _match_choice(spec, text, today)
        if code is None:
            raise _invalid_choice(spec, label, text, today)
        return code
    if kind == "email":
        local, at, domain = text.rpartition("@")
        value = f"{local}@{domain.lower()}" if at else text
        try:
            validate_email(value)
        except ValidationError:
            raise _Invalid("invalid_email", _message(_M_EMAIL, label=label, value=text)) from None
        return value
    if kind == "phone":
        if spec.international and text.startswith("+"):
            if not _INTERNATIONAL_PHONE_RE.fullmatch(text):
                raise _Invalid("invalid_phone", _message(_M_PHONE_INTERNATIONAL, label=label))
            return text
        try:
            registry.validate_phone_number(text)
        except ValidationError as exc:
            if spec.international:
                raise _Invalid("invalid_phone", _message(_M_PHONE_INTERNATIONAL, label=label)) from None
            raise _Invalid(
                exc.code or "invalid_phone",
                _message(_M_REGISTRY, label=label, problem=_registry_problem(exc)),
            ) from None
        return text
    if kind == "postal_code":
        match = _POSTAL_RE.fullmatch(text.translate({ord(c): "-" for c in _DASHES}))
        if match is None:
            raise _Invalid("invalid_postal_code", _message(_M_POSTAL, label=label))
        return f"{match[1]}-{match[2]}"
    if kind == "kanji_name":
        if not _KANJI_NAME_RE.fullmatch(text):
            bad = sorted({ch for ch in text if not _KANJI_NAME_RE.fullmatch(ch)})
            raise _Invalid("invalid_kanji_name", _message(_M_KANJI, label=label, characters=" ".join(bad)))
        return text
    if kind == "passport_number":
        if not _PASSPORT_RE.fullmatch(text):
            raise _Invalid("invalid_passport_number", _message(_M_PASSPORT, label=label, value=text))
        return text
    if kind in _REGISTRY_VALIDATORS:
        try:
            _REGISTRY_VALIDATORS[kind](text)
        except ValidationError as exc:
            raise _Invalid(
                exc.code or "invalid", _message(_M_REGISTRY, label=label, problem=_registry_problem(exc))
            ) from None
        return text
    if kind == "country":
        code = _match_choice(spec, text, today) or _match_choice(spec, str(raw).strip(), today)
        if code is None:
            if spec.choice_source == "nationalities":
                try:
                    registry.validate_nationality(text)
                except ValidationError as exc:
                    raise _Invalid(
                        exc.code or "invalid",
                        _message(_M_REGISTRY, label=label, problem=_registry_problem(exc)),
                    ) from None
            raise _invalid_choice(spec, label, text, today)
        return code
    if kind == "status_of_residence":
        catalogue = get_form_library().catalogue
        if text not in catalogue.entries:
            for entry in catalogue.entries.values():
                if str(raw).strip() in (entry.name.ja, entry.name.en):
                    text = entry.key
        try:
            registry.validate_status(text)
        except ValidationError as exc:
            raise _Invalid(
                exc.code or "invalid", _message(_M_REGISTRY, label=label, problem=_registry_problem(exc))
            ) from None
        if not _entry_in_force(catalogue.entries[text], catalogue, today):
            raise _Invalid(
                "status_not_in_force",
                _message(_M_NOT_IN_FORCE, label=label, value=text, today=today.isoformat()),
            )
        return text
    # text, textarea
    if kind == "text" and spec.pattern and not _pattern(spec.pattern).fullmatch(text):
        raise _Invalid("invalid_format", _message(_M_PATTERN, label=label, example=spec.example))
    return text


def _check_bounds(
    spec: FieldSpec, value: Any, label: Any, today: dt.date, lookup: Callable[[str], Any]
) -> None:
    """min/max, conditional limits, min_field/max_field, lengths. Raises :class:`_Invalid`."""
    kind = spec.type
    if kind in _TEXT_TYPES and isinstance(value, str):
        if spec.max_length and len(value) > spec.max_length:
            raise _Invalid(
                "too_long",
                _message(
                    _M_TOO_LONG, label=label, limit=spec.max_length, excess=len(value) - spec.max_length
                ),
            )
        if spec.min_length and len(value) < spec.min_length:
            raise _Invalid("too_short", _message(_M_TOO_SHORT, label=label, limit=spec.min_length))
    if kind in _NUMBER_TYPES:
        low, high = spec.min, spec.max
        for limit in spec.limits:
            if limit.when.evaluate(lookup):
                low = limit.min if limit.min is not None and (low is None or limit.min > low) else low
                high = limit.max if limit.max is not None and (high is None or limit.max < high) else high
        if low is not None and value < low:
            raise _Invalid("too_small", _message(_M_NUMBER_MIN, label=label, bound=f"{low:,}"))
        if high is not None and value > high:
            raise _Invalid("too_large", _message(_M_NUMBER_MAX, label=label, bound=f"{high:,}"))
    if kind in ("date", "year_month"):
        width = 10 if kind == "date" else 7
        for bound, code, template in (
            (spec.min, "too_early", _M_DATE_MIN),
            (spec.max, "too_late", _M_DATE_MAX),
        ):
            if bound is None:
                continue
            limit = _date_bound(bound, today).isoformat()[:width]
            if (value < limit) if code == "too_early" else (value > limit):
                raise _Invalid(code, _message(template, label=label, bound=limit))
    for other_id, code, template in (
        (spec.min_field, "before_other", _M_MIN_FIELD),
        (spec.max_field, "after_other", _M_MAX_FIELD),
    ):
        if other_id is None:
            continue
        other = lookup(other_id)
        if other is UNSET or type(other) is not type(value):
            continue
        if (value < other) if code == "before_other" else (value > other):
            other_label = get_form_library().fields[other_id].label
            raise _Invalid(code, _message(template, label=label, other=other_label, other_value=other))


@dataclass(frozen=True)
class FieldError:
    field_id: str
    code: str
    message: Any  # a lazy string: rendered in the active language
    row: int | None = None

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class FieldChange:
    """What normalisation changed, to show the applicant (``"nguyen van,an"`` → ``"NGUYEN VAN AN"``)."""

    field_id: str
    before: Any
    after: Any
    row: int | None = None


@dataclass
class ValidationResult:
    cleaned: dict[str, Any]
    errors: list[FieldError]
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def errors_for(self, field_id: str, row: int | None = None) -> list[FieldError]:
        return [e for e in self.errors if e.field_id == field_id and (row is None or e.row == row)]


class _Evaluation:
    """Normalised values and visibility of one set of answers (top level, or one row)."""

    def __init__(
        self,
        fields: Mapping[str, FieldSpec],
        raw: Mapping[str, Any],
        today: dt.date,
        parent: _Evaluation | None,
        row: int | None,
    ) -> None:
        self.fields = fields  # by id
        self.raw = raw
        self.today = today
        self.parent = parent
        self.row = row
        self.values: dict[str, Any] = {}
        self.errors: dict[str, _Invalid] = {}
        self._visible: dict[str, bool] = {}
        for spec in fields.values():
            self._normalize(spec)

    def label(self, spec: FieldSpec) -> Any:
        if self.row is None:
            return spec.label
        return _message(_M_ROW_LABEL, label=spec.label, row=self.row)

    def _normalize(self, spec: FieldSpec) -> None:
        if spec.fixed_value is not None:
            self.values[spec.id] = spec.fixed_value
            return
        raw = self.raw.get(spec.id)
        if _is_blank(raw):
            self.values[spec.id] = UNSET
            return
        try:
            self.values[spec.id] = _normalize(spec, raw, self.label(spec), self.today)
        except _Invalid as exc:
            self.values[spec.id] = UNSET
            self.errors[spec.id] = exc

    def visible(self, field_id: str) -> bool:
        if field_id not in self._visible:
            self._visible[field_id] = False  # a guard: cycles are refused at load
            spec = self.fields[field_id]
            # A section's condition is part of its fields' show_when (see form_for).
            self._visible[field_id] = spec.show_when.evaluate(self.lookup)
        return self._visible[field_id]

    def lookup(self, field_id: str) -> Any:
        if field_id in self.fields:
            return self.values[field_id] if self.visible(field_id) else UNSET
        if self.parent is not None:
            return self.parent.lookup(field_id)
        return UNSET


def normalize_and_validate(
    form: FormSpec, answers: Mapping[str, Any], *, step: str | None = None, today: dt.date
) -> ValidationResult:
    """Normalise and check ``answers`` (keyed by field id; a repeatable section's id maps to a list
    of row dicts) against ``form``, for one ``step`` or the whole form.

    Answers of other steps may be included: conditions see them. ``cleaned`` holds the canonical
    values of the fields in scope that are shown and valid; values of hidden or non-applying
    fields are dropped.
    """
    if step is not None:
        form.step(step)  # KeyError for a step the form does not have
    library = get_form_library()
    errors: list[FieldError] = []
    changes: list[FieldChange] = []
    cleaned: dict[str, Any] = {}

    known = library.answer_keys
    for key in answers:
        if key not in known:
            errors.append(FieldError(str(key), "unknown_field", _message(_M_UNKNOWN, key=key)))

    top = _Evaluation(form.top_fields_by_id, answers, today, None, None)

    def finish(evaluation: _Evaluation, spec: FieldSpec, target: dict[str, Any], row: int | None) -> None:
        if not evaluation.visible(spec.id):
            return
        raw = evaluation.raw.get(spec.id)
        label = evaluation.label(spec)
        if spec.fixed_value is not None:
            if not _is_blank(raw):
                try:
                    given = _normalize(replace(spec, fixed_value=None), raw, label, today)
                except _Invalid:
                    given = raw
                if given != spec.fixed_value:
                    expected = library.catalogue.entries[spec.fixed_value].name
                    errors.append(
                        FieldError(
                            spec.id,
                            "fixed_by_context",
                            _message(_M_FIXED, label=label, expected=expected),
                            row,
                        )
                    )
                    return
            target[spec.id] = spec.fixed_value
            return
        if spec.id in evaluation.errors:
            exc = evaluation.errors[spec.id]
            errors.append(FieldError(spec.id, exc.code, exc.message, row))
            return
        value = evaluation.values[spec.id]
        if value is UNSET or (spec.type == "multi_choice" and not value):
            if spec.required.evaluate(evaluation.lookup):
                errors.append(
                    FieldError(spec.id, "required", _message(_required_template(spec), label=label), row)
                )
            return
        if spec.must_be is not None and value is not spec.must_be:
            errors.append(
                FieldError(spec.id, "declaration_required", _message(_M_DECLARATION, label=label), row)
            )
            return
        try:
            _check_bounds(spec, value, label, today, evaluation.lookup)
        except _Invalid as exc:
            errors.append(FieldError(spec.id, exc.code, exc.message, row))
            return
        if (
            isinstance(raw, str)
            and isinstance(value, str | int)
            and not isinstance(value, bool)
            and raw.strip() != str(value)
        ):
            changes.append(FieldChange(spec.id, raw, value, row))
        target[spec.id] = value

    in_scope = [s for s in form.sections if step is None or s.step == step]
    for section in in_scope:
        if not section.repeatable:
            for spec in section.fields:
                finish(top, spec, cleaned, None)
            continue
        raw_rows = answers.get(section.id)
        shown = section.show_when.evaluate(top.lookup)
        if _is_blank(raw_rows) or not shown:
            if shown and section.repeat_min:
                errors.append(
                    FieldError(
                        section.id,
                        "rows_required",
                        _message(_M_ROWS_MIN, section=section.title, count=section.repeat_min),
                    )
                )
            continue
        if not isinstance(raw_rows, list | tuple) or not all(isinstance(r, Mapping) for r in raw_rows):
            errors.append(FieldError(section.id, "invalid_rows", _message(_M_ROWS, section=section.title)))
            continue
        rows = [
            (number, row)
            for number, row in enumerate(raw_rows, start=1)
            if not all(_is_blank(v) for v in row.values())
        ]
        if len(rows) < section.repeat_min:
            errors.append(
                FieldError(
                    section.id,
                    "rows_required",
                    _message(_M_ROWS_MIN, section=section.title, count=section.repeat_min),
                )
            )
        if section.repeat_max is not None and len(rows) > section.repeat_max:
            errors.append(
                FieldError(
                    section.id,
                    "too_many_rows",
                    _message(
                        _M_ROWS_MAX,
                        section=section.title,
                        count=section.repeat_max,
                        excess=len(rows) - section.repeat_max,
                    ),
                )
            )
            continue
        cleaned_rows = []
        row_fields = section.fields_by_id
        for number, raw_row in rows:
            for key in raw_row:
                if key not in row_fields:
                    errors.append(
                        FieldError(str(key), "unknown_field", _message(_M_UNKNOWN, key=key), number)
                    )
            evaluation = _Evaluation(row_fields, raw_row, today, top, number)
            cleaned_row: dict[str, Any] = {}
            for spec in section.fields:
                finish(evaluation, spec, cleaned_row, number)
            cleaned_rows.append(cleaned_row)
        cleaned[section.id] = cleaned_rows
    return ValidationResult(cleaned=cleaned, errors=errors, changes=changes)


def _required_template(spec: FieldSpec) -> Any:
    if spec.must_be is not None:
        return _M_DECLARATION
    if spec.type == "boolean":
        return _M_REQUIRED_BOOLEAN
    if spec.type == "multi_choice":
        return _M_REQUIRED_MULTI
    if spec.type in _CODED_TYPES:
        return _M_REQUIRED_CHOICE
    return _M_REQUIRED


# --- Django forms -------------------------------------------------------------------------------


_lazy_str = lazy(str, str)  # built once: lazy() makes a new proxy class on every call
_lazy_escaped = lazy(lambda text: escape(str(text)), str)


def _lazy_text(text: Localized | None) -> Any:
    """A :class:`Localized` as a lazy string, so Django renders it in the active language."""
    if text is None:
        return ""
    return _lazy_str(text)


def _render_choice_message(label: Localized) -> str:
    # Django formats this message with %(value)s itself: escape any "%" of the label.
    return str(_M_DJANGO_CHOICE) % {"label": _label_text(label).replace("%", "%%")}


_django_choice_message = lazy(_render_choice_message, str)


def _django_field(spec: FieldSpec) -> forms.Field:
    label = _lazy_text(spec.label)
    # Django renders help_text unescaped: escape the catalogue's text.
    help_text = _lazy_escaped(spec.help) if spec.help else ""
    common: dict[str, Any] = {
        "label": label,
        "help_text": help_text,
        "required": spec.statically_required,
        # Django's own wording ("This field is required.") names no field; ours does.
        "error_messages": {
            "required": _message(_required_template(spec), label=spec.label),
            "invalid_choice": _django_choice_message(spec.label),
        },
    }
    if spec.fixed_value is not None:
        name = get_form_library().catalogue.entries[spec.fixed_value].name
        return forms.ChoiceField(
            choices=[(spec.fixed_value, _lazy_text(name))],
            initial=spec.fixed_value,
            disabled=True,
            label=label,
            required=False,
        )
    attrs: dict[str, Any] = {}
    if spec.max_length:
        attrs["maxlength"] = spec.max_length
    if spec.type in _CODED_TYPES:

        def options(spec: FieldSpec = spec) -> list[tuple[str, Any]]:
            return [(c.code, _lazy_text(c.label)) for c in choices_for(spec, today=clock.today())]

        if spec.type == "multi_choice":
            return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple, **common)

        def options_with_blank(
            options: Callable[[], list[tuple[str, Any]]] = options,
        ) -> list[tuple[str, Any]]:
            return [("", "---------"), *options()]

        return forms.ChoiceField(choices=options_with_blank, widget=FastSelect, **common)
    if spec.type == "boolean":
        if spec.must_be:
            return forms.BooleanField(**common)
        return forms.ChoiceField(
            choices=[("true", _("Yes")), ("false", _("No"))], widget=forms.RadioSelect, **common
        )
    widgets: dict[str, forms.Widget] = {
        "textarea": FastTextarea(attrs={"rows": 4, **attrs}),
        "date": FastDateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        "year_month": FastTextInput(attrs={"type": "month", "placeholder": "2020-03"}),
        "integer": FastTextInput(attrs={"inputmode": "numeric"}),
        "money_yen": FastTextInput(attrs={"inputmode": "numeric", "placeholder": "250,000"}),
        "email": FastEmailInput(attrs={"autocomplete": "email", **attrs}),
        "phone": FastTextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        "postal_code": FastTextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        "roman_name": FastTextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "maxlength": 100}
        ),
        "passport_number": FastTextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
        "card_number": FastTextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "placeholder": "AB12345678CD"}
        ),
        "corporate_number": FastTextInput(attrs={"inputmode": "numeric"}),
        "period_of_stay": FastTextInput(attrs={"placeholder": "5Y"}),
    }
    widget = widgets.get(spec.type, FastTextInput(attrs=attrs))
    return forms.CharField(widget=widget, strip=True, **common)


class FormSpecStepForm(forms.Form):
    """Base of the generated step forms. ``answers`` are those of the other steps (conditions
    may look at them); ``formsets`` hold the repeatable sections, bound to the same data with the
    section id as prefix. After ``is_valid()``, ``cleaned_data`` holds the normalised values and
    ``result`` the whole :class:`ValidationResult`."""

    spec: FormSpec
    step_id: str
    formset_classes: dict[str, type[forms.BaseFormSet]] = {}

    def __init__(
        self,
        data: Any = None,
        *args: Any,
        answers: Mapping[str, Any] | None = None,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        self.other_answers = dict(answers or {})
        self.today = today or clock.today()
        self.formsets = {
            section_id: formset_class(data, prefix=section_id, initial=self.other_answers.get(section_id))
            for section_id, formset_class in self.formset_classes.items()
        }
        self.result: ValidationResult | None = None

    def is_valid(self) -> bool:
        valid = super().is_valid()  # runs clean(), which validates the formsets too
        return valid and all(formset.is_valid() for formset in self.formsets.values())

    def clean(self) -> dict[str, Any]:
        super().clean()
        answers = dict(self.other_answers)
        for name, field_ in self.fields.items():
            if not field_.disabled:
                answers[name] = self[name].value()
        for section_id, formset in self.formsets.items():
            formset.is_valid()
            answers[section_id] = [{name: row[name].value() for name in row.fields} for row in formset.forms]
        result = normalize_and_validate(self.spec, answers, step=self.step_id, today=self.today)
        row_fields = {f.id: f.row_section for f in self.spec.fields if f.row_section}
        for error in result.errors:
            formset = self.formsets.get(row_fields.get(error.field_id) or "")
            if error.row is not None and formset is not None and error.row <= len(formset.forms):
                row_form = formset.forms[error.row - 1]
                if not row_form.has_error(error.field_id):
                    row_form.add_error(error.field_id, str(error.message))
            elif error.field_id in self.fields:
                if not self.has_error(error.field_id):
                    self.add_error(error.field_id, str(error.message))
            else:
                self.add_error(None, str(error.message))
        self.result = result
        self.cleaned_data = dict(result.cleaned)
        return self.cleaned_data


class _FastInputMixin:
    """Render an <input> in Python with the same attributes Django's template would give."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        from django.forms.utils import flatatt
        from django.utils.html import format_html

        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        value_part = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            value_part,
            flatatt(widget["attrs"]),
        )


class FastTextInput(_FastInputMixin, forms.TextInput):
    pass


class FastDateInput(_FastInputMixin, forms.DateInput):
    pass


class FastEmailInput(_FastInputMixin, forms.EmailInput):
    pass


class FastTextarea(forms.Textarea):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        from django.forms.utils import flatatt
        from django.utils.html import format_html

        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            flatatt(widget["attrs"]),
            widget["value"] or "",
        )


class FastSelect(forms.Select):
    """A select rendered in Python: the same HTML as Django's template-rendered one, without a
    template per option (a country list has ~90), which made a form step several times slower."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        from django.forms.utils import flatatt
        from django.utils.html import format_html, format_html_join
        from django.utils.safestring import mark_safe

        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options = []
        for group_name, group_choices, _index in self.optgroups(name, [selected]):
            items = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (
                        option["value"],
                        mark_safe(" selected") if str(option["value"]) == selected else "",
                        option["label"],
                    )
                    for option in group_choices
                ),
            )
            options.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, items) if group_name else items
            )
        # Every piece was built with format_html (escaped), so joining them stays safe.
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe("".join(options)))  # noqa: S308


_FORM_CLASSES: dict[tuple[Any, ...], type[FormSpecStepForm]] = {}


def django_form_class(form: FormSpec, step: str) -> type[FormSpecStepForm]:
    """A Django form for one step: fields labelled in the active language, date inputs, selects
    for choices; ``required`` only where a field is required whatever the answers (conditional
    requirements come from :func:`normalize_and_validate` as form errors). Repeatable sections
    are formsets (``form.formsets[section_id]``)."""
    key = (*form.key, step)
    if key in _FORM_CLASSES:
        return _FORM_CLASSES[key]
    step_spec = form.step(step)
    attrs: dict[str, Any] = {}
    formset_classes: dict[str, type[forms.BaseFormSet]] = {}
    for section in step_spec.sections:
        if section.repeatable:
            row_fields = {}
            for spec in section.fields:
                row_field = _django_field(spec)
                row_field.required = False  # a blank extra row is allowed; rows are checked as a whole
                row_fields[spec.id] = row_field
            row_class = type(f"{section.id.title().replace('_', '')}RowForm", (forms.Form,), row_fields)
            formset_classes[section.id] = forms.formset_factory(
                row_class,
                extra=1,
                max_num=section.repeat_max,
                absolute_max=section.repeat_max,
                validate_max=True,
            )
        else:
            for spec in section.fields:
                attrs[spec.id] = _django_field(spec)
    name = (
        re.sub(r"[^0-9A-Za-z]", "_", f"{form.procedure}_{form.status}_{form.user_category}_{step}") + "Form"
    )
    attrs.update({"spec": form, "step_id": step, "formset_classes": formset_classes})
    form_class = type(name, (FormSpecStepForm,), attrs)
    _FORM_CLASSES[key] = form_class
    return form_class


# --- JSON Schema --------------------------------------------------------------------------------

_SCHEMA_PATTERNS = {
    "year_month": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    "postal_code": r"^[0-9]{3}-[0-9]{4}$",
    "card_number": rf"^{registry.CARD_NUMBER_RE.pattern}$",
    "corporate_number": rf"^{registry.CORPORATE_NUMBER_RE.pattern}$",
    "passport_number": rf"^{_PASSPORT_RE.pattern}$",
    "period_of_stay": r"^(?:[0-9]{1,2}Y)?(?:[0-9]{1,2}M)?(?:[0-9]{1,3}D)?$",
    "roman_name": rf"^{registry.ROMAN_NAME_RE.pattern}$",
    "phone": rf"^{registry.PHONE_RE.pattern}$",
}


def _property_schema(spec: FieldSpec, today: dt.date) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "title": spec.label.en,
        "x-zairyu-label": {"ja": spec.label.ja, "en": spec.label.en},
        "x-zairyu-type": spec.type,
        "x-zairyu-step": spec.step,
        "x-zairyu-section": spec.section,
    }
    if spec.help:
        schema["description"] = spec.help.en
    if spec.fixed_value is not None:
        schema.update({"type": "string", "const": spec.fixed_value, "readOnly": True})
        return schema
    kind = spec.type
    if kind == "boolean":
        schema["type"] = "boolean"
        if spec.must_be:
            schema["const"] = True
    elif kind in _NUMBER_TYPES:
        schema["type"] = "integer"
        if spec.min is not None:
            schema["minimum"] = spec.min
        if spec.max is not None:
            schema["maximum"] = spec.max
    elif kind == "multi_choice":
        schema.update(
            {
                "type": "array",
                "items": {"type": "string", "enum": list(spec.choice_codes(today))},
                "uniqueItems": True,
            }
        )
    elif kind in _CODED_TYPES:
        schema.update({"type": "string", "enum": list(spec.choice_codes(today))})
    else:
        schema["type"] = "string"
        if kind == "date":
            schema["format"] = "date"
        elif kind == "email":
            schema["format"] = "email"
        elif kind == "phone" and spec.international:
            schema["pattern"] = rf"^(?:{registry.PHONE_RE.pattern}|\+[0-9][0-9-]{{6,20}})$"
        elif kind in _SCHEMA_PATTERNS:
            schema["pattern"] = _SCHEMA_PATTERNS[kind]
        elif spec.pattern:
            schema["pattern"] = f"^(?:{spec.pattern})$"
        if spec.max_length:
            schema["maxLength"] = spec.max_length
        if spec.min_length:
            schema["minLength"] = spec.min_length
    for key in ("min", "max"):
        bound = getattr(spec, key)
        if bound is not None and kind in ("date", "year_month"):
            schema[f"x-zairyu-{key}"] = bound.isoformat() if isinstance(bound, dt.date) else bound
    for key in ("min_field", "max_field"):
        if getattr(spec, key):
            schema[f"x-zairyu-{key.replace('_', '-')}"] = getattr(spec, key)
    if spec.show_when != ALWAYS:
        schema["x-zairyu-shown-when"] = spec.show_when.to_data()
    return schema


def _condition_schema(condition: Condition, scope: set[str]) -> dict[str, Any] | None:
    """The condition as a JSON Schema over the object holding ``scope``; None if it looks outside."""
    if condition.op == "true":
        return {}
    if condition.op == "false":
        return {"not": {}}
    if condition.op in ("all", "any", "not"):
        parts = [_condition_schema(part, scope) for part in condition.parts]
        if any(part is None for part in parts):
            return None
        if condition.op == "not":
            return {"not": parts[0]}
        return {"allOf" if condition.op == "all" else "anyOf": parts}
    if condition.op != "answer" or condition.name not in scope:
        return None
    name, test, value = condition.name, condition.test, condition.value
    if test == "is_set":
        present = {"required": [name]}
        return present if value else {"not": present}
    if test in ("equals", "not_equals"):
        test_schema: dict[str, Any] = {"const": value}
    elif test in ("in", "not_in"):
        test_schema = {"enum": list(value)}
    else:  # contains
        test_schema = {"contains": {"const": value}}
    positive = {"properties": {name: test_schema}, "required": [name]}
    return {"not": positive} if test in ("not_equals", "not_in") else positive


def _effective_requirement(spec: FieldSpec) -> Condition:
    """When the field must be answered: shown (its section's condition is folded into its own by
    :func:`form_for`) and required."""
    if spec.required == NEVER:
        return NEVER
    return _conjunction(spec.show_when, spec.required)


def _object_schema(fields: tuple[FieldSpec, ...], today: dt.date) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditionals: list[dict[str, Any]] = []
    dependent: dict[str, list[str]] = {}
    scope = {f.id for f in fields}
    for spec in fields:
        properties[spec.id] = _property_schema(spec, today)
        if spec.fixed_value is not None:
            continue
        requirement = _effective_requirement(spec)
        if requirement == ALWAYS:
            required.append(spec.id)
            continue
        if requirement == NEVER:
            continue
        properties[spec.id]["x-zairyu-required-when"] = requirement.to_data()
        if (
            requirement.op == "answer"
            and requirement.test == "is_set"
            and requirement.value
            and requirement.name in scope
        ):
            dependent.setdefault(requirement.name, []).append(spec.id)
            continue
        condition = _condition_schema(requirement, scope)
        if condition is not None:
            conditionals.append({"if": condition, "then": {"required": [spec.id]}})
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if dependent:
        schema["dependentRequired"] = dependent
    if conditionals:
        schema["allOf"] = conditionals
    return schema


def json_schema(form: FormSpec, *, today: dt.date | None = None) -> dict[str, Any]:
    """A JSON Schema (2020-12) of the answers of ``form``, in canonical form (the server also
    normalises, so it accepts more). Conditional requirements are ``if``/``then`` or
    ``dependentRequired`` where JSON Schema can say them, and always ``x-zairyu-required-when``
    (the condition, authoritative: answers hidden by other answers count as unset)."""
    on = today or clock.today()
    top_fields = tuple(f for f in form.fields if f.row_section is None)
    schema = _object_schema(top_fields, on)
    scope = {f.id for f in top_fields}
    for section in form.sections:
        if not section.repeatable:
            continue
        items = _object_schema(section.fields, on)
        prop: dict[str, Any] = {
            "title": section.title.en,
            "x-zairyu-label": {"ja": section.title.ja, "en": section.title.en},
            "x-zairyu-step": section.step,
            "type": "array",
            "maxItems": section.repeat_max,
            "items": items,
        }
        schema["properties"][section.id] = prop
        if section.show_when != ALWAYS:
            prop["x-zairyu-shown-when"] = section.show_when.to_data()
        if section.repeat_min:
            rows_required = {
                "required": [section.id],
                "properties": {section.id: {"minItems": section.repeat_min}},
            }
            if section.show_when == ALWAYS:
                schema.setdefault("allOf", []).append(rows_required)
            else:
                prop["x-zairyu-required-when"] = section.show_when.to_data()
                condition = _condition_schema(section.show_when, scope)
                if condition is not None:
                    schema.setdefault("allOf", []).append({"if": condition, "then": rows_required})
    add_ons = "+".join(form.add_ons) or "none"
    schema.update(
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:zairyu:form:{form.procedure}:{form.status}:{form.user_category}:{add_ons}",
            "title": f"{form.procedure} {form.status} ({form.user_category})",
            "x-zairyu-context": {
                "procedure": form.procedure,
                "status": form.status,
                "group": form.group,
                "user_category": form.user_category,
                "add_ons": list(form.add_ons),
                "organization_part_as_pdf": form.organization_part_as_pdf,
                "steps": list(form.step_ids),
            },
        }
    )
    return schema


# --- bulk template columns ----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of the bulk template. Rows of a repeatable section become blocks of columns
    ``<field>_1`` … ``<field>_<max>`` (the section's ``repeat.max``: 6 family members, 4
    accompanying persons, 5 jobs)."""

    key: str
    field_id: str
    section_id: str
    step_id: str
    row: int | None
    header: Localized
    type: str
    required: str  # "always", "conditional" or "never"
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    fixed_value: str | None = None

    @property
    def codes(self) -> tuple[str, ...] | None:
        return tuple(c.code for c in self.choices) if self.choices else None

    @property
    def header_ja(self) -> str:
        return self.header.ja

    @property
    def header_en(self) -> str:
        return self.header.en


_BOOLEAN_CHOICES = (
    Choice("true", Localized(ja="はい", en="Yes")),
    Choice("false", Localized(ja="いいえ", en="No")),
)


def flat_columns(form: FormSpec, *, today: dt.date | None = None) -> list[Column]:
    """One column per field of ``form``, in form order, for the bulk template. A field fixed by the
    context (the status) still gets a column, whose allowed codes are the online statuses of the
    form's screen group: one bulk file holds one procedure and one input screen (F-09)."""
    on = today or clock.today()
    catalogue = get_form_library().catalogue
    columns: list[Column] = []
    for section in form.sections:
        for row in range(1, (section.repeat_max or 1) + 1) if section.repeatable else (None,):
            for spec in section.fields:
                requirement = _effective_requirement(spec)
                requirement_name = (
                    "always" if requirement == ALWAYS else "never" if requirement == NEVER else "conditional"
                )
                # A row column is needed only when the rows are asked for and this row is used.
                row_optional = section.show_when != ALWAYS or (row or 0) > section.repeat_min
                if section.repeatable and row_optional and requirement_name == "always":
                    requirement_name = "conditional"
                if spec.fixed_value is not None:
                    choices = tuple(
                        Choice(e.key, e.name)
                        for e in catalogue.entries_in_force(on, online_only=True)
                        if e.group and e.group.code == form.group
                    )
                    requirement_name = "always"
                elif spec.type == "boolean":
                    choices = _BOOLEAN_CHOICES if not spec.must_be else _BOOLEAN_CHOICES[:1]
                elif spec.type in _CODED_TYPES:
                    choices = choices_for(spec, today=on)
                else:
                    choices = ()
                header = (
                    spec.label
                    if row is None
                    else Localized(ja=f"{spec.label.ja}（{row}）", en=f"{spec.label.en} ({row})")
                )
                columns.append(
                    Column(
                        key=spec.id if row is None else f"{spec.id}_{row}",
                        field_id=spec.id,
                        section_id=section.id,
                        step_id=section.step,
                        row=row,
                        header=header,
                        type=spec.type,
                        required=requirement_name,
                        choices=choices,
                        max_length=spec.max_length,
                        fixed_value=spec.fixed_value,
                    )
                )
    return columns
