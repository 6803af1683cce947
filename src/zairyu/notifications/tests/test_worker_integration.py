"""The outbox through a real Celery worker on Redis, against PostgreSQL and a real SMTP server."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection, transaction

from zairyu.celery import app as celery_app
from zairyu.notifications.constants import EmailState
from zairyu.notifications.models import OutboundEmail
from zairyu.notifications.services import email_queue

REPO = Path(__file__).resolve().parents[4]
CONTEXT = {"title": "Worker test", "text": "Delivered by a real worker."}


class Boom(Exception):
    pass


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _reset_celery_connections() -> None:
    """Forget every pooled broker connection, so the app talks to the broker configured now."""
    celery_app.close()
    celery_app.amqp._producer_pool = None
    celery_app.__dict__.pop("control", None)  # a cached property holding its own mailbox


@pytest.fixture
def celery_worker(postgres_only, redis_url, smtp_server, settings):
    """A real ``celery worker`` process on its own queue, sharing the test database."""
    queue = f"zairyu-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "zairyu.config.settings",
        "ZAIRYU_ENV": "development",
        "ZAIRYU_SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ZAIRYU_DATA_DIR": tempfile.mkdtemp(prefix="zairyu-worker-"),
        "ZAIRYU_DATABASE_URL": _database_url(),
        "ZAIRYU_CELERY_BROKER_URL": redis_url,
        "ZAIRYU_CELERY_QUEUE": queue,
        "ZAIRYU_SMTP_HOST": "127.0.0.1",
        "ZAIRYU_SMTP_PORT": str(smtp_server.port),
        "ZAIRYU_SMTP_SECURITY": "none",
        "ZAIRYU_OUTBOX_RETRY_BASE_SECONDS": "1",
        "PYTHONPATH": str(REPO / "src"),
    }
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zairyu",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "INFO",
            "-n",
            f"{queue}@%h",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    saved = {k: celery_app.conf[k] for k in ("task_always_eager", "broker_url", "task_default_queue")}
    _reset_celery_connections()
    celery_app.conf.update(task_always_eager=False, broker_url=redis_url, task_default_queue=queue)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    try:
        deadline = time.monotonic() + 60
        while not celery_app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + Path(log.name).read_text()[-3000:])
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        _reset_celery_connections()
        celery_app.conf.update(saved)


def _wait_for(predicate, *, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_committed_email_once_after_a_failed_attempt(celery_worker, smtp_server):
    smtp_server.fail_first = 1

    with pytest.raises(Boom), transaction.atomic():
        email_queue(kind="announcement", to="rolled-back@example.com", context=CONTEXT)
        raise Boom
    with transaction.atomic():
        email = email_queue(kind="announcement", to="committed@example.com", context=CONTEXT)

    assert _wait_for(lambda: OutboundEmail.objects.get(pk=email.pk).state == EmailState.SENT), (
        f"not sent: {OutboundEmail.objects.filter(pk=email.pk).values('state', 'attempts', 'last_error').first()}"
    )
    time.sleep(1.5)  # room for a wrongful second delivery to show up
    email.refresh_from_db()
    assert email.attempts == 2
    assert smtp_server.refused == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [["committed@example.com"]]
    assert not OutboundEmail.objects.filter(to="rolled-back@example.com").exists()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_healthz_reports_the_broker_and_the_live_worker(celery_worker, client):
    response = client.get("/healthz?deep=1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["vendor"] == "postgresql"
    assert body["checks"]["queue"]["mode"] == "broker" and body["checks"]["queue"]["workers"] >= 1
