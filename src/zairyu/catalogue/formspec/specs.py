"""What the form catalogue is made of: fields, sections, steps, a form, the library; the field
types and the roles.

These are frozen dataclasses, built by :mod:`.loading` (the library, from the YAML) and by
:mod:`.building` (one :class:`FormSpec`, with the context's conditions evaluated).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from zairyu.catalogue.formspec.conditions import ALWAYS, NEVER, Condition, conjunction
from zairyu.catalogue.loader import Catalogue, Localized

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
TYPE_SOURCES = {
    "country": ("nationalities", "nationalities_with_japan", "countries"),
    "prefecture": ("prefectures",),
    "status_of_residence": ("statuses_in_force",),
}
CODED_TYPES = frozenset({"choice", "multi_choice", "country", "prefecture", "status_of_residence"})
NUMBER_TYPES = frozenset({"integer", "money_yen"})
TEXT_TYPES = frozenset({"text", "textarea", "kanji_name", "email"})
STEP_KINDS = frozenset({"applicant", "organization", "confirmation"})

# The roles of the fields the code depends on (``role:`` in fields.yaml): code asks for a role
# (:func:`role_field_id`, :meth:`FormSpec.field_for_role`), never for a bare field id, so that a
# field can be renamed in the YAML alone. Each role is given to exactly one field of the library,
# outside repeatable sections (checked at load). The ``identity.*`` roles are the items of the
# cross-check against the residence-card record (F-02), named as the cross-check names them
# (``applications.rules.crosscheck.IdentityInput``).
ROLES: dict[str, str] = {
    "identity.nationality": "the applicant's nationality or region",
    "identity.roman_name": "the applicant's name in Latin letters, as on the card",
    "identity.sex": "the applicant's sex",
    "identity.date_of_birth": "the applicant's date of birth",
    "identity.prefecture": "the prefecture of the applicant's address",
    "identity.municipality": "the municipality of the applicant's address",
    "identity.card_number": "the applicant's residence card number",
    "identity.card_expires_on": "the expiry date of the applicant's residence card",
    "applicant.kanji_name": "the applicant's name in kanji",
    "applicant.address_street": "the rest of the applicant's address",
    "applicant.email": "the applicant's e-mail address for notifications",
    "applicant.passport_number": "the applicant's passport number",
    "applicant.occupation": "the applicant's occupation",
    "applicant.activity": "what the applicant will do in Japan",
    "stay.period": "the period of stay the applicant has now",
    "stay.expires_on": "the day the present period of stay ends",
    "stay.desired_period": "the period of stay applied for",
    "reentry.kind": "a single or a multiple re-entry permit (P6)",
    "acquisition.reason": "what an acquisition of status (P4) follows: a birth in Japan, another event",
    "acquisition.event_date": "the day of the birth or event an acquisition of status (P4) follows",
    "relative.filer_reason": "why a relative (U3) files: the applicant under 16, or unable to apply",
    "card.kanji_name_requested": "asking for the name in kanji on the new residence card (F-07: window only)",
    "card.kanji_name": "the name in kanji to be shown on the new residence card",
}


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
    role: str | None = None
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

    @cached_property
    def choice_cache(self) -> dict[dt.date | None, Any]:
        """Where :func:`.choices.choice_index` keeps the field's index, built once (by day for
        the statuses in force): the spec is immutable, and a copy made with ``replace`` starts
        with an empty one."""
        return {}


def effective_requirement(spec: FieldSpec) -> Condition:
    """When the field must be answered: shown (its section's condition is folded into its own by
    :func:`form_for`) and required."""
    if spec.required == NEVER:
        return NEVER
    return conjunction(spec.show_when, spec.required)


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

    @cached_property
    def fields_by_role(self) -> dict[str, FieldSpec]:
        """The fields of this form that have a role, by role."""
        return {f.role: f for f in self.fields if f.role}

    def field(self, field_id: str) -> FieldSpec:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def field_for_role(self, role: str) -> FieldSpec | None:
        """The field of this form that has ``role`` (see :data:`ROLES`); ``None`` when the form
        does not ask for it. ``KeyError`` for a role that is not one of :data:`ROLES`."""
        if role not in ROLES:
            raise KeyError(f"{role!r} is not a role of the form catalogue (known: {sorted(ROLES)})")
        return self.fields_by_role.get(role)

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
    roles: dict[str, str] = field(default_factory=dict)  # role → field id
    forms: dict[tuple[str, str, str, tuple[str, ...]], FormSpec] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )  # the forms built so far, by FormSpec.key (see form_for)

    @property
    def section_ids(self) -> set[str]:
        return {section.id for step in self.steps for section in step.sections}

    @cached_property
    def answer_keys(self) -> frozenset[str]:
        """What an answer may be keyed by: a field or a section of the library."""
        return frozenset(self.fields) | frozenset(self.section_ids)
