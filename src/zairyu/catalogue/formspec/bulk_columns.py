"""The bulk template's columns: :func:`flat_columns` gives one column per field of a form, in
form order; the rows of a repeatable section become numbered blocks of columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from zairyu.catalogue.formspec.choices import BOOLEAN_CHOICES, choices_for
from zairyu.catalogue.formspec.conditions import ALWAYS, NEVER
from zairyu.catalogue.formspec.loading import get_form_library
from zairyu.catalogue.formspec.specs import CODED_TYPES, Choice, FormSpec, effective_requirement
from zairyu.catalogue.loader import Localized
from zairyu.core import clock


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
                requirement = effective_requirement(spec)
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
                    choices = BOOLEAN_CHOICES if not spec.must_be else BOOLEAN_CHOICES[:1]
                elif spec.type in CODED_TYPES:
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
