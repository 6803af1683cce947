"""Loading the form catalogue from ``data/forms/`` and checking it: ``choices.yaml``,
``fields.yaml`` (the field library, every question once) and ``structure.yaml`` (steps →
sections → fields). Anything inconsistent — an unknown key, a condition naming an unknown field
or code, a field in no section, a role given twice — raises :class:`FormSpecError` naming the
file and the entry, at start (``CatalogueConfig.ready``)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec.conditions import ALWAYS, CONTEXT_VARIABLES, NEVER, TESTS, Condition
from zairyu.catalogue.formspec.normalizers import DEFAULT_NORMALIZERS, NORMALIZERS
from zairyu.catalogue.formspec.specs import (
    CHOICE_SOURCES,
    FIELD_TYPES,
    NUMBER_TYPES,
    ROLES,
    STEP_KINDS,
    TEXT_TYPES,
    TYPE_SOURCES,
    Choice,
    FieldSpec,
    FormLibrary,
    Limit,
    SectionSpec,
    StepSpec,
)
from zairyu.catalogue.loader import DATA_DIR, ORGANIZATION_PARTS, Catalogue, Localized
from zairyu.catalogue.reference import nationalities

FORMS_DIR = DATA_DIR / "forms"

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
        "role",
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

ID_RE = re.compile(r"[a-z][a-z0-9_]*")
DATE_BOUND_RE = re.compile(r"today(?:([+-])([0-9]+)([dy]))?")

Check = Callable[..., None]  # check(condition, where, *, context_only=..., allowed_context=...)


class FormSpecError(Exception):
    """The form catalogue's data files are inconsistent."""


# --- reading ------------------------------------------------------------------------------------


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
    if field_type in NUMBER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FormSpecError(f"{where}: must be a whole number")
        return value
    if field_type in ("date", "year_month"):
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and (
            DATE_BOUND_RE.fullmatch(value) or re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
        ):
            return value
        raise FormSpecError(f"{where}: must be a date (YYYY-MM-DD), 'today' or 'today±N(d|y)'")
    raise FormSpecError(f"{where}: min/max apply to numbers and dates only, not to a {field_type}")


# --- fields -------------------------------------------------------------------------------------


def _parse_field(raw: Any, index: int, choice_sets: dict[str, tuple[Choice, ...]]) -> FieldSpec:
    where = f"fields.yaml: fields[{index}]"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        where = f"fields.yaml: field '{raw['id']}'"
    _known_keys(raw, FIELD_KEYS, where)
    field_id = _text(raw, "id", where)
    assert field_id is not None
    where = f"fields.yaml: field '{field_id}'"
    if not ID_RE.fullmatch(field_id):
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
    spec.update(_parse_field_choices(raw, where, field_type, choice_sets))
    spec.update(_parse_field_bounds(raw, where, field_type))
    spec.update(_parse_field_text(raw, where, field_type))
    spec.update(_parse_field_extras(raw, where, field_type))
    return FieldSpec(**spec)


def _parse_field_choices(
    raw: dict[str, Any], where: str, field_type: str, choice_sets: dict[str, tuple[Choice, ...]]
) -> dict[str, Any]:
    """``choice_set``, ``choices``, ``choice_source``: which a type takes, and which it needs."""
    spec: dict[str, Any] = {}
    given = [key for key in ("choice_set", "choices", "choice_source") if key in raw]
    if field_type in ("choice", "multi_choice"):
        if len(given) != 1:
            raise FormSpecError(
                f"{where}: a {field_type} needs exactly one of choice_set, choices, choice_source"
            )
    elif field_type in TYPE_SOURCES:
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
    if field_type in TYPE_SOURCES or "choice_source" in raw:
        allowed = TYPE_SOURCES.get(field_type, tuple(sorted(CHOICE_SOURCES)))
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
    return spec


