#!/usr/bin/env python
"""Run every benchmarks/bench_*.py in its own process; each prints `name: value unit` lines.

Each script runs on the embedded default (a fresh SQLite database in a temporary directory), and
again on PostgreSQL when one answers on 127.0.0.1:5432 (a fresh database ``zairyu_bench``;
``ZAIRYU_BENCH_PG_URL`` overrides where).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PG_URL = os.environ.get("ZAIRYU_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/zairyu_bench")


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def fresh_postgres() -> None:
    import psycopg

    name = PG_URL.rsplit("/", 1)[1]
    admin = PG_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    failed = 0
    scripts = sorted(HERE.glob("bench_*.py"))
    for script in scripts:
        env = {k: v for k, v in os.environ.items() if k != "ZAIRYU_DATABASE_URL"}
        failed += subprocess.run([sys.executable, str(script)], env=env, check=False).returncode != 0
        if postgres_available():
            fresh_postgres()
            failed += (
                subprocess.run(
                    [sys.executable, str(script)], env={**env, "ZAIRYU_DATABASE_URL": PG_URL}, check=False
                ).returncode
                != 0
            )
        else:
            print(
                f"# {script.name}: PostgreSQL not reachable on 127.0.0.1:5432, SQLite figures only",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
