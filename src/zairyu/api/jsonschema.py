"""A form of the catalogue as the API publishes it: a JSON Schema (draft 2020-12) of its answers.

The schema itself is the form catalogue's (:func:`zairyu.catalogue.formspec.json_schema`: types,
``enum`` of codes, ``format: date``, ``maxLength``, ``pattern``, ``required``, and conditional
requirements as ``if``/``then`` or ``dependentRequired``); nothing of it is re-typed here. This
module adds what a client needs to build its own screens, all under the catalogue's ``x-zairyu-``
prefix, so one vocabulary serves the whole document:

``title``                       the item in English (the API's neutral language);
``x-zairyu-label``              the item in both languages, ``{"ja": …, "en": …}``;
``x-zairyu-help``               the hint under the item, in both languages, when there is one;
``x-zairyu-labels``             on a coded item (``enum``, or ``items.enum`` of a multiple choice): each
                                code's label, ``{"<code>": {"ja": …, "en": …}}``;
``x-zairyu-required-when``      a conditional requirement, in the catalogue's condition language
                                (authoritative: an answer hidden by another counts as unset);
``x-zairyu-shown-when``         when the item is asked at all (a value sent for a hidden item is
                                dropped, not refused);
``x-zairyu-step``/``-section``  where the item is on screen;
``x-zairyu-steps``              (top level) the screens in order: each step's sections and their
                                items, the order in which a client should ask them;
``x-zairyu-title``              (top level) procedure(s) and status in both languages.

Values are the canonical ones the server stores (dates ``YYYY-MM-DD``, codes, integers); the
server also normalises what a person would type (full-width digits, ``2025/4/1``, labels instead
of codes), so it accepts more than the schema says. Leave an unanswered item out (the server
also takes ``""`` or ``null`` as unanswered).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import FieldSpec, FormSpec, choices_for, json_schema
from zairyu.catalogue.loader import Localized

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _both(text: Localized) -> dict[str, str]:
    return {"ja": text.ja, "en": text.en}


def _enrich_property(prop: dict[str, Any], spec: FieldSpec, today: dt.date) -> None:
    if spec.help:
        prop["x-zairyu-help"] = _both(spec.help)
    if spec.fixed_value is not None:
        return
    coded = prop.get("enum") or (prop.get("items") or {}).get("enum")
    if coded:
        prop["x-zairyu-labels"] = {
            choice.code: _both(choice.label) for choice in choices_for(spec, today=today)
        }


def _steps(form: FormSpec) -> list[dict[str, Any]]:
    return [
        {
            "id": step.id,
            "kind": step.kind,
            "title": _both(step.title),
            "sections": [
                {
                    "id": section.id,
                    "title": _both(section.title),
                    "repeatable": section.repeatable,
                    "fields": [spec.id for spec in section.fields],
                }
                for section in step.sections
            ],
        }
        for step in form.steps
    ]


def _title(form: FormSpec) -> dict[str, str]:
    catalogue = get_catalogue()
    procedures = [catalogue.procedures[code].name for code in (form.procedure, *form.add_ons)]
    entry = catalogue.entries[form.status]
    return {
        "ja": "・".join(p.ja for p in procedures) + f"（{entry.name.ja}）",
        "en": " + ".join(p.en for p in procedures) + f" ({entry.name.en})",
    }


def form_schema(form: FormSpec, *, today: dt.date) -> dict[str, Any]:
    """The JSON Schema of the answers of ``form`` as the API publishes it (see the module)."""
    # A copy: the catalogue may keep what it returns, and this adds to it.
    schema = copy.deepcopy(json_schema(form, today=today))
    specs = {spec.id: spec for spec in form.fields}
    properties = schema.get("properties", {})
    for key, prop in properties.items():
        if key in specs:
            _enrich_property(prop, specs[key], today)
        items = prop.get("items") if prop.get("type") == "array" else None
        if items and "properties" in items:  # a repeatable section: its rows' items
            for row_key, row_prop in items["properties"].items():
                if row_key in specs:
                    _enrich_property(row_prop, specs[row_key], today)
    title = _title(form)
    schema["title"] = title["en"]
    schema["x-zairyu-title"] = title
    schema["description"] = (
        "The answers of this form, keyed by item, in canonical form; leave an unanswered item out. "
        "Conditions in x-zairyu-required-when / x-zairyu-shown-when are authoritative."
    )
    schema["x-zairyu-steps"] = _steps(form)
    return schema
