"""The 80-line rule: a function or method of production code is at most 80 lines long (its
decorators not counted), unless its docstring says why with a line "Long because: …"."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2]  # src/zairyu
ROOT = SOURCE.parents[1]
MAX_LINES = 80
EXCUSE = "Long because:"


def production_sources() -> list[Path]:
    """Every .py under src/zairyu but tests and migrations."""
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(SOURCE).parts[:-1])
    ]


def long_functions(path: Path) -> list[tuple[str, int]]:
    """(qualified name, length) of each function in the file longer than the rule allows and
    without the excuse in its docstring; nested functions and methods are named with dots."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = child.end_lineno - child.lineno + 1  # lineno is the `def`, after decorators
                if length > MAX_LINES and EXCUSE not in (ast.get_docstring(child) or ""):
                    found.append((name, length))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def test_no_function_is_longer_than_80_lines_without_a_reason():
    offenders = [
        f"{path.relative_to(ROOT)}:{name}:{length}"
        for path in production_sources()
        for name, length in long_functions(path)
    ]
    assert not offenders, (
        f"functions longer than {MAX_LINES} lines (split them, or say '{EXCUSE} …' in the docstring):\n"
        + "\n".join(offenders)
    )


def test_every_services_and_access_module_is_in_the_strict_type_check():
    """mypy runs strict on the service layer (pyproject.toml, ``[tool.mypy] files``): a new
    ``services.py``, services package or ``access.py`` must be added there, or it escapes."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    listed = {ROOT / entry for entry in config["files"]}
    wanted = {
        path
        for path in SOURCE.glob("*/*")
        if path.name in {"services.py", "access.py"} or (path.name == "services" and path.is_dir())
    }
    missing = sorted(str(path.relative_to(ROOT)) for path in wanted - listed)
    assert not missing, "add these to [tool.mypy] files in pyproject.toml: " + ", ".join(missing)


# The names makemessages (xgettext) extracts: a translation function imported under another name
# is never extracted, and its texts stay English on the Japanese pages.
EXTRACTED = {
    "_",
    "gettext",
    "gettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "gettext_noop",
}


def test_translation_functions_keep_names_makemessages_extracts():
    renamed = [
        f"{path.relative_to(SOURCE)}:{node.lineno} {alias.name} as {alias.asname}"
        for path in production_sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for alias in node.names
        if alias.asname and alias.asname not in EXTRACTED
    ]
    assert renamed == []
