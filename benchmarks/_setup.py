"""Shared set-up for benchmarks: Django on a throw-away data directory, migrated."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zairyu.config.settings")
    os.environ.setdefault("ZAIRYU_DATA_DIR", tempfile.mkdtemp(prefix="zairyu-bench-"))
    os.environ.setdefault("ZAIRYU_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timings(function: Callable[[], object], *, repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls."""
    result = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        result.append((time.perf_counter() - started) * 1000)
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(name: str, value: float, unit: str) -> None:
    print(f"{name}: {value:.2f} {unit}", flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)
