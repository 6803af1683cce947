"""The API schema: :func:`json_schema` gives a JSON Schema (2020-12) of the answers of a form, in
canonical form, with ``x-zairyu-*`` keywords for what JSON Schema cannot say (labels, steps, the
conditions as the catalogue states them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zairyu.catalogue import validators
from zairyu.catalogue.formspec.choices import choice_codes
from zairyu.catalogue.formspec.conditions import ALWAYS, NEVER, Condition
from zairyu.catalogue.formspec.specs import (
    CODED_TYPES,
    NUMBER_TYPES,
    FieldSpec,
    FormSpec,
    effective_requirement,
)
from zairyu.catalogue.formspec.values import PASSPORT_RE
from zairyu.core import clock

_SCHEMA_PATTERNS = {
    "year_month": r"^[0-9]{4}-(0[1-9]|1[0-2])$",
    "postal_code": r"^[0-9]{3}-[0-9]{4}$",
    "card_number": rf"^{validators.CARD_NUMBER_RE.pattern}$",
    "corporate_number": rf"^{validators.CORPORATE_NUMBER_RE.pattern}$",
    "passport_number": rf"^{PASSPORT_RE.pattern}$",
    "period_of_stay": r"^(?:[0-9]{1,2}Y)?(?:[0-9]{1,2}M)?(?:[0-9]{1,3}D)?$",
    "roman_name": rf"^{validators.ROMAN_NAME_RE.pattern}$",
    "phone": rf"^{validators.PHONE_RE.pattern}$",
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
    elif kind in NUMBER_TYPES:
        schema["type"] = "integer"
        if spec.min is not None:
            schema["minimum"] = spec.min
        if spec.max is not None:
            schema["maximum"] = spec.max
    elif kind == "multi_choice":
        schema.update(
            {
                "type": "array",
                "items": {"type": "string", "enum": list(choice_codes(spec, today))},
                "uniqueItems": True,
            }
        )
    elif kind in CODED_TYPES:
        schema.update({"type": "string", "enum": list(choice_codes(spec, today))})
    else:
        schema["type"] = "string"
        if kind == "date":
            schema["format"] = "date"
        elif kind == "email":
            schema["format"] = "email"
        elif kind == "phone" and spec.international:
            schema["pattern"] = rf"^(?:{validators.PHONE_RE.pattern}|\+[0-9][0-9-]{{6,20}})$"
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
        requirement = effective_requirement(spec)
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
