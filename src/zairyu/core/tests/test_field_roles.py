"""Fields by role: production code names the form fields whose meaning it depends on by their
role (``role_field_id("identity.card_number")``, ``FormSpec.field_for_role``), never by the bare
id of fields.yaml (``"card_number"``), so that a field can be renamed in the YAML alone.

The test walks the syntax tree of every production module (not tests, not migrations) and
reports each string literal equal to the id of a field that has a role (the ids read from the
catalogue) where it is used as a form field id: a key of the answers (``answers["x"]``,
``answers.get("x")``, ``"x" in answers``, ``{"x": …}`` given as answers, the cells of a bulk
row), a field of a form spec (``spec.field("x")``, ``f.id == "x"``, ``column.key == "x"``), the
field of a problem (``field="x"``, ``FieldError("x", …)``), a name bound to the bare id
(``FIELD = "x"``), a dict that maps something to it (``{"item": "x"}``) or a list of such ids.
The same words are other things elsewhere, and those are left alone: the columns of the
residence-card record (``Resident.card_number``, ``order_by("card_number")``), the items of the
identity cross-check, the field types of the catalogue (``type: card_number``), the keys of a
dict of facts for a PDF, the fields of the start form and of the API's body.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

from zairyu.catalogue.formspec import get_form_library

SOURCE = Path(__file__).resolve().parents[2]  # src/zairyu

# (module under src/zairyu, literal): where the word of a role field's id is written on purpose,
# in a place where a field id would go. Keep it tiny; each entry says what the word is there.
ALLOWED: dict[tuple[str, str], str] = {
    # The start page's "residence card number" input (StartForm.card_number, Start.card_number):
    # a problem at start names it, the start view reads it from the start form, not the answers.
    ("applications/services.py", "card_number"): "start form field",
    ("applications/views/applicant.py", "card_number"): "start form field",
    # The cross-check's problems name the identity item (IdentityInput's attribute), which the
    # callers map to the form's field with identity_field_id().
    ("applications/rules/crosscheck.py", "card_number"): "identity item",
    ("applications/rules/crosscheck.py", "nationality"): "identity item",
    ("applications/rules/crosscheck.py", "roman_name"): "identity item",
    ("applications/rules/crosscheck.py", "sex"): "identity item",
    # The residence-card record's column the admin searches by exact number (Resident.card_number).
    ("registry/admin.py", "card_number"): "Resident column",
}

# TEMPORARY: bulk/ is being moved to roles at the same time. Empty this after the merge (and
# then delete it): nothing of bulk/ was found at the time of writing.
BULK_PENDING: dict[tuple[str, str], str] = {}

ANSWERS_WORDS = ("answers", "cleaned_data", "stored", "cells")
LOOKUP_METHODS = {"get", "pop", "setdefault"}
SPEC_METHODS = {"field", "has_field"}
FIELD_ID_NAMES = {"id", "key", "field", "field_id"}
FIELD_KEYWORDS = {"field", "field_id"}
DISPLAYS = (ast.Tuple, ast.List, ast.Set)


def role_field_ids() -> dict[str, str]:
    """Field id → role, from the form catalogue."""
    return {field_id: role for role, field_id in get_form_library().roles.items()}


def production_sources() -> list[Path]:
    """Every .py under src/zairyu but tests and migrations."""
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(SOURCE).parts[:-1])
    ]


def _is_answers(node: ast.AST) -> bool:
    """``answers``, ``application.answers``, ``new_answers``, ``form.cleaned_data``, ``row.cells``…"""
    text = ast.unparse(node).lower()
    return any(word in text for word in ANSWERS_WORDS)


def _names_field_id(node: ast.AST) -> bool:
    """``f.id``, ``column.key``, ``problem.field``, ``field_id``, ``name_field``…"""
    if isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.Name):
        name = node.id
    else:
        return False
    return name in FIELD_ID_NAMES or name.endswith(("_field", "_field_id"))


def _literals(node: ast.AST | None) -> Iterator[ast.Constant]:
    """The string literal ``node`` is, or the ones of the tuple, list or set it is."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, DISPLAYS):
        for element in node.elts:
            yield from _literals(element)


def _dict_keys(node: ast.AST | None) -> Iterator[ast.Constant]:
    if isinstance(node, ast.Dict):
        for key in node.keys:
            yield from _literals(key)


def _call_uses(node: ast.Call) -> Iterator[ast.Constant]:
    func = node.func
    if isinstance(func, ast.Attribute) and node.args:
        if (func.attr in LOOKUP_METHODS and _is_answers(func.value)) or func.attr in SPEC_METHODS:
            yield from _literals(node.args[0])  # answers.get("x"), spec.field("x")
        if func.attr == "update" and _is_answers(func.value):
            yield from _dict_keys(node.args[0])  # answers.update({"x": …})
    if isinstance(func, ast.Name) and func.id == "FieldError" and node.args:
        yield from _literals(node.args[0])
    for keyword in node.keywords:
        if keyword.arg in FIELD_KEYWORDS:
            yield from _literals(keyword.value)  # Problem(…, field="x")
        if keyword.arg is not None and any(word in keyword.arg for word in ("answers", "initial")):
            yield from _dict_keys(keyword.value)  # Application(answers={"x": …})


def _compare_uses(node: ast.Compare) -> Iterator[ast.Constant]:
    sides = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, sides, sides[1:], strict=False):
        if isinstance(op, ast.In | ast.NotIn) and not isinstance(right, (*DISPLAYS, ast.Constant)):
            yield from _literals(left)  # "x" in answers, "x" in self.step_of
        elif _names_field_id(left):
            yield from _literals(right)  # f.id == "x", field_id in ("x", "y")
        elif _names_field_id(right):
            yield from _literals(left)


