"""Valid sample answers for any form of the catalogue, built from the field specs themselves.

Used by tests, benchmarks and the demo-data and bulk-file generators: the values come from the
form catalogue's types, choices and bounds, and are confirmed by ``normalize_and_validate``, so
they follow the catalogue when it changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from zairyu.catalogue.formspec import FormSpec, choices_for, normalize_and_validate

TEXT_SAMPLES = ("Sample", "SAMPLE", "1234", "Tokyo")
BY_TYPE: dict[str, tuple[Any, ...]] = {
    "phone": ("03-1234-5678", "090-1234-5678"),
    "email": ("applicant@example.com",),
    "postal_code": ("160-0023",),
    "roman_name": ("NGUYEN VAN AN",),
    "kanji_name": ("山田 太郎",),
    "card_number": ("AB12345678CD",),
    "passport_number": ("TK1234567",),
    "corporate_number": ("7000012050002",),
    "period_of_stay": ("1Y", "3Y", "6M"),
    "prefecture": ("13",),
}


def _candidates(spec, today: dt.date) -> list[Any]:
    values = _typed_candidates(spec, today)
    if spec.example:
        values.insert(0, spec.example)
    if not spec.statically_required:
        values.append("")  # an optional field that no sample satisfies is left blank
    return values


def _typed_candidates(spec, today: dt.date) -> list[Any]:
    if spec.type == "boolean":
        return [True] if spec.must_be else [False, True]
    if spec.type in BY_TYPE:
        return list(BY_TYPE[spec.type])
    if spec.type == "date":
        return [
            (today - dt.timedelta(days=365 * 30)).isoformat(),
            (today + dt.timedelta(days=365)).isoformat(),
            (today - dt.timedelta(days=365)).isoformat(),
            (today + dt.timedelta(days=30)).isoformat(),
            today.isoformat(),
        ]
    if spec.type == "year_month":
        return [f"{today.year - 5}-04", f"{today.year + 1}-04", f"{today.year}-{today.month:02d}"]
    if spec.type in ("integer", "money_yen"):
        low = spec.min if isinstance(spec.min, int) else 1
        return [max(low, 250000 if spec.type == "money_yen" else 20), max(low, 1), low]
    if spec.type == "multi_choice":
        codes = [c.code for c in choices_for(spec, today=today)]
        return [[code] for code in codes[:3]]
    codes = [c.code for c in choices_for(spec, today=today)]
    if codes:
        return codes[:6]
    limit = spec.max_length or 50
    return [text[:limit] for text in TEXT_SAMPLES]


def sample_answers(
    form: FormSpec, *, today: dt.date, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Answers to every top-level field of ``form`` that pass its validation (repeatable
    sections left empty; conditional fields filled when their condition holds)."""
    overrides = overrides or {}
    fields = [f for f in form.fields if f.row_section is None and f.fixed_value is None]
    candidates = {f.id: _candidates(f, today) for f in fields}
    answers: dict[str, Any] = {f.id: candidates[f.id][0] for f in fields if candidates[f.id]}
    answers.update(overrides)
    tried = dict.fromkeys(candidates, 0)
    for _ in range(8):
        result = normalize_and_validate(form, answers, today=today)
        failing = {e.field_id for e in result.errors if e.field_id in tried and e.field_id not in overrides}
        if not failing:
            break
        for field_id in failing:
            tried[field_id] += 1
            options = candidates[field_id]
            if tried[field_id] < len(options):
                answers[field_id] = options[tried[field_id]]
    return answers
