#!/usr/bin/env python
"""The API's contract check: Schemathesis against every operation, with all its checks, on the
production server stack (gunicorn, PostgreSQL, production settings).

    .venv/bin/python scripts/api_contract.py [--max-examples 50] [--workers 2] [--keep] [-- ARGS…]

1. creates a fresh PostgreSQL database (``zairyu_api_contract`` on the server of
   ``ZAIRYU_CONTRACT_DATABASE_URL``, else of ``ZAIRYU_DATABASE_URL`` if it is PostgreSQL, else
   ``postgres://postgres@127.0.0.1:5432``), migrates it and loads the demo (development settings:
   the demo is refused in production), and issues access tokens with every scope for two demo
   users: DEMORESID001 (U1, a foreign national) and DEMOSCRIV001 (U4, a scrivener with filed
   applications);
2. serves the site with gunicorn under ``ZAIRYU_ENV=production`` (DEBUG off, manifest static files,
   production logging and error pages) on a free port of 127.0.0.1. Two settings differ from a
   deployment, on purpose: ``ZAIRYU_SECURE=false`` — TLS is the reverse proxy's job and, without
   a proxy on the loopback, the HTTPS redirect would answer every request with a 301 and leave
   nothing to test; and the rate limits are raised — they are tested in the suite, and here they
   would turn the run into 429s that say nothing about the operations. Background tasks run in
   the server process after each commit (no broker), so a failing task shows in the server log;
3. gives DEMORESID001 applications to work on (through the services, as the web would: drafts,
   one ready with its files and receipt method, one submitted) and runs ``schemathesis run
   …/api/v1/openapi.json --checks all`` as DEMORESID001, with those IDs mixed into the generated
   ``application_id`` and ``document_id`` (otherwise nearly every request on one application is
   a 404 and the operations' logic is never reached). DEMOSCRIV001 is the peer of the
   ``object_level_authorization`` check (what one user reads, the other must not); the
   client's own operations (``/client``) use the CI client's credentials. No check is excluded;
4. stops the server, drops the database, and fails if Schemathesis failed or the server logged a
   traceback (an error in a task after the response, which no check can see).

Exit status 0 when Schemathesis finds nothing. ``benchmarks/bench_api.py`` starts its server with
``ProductionServer`` from here.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PYTHON = sys.executable
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
USER, PEER = "DEMORESID001", "DEMOSCRIV001"
# Raised so that a run of thousands of requests is never throttled (see the module docstring).
UNTHROTTLED = {
    "ZAIRYU_API_RATE_PER_CLIENT_PER_MINUTE": "10000000",
    "ZAIRYU_API_RATE_PER_USER_PER_MINUTE": "10000000",
    "ZAIRYU_API_RATE_ANONYMOUS_PER_MINUTE": "10000000",
    "ZAIRYU_ECOE_VERIFY_LIMIT_PER_HOUR": "10000000",
}


# Operations whose acceptance depends on data that no schema can express. There a 422 for a
# schema-valid request is the right answer, not a contract violation, so the positive-data check
# accepts it on these operations only (every other check still applies to them in full).
DATA_DEPENDENT = {
    "POST /api/v1/applications": "the registry decides whether a residence card exists, the matrix who may file what",
    "PATCH /api/v1/applications/{application_id}": "the form's items depend on the application's procedure and status",
    "PUT /api/v1/applications/{application_id}/receipt-method": "the methods offered depend on the application",
    "POST /api/v1/applications/{application_id}/documents": "a file must be a clean PDF or a 4:3 JPEG photo",
    "POST /api/v1/applications/{application_id}/additional-documents": "a file must be a clean PDF",
    "POST /api/v1/applications/{application_id}/submit": "U1–U3 sign with their card; the answers must be complete",
    "POST /api/v1/applications/{application_id}/requests": "what may be asked depends on the application's state",
    "POST /api/v1/bulk/imports": "the workbook's rows are checked against the catalogue and the registry",
    "PUT /api/v1/client/webhook": "the host must resolve to a public address",
    "GET /api/v1/catalogue/forms/{procedure}/{status}": "the catalogue's rules say which add-ons go with which procedure",
    "POST /api/v1/catalogue/check": "the calendar rules speak of dates from 1900 to 2100 only",
}
POSITIVE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # Schemathesis's default


def postgres_server_url() -> str:
    """The PostgreSQL server to create throw-away databases on (without a database name)."""
    explicit = os.environ.get("ZAIRYU_CONTRACT_DATABASE_URL")
    if explicit:
        return explicit.rsplit("/", 1)[0]
    current = os.environ.get("ZAIRYU_DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        return current.rsplit("/", 1)[0]
    return DEFAULT_SERVER


def postgres_available(server: str) -> bool:
    parsed = urlparse(server)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=1):
            return True
    except OSError:
        return False


def redis_url() -> str | None:
    """Redis for the server's cache (shared rate-limit counters across workers, as deployed)."""
    url = os.environ.get("ZAIRYU_CONTRACT_REDIS_URL", "redis://127.0.0.1:6379/13")
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return url
    except OSError:
        return None


