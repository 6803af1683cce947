"""Every app imports only apps on lower floors (``zairyu.core.floors``; docs/architecture.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from zairyu.core.floors import FLOORS

PACKAGE = Path(__file__).resolve().parents[2]  # src/zairyu
EXEMPT = {"__init__.py"}  # the package itself: it loads the Celery application, as Celery asks


def units() -> set[str]:
    """The apps (folders that are packages) and the modules beside them (``celery``)."""
    folders = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name not in EXEMPT}
    return folders | modules


def modules() -> Iterator[tuple[str, Path]]:
    """``(unit, path)`` of every module held to the floors: not tests, not migrations."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts or (len(parts) == 1 and parts[0] in EXEMPT):
            continue
        yield (parts[0] if len(parts) > 1 else path.stem), path


def imported(source: str, module: str) -> Iterator[tuple[int, str, str]]:
    """``(line, module, unit)`` of each import of ``zairyu.<unit>`` in ``source``, the source of
    the module named ``module``: at the top, inside functions, under ``TYPE_CHECKING``, relative."""
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            # from zairyu import catalogue: the names are the apps
            names = [f"zairyu.{alias.name}" for alias in node.names] if base == "zairyu" else [base]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == "zairyu":
                yield node.lineno, name, parts[1]


def module_name(path: Path) -> str:
    """``zairyu.documents.services``; a package's own module keeps its ``__init__``, so that a
    relative import in it is anchored at the package, as Python anchors it."""
    return ".".join(["zairyu", *path.relative_to(PACKAGE).with_suffix("").parts])


def violations() -> list[str]:
    found = []
    for own, path in modules():
        for line, name, other in imported(path.read_text(encoding="utf-8"), module_name(path)):
            if other == own:
                continue
            where = f"{path.relative_to(PACKAGE)}:{line} imports {name}"
            if other not in FLOORS or own not in FLOORS:
                found.append(f"{where} (not in the floors of zairyu.core.floors)")
            elif FLOORS[other] >= FLOORS[own]:
                found.append(f"{where} (floor {FLOORS[other]} ≥ floor {FLOORS[own]})")
    return found


def test_every_app_has_a_floor():
    present = units()
    assert sorted(present - FLOORS.keys()) == [], "apps missing from zairyu.core.floors.FLOORS"
    assert sorted(FLOORS.keys() - present) == [], "zairyu.core.floors.FLOORS names apps that are gone"


def test_apps_import_only_apps_on_lower_floors():
    found = violations()
    if found:
        pytest.fail(
            f"{len(found)} imports break the floors (zairyu.core.floors):\n" + "\n".join(found), pytrace=False
        )


def test_the_floors_see_every_kind_of_import():
    source = """
from typing import TYPE_CHECKING
import zairyu.api.problems
from zairyu.catalogue import get_catalogue
from zairyu import registry
from ..accounts import models
from . import constants
if TYPE_CHECKING:
    from zairyu.bulk.models import BulkImport
def later():
    from zairyu.review.services import decide
"""
    found = {(name, unit) for _, name, unit in imported(source, "zairyu.documents.services")}
    assert found == {
        ("zairyu.api.problems", "api"),
        ("zairyu.catalogue", "catalogue"),
        ("zairyu.registry", "registry"),
        ("zairyu.accounts", "accounts"),
        ("zairyu.documents", "documents"),
        ("zairyu.bulk.models", "bulk"),
        ("zairyu.review.services", "review"),
    }
