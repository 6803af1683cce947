"""The clamd client and the upload policy (ADR 0013): a real clamd with CI's EICAR signature
(``scripts/clamd_ci.sh``); "unreachable" is a closed port, a real refusal to connect."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from conftest import free_port, skip_or_fail
from zairyu.core.models import AuditEvent
from zairyu.documents import services
from zairyu.documents.constants import ScanState
from zairyu.documents.errors import DocumentRejected, DocumentUnavailable
from zairyu.documents.models import StoredDocument
from zairyu.documents.scanning import (
    ScannerError,
    clamd_ping,
    clamd_scan,
    parse_clamd_address,
    refusal_audits_discard,
    refusal_audits_flush,
    scanner_status_line,
)
from zairyu.documents.system_checks import check_scanner_in_production, check_scanner_settings
from zairyu.documents.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_leftover_refusal_audits():
    refusal_audits_discard()  # what an earlier test left outside a request
    yield
    refusal_audits_discard()


def closed_port_address() -> str:
    return f"tcp://127.0.0.1:{free_port()}"  # bound and closed: nothing listens there


def stored_files(media_root: Path) -> list[Path]:
    root = media_root / "documents"
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# --- the client ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("unix:///run/clamav/clamd.ctl", "unix:///run/clamav/clamd.ctl"),
        ("tcp://127.0.0.1:3310", "tcp://127.0.0.1:3310"),
        ("tcp://clamd.internal", "tcp://clamd.internal:3310"),
    ],
)
def test_clamd_addresses_are_unix_sockets_or_tcp(value, expected):
    assert str(parse_clamd_address(value)) == expected


@pytest.mark.parametrize(
    "value", ["127.0.0.1:3310", "http://127.0.0.1:3310", "unix://relative/path", "tcp://"]
)
def test_other_addresses_are_refused(value):
    with pytest.raises(ValueError):
        parse_clamd_address(value)


def test_clamd_finds_eicar_and_passes_a_clean_file_over_tcp(clamd):
    assert clamd_ping(clamd)
    found = clamd_scan(f.EICAR, address=clamd)
    assert found.infected and "EICAR" in found.signature.upper()
    assert not clamd_scan(f.pdf_bytes(), address=clamd).infected
    # A file streamed from disk in chunks (what the rescan sends), larger than one chunk.
    with tempfile.TemporaryFile() as handle:
        handle.write(b"\0" * 200_000 + f.EICAR)
        assert clamd_scan(handle, address=clamd).infected


def test_clamd_is_reached_over_its_unix_socket_too(clamd):
    directory = os.environ.get("ZAIRYU_CLAMD_DIR", os.path.join(tempfile.gettempdir(), "zairyu-clamd"))
    path = os.environ.get("ZAIRYU_TEST_CLAMD_SOCKET", os.path.join(directory, "clamd.sock"))
    if not os.path.exists(path):
        skip_or_fail(f"needs clamd's unix socket at {path} (scripts/clamd_ci.sh start)")
    assert clamd_scan(f.EICAR, address=f"unix://{path}").infected
    assert not clamd_scan(b"hello", address=f"unix://{path}").infected


def test_an_unreachable_or_silent_scanner_gives_no_verdict():
    with pytest.raises(ScannerError, match="cannot connect"):
        clamd_scan(b"data", address=closed_port_address())
    with pytest.raises(ScannerError, match="cannot connect"):
        clamd_scan(b"data", address="unix:///nonexistent/clamd.sock")
    assert not clamd_ping(closed_port_address())
    # A server that accepts and never answers: the timeout ends the wait.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        accepted: list[socket.socket] = []
        threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
        with pytest.raises(ScannerError, match="did not answer"):
            clamd_scan(b"data", address=f"tcp://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        for connection in accepted:
            connection.close()


def test_more_than_the_stream_limit_is_never_sent():
    with pytest.raises(ScannerError, match="CLAMD_STREAM_MAX_BYTES"):
        clamd_scan(b"x" * 101, address=closed_port_address(), max_bytes=100)


# --- storing uploads ----------------------------------------------------------------------------


def test_an_infected_pdf_is_refused_audited_and_nothing_is_kept(clamd, owner, media_root):
    data = f.pdf_with_eicar()
    from zairyu.documents.checks import check_pdf

    assert check_pdf(data, max_bytes=10 * 1024 * 1024).page_count == 1  # a PDF that passes its checks

    with pytest.raises(DocumentRejected) as refused:
        services.document_store_pdf(
            upload=f.upload(data, "在留カード.pdf"),
            owner=owner,
            document_type="passport_copy",
            ip="192.0.2.1",
        )

    assert refused.value.code == "infected" and "EICAR" in refused.value.detail.upper()
    message = str(refused.value.message)
    assert (
        "“在留カード.pdf”" in message
        and "virus or other malware" in message
        and "Nothing was kept" in message
    )
    assert not StoredDocument.objects.exists() and stored_files(media_root) == []
    refusal_audits_flush()  # the test runs inside a transaction: the record waited for the request's end
    event = AuditEvent.objects.get(action="documents.malware_refused")
    assert event.actor == owner and event.ip == "192.0.2.1"
    assert "EICAR" in event.details["signature"].upper() and event.details["subject"] == "passport_copy"
    assert "在留カード" not in str(event.details)  # the file name is the user's, not the trail's


def test_an_infected_photo_is_refused_before_pillow_reads_it(clamd, owner, media_root):
    from zairyu.documents.checks import check_photo

    data = f.jpeg_with_eicar()
    assert check_photo(data, max_bytes=50 * 1024).width == 300  # would pass the photo checks
    with pytest.raises(DocumentRejected) as refused:
        services.document_store_photo(
            upload=f.upload(data, "me.jpg", "image/jpeg"), owner=owner, taken_within_6_months=True
        )
    assert refused.value.code == "infected" and "“me.jpg”" in str(refused.value.message)
    assert stored_files(media_root) == []


def test_a_clean_file_is_stored_as_checked(clamd, owner):
    document = f.stored_pdf(owner=owner)
    assert document.scan_state == ScanState.CLEAN and document.scanned_at is not None
    assert AuditEvent.objects.get(action="documents.stored").details["scan"] == "clean"


def test_without_a_scanner_files_are_accepted_unscanned(settings, owner):
    settings.CLAMD = ""
    document = f.stored_pdf(owner=owner)
    assert document.scan_state == ScanState.NOT_SCANNED
    services.document_open(document).close()  # usable: the documented no-scanner mode


def test_fail_closed_refuses_when_the_scanner_is_unreachable(settings, owner, media_root):
    settings.CLAMD, settings.SCAN_FAIL_CLOSED = closed_port_address(), True
    with pytest.raises(DocumentRejected) as refused:
        f.stored_pdf(owner=owner, name="contract.pdf")
    assert refused.value.code == "scan_unavailable"
    message = str(refused.value.message)
    assert (
        "“contract.pdf” could not be checked for viruses" in message
        and "Try again in a few minutes" in message
    )
    assert not StoredDocument.objects.exists() and stored_files(media_root) == []
    refusal_audits_flush()
    assert AuditEvent.objects.filter(action="documents.scan_unavailable").count() == 1


def test_fail_open_holds_the_file_until_the_rescan_accepts_it(settings, clamd, owner):
    settings.CLAMD = closed_port_address()
    held = f.stored_pdf(owner=owner)
    assert held.scan_state == ScanState.PENDING and held.is_held
    with pytest.raises(DocumentUnavailable) as unavailable:
        services.document_open(held)
    assert unavailable.value.code == "being_checked"

    assert services.documents_rescan_held() == {"clean": 0, "infected": 0, "still_held": 1, "missing": 0}
    settings.CLAMD = clamd  # the scanner is back
    assert services.documents_rescan_held()["clean"] == 1
    held.refresh_from_db()
    assert held.scan_state == ScanState.CLEAN and held.scanned_at is not None
    services.document_open(held).close()
    assert services.documents_rescan_held()["clean"] == 0  # nothing left: safe to run again


def test_the_rescan_deletes_a_held_infected_file_audits_it_and_tells_the_uploader(
    settings, clamd, owner, media_root, django_capture_on_commit_callbacks
):
    owner.email = "filer@example.com"
    owner.language = "en"
    owner.save()
    settings.CLAMD = closed_port_address()
    held = services.document_store_pdf(
        upload=f.upload(f.pdf_with_eicar(), "contract.pdf"), owner=owner, document_type="employment_contract"
    )
    assert held.scan_state == ScanState.PENDING and len(stored_files(media_root)) == 1

    settings.CLAMD = clamd
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.documents_rescan_held()

    assert counts["infected"] == 1
    held.refresh_from_db()
    assert held.scan_state == ScanState.INFECTED and held.deleted_at is not None
    assert "EICAR" in held.scan_signature.upper()
    assert stored_files(media_root) == []
    event = AuditEvent.objects.get(action="documents.malware_found")
    assert event.target_id == str(held.pk) and "EICAR" in event.details["signature"].upper()
    with pytest.raises(DocumentUnavailable) as unavailable:
        services.document_open(held)
    assert unavailable.value.code == "infected"
    [email] = mail.outbox
    assert email.to == ["filer@example.com"] and "contract.pdf" in email.body and "virus" in email.body


def test_the_rescan_task_is_scheduled(settings):
    from zairyu.documents.tasks import documents_rescan_held

    entries = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert entries[documents_rescan_held.name] <= 600


# --- configuration ------------------------------------------------------------------------------


def test_production_without_a_scanner_warns_in_check_deploy(settings):
    settings.PRODUCTION, settings.CLAMD = True, ""
    assert [m.id for m in check_scanner_in_production()] == ["zairyu.documents.W001"]
    settings.CLAMD = "tcp://127.0.0.1:3310"
    assert check_scanner_in_production() == []
    settings.CLAMD = "localhost:3310"
    assert [m.id for m in check_scanner_settings()] == ["zairyu.documents.E001"]
    settings.CLAMD, settings.CLAMD_STREAM_MAX_BYTES = "tcp://127.0.0.1:3310", 1024 * 1024
    assert {m.id for m in check_scanner_settings()} == {"zairyu.documents.W002"}


def test_serve_says_in_one_line_whether_uploads_are_scanned(settings, monkeypatch, capsys):
    settings.CLAMD = ""
    line = scanner_status_line()
    assert "\n" not in line and "off" in line and "unscanned" in line
    settings.CLAMD, settings.SCAN_FAIL_CLOSED = closed_port_address(), True
    assert "NOT reachable" in scanner_status_line() and "refused" in scanner_status_line()
    # `manage.py serve` prints it before starting the server (runserver itself is not started here).
    import zairyu.site.management.commands.serve as serve

    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: None)
    monkeypatch.setattr(serve, "start_in_process_scheduler", lambda: None)
    settings.CLAMD = ""
    call_command("serve", "--noreload")
    assert "Virus scanning: off" in capsys.readouterr().out