def database_create(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def database_drop(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment without any ZAIRYU_ variable of the caller, then ours."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("ZAIRYU_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        {
            "ZAIRYU_DATA_DIR": str(data_dir),
            "ZAIRYU_DATABASE_URL": database_url,
            "ZAIRYU_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(REPO / "src"),
        }
    )
    return env


def development_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return {**base_env(data_dir, database_url), "ZAIRYU_ENV": "development"}


def production_env(data_dir: Path, database_url: str, *, workers_cache: str | None) -> dict[str, str]:
    env = {
        **base_env(data_dir, database_url),
        "ZAIRYU_ENV": "production",
        "ZAIRYU_SECRET_KEY": secrets.token_urlsafe(48),
        "ZAIRYU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "ZAIRYU_SECURE": "false",
        "ZAIRYU_SITE_URL": "http://127.0.0.1",
        **UNTHROTTLED,
    }
    if workers_cache:
        env["ZAIRYU_REDIS_URL"] = workers_cache
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own fixed commands)
        [PYTHON, str(REPO / "manage.py"), *args],
        env=env,
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"manage.py {' '.join(args)} failed ({result.returncode})")
    return result.stdout


class ProductionServer:
    """gunicorn serving ``zairyu.config.wsgi`` with production settings on 127.0.0.1.

    ``with ProductionServer(data_dir, database_url, workers=3) as server: server.url``; the log
    (gunicorn's and Django's) is ``server.log_path``.
    """

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        *,
        workers: int = 3,
        threads: int = 1,
        limit_request_line: int | None = None,
        extra_env=None,
    ):
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.workers = workers
        self.threads = threads
        self.limit_request_line = limit_request_line
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **production_env(self.data_dir, database_url, workers_cache=redis_url()),
            **(extra_env or {}),
        }
        self.log_path = self.data_dir / "server.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ProductionServer:
        # Production serves hashed static files from the manifest (the API docs page needs them).
        manage(self.env, "collectstatic", "--noinput")
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [
                str(VENV_BIN / "gunicorn"),
                "zairyu.config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--worker-class",
                "gthread" if self.threads > 1 else "sync",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--keep-alive",
                "30",
                *(
                    ["--limit-request-line", str(self.limit_request_line)]
                    if self.limit_request_line is not None
                    else []
                ),
            ],
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"gunicorn did not answer within 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc) -> None:
        self.stop()

    def tracebacks(self) -> list[str]:
        """Tracebacks in the server log, each with the line that introduced it."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(errors="replace").splitlines()
        found = []
        for index, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                end = index + 1
                while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                    end += 1
                found.append("\n".join(lines[max(0, index - 1) : end + 1]))
        return found


def seed_applications(auth_id: str, drafts: int) -> dict[str, list]:
    """In a Django process (development settings): applications of ``auth_id`` to fuzz with."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zairyu.accounts.models import User
    from zairyu.applications import services
    from zairyu.applications.constants import DocumentRole
    from zairyu.applications.samples import sample_answers
    from zairyu.core import clock
    from zairyu.documents.tests.factories import jpeg_bytes, pdf_bytes
    from zairyu.registry.models import Resident

    today = clock.today()
    user = User.objects.get(username=auth_id)
    resident = Resident.objects.get(card_number=user.card_id.removeprefix("DEMO"))
    start = None
    for procedure in ("P3", "P5", "P4", "P2"):
        candidate = services.Start(
            procedure=procedure, status=resident.status, card_number=resident.card_number
        )
        problems, _resident, _organization = services.start_problems(user=user, start=candidate, today=today)
        if not any(p.blocks for p in problems):
            start = candidate
            break
    if start is None:
        return {
            "application_id": [],
            "document_id": [],
            "note": ["no procedure is open to the demo resident"],
        }

    def ready() -> tuple[object, list[int]]:
        application = services.application_create(user=user, start=start)
        form = services.application_form(application)
        answers = sample_answers(form, today=today, overrides=application.answers)
        for step in form.step_ids:
            services.application_save_step(application=application, user=user, step=step, answers=answers)
        services.application_set_receipt_method(application=application, user=user, method="post")
        documents = [
            services.application_attach(
                application=application,
                user=user,
                role=DocumentRole.SUPPORTING,
                document_type="passport_copy",
                upload=SimpleUploadedFile("passport.pdf", pdf_bytes(), content_type="application/pdf"),
            ),
            services.application_attach(
                application=application,
                user=user,
                role=DocumentRole.PHOTO,
                document_type="face_photo",
                taken_within_6_months=True,
                upload=SimpleUploadedFile("face.jpg", jpeg_bytes(), content_type="image/jpeg"),
            ),
        ]
        return application, [document.pk for document in documents]

    ids = [str(services.application_create(user=user, start=start).public_id) for _ in range(drafts)]
    complete, documents = ready()
    ids.append(str(complete.public_id))
    notes = []
    try:
        submitted, _documents = ready()
        services.application_submit(application_id=submitted.pk, user=user, submission_key="contract-seed")
        ids.append(str(submitted.public_id))
    except services.ApplicationRefused as refused:
        notes.append(f"no submitted application: {[p.code for p in refused.problems]}")
    return {"application_id": ids, "document_id": documents, "note": notes}


