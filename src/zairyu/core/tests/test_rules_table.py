"""``docs/rules.md`` is the rule table (issue 14): every rule of MISSION F-01…F-09 and of the user ×
procedure matrix, one row each. This holds the table to the code and the tests:

* each row names at least one test on the web and one through the API, and each named test exists
  (a parametrised one also names the row's rule id among its cases);
* every rule id the cross-surface test drives (``applications/tests/test_rules_on_every_surface.py``)
  has a row;
* every problem code a rule module can give (``applications/rules/``, ``catalogue/rules.py``, the
  start checks of ``applications/services.py``) and every condition of the matrix is in a row;
* the message quoted in each row is the catalogue's, in English and in Japanese (the compiled
  translations, or the catalogue's YAML for the matrix's conditions).

A rule with no row, or a row with no test on a surface, fails here.
"""

from __future__ import annotations

import ast
import gettext
import re
from functools import cache
from pathlib import Path

import pytest
import yaml

SRC = Path(__file__).resolve().parents[3]  # src/
APP = SRC / "zairyu"
TABLE = SRC.parent / "docs" / "rules.md"
EVERY_SURFACE = APP / "applications" / "tests" / "test_rules_on_every_surface.py"
RULE_ID = re.compile(r"^(F-0[1-9]|M)-[a-z0-9-]+$")
TEST_REF = re.compile(r"`([\w/]+\.py)::(\w+)`")
QUOTE = re.compile(r"“([^”]+)”")
# Where problems are made: the rule modules, and the start checks of the application service.
RULE_MODULES = [*sorted((APP / "applications" / "rules").glob("*.py")), APP / "catalogue" / "rules.py"]
MAKERS = {"Problem", "Reason", "_reason", "_problem"}
# Codes of the application service that guard the shape of a request or the state, not a rule of
# the Q&A (docs/rules.md, "Not rules of their own").
NOT_RULES = {
    "procedure_unknown",  # a value outside the catalogue's list
    "status_unknown",
    "unknown_field",  # an answer to an item the form does not have
    "not_editable",  # the lifecycle's guards (ADR 0015)
    "not_pending",
    "request_open",
    "mynaportal_failed",  # F-18, the Mynaportal link
    "mynaportal_not_available",
    "mynaportal_year",
}
COLUMNS = ["Rule", "Source", "Decided by", "Facts (from)", "Codes", "Message (en / ja)", "Web", "API"]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


@cache
def rows() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if cells[0] == "Rule":
            header = cells
            continue
        assert header is not None, (
            f"a row of docs/rules.md outside a table (a blank line above?): {line[:60]}"
        )
        if set(cells[0]) <= {"-", ":"}:
            continue
        assert header == COLUMNS, f"a table in docs/rules.md has the columns {header}, not {COLUMNS}"
        rule = cells[0].strip("`")
        assert RULE_ID.match(rule), f"{rule!r}: a rule id is F-0n-… or M-…"
        assert rule not in found, f"{rule} has two rows"
        found[rule] = dict(zip(header, cells, strict=True))
    return found


def test_the_table_has_rows_for_every_family():
    families = {rule[:4] if rule.startswith("F") else "M" for rule in rows()}
    assert families == {f"F-0{n}" for n in range(1, 10)} | {"M"}


@cache
def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


@cache
def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


@pytest.mark.parametrize("surface", ["Web", "API"])
def test_every_row_names_tests_that_exist_on_both_surfaces(surface):
    missing = []
    for rule, row in rows().items():
        refs = TEST_REF.findall(row[surface])
        if not refs:
            missing.append(f"{rule}: no {surface} test")
        for path, name in refs:
            file = APP / path
            if not file.is_file() or name not in _test_functions(file):
                missing.append(f"{rule}: {path}::{name} does not exist")
            elif file == EVERY_SURFACE and not _drives(file, name, rule):
                missing.append(f"{rule}: {path}::{name} has no case for it")
    assert not missing, "\n".join(missing)


