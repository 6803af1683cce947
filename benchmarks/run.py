#!/usr/bin/env python
"""Run every benchmarks/bench_*.py in its own process; each prints `name: value unit` lines.

Uses the embedded default (a fresh SQLite database in a temporary directory) unless
ZAIRYU_DATABASE_URL is set (e.g. to PostgreSQL), in which case that database is used.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        result = subprocess.run([sys.executable, str(script)], check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
