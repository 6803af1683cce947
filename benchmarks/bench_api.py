"""The API on the production server stack: gunicorn with production settings on PostgreSQL.

Figures (issue 8):
- ``api_trivial_rps``: requests per second of the smallest authenticated operation (the bearer
  token checked, an empty list of a user's applications) with concurrent keep-alive clients;
- ``api_submit_rps``: full submissions per second through ``POST /applications/{id}/submit``
  (each with its own ``Idempotency-Key``; drafts complete with answers, a PDF, a photo and a
  receipt method, prepared beforehand through the services; a U4 filer, who signs no card);
- ``api_submit_ratio``: the two divided (target ≥ 0.33);
- ``api_list_p95``: ``GET /applications?page=N&page_size=50`` of a user with 10,000
  applications, random pages, one client (target ≤ 50 ms).

The server is ``scripts/api_contract.py``'s ``ProductionServer`` (gunicorn ``gthread`` workers,
production settings over http on 127.0.0.1); background tasks go to a Redis broker as in a
deployment (no worker runs: e-mails wait in the queue, which is deleted afterwards). The load
comes from separate client processes (``http.client``, one keep-alive connection each) on the
same machine, so client and server share its cores: the figures are what this machine does
with both. Rate limits are raised for the run (they are a policy, not the capacity measured).
On SQLite the script only says so: these figures are PostgreSQL's.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from pathlib import Path

from _setup import REPO, percentile, report

DATABASE_URL = os.environ.get("ZAIRYU_DATABASE_URL", "")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    print("# bench_api: measured on gunicorn with PostgreSQL only (see the PostgreSQL run)", flush=True)
    sys.exit(0)

from _setup import django_setup  # noqa: E402

django_setup()

import datetime as dt  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402

from zairyu.accounts.constants import UserKind, UserState  # noqa: E402
from zairyu.accounts.models import User  # noqa: E402
from zairyu.api import services as api_services  # noqa: E402
from zairyu.api.management.commands.api_token import ci_client  # noqa: E402
from zairyu.applications import services  # noqa: E402
from zairyu.applications.constants import DocumentRole  # noqa: E402
from zairyu.applications.samples import sample_answers  # noqa: E402
from zairyu.core import clock  # noqa: E402
from zairyu.documents.tests.factories import jpeg_bytes, pdf_bytes  # noqa: E402
from zairyu.registry.tests.factories import ResidentFactory  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from api_contract import ProductionServer, redis_url  # noqa: E402

CPUS = os.cpu_count() or 2
SERVER_WORKERS = int(os.environ.get("BENCH_API_WORKERS", CPUS))
SERVER_THREADS = int(os.environ.get("BENCH_API_THREADS", 4))
CLIENTS = int(os.environ.get("BENCH_API_CLIENTS", 2 * CPUS))
TRIVIAL_SECONDS = float(os.environ.get("BENCH_API_SECONDS", 10))
SUBMISSIONS = int(os.environ.get("BENCH_API_SUBMISSIONS", 500))
LIST_SIZE = 10_000
LIST_REQUESTS = 200
today = clock.today()
started_at = time.perf_counter()


def make_user(username: str) -> User:
    user = User(username=username, kind=UserKind.U4, state=UserState.ACTIVE, email="bench@example.com")
    user.set_unusable_password()
    user.save()
    return user


def token_for(user: User, client) -> str:
    scopes = list(settings.API_SCOPES)
    api_services.authorisation_grant(user=user, client=client, scopes=scopes, days=1)
    return api_services.access_token_issue(user=user, client=client, scopes=scopes, seconds=3600)


def ready_draft(user: User) -> str:
    """A draft that passes every check: answers, a PDF, a photo, the receipt method."""
    resident = ResidentFactory(
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=today + dt.timedelta(days=60),
        card_expires_on=today + dt.timedelta(days=60),
        prefecture="23",
        municipality="名古屋市",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )
    application = services.application_create(
        user=user,
        start=services.Start(procedure="P3", status="engineer_humanities", card_number=resident.card_number),
    )
    form = services.application_form(application)
    answers = sample_answers(form, today=today, overrides=application.answers)
    for step in form.step_ids:
        services.application_save_step(application=application, user=user, step=step, answers=answers)
    services.application_set_receipt_method(application=application, user=user, method="post")
    services.application_attach(
        application=application,
        user=user,
        role=DocumentRole.SUPPORTING,
        document_type="passport_copy",
        upload=SimpleUploadedFile("p.pdf", PDF, content_type="application/pdf"),
    )
    services.application_attach(
        application=application,
        user=user,
        role=DocumentRole.PHOTO,
        document_type="face_photo",
        taken_within_6_months=True,
        upload=SimpleUploadedFile("f.jpg", PHOTO, content_type="image/jpeg"),
    )
    return str(application.public_id)


def insert_applications(user: User, count: int) -> None:
    """``count`` submitted applications of ``user`` in one statement (as bench_review does)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO applications_application (
                public_id, filer_id, user_category, procedure, add_ons, status, "group", state,
                applicant_name, applicant_email, answers, facts, steps_done, receipt_methods,
                office, provisional_number, receipt_number, receipt_date, submitted_at,
                submission_key, created_at, updated_at)
            SELECT md5('bench-api-' || i::text)::uuid, %s, 'U4',
                   (ARRAY['P1', 'P2', 'P3', 'P3', 'P5'])[1 + i %% 5], '[]'::jsonb,
                   'engineer_humanities', 'N',
                   (ARRAY['submitted', 'under_review', 'complete', 'complete', 'draft'])[1 + i %% 5],
                   'BENCH APPLICANT ' || i, '', '{}'::jsonb, '{}'::jsonb, '[]'::jsonb,
                   '{"residence_card": "post"}'::jsonb, 'tokyo', 'BA-' || i, 'BENCH-API-' || i,
                   %s::date - (i %% 700) * interval '1 day',
                   %s::timestamptz - (i %% 700) * interval '1 day', '',
                   %s::timestamptz - i * interval '1 hour', %s::timestamptz - i * interval '1 hour'
            FROM generate_series(1, %s) AS s(i)
            """,
            [user.pk, today, clock.now(), clock.now(), clock.now(), count],
        )
        cursor.execute("VACUUM ANALYZE applications_application")


# --- load generation (client processes: no Django, one keep-alive connection each) --------------


def _request(conn: http.client.HTTPConnection, method: str, path: str, headers: dict, body: bytes | None):
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def _repeat_get(args) -> tuple[int, int, list[float]]:
    port, path, token, seconds = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    done = failed = 0
    latencies = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        begin = time.perf_counter()
        status = _request(conn, "GET", path, headers, None)
        latencies.append((time.perf_counter() - begin) * 1000)
        if status == 200:
            done += 1
        else:
            failed += 1
    conn.close()
    return done, failed, latencies


def _submit_all(args) -> tuple[int, list[str]]:
    port, token, ids = args
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    done, errors = 0, []
    for application_id in ids:
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept-Language": "en",
            "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        conn.request("POST", f"/api/v1/applications/{application_id}/submit", body=b"{}", headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            done += 1
        elif len(errors) < 3:
            errors.append(f"{response.status} {body[:300]!r}")
    conn.close()
    return done, errors


def run_clients(function, jobs: list) -> list:
    # fork: the children only speak HTTP (no database connection is open when they start)
    context = multiprocessing.get_context("fork")
    with context.Pool(len(jobs)) as pool:
        return pool.map(function, jobs)


def get(port: int, path: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Accept-Language": "en"} | ({"Authorization": f"Bearer {token}"} if token else {})
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def main() -> None:
    global PDF, PHOTO
    PDF, PHOTO = pdf_bytes(), jpeg_bytes()
    client = ci_client(None)
    empty_user = make_user("BENCHAPIEMPTY")
    filer = make_user("BENCHAPIFILER")
    lister = make_user("BENCHAPILISTER")
    tokens = {user.pk: token_for(user, client) for user in (empty_user, filer, lister)}

    began = time.perf_counter()
    drafts = [ready_draft(filer) for _ in range(SUBMISSIONS)]
    report("api_submit_drafts_prepare", time.perf_counter() - began, "s")
    began = time.perf_counter()
    insert_applications(lister, LIST_SIZE)
    report("api_list_10k_insert", time.perf_counter() - began, "s")
    connection.close()

    broker = redis_url()
    extra_env: dict[str, str] = {}
    queue = "zairyu-bench-api"
    if broker:
        broker = broker.rsplit("/", 1)[0] + "/12"
        extra_env |= {"ZAIRYU_CELERY_BROKER_URL": broker, "ZAIRYU_CELERY_QUEUE": queue}
    else:
        print("# bench_api: Redis absent: tasks run in the server process (slower submissions)", flush=True)
    data_dir = Path(settings.DATA_DIR)
    with ProductionServer(
        data_dir,
        DATABASE_URL,
        workers=SERVER_WORKERS,
        threads=SERVER_THREADS,
        extra_env=extra_env,
    ) as server:
        port = server.port
        document = json.loads(get(port, "/api/v1/openapi.json", "")[1])
        operations = {op.get("operationId") for item in document["paths"].values() for op in item.values()}
        print(
            f"# bench_api: gunicorn {SERVER_WORKERS} workers × {SERVER_THREADS} threads, "
            f"{CLIENTS} client processes, {CPUS} CPUs",
            flush=True,
        )
        missing = {"applications_list", "applications_submit"} - operations
        if missing:
            print(f"# bench_api: the API has no {sorted(missing)} yet: no figures", flush=True)
            return

        # 1. The smallest authenticated operation, measured before and after the submissions (the
        # mean of the two: other work on the machine moves both figures).
        trivial = "/api/v1/applications?page_size=1"
        status, body = get(port, trivial, tokens[empty_user.pk])
        assert status == 200, (status, body[:300])
        run_clients(_repeat_get, [(port, trivial, tokens[empty_user.pk], 2.0)] * CLIENTS)  # warm-up

        def measure_trivial() -> tuple[float, list[float]]:
            results = run_clients(
                _repeat_get, [(port, trivial, tokens[empty_user.pk], TRIVIAL_SECONDS)] * CLIENTS
            )
            failed = sum(r[1] for r in results)
            if failed:
                print(f"# bench_api: {failed} trivial requests failed", flush=True)
            return sum(r[0] for r in results) / TRIVIAL_SECONDS, [value for r in results for value in r[2]]

        trivial_before, latencies = measure_trivial()

        # 2. Submissions, all at once from the client processes, each draft once.
        chunks = [drafts[i::CLIENTS] for i in range(CLIENTS)]
        began = time.perf_counter()
        results = run_clients(_submit_all, [(port, tokens[filer.pk], chunk) for chunk in chunks])
        elapsed = time.perf_counter() - began
        submitted = sum(r[0] for r in results)
        errors = [e for r in results for e in r[1]]
        if errors:
            print(f"# bench_api: {len(drafts) - submitted} submissions failed, e.g. {errors[0]}", flush=True)
        submit_rps = submitted / elapsed

        trivial_after, more = measure_trivial()
        trivial_rps = (trivial_before + trivial_after) / 2
        report("api_trivial_rps", trivial_rps, "requests/s")
        report("api_trivial_p95", percentile(latencies + more, 0.95), "ms")
        report("api_submit_rps", submit_rps, "submissions/s")
        report("api_submit_count", submitted, "submissions")
        report("api_submit_ratio", submit_rps / trivial_rps if trivial_rps else 0, "ratio")
        print(
            f"# bench_api: trivial {trivial_before:.0f} then {trivial_after:.0f} requests/s; "
            f"{submitted} submissions in {elapsed:.1f} s",
            flush=True,
        )

        # 3. A user's list of 10,000 applications, random pages of 50.
        pages = LIST_SIZE // 50
        path = "/api/v1/applications?page={}&page_size=50"
        status, body = get(port, path.format(pages), tokens[lister.pk])
        assert status == 200 and json.loads(body)["meta"]["total"] == LIST_SIZE, (status, body[:300])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {tokens[lister.pk]}", "Accept-Language": "en"}
        for _ in range(20):  # warm-up
            _request(conn, "GET", path.format(random.randint(1, pages)), headers, None)
        latencies = []
        for _ in range(LIST_REQUESTS):
            begin = time.perf_counter()
            status = _request(conn, "GET", path.format(random.randint(1, pages)), headers, None)
            latencies.append((time.perf_counter() - begin) * 1000)
            assert status == 200, status
        conn.close()
        report("api_list_p50", percentile(latencies, 0.5), "ms")
        report("api_list_p95", percentile(latencies, 0.95), "ms")
    tracebacks = server.tracebacks()
    if tracebacks:
        print(f"# bench_api: the server logged {len(tracebacks)} traceback(s); the first:", flush=True)
        print("\n".join("# " + line for line in tracebacks[0].splitlines()[-12:]), flush=True)
    if broker:
        import redis

        store = redis.Redis.from_url(broker)
        for key in store.scan_iter(match=f"*{queue}*"):  # the queue and kombu's binding keys
            store.delete(key)
    report("api_bench_total", time.perf_counter() - started_at, "s")


if __name__ == "__main__":
    main()