def _assign_uses(targets: list[ast.expr], value: ast.AST | None) -> Iterator[ast.Constant]:
    if isinstance(value, ast.Constant):
        yield from _literals(value)  # FIELD = "x"
    if any(_is_answers(target) for target in targets):
        yield from _dict_keys(value)  # answers = {"x": …}


def _display_uses(node: ast.AST, ids: Mapping[str, str]) -> Iterator[ast.Constant]:
    """``("x", "y")``: a tuple, list or set of strings mostly role field ids (two or more) is a
    list of fields (a few among other words are field types, the items of a certificate…);
    ``{"item": "x"}``: a role field id as the value of a dict maps something to the field;
    ``{**answers, "x": …}``: answers with a field added."""
    if isinstance(node, DISPLAYS):
        strings = list(_literals(node))
        named = [c for c in strings if c.value in ids]
        if len(named) >= 2 and 2 * len(named) > len(strings):
            yield from named
    elif isinstance(node, ast.Dict):
        for value in node.values:
            if isinstance(value, ast.Constant):
                yield from _literals(value)
        if any(key is None and _is_answers(value) for key, value in zip(node.keys, node.values, strict=True)):
            yield from _dict_keys(node)


def _uses(tree: ast.AST, ids: Mapping[str, str]) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_answers(node.value):
            yield from _literals(node.slice)  # answers["x"]
        elif isinstance(node, ast.Call):
            yield from _call_uses(node)
        elif isinstance(node, ast.Compare):
            yield from _compare_uses(node)
        elif isinstance(node, ast.Assign):
            yield from _assign_uses(node.targets, node.value)
        elif isinstance(node, ast.AnnAssign):
            yield from _assign_uses([node.target], node.value)
        elif isinstance(node, (*DISPLAYS, ast.Dict)):
            yield from _display_uses(node, ids)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "answers" in node.name:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return):
                    yield from _dict_keys(inner.value)  # def sample_answers(): return {"x": …}


def field_id_uses(tree: ast.AST, ids: Mapping[str, str]) -> Iterator[ast.Constant]:
    """The string literals of ``tree`` equal to a role field id (a key of ``ids``) and used
    where a form field id goes."""
    for literal in _uses(tree, ids):
        if literal.value in ids:
            yield literal


def _all_uses() -> set[tuple[str, int, str]]:
    """(module, line, literal) of every role field id used as a field id in production code."""
    ids = role_field_ids()
    found = set()
    for path in production_sources():
        module = path.relative_to(SOURCE).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found |= {(module, literal.lineno, literal.value) for literal in field_id_uses(tree, ids)}
    return found


def test_code_names_role_fields_by_role():
    ids = role_field_ids()
    allowed = ALLOWED.keys() | BULK_PENDING.keys()
    offenders = [
        f"src/zairyu/{module}:{line}: {literal!r} → role_field_id({ids[literal]!r})"
        for module, line, literal in sorted(_all_uses())
        if (module, literal) not in allowed
    ]
    assert not offenders, "bare ids of role fields (ask for the role instead):\n" + "\n".join(offenders)


def test_every_allowed_entry_is_still_needed():
    """An entry of the allow-lists whose literal is no longer used as a field id there goes."""
    used = {(module, literal) for module, _line, literal in _all_uses()}
    stale = sorted((ALLOWED.keys() | BULK_PENDING.keys()) - used)
    assert not stale, f"remove these from the allow-lists of {Path(__file__).name}: {stale}"


def test_the_walk_finds_each_kind_of_use():
    source = """
answers["card_number"]
application.answers.get("roman_name", "")
new_answers.setdefault("sex", "")
if "date_of_birth" in answers: pass
form.cleaned_data["applicant_email"]
Application(answers={"reentry_kind": "single"})
answers.update({"nationality": "VNM"})
merged = {**application.answers, "kanji_name": ""}
spec.field("desired_period_of_stay")
form.has_field("address_prefecture")
[f for f in fields if f.id == "occupation"]
if field_id in ("passport_number", "address_street"): pass
Problem("x", "m", field="filer_reason")
FieldError("acquisition_reason", "code", "message")
FIELD = "card_expiry"
sample_answers: dict = {"current_period_expiry": ""}
def sample_answers(): return {"current_period_of_stay": "1Y"}
stored.get("municipality") or verdict.stored["address_municipality"]
row.cells.get("activity_description", "")
[c for c in columns if c.key == "card_kanji_name"]
if "card_kanji_name_requested" in self.step_of: pass
field_of = {"prefecture": "acquisition_event_date"}
"""
    found = {literal.value for literal in field_id_uses(ast.parse(source), role_field_ids())}
    assert found == set(role_field_ids())  # every role field id, each written once above
    lists = 'IDENTITY = ("nationality", "roman_name", "sex")'
    assert {c.value for c in field_id_uses(ast.parse(lists), role_field_ids())} == {
        "nationality",
        "roman_name",
        "sex",
    }


def test_the_walk_leaves_other_words_alone():
    others = """
Resident.objects.filter(card_number=number).order_by("card_number")
resident.save(update_fields=["card_number", "card_expires_on"])
BY_TYPE = {"roman_name": ("NGUYEN VAN AN",)}
facts = {"nationality": "VNM", "date_of_birth": born}
facts["card_number"]
if spec.type == "card_number": pass
TYPES = {"text", "date", "email", "phone", "roman_name", "kanji_name", "country", "card_number"}
missing = [key for key in ("name", "sex", "date_of_birth", "address") if key not in data]
"""
    assert not [(c.lineno, c.value) for c in field_id_uses(ast.parse(others), role_field_ids())]
