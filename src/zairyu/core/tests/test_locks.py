"""The two locks: production installs requirements.lock alone, so it must hold everything the
code imports and none of the development tools; requirements-dev.lock adds the tools on top."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
SOURCE = ROOT / "src" / "zairyu"
RUNTIME_LOCK = ROOT / "requirements.lock"
DEV_LOCK = ROOT / "requirements-dev.lock"

# Distributions only development, tests and CI use; none may be installed in production.
DEV_ONLY = {
    "aiosmtpd",
    "axe-playwright-python",
    "django-stubs",
    "django-stubs-ext",
    "factory-boy",
    "hypothesis",
    "mypy",
    "playwright",
    "ruff",
    "schemathesis",
    "standardwebhooks",
    "time-machine",
}
DEV_ONLY_PREFIXES = ("pytest", "types-", "hypothesis-")

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(\S+)")


def normalise(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path) -> dict[str, str]:
    """name → version of every `name==version` line of a lock (comments and options skipped)."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line.strip())
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def is_dev_only(name: str) -> bool:
    return name in DEV_ONLY or name.startswith(DEV_ONLY_PREFIXES)


def production_sources() -> list[Path]:
    """The code production runs: everything under src/zairyu but tests and migrations."""
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if not {"tests", "migrations"} & set(path.relative_to(SOURCE).parts[:-1])
    ]


def imported_top_level_modules(path: Path) -> set[str]:
    """The absolute imports of a file (also those inside functions), by their first name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_locks_pin_every_package():
    for lock in (RUNTIME_LOCK, DEV_LOCK):
        assert pins(lock), f"{lock.name} pins nothing"


def test_no_development_tool_is_in_the_runtime_lock():
    offending = sorted(name for name in pins(RUNTIME_LOCK) if is_dev_only(name))
    assert not offending, f"development tools in requirements.lock: {offending}"


def test_the_dev_lock_is_the_runtime_lock_plus_the_tools():
    runtime, dev = pins(RUNTIME_LOCK), pins(DEV_LOCK)
    differing = sorted(
        f"{name}: {version} in requirements.lock, {dev.get(name, 'absent')} in requirements-dev.lock"
        for name, version in runtime.items()
        if dev.get(name) != version
    )
    assert not differing, "the locks disagree:\n" + "\n".join(differing)
    for tool in ("pytest", "ruff", "mypy", "django-stubs", "playwright", "schemathesis"):
        assert tool in dev, f"{tool} is missing from requirements-dev.lock"


def test_every_package_the_code_imports_is_in_the_runtime_lock():
    runtime = pins(RUNTIME_LOCK)
    distributions = packages_distributions()
    missing = []
    for path in production_sources():
        for module in sorted(imported_top_level_modules(path)):
            if module == "zairyu" or module in sys.stdlib_module_names:
                continue
            provided_by = {normalise(name) for name in distributions.get(module, [])}
            if not provided_by & runtime.keys():
                where = path.relative_to(ROOT)
                missing.append(f"{where}: {module} ({', '.join(sorted(provided_by)) or 'not installed'})")
    assert not missing, "imported by production code but not in requirements.lock:\n" + "\n".join(missing)
