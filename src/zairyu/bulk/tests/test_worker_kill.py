"""Crash safety with a real worker: a Celery worker process running a 300-row import is killed
(SIGKILL, no chance to clean up) in the middle; the import is then resumed by the periodic job on a
new worker and finishes with every row exactly once — no duplicates, no half-written rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from zairyu.applications.models import Application
from zairyu.bulk import services
from zairyu.bulk.constants import ImportState
from zairyu.bulk.models import BulkImport, BulkRow
from zairyu.bulk.tests.conftest import make_file, student_of
from zairyu.celery import app as celery_app
from zairyu.notifications.tests.test_worker_integration import _database_url, _reset_celery_connections

REPO = Path(__file__).resolve().parents[4]
ROWS = 300


def _start_worker(queue: str, redis_url: str) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zairyu.bulk.tests.worker_settings",
        "ZAIRYU_ENV": "development",
        "ZAIRYU_SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ZAIRYU_DATA_DIR": tempfile.mkdtemp(prefix="zairyu-bulk-worker-"),
        "ZAIRYU_DATABASE_URL": _database_url(),
        "ZAIRYU_CELERY_BROKER_URL": redis_url,
        "ZAIRYU_CELERY_QUEUE": queue,
        "PYTHONPATH": str(REPO / "src"),
    }
    log = Path(tempfile.mkstemp(prefix="bulk-worker-", suffix=".log")[1])
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "zairyu", "worker", "--pool=solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO", "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h"],
        cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    return worker, log


def _wait(predicate, seconds: float, step: float = 0.01) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_mid_import_loses_and_duplicates_nothing(
    postgres_only, redis_url, settings, enrolment
):
    from zairyu.organizations.tests.factories import staff_member

    staff = staff_member(enrolment, email="office@school.example")
    school = enrolment.organization
    students = [student_of(school) for _ in range(ROWS)]
    content = make_file(students, errors=10)

    queue = f"zairyu-bulk-kill-{uuid.uuid4().hex[:10]}"
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url", "task_default_queue")}
    _reset_celery_connections()
    celery_app.conf.update(task_always_eager=False, broker_url=redis_url, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    workers: list[subprocess.Popen] = []
    try:
        first, log = _start_worker(queue, redis_url)
        workers.append(first)
        with transaction.atomic():
            bulk_import = services.bulk_import_create(
                user=staff, procedure="P3", status="student", upload=SimpleUploadedFile("s.csv", content)
            )

        def done() -> int:
            return (
                BulkImport.objects.filter(pk=bulk_import.pk).values_list("rows_done", flat=True).first() or 0
            )

        assert _wait(lambda: done() >= 30, 90), log.read_text()[-3000:]
        first.send_signal(signal.SIGKILL)  # no cleanup, no lease released: as a lost machine
        first.wait(timeout=10)
        killed_at = done()
        assert 0 < killed_at < ROWS, f"killed after {killed_at} rows: not in the middle"

        # What the kill left: whole chunks only, each row's application with it.
        rows = BulkRow.objects.filter(bulk_import=bulk_import)
        assert rows.count() == killed_at == done()
        assert Application.objects.filter(filer=staff).count() == rows.exclude(application=None).count()
        assert BulkImport.objects.get(pk=bulk_import.pk).state == ImportState.RUNNING

        # The periodic job finds it stale (time passes: its heartbeat is old) and queues it again;
        # a new worker finishes it.
        second, log = _start_worker(queue, redis_url)
        workers.append(second)
        BulkImport.objects.filter(pk=bulk_import.pk).update(
            heartbeat_at=bulk_import.created_at.replace(year=2000)
        )
        with transaction.atomic():
            assert services.bulk_imports_resume() == 1
        assert _wait(
            lambda: BulkImport.objects.get(pk=bulk_import.pk).state == ImportState.DONE, 120, step=0.2
        ), log.read_text()[-3000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
        _reset_celery_connections()
        celery_app.conf.update(saved)

    bulk_import.refresh_from_db()
    assert bulk_import.rows_done == ROWS
    assert bulk_import.rows_draft + bulk_import.rows_error + bulk_import.rows_refused == ROWS
    numbers = list(BulkRow.objects.filter(bulk_import=bulk_import).values_list("row_number", flat=True))
    assert len(numbers) == len(set(numbers)) == ROWS  # every row once
    residents = list(Application.objects.filter(filer=staff).values_list("applicant_resident", flat=True))
    assert len(residents) == len(set(residents))  # no applicant twice
    assert len(residents) == bulk_import.rows_draft + bulk_import.rows_error
