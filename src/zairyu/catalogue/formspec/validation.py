"""The one validator of every surface: :func:`normalize_and_validate` normalises and checks a set
of answers against a form (one step or the whole form), with the conditions evaluated on the
normalised answers.

An answer that is blank, invalid or hidden is *unset* for the conditions. ``cleaned`` holds the
canonical values (:mod:`.values`) of the fields in scope that are shown and valid; repeatable
sections a list of row dicts. Row numbers in errors count from 1, in the order the rows were sent
(blank rows are skipped, not renumbered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from zairyu.catalogue.formspec import messages as m
from zairyu.catalogue.formspec.conditions import ALWAYS, UNSET
from zairyu.catalogue.formspec.loading import get_form_library
from zairyu.catalogue.formspec.messages import message, required_message, required_reason
from zairyu.catalogue.formspec.specs import (
    FieldSpec,
    FormLibrary,
    FormSpec,
    SectionSpec,
    effective_requirement,
)
from zairyu.catalogue.formspec.values import Invalid, check_bounds, is_blank, normalize_value


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
        self.errors: dict[str, Invalid] = {}
        self._visible: dict[str, bool] = {}
        for spec in fields.values():
            self._normalize(spec)

    def label(self, spec: FieldSpec) -> Any:
        if self.row is None:
            return spec.label
        return message(m.M_ROW_LABEL, label=spec.label, row=self.row)

    def _normalize(self, spec: FieldSpec) -> None:
        if spec.fixed_value is not None:
            self.values[spec.id] = spec.fixed_value
            return
        raw = self.raw.get(spec.id)
        if is_blank(raw):
            self.values[spec.id] = UNSET
            return
        try:
            self.values[spec.id] = normalize_value(spec, raw, self.label(spec), self.today)
        except Invalid as exc:
            self.values[spec.id] = UNSET
            self.errors[spec.id] = exc

    def visible(self, field_id: str) -> bool:
        if field_id not in self._visible:
            self._visible[field_id] = False  # a guard: cycles are refused at load
            spec = self.fields[field_id]
            # A section's condition is part of its fields' show_when (see form_for).
            self._visible[field_id] = spec.show_when.evaluate(self.lookup)
        return self._visible[field_id]

    def spec_of(self, field_id: str) -> FieldSpec | None:
        """The field an answer is looked up in, as :meth:`lookup` finds it (this row, then the form)."""
        if field_id in self.fields:
            return self.fields[field_id]
        return self.parent.spec_of(field_id) if self.parent is not None else None

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
    validator = _Validator(get_form_library(), today)
    known = validator.library.answer_keys
    for key in answers:
        if key not in known:
            validator.error(str(key), "unknown_field", message(m.M_UNKNOWN, key=key))
    top = _Evaluation(form.top_fields_by_id, answers, today, None, None)
    cleaned: dict[str, Any] = {}
    for section in form.sections:
        if step is not None and section.step != step:
            continue
        if not section.repeatable:
            for spec in section.fields:
                validator.finish(top, spec, cleaned, None)
            continue
        rows = validator.rows(section, answers.get(section.id), top)
        if rows is not None:
            cleaned[section.id] = rows
    return ValidationResult(cleaned=cleaned, errors=validator.errors, changes=validator.changes)


class _Validator:
    """The errors and changes of one :func:`normalize_and_validate`, field by field."""

    def __init__(self, library: FormLibrary, today: dt.date) -> None:
        self.library = library
        self.today = today
        self.errors: list[FieldError] = []
        self.changes: list[FieldChange] = []

    def error(self, field_id: str, code: str, text: Any, row: int | None = None) -> None:
        self.errors.append(FieldError(field_id, code, text, row))

    def finish(
        self, evaluation: _Evaluation, spec: FieldSpec, target: dict[str, Any], row: int | None
    ) -> None:
        """Check one shown field and put its value into ``target``, or record its error."""
        if not evaluation.visible(spec.id):
            return
        raw = evaluation.raw.get(spec.id)
        label = evaluation.label(spec)
        if spec.fixed_value is not None:
            if self._fixed_value_differs(spec, raw, label, row):
                return
            target[spec.id] = spec.fixed_value
            return
        if spec.id in evaluation.errors:
            exc = evaluation.errors[spec.id]
            self.error(spec.id, exc.code, exc.message, row)
            return
        value = evaluation.values[spec.id]
        if value is UNSET or (spec.type == "multi_choice" and not value):
            if spec.required.evaluate(evaluation.lookup):
                self.error(spec.id, "required", self._required(evaluation, spec, label), row)
            return
        if spec.must_be is not None and value is not spec.must_be:
            self.error(spec.id, "declaration_required", message(m.M_DECLARATION, label=label), row)
            return
        try:
            check_bounds(spec, value, label, self.today, evaluation.lookup)
        except Invalid as exc:
            self.error(spec.id, exc.code, exc.message, row)
            return
        if (
            isinstance(raw, str)
            and isinstance(value, str | int)
            and not isinstance(value, bool)
            and raw.strip() != str(value)
        ):
            self.changes.append(FieldChange(spec.id, raw, value, row))
        target[spec.id] = value

    def _required(self, evaluation: _Evaluation, spec: FieldSpec, label: Any) -> Any:
        """The message of a required field left blank; one required in some cases says which
        (its section's condition is part of its ``show_when``, see :func:`form_for`)."""
        requirement = effective_requirement(spec)
        reason = (
            None
            if requirement == ALWAYS
            else required_reason(requirement, evaluation.lookup, evaluation.spec_of, self.today)
        )
        return required_message(spec, label, reason)

    def _fixed_value_differs(self, spec: FieldSpec, raw: Any, label: Any, row: int | None) -> bool:
        """A value sent for a field the context fixes (the status) must be that value."""
        if is_blank(raw):
            return False
        try:
            given = normalize_value(replace(spec, fixed_value=None), raw, label, self.today)
        except Invalid:
            given = raw
        if given == spec.fixed_value:
            return False
        expected = self.library.catalogue.entries[spec.fixed_value].name
        self.error(spec.id, "fixed_by_context", message(m.M_FIXED, label=label, expected=expected), row)
        return True

    def rows(self, section: SectionSpec, raw_rows: Any, top: _Evaluation) -> list[dict[str, Any]] | None:
        """The cleaned rows of a repeatable section; ``None`` when it has none to clean (not
        shown, blank, malformed or too many)."""
        shown = section.show_when.evaluate(top.lookup)
        rows_min = message(m.M_ROWS_MIN, section=section.title, count=section.repeat_min)
        if is_blank(raw_rows) or not shown:
            if shown and section.repeat_min:
                self.error(section.id, "rows_required", rows_min)
            return None
        if not isinstance(raw_rows, list | tuple) or not all(isinstance(r, Mapping) for r in raw_rows):
            self.error(section.id, "invalid_rows", message(m.M_ROWS, section=section.title))
            return None
        rows = [
            (number, row)
            for number, row in enumerate(raw_rows, start=1)
            if not all(is_blank(v) for v in row.values())
        ]
        if len(rows) < section.repeat_min:
            self.error(section.id, "rows_required", rows_min)
        if section.repeat_max is not None and len(rows) > section.repeat_max:
            excess = len(rows) - section.repeat_max
            self.error(
                section.id,
                "too_many_rows",
                message(m.M_ROWS_MAX, section=section.title, count=section.repeat_max, excess=excess),
            )
            return None
        cleaned_rows = []
        row_fields = section.fields_by_id
        for number, raw_row in rows:
            for key in raw_row:
                if key not in row_fields:
                    self.error(str(key), "unknown_field", message(m.M_UNKNOWN, key=key), number)
            evaluation = _Evaluation(row_fields, raw_row, self.today, top, number)
            cleaned_row: dict[str, Any] = {}
            for spec in section.fields:
                self.finish(evaluation, spec, cleaned_row, number)
            cleaned_rows.append(cleaned_row)
        return cleaned_rows