def _parse_field_bounds(raw: dict[str, Any], where: str, field_type: str) -> dict[str, Any]:
    """Lengths, ``min``/``max``, ``min_field``/``max_field`` and the conditional ``limits``."""
    spec: dict[str, Any] = {}
    for key in ("max_length", "min_length"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FormSpecError(f"{where}: '{key}' must be a positive whole number")
            if field_type not in TEXT_TYPES | {"postal_code"}:
                raise FormSpecError(f"{where}: '{key}' applies to text fields only")
            spec[key] = value
    for key in ("min", "max"):
        if key in raw:
            spec[key] = _parse_bound(raw[key], f"{where}: {key}", field_type)
    for key in ("min_field", "max_field"):
        if key in raw:
            if field_type not in NUMBER_TYPES | {"date", "year_month"}:
                raise FormSpecError(f"{where}: '{key}' applies to numbers and dates only")
            spec[key] = _text(raw, key, where)
    if "limits" in raw:
        if field_type not in NUMBER_TYPES or not isinstance(raw["limits"], list) or not raw["limits"]:
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
    return spec


def _parse_field_text(raw: dict[str, Any], where: str, field_type: str) -> dict[str, Any]:
    """``pattern`` and its ``example``, and the ``normalizers`` (the type's default chain)."""
    spec: dict[str, Any] = {}
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
    return spec


def _parse_field_extras(raw: dict[str, Any], where: str, field_type: str) -> dict[str, Any]:
    """``value_from``, ``must_be``, ``international`` and ``role``."""
    spec: dict[str, Any] = {}
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
    if "role" in raw:
        if raw["role"] not in ROLES:
            raise FormSpecError(f"{where}: unknown role {raw['role']!r} (known: {sorted(ROLES)})")
        spec["role"] = raw["role"]
    return spec


# --- checks -------------------------------------------------------------------------------------


def _source_codes(
    source: str, catalogue: Catalogue, extra_countries: tuple[Choice, ...], japan: Choice
) -> set[str]:
    if source == "prefectures":
        return set(catalogue.prefectures)
    if source == "statuses_in_force":
        return set(catalogue.entries)
    codes = set(nationalities())
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
    if condition.op == "answer":
        _check_answer_test(condition, where, fields=fields, codes_of=codes_of, context_only=context_only)
    elif condition.op == "context":
        _check_context_test(condition, where, catalogue=catalogue, allowed_context=allowed_context)


def _check_answer_test(
    condition: Condition,
    where: str,
    *,
    fields: dict[str, FieldSpec],
    codes_of: Callable[[FieldSpec], set[str] | None],
    context_only: bool,
) -> None:
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    test = condition.test
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
            raise FormSpecError(f"{where}: '{target.id}' is a yes/no question; compare it with true or false")
        return
    codes = codes_of(target)
    if codes is not None:
        unknown = [v for v in values if v not in codes]
        if unknown:
            raise FormSpecError(f"{where}: {unknown} are not choices of '{target.id}'")


def _check_context_test(
    condition: Condition, where: str, *, catalogue: Catalogue, allowed_context: frozenset[str]
) -> None:
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    test = condition.test
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


def _checker(
    fields: dict[str, FieldSpec],
    catalogue: Catalogue,
    extra_countries: tuple[Choice, ...],
    japan: Choice,
) -> Check:
    """``check(condition, where, **kwargs)``: :func:`_check_condition` against this library."""

    def codes_of(target: FieldSpec) -> set[str] | None:
        if target.choice_source:
            return _source_codes(target.choice_source, catalogue, extra_countries, japan)
        if target.choices:
            return {c.code for c in target.choices}
        return None

    def check(condition: Condition, where: str, **kwargs: Any) -> None:
        _check_condition(condition, where, fields=fields, catalogue=catalogue, codes_of=codes_of, **kwargs)

    return check


def _check_fields(fields: dict[str, FieldSpec], check: Check) -> None:
    """Every field's conditions, and what its ``min_field``/``max_field`` name."""
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
            if not (kinds <= NUMBER_TYPES or len(kinds) == 1):
                raise FormSpecError(
                    f"{where}: {key} '{other_id}' is a {other.type}, not comparable with a {spec.type}"
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
            if fields[field_id].role:
                raise FormSpecError(
                    f"structure.yaml: field '{field_id}' has the role '{fields[field_id].role}', which "
                    "is answered once; it cannot repeat"
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


def _roles(fields: dict[str, FieldSpec]) -> dict[str, str]:
    """Role → field id; every role of :data:`ROLES` given to exactly one field."""
    roles: dict[str, str] = {}
    for spec in fields.values():
        if spec.role is None:
            continue
        if spec.role in roles:
            raise FormSpecError(
                f"fields.yaml: field '{spec.id}' has the role '{spec.role}' of field '{roles[spec.role]}'"
            )
        roles[spec.role] = spec.id
    missing = sorted(set(ROLES) - set(roles))
    if missing:
        raise FormSpecError(f"fields.yaml: no field has the role(s) {missing} (the code asks for them)")
    return roles


# --- the library --------------------------------------------------------------------------------


def _load_choices(directory: Path) -> tuple[dict[str, tuple[Choice, ...]], tuple[Choice, ...], Choice]:
    """``choices.yaml``: the choice sets, the countries beyond the nationalities, Japan."""
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
    clash = {c.code for c in extra_countries} & set(nationalities())
    if clash:
        raise FormSpecError(f"choices.yaml: extra_countries repeats registry nationalities {sorted(clash)}")
    raw_japan = choices_data.get("japan")
    _known_keys(raw_japan, {"code", "ja", "en"}, "choices.yaml: japan")
    japan = Choice(code=raw_japan["code"], label=Localized(ja=raw_japan["ja"], en=raw_japan["en"]))
    return choice_sets, extra_countries, japan


def _load_fields(directory: Path, choice_sets: dict[str, tuple[Choice, ...]]) -> dict[str, FieldSpec]:
    """``fields.yaml``: the field library, by id; ids and labels unique."""
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
    return fields


def _parse_section(
    raw_section: Any,
    where: str,
    step_id: str,
    fields: dict[str, FieldSpec],
    section_ids: set[str],
    check: Check,
) -> SectionSpec:
    _known_keys(raw_section, SECTION_KEYS, where)
    section_id = str(_text(raw_section, "id", where))
    where = f"structure.yaml: section '{section_id}'"
    if not ID_RE.fullmatch(section_id):
        raise FormSpecError(f"{where}: the id must be snake_case")
    if section_id in section_ids:
        raise FormSpecError(f"{where}: appears twice")
    if section_id in fields:
        raise FormSpecError(f"{where}: has the id of a field (they share the answers' keys)")
    section_ids.add(section_id)
    field_ids = raw_section.get("fields")
    if not isinstance(field_ids, list) or not field_ids:
        raise FormSpecError(f"{where}: 'fields' must be a non-empty list of field ids")
    unknown = [f for f in field_ids if f not in fields]
    if unknown:
        raise FormSpecError(f"{where}: unknown field id(s) {unknown}")
    if len(set(field_ids)) != len(field_ids):
        raise FormSpecError(f"{where}: lists a field twice")
    repeat_min, repeat_max, row_label = 0, None, None
    if "repeat" in raw_section:
        repeat = raw_section["repeat"]
        _known_keys(repeat, {"min", "max"}, f"{where}: repeat")
        repeat_min, repeat_max = repeat.get("min", 0), repeat.get("max")
        if (
            not isinstance(repeat_max, int)
            or not isinstance(repeat_min, int)
            or not 0 <= repeat_min <= repeat_max
            or repeat_max < 1
        ):
            raise FormSpecError(f"{where}: repeat needs 0 <= min <= max and max >= 1")
        row_label = _localized(raw_section, "row_label", where)
    elif "row_label_ja" in raw_section or "row_label_en" in raw_section:
        raise FormSpecError(f"{where}: a row label needs 'repeat'")
    section = SectionSpec(
        id=section_id,
        title=_localized(raw_section, "title", where),  # type: ignore[arg-type]
        help=_localized(raw_section, "help", where, optional=True),
        fields=tuple(fields[f] for f in field_ids),
        applies=_parse_condition(raw_section.get("applies", True), f"{where}: applies"),
        show_when=_parse_condition(raw_section.get("show_when", True), f"{where}: show_when"),
        repeat_min=repeat_min,
        repeat_max=repeat_max,
        row_label=row_label,
        step=step_id,
    )
    check(section.applies, f"{where}: applies", context_only=True)
    check(section.show_when, f"{where}: show_when")
    return section


def _parse_step(
    raw_step: Any,
    where: str,
    step_ids: set[str],
    fields: dict[str, FieldSpec],
    section_ids: set[str],
    check: Check,
) -> StepSpec:
    _known_keys(raw_step, STEP_KEYS, where)
    step_id = str(_text(raw_step, "id", where))
    where = f"structure.yaml: step '{step_id}'"
    if step_id in step_ids:
        raise FormSpecError(f"{where}: appears twice")
    step_ids.add(step_id)
    kind = raw_step.get("kind")
    if kind not in STEP_KINDS:
        raise FormSpecError(f"{where}: kind {kind!r} is not one of {sorted(STEP_KINDS)}")
    title = _localized(raw_step, "title", where)
    assert title is not None
    raw_sections = raw_step.get("sections")
    if not isinstance(raw_sections, list) or not raw_sections:
        raise FormSpecError(f"{where}: 'sections' must be a non-empty list")
    sections = tuple(
        _parse_section(raw_section, f"{where}: sections[{c_index}]", step_id, fields, section_ids, check)
        for c_index, raw_section in enumerate(raw_sections)
    )
    return StepSpec(id=step_id, kind=kind, title=title, sections=sections)


def _load_structure(
    directory: Path, fields: dict[str, FieldSpec], check: Check
) -> tuple[Condition, tuple[StepSpec, ...]]:
    """``structure.yaml``: the rule of the organization's part as a PDF, and the steps."""
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
    step_ids: set[str] = set()
    section_ids: set[str] = set()
    steps = tuple(
        _parse_step(raw_step, f"structure.yaml: steps[{index}]", step_ids, fields, section_ids, check)
        for index, raw_step in enumerate(raw_steps)
    )
    return pdf_rule, steps


def load_form_library(directory: Path = FORMS_DIR, *, catalogue: Catalogue | None = None) -> FormLibrary:
    """Read and check the form catalogue; raise :class:`FormSpecError` naming the file and entry."""
    catalogue = catalogue or get_catalogue()
    choice_sets, extra_countries, japan = _load_choices(directory)
    fields = _load_fields(directory, choice_sets)
    check = _checker(fields, catalogue, extra_countries, japan)
    _check_fields(fields, check)
    pdf_rule, steps = _load_structure(directory, fields, check)
    placements: dict[str, list[SectionSpec]] = {}
    for step in steps:
        for section in step.sections:
            for f in section.fields:
                placements.setdefault(f.id, []).append(section)
    unused = [f for f in fields if f not in placements]
    if unused:
        raise FormSpecError(f"fields.yaml: field(s) used in no section of structure.yaml: {unused}")
    _check_scopes(fields, placements)
    _check_no_cycles(fields, placements)
    return FormLibrary(
        fields=fields,
        choice_sets=choice_sets,
        steps=steps,
        organization_part_as_pdf=pdf_rule,
        extra_countries=extra_countries,
        japan=japan,
        catalogue=catalogue,
        roles=_roles(fields),
    )


@cache
def get_form_library() -> FormLibrary:
    """The form catalogue of this process, loaded and checked once."""
    return load_form_library()


def role_field_id(role: str) -> str:
    """The id of the field of the library that has ``role`` (one of :data:`ROLES`): what code
    that depends on a field's meaning reads and writes, instead of a bare id. ``KeyError`` for a
    role that is not one of :data:`ROLES`. Whether a given form asks for it:
    :meth:`FormSpec.field_for_role`."""
    roles = get_form_library().roles
    if role not in roles:
        raise KeyError(f"{role!r} is not a role of the form catalogue (known: {sorted(ROLES)})")
    return roles[role]