@cache
def _texts_of(path: Path, name: str) -> tuple[str, ...]:
    """The strings of test ``name`` (its docstring, decorators and body) and of the module-level
    case lists it names (``AT_START``…): where the rule ids it drives are written."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assigned = {
        target.id: node
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    nodes: list[ast.AST] = [function]
    nodes += [assigned[n.id] for n in ast.walk(function) if isinstance(n, ast.Name) and n.id in assigned]
    return tuple(
        sub.value
        for node in nodes
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
    )


def _drives(path: Path, name: str, rule: str) -> bool:
    mention = re.compile(rf"(?<![\w-]){re.escape(rule)}(?![\w-])")
    return any(mention.search(text) for text in _texts_of(path, name))


def test_every_rule_the_cross_surface_test_drives_has_a_row():
    driven = {text for text in _string_constants(EVERY_SURFACE) if RULE_ID.match(text)}
    assert driven, "the cross-surface test names no rule"
    assert driven - set(rows()) == set()


def _codes_made(path: Path) -> set[str]:
    codes = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        first = node.args[0]
        if name in MAKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            codes.add(first.value)
    return codes


def _listed_codes() -> set[str]:
    return {code for row in rows().values() for code in re.findall(r"`([a-z0-9_]+)`", row["Codes"])}


def test_every_problem_code_of_the_rules_is_in_the_table():
    made = set().union(*(_codes_made(path) for path in RULE_MODULES))
    made |= _codes_made(APP / "applications" / "services.py")
    assert made, "no problem codes found: has the code moved?"
    missing = sorted(made - NOT_RULES - _listed_codes())
    assert not missing, f"codes with no row in docs/rules.md: {missing}"


def test_every_condition_of_the_matrix_is_in_the_table():
    matrix = yaml.safe_load((APP / "catalogue" / "data" / "matrix.yaml").read_text(encoding="utf-8"))
    listed = _listed_codes()
    missing = [
        code for code in matrix["conditions"] if code not in listed and f"condition_{code}" not in listed
    ]
    assert not missing, f"matrix conditions with no row in docs/rules.md: {missing}"


def _normalized(text: str) -> str:
    return re.sub(r"\s+", "", text)


@cache
def _messages() -> tuple[str, str]:
    """Every English message and every Japanese one, white space dropped (the table quotes them)."""
    with (APP / "locale" / "ja" / "LC_MESSAGES" / "django.mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    english = [str(key) for key in catalog if isinstance(key, str)]
    japanese = [str(value) for value in catalog.values()]
    for name in ("matrix.yaml", "procedures.yaml", "user_categories.yaml"):
        text = (APP / "catalogue" / "data" / name).read_text(encoding="utf-8")
        english.append(text)
        japanese.append(text)
    return _normalized("\n".join(english)), _normalized("\n".join(japanese))


def _quotes(cell: str) -> list[str]:
    # A "%(…)s" or "{…}" placeholder of the message is shown in the table as "…".
    return [_normalized(quote).replace("…", "\x00") for quote in QUOTE.findall(cell)]


def _found(quote: str, text: str) -> bool:
    parts = [re.escape(part) for part in quote.split("\x00")]
    return re.search(r"(?:%\([a-z_]+\)[sd]|\{[a-z_]+\})".join(parts), text) is not None


def test_the_messages_quoted_are_the_catalogues_in_english_and_japanese():
    english, japanese = _messages()
    wrong = []
    for rule, row in rows().items():
        cell = row["Message (en / ja)"]
        en, _sep, ja = cell.partition(" / ")
        if not _quotes(en) or not _quotes(ja):
            wrong.append(f"{rule}: quote the message as “…” / “…” (en / ja)")
            continue
        wrong += [f"{rule}: not an English message: {q}" for q in _quotes(en) if not _found(q, english)]
        wrong += [f"{rule}: not a Japanese message: {q}" for q in _quotes(ja) if not _found(q, japanese)]
    assert not wrong, "\n".join(wrong)