def wfc_auth_file(path: Path, tokens: dict[str, str]) -> None:
    """Web Fuzzing Commons auth document: one entry per user, a fixed bearer header each."""
    path.write_text(
        json.dumps(
            {
                "auth": [
                    {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
                    for name, token in tokens.items()
                ]
            }
        )
    )


def schemathesis_config(
    path: Path,
    *,
    auth_file: Path,
    client_id: str,
    client_secret: str,
    known: dict[str, list],
    operations: set[str],
) -> None:
    dictionaries, parameters, allowances = [], [], []
    for name, values in known.items():
        if name != "note" and values:
            dictionaries += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
            # Known IDs most of the time, generated ones (mostly 404s) the rest.
            parameters.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.7 }}')
    for name, reason in DATA_DEPENDENT.items():
        if name not in operations:
            print(f"api_contract: DATA_DEPENDENT names {name}, which the API no longer has", flush=True)
            continue
        allowances += [
            f"# {reason}",
            "[[operations]]",
            f"include-name = {json.dumps(name)}",
            f"checks.positive_data_acceptance.expected-statuses = {json.dumps([*POSITIVE_EXPECTED, '422'])}",
            "",
        ]
    path.write_text(
        "\n".join(
            [
                "# Written by scripts/api_contract.py for one run.",
                'generation.database = "none"  # no example database left in the working tree',
                "",
                *dictionaries,
                "[parameters]",
                *parameters,
                "",
                "[auth.wfc]",
                f"path = {json.dumps(str(auth_file))}",
                # Every operation runs as the foreign national; the scrivener is loaded as the peer
                # that must not see the foreign national's objects (object_level_authorization).
                f'user = "{USER}"',
                f'peers = ["{USER}", "{PEER}"]',
                "",
                "# The client's own operations take its credentials (HTTP Basic), not a user's token.",
                "[[operations]]",
                'include-tag = "client"',
                f"auth.basic = {{ username = {json.dumps(client_id)}, password = {json.dumps(client_secret)} }}",
                "",
                *allowances,
            ]
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation and phase")
    parser.add_argument("--workers", default="2", help="concurrent Schemathesis workers (default 2)")
    parser.add_argument("--server-workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--seed", help="Schemathesis seed, to repeat a run")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and the database")
    parser.add_argument(
        "schemathesis_args", nargs="*", help="more arguments for `schemathesis run` (after --)"
    )
    args = parser.parse_args(argv)

    server_url = postgres_server_url()
    if not postgres_available(server_url):
        print(f"api_contract: PostgreSQL is not reachable at {server_url}", file=sys.stderr)
        return 2
    started = time.monotonic()
    data_dir = Path(tempfile.mkdtemp(prefix="zairyu-contract-"))
    name = "zairyu_api_contract"
    database_url = database_create(server_url, name)
    status = 1
    try:
        dev = development_env(data_dir, database_url)
        manage(dev, "migrate", "--noinput")
        manage(dev, "load_demo")
        issued = {
            user: json.loads(manage(dev, "api_token", "--user", user, "--seconds", "7200", *extra))
            for user, extra in ((USER, ["--reset-client-secret"]), (PEER, ["--json"]))
        }
        auth_file = data_dir / "auth.json"
        config_file = data_dir / "schemathesis.toml"
        wfc_auth_file(auth_file, {user: result["access_token"] for user, result in issued.items()})
        seeded = subprocess.run(  # noqa: S603
            [PYTHON, __file__, "_seed", USER],
            env={**dev, "DJANGO_SETTINGS_MODULE": "zairyu.config.settings"},
            cwd=REPO,
            check=False,
            capture_output=True,
            text=True,
        )
        if seeded.returncode != 0:
            sys.stderr.write(seeded.stderr[-4000:])
            raise SystemExit("api_contract: preparing the demo user's applications failed")
        known = json.loads(seeded.stdout.strip().splitlines()[-1])
        for note in known.get("note", []):
            print(f"api_contract: {note}", flush=True)
        print(f"api_contract: demo loaded in {time.monotonic() - started:.0f} s", flush=True)

        # The request-line limit is the front server's (gunicorn's 4 KB, the reverse proxy's): its
        # 414 is an HTML page of the front server, outside the API's contract. Unlimited here, so
        # that long generated URLs reach the application and are answered by it.
        with ProductionServer(
            data_dir, database_url, workers=args.server_workers, limit_request_line=0
        ) as server:
            with urllib.request.urlopen(f"{server.url}/api/v1/docs", timeout=10) as response:  # noqa: S310
                assert response.status == 200, "the API docs page does not render in production"
            with urllib.request.urlopen(f"{server.url}/api/v1/openapi.json", timeout=10) as response:  # noqa: S310
                document = json.load(response)
            schemathesis_config(
                config_file,
                auth_file=auth_file,
                client_id=issued[USER]["client_id"],
                client_secret=issued[USER]["client_secret"],
                known=known,
                operations={
                    f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
                },
            )
            command = [
                str(VENV_BIN / "schemathesis"),
                "--config-file",
                str(config_file),
                "run",
                f"{server.url}/api/v1/openapi.json",
                "--checks",
                "all",
                "--max-examples",
                str(args.max_examples),
                "--workers",
                str(args.workers),
                "--header",
                "Accept-Language: en",
                "--request-timeout",
                "30",
                "--report",
                "junit",
                "--report-dir",
                str(data_dir / "report"),
                "--no-color",
                *(["--seed", args.seed] if args.seed else []),
                *args.schemathesis_args,
            ]
            print(
                f"api_contract: schemathesis run --checks all --max-examples {args.max_examples} "
                f"against gunicorn on {server.url}",
                flush=True,
            )
            status = subprocess.run(command, cwd=data_dir, check=False).returncode  # noqa: S603
        tracebacks = server.tracebacks()
        if tracebacks:
            print(f"\napi_contract: the server logged {len(tracebacks)} traceback(s):", flush=True)
            for traceback in tracebacks[:10]:
                print(traceback + "\n", flush=True)
            status = status or 1
    finally:
        if args.keep:
            print(f"api_contract: kept {data_dir} and database {name}", flush=True)
        else:
            database_drop(server_url, name)
            shutil.rmtree(data_dir, ignore_errors=True)
    print(f"api_contract: {'passed' if status == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return status


def _seed_main(auth_id: str) -> int:
    import django

    sys.path.insert(0, str(REPO / "src"))
    django.setup()
    print(json.dumps(seed_applications(auth_id, drafts=6)))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["_seed"]:
        sys.exit(_seed_main(sys.argv[2]))
    sys.exit(main())
