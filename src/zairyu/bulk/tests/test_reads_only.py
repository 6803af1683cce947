"""Looking at an import only reads it: a GET of its page, its progress or its API resource queues
no work, even when its run stopped (with in-process tasks a queued run would process the whole
import inside the request). The periodic job is what picks a stopped run up again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.api.tests.conftest import api_caller
from zairyu.bulk import services, tasks
from zairyu.bulk.constants import ImportState
from zairyu.bulk.models import BulkImport
from zairyu.bulk.tests.conftest import make_file, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def stalled(staff, students) -> BulkImport:
    """An import queued long ago whose task never ran (the worker was lost before it started)."""
    bulk_import = services.bulk_import_create(
        user=staff,
        procedure="P3",
        status="student",
        upload=SimpleUploadedFile("students.csv", make_file(students)),
    )  # the task is queued on commit, which this test's transaction never reaches
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        created_at=bulk_import.created_at - dt.timedelta(hours=1)
    )
    bulk_import.refresh_from_db()
    assert services.bulk_import_is_stale(bulk_import)
    return bulk_import


@pytest.fixture
def queued(monkeypatch) -> list[tuple]:
    """Every run of the import task queued, without running it."""
    calls: list[tuple] = []
    monkeypatch.setattr(tasks.bulk_import_process, "delay", lambda *a, **k: calls.append(("delay", a, k)))
    monkeypatch.setattr(
        tasks.bulk_import_process, "apply_async", lambda *a, **k: calls.append(("apply", a, k))
    )
    return calls


def _unchanged(bulk_import: BulkImport) -> None:
    before = (bulk_import.state, bulk_import.rows_done, bulk_import.attempts, bulk_import.heartbeat_at)
    bulk_import.refresh_from_db()
    assert (
        bulk_import.state,
        bulk_import.rows_done,
        bulk_import.attempts,
        bulk_import.heartbeat_at,
    ) == before
    assert bulk_import.state == ImportState.QUEUED


def test_the_pages_of_a_stalled_import_queue_nothing(
    staff, stalled, queued, django_capture_on_commit_callbacks
):
    client = signed_in(staff)
    base = f"/applications/bulk/{stalled.public_id}"
    with django_capture_on_commit_callbacks() as callbacks:
        page = client.get(f"{base}/")
        progress = client.get(f"{base}/progress.json")
    assert page.status_code == 200 and progress.status_code == 200
    assert progress.json()["state"] == "queued"
    assert queued == [] and callbacks == []
    _unchanged(stalled)


def test_the_api_resource_of_a_stalled_import_queues_nothing(
    staff, stalled, queued, django_capture_on_commit_callbacks
):
    api = api_caller(staff, scopes=["bulk"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.get(f"/api/v1/bulk/imports/{stalled.public_id}")
    assert response.status_code == 200 and response.json()["state"] == "queued"
    assert queued == [] and callbacks == []
    _unchanged(stalled)


def test_the_periodic_job_is_what_resumes_a_stalled_import(stalled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert services.bulk_imports_resume() == 1  # queued on commit, run here (in-process tasks)
    stalled.refresh_from_db()
    assert stalled.state == ImportState.DONE
