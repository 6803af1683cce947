"""Storing, opening, deleting and the size budget: real files under a per-test MEDIA_ROOT."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
import time_machine
from django.db import IntegrityError

from zairyu.core.models import AuditEvent
from zairyu.documents import services
from zairyu.documents.constants import DocumentKind
from zairyu.documents.errors import DocumentRejected, DocumentUnavailable
from zairyu.documents.models import StoredDocument
from zairyu.documents.services import (
    check_total_size,
    document_delete,
    document_open,
    document_path,
    document_store_pdf,
    document_store_photo,
    documents_purge_orphan_files,
    documents_total_size,
)
from zairyu.documents.tests import factories as f

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def stored_files(root) -> list:
    return sorted(path for path in (root / "documents").rglob("*") if path.is_file())


@time_machine.travel(dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC), tick=False)  # 1 December in Japan
def test_a_pdf_is_stored_privately_under_a_random_name(owner, media_root):
    data = f.pdf_bytes(pages=2)
    document = document_store_pdf(
        upload=f.upload(data, "../在留カード\u202e.pdf"),
        owner=owner,
        document_type="passport_copy",
        ip="203.0.113.7",
    )

    document.refresh_from_db()
    assert document.kind == DocumentKind.PDF and document.content_type == "application/pdf"
    assert (document.page_count, document.size, document.owner) == (2, len(data), owner)
    assert document.original_name == "在留カード.pdf"
    assert document.storage_name.startswith("2026/12/") and document.storage_name.endswith(".pdf")
    assert "在留" not in document.storage_name

    path = media_root / "documents" / document.storage_name
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (media_root / "documents", path.parent.parent, path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stored_files(media_root) == [path]  # no temporary file left behind

    event = AuditEvent.objects.get(action="documents.stored")
    assert (event.actor, event.target_id, event.ip) == (owner, str(document.pk), "203.0.113.7")
    assert event.details["document_type"] == "passport_copy"
    assert "在留" not in str(event.details)
    assert str(document) == f"pdf document {document.pk}"


def test_a_refused_pdf_leaves_neither_row_nor_file(owner, media_root):
    with pytest.raises(DocumentRejected) as caught:
        document_store_pdf(upload=f.upload(f.pdf_with_launch_action()), owner=owner, document_type="mandate")
    assert caught.value.code == "active_content"
    assert not StoredDocument.objects.exists()
    assert not (media_root / "documents").exists()


def test_the_pdf_limit_comes_from_settings(owner, settings):
    settings.DOCUMENT_MAX_BYTES = 500
    with pytest.raises(DocumentRejected) as caught:
        document_store_pdf(upload=f.upload(f.pdf_bytes(pages=3)), owner=owner, document_type="mandate")
    assert caught.value.code == "too_large"


def test_a_failing_database_write_removes_the_file(owner, media_root, monkeypatch):
    first = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    monkeypatch.setattr(services, "_new_document_id", lambda: first.pk)  # the primary key is taken

    with pytest.raises(IntegrityError):
        document_store_pdf(upload=f.upload(f.pdf_bytes(pages=2)), owner=owner, document_type="mandate")

    assert StoredDocument.objects.count() == 1
    assert stored_files(media_root) == [document_path(first)]
    assert AuditEvent.objects.filter(action="documents.stored").count() == 1


def test_a_failing_file_write_creates_no_row(owner, media_root, settings):
    blocker = media_root.parent / "not-a-directory"
    blocker.write_bytes(b"")
    settings.MEDIA_ROOT = blocker
    with pytest.raises(OSError):
        document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    assert not StoredDocument.objects.exists()


def test_document_types_are_codes_not_free_text(owner):
    with pytest.raises(ValueError, match="document_type"):
        document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="../Passport copy")


def test_a_photo_is_stored_re_encoded_without_metadata(owner, media_root):
    data = f.jpeg_bytes(300, 400, exif=f.revealing_exif())
    document = document_store_photo(
        upload=f.upload(data, "IMG_0001.JPG", "image/jpeg"), owner=owner, taken_within_6_months=True
    )
    document.refresh_from_db()
    assert (document.kind, document.document_type, document.content_type) == (
        "photo",
        "face_photo",
        "image/jpeg",
    )
    assert (document.width, document.height, document.photo_taken_within_6_months) == (300, 400, True)
    assert document.original_name == "IMG_0001.JPG"
    stored = (media_root / "documents" / document.storage_name).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff") and b"SECRETCAMERA" not in stored
    assert document.size == len(stored) and document.storage_name.endswith(".jpg")


def test_a_photo_needs_the_six_month_confirmation(owner, media_root):
    with pytest.raises(DocumentRejected) as caught:
        document_store_photo(
            upload=f.upload(f.jpeg_bytes(), "me.jpg"), owner=owner, taken_within_6_months=False
        )
    assert caught.value.code == "photo_age_not_confirmed"
    assert "6 months" in str(caught.value.message)
    assert not StoredDocument.objects.exists()


def test_a_photo_row_cannot_exist_without_the_confirmation(owner):
    with pytest.raises(IntegrityError):
        StoredDocument.objects.create(
            kind=DocumentKind.PHOTO,
            document_type="face_photo",
            storage_name="x.jpg",
            content_type="image/jpeg",
            size=1,
            sha256="0" * 64,
            photo_taken_within_6_months=False,
        )


def test_a_photo_gets_a_jpg_name_whatever_it_was_called(owner):
    document = document_store_photo(
        upload=f.upload(f.jpeg_bytes(), "photo.png"), owner=owner, taken_within_6_months=True
    )
    assert document.original_name == "photo.png.jpg"


def test_document_open_reads_the_stored_bytes(owner):
    data = f.pdf_bytes()
    document = document_store_pdf(upload=f.upload(data), owner=owner, document_type="mandate")
    with document_open(document) as handle:
        assert handle.read() == data


def test_a_missing_file_is_reported_not_crashed_on(owner):
    document = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    document_path(document).unlink()
    with pytest.raises(DocumentUnavailable) as caught:
        document_open(document)
    assert caught.value.code == "missing"


def test_a_storage_name_cannot_point_outside_the_documents_directory(owner):
    document = StoredDocument(kind=DocumentKind.PDF, storage_name="../../etc/passwd")
    with pytest.raises(DocumentUnavailable):
        document_open(document)


def test_soft_delete_keeps_the_row_and_removes_the_file_after_commit(
    owner, django_capture_on_commit_callbacks
):
    document = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    path = document_path(document)

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, actor=owner, ip="203.0.113.7")

    assert not path.exists()
    document.refresh_from_db()
    assert document.is_deleted
    assert AuditEvent.objects.filter(action="documents.deleted", target_id=str(document.pk)).count() == 1
    with pytest.raises(DocumentUnavailable) as caught:
        document_open(document)
    assert caught.value.code == "deleted"

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, actor=owner)  # again: nothing changes
    assert AuditEvent.objects.filter(action="documents.deleted").count() == 1


def test_the_file_stays_if_the_deleting_transaction_rolls_back(owner, django_capture_on_commit_callbacks):
    document = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_delete(document=document, actor=owner)
    assert len(callbacks) == 1
    assert document_path(document).exists()  # removed only once the deletion is committed


def test_orphan_files_are_purged_but_live_ones_and_recent_ones_kept(
    owner, media_root, django_capture_on_commit_callbacks
):
    live = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    deleted = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    with django_capture_on_commit_callbacks(execute=False):
        document_delete(document=deleted, actor=owner)  # its file removal never ran
    directory = document_path(live).parent
    orphan = directory / "0123456789abcdef.pdf"
    orphan.write_bytes(b"%PDF-")
    leftover = directory / ".upload-abc.part"
    leftover.write_bytes(b"%PDF-")
    fresh_orphan = directory / "fedcba9876543210.pdf"
    fresh_orphan.write_bytes(b"%PDF-")
    two_days_ago = (services.clock.now() - dt.timedelta(days=2)).timestamp()
    for path in (document_path(live), document_path(deleted), orphan, leftover):
        os.utime(path, (two_days_ago, two_days_ago))

    assert documents_purge_orphan_files() == 3

    assert stored_files(media_root) == sorted([document_path(live), fresh_orphan])


def test_total_size_counts_documents_that_are_not_deleted(owner, django_capture_on_commit_callbacks):
    first = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    second = document_store_pdf(upload=f.upload(f.pdf_bytes(pages=2)), owner=owner, document_type="mandate")
    assert documents_total_size([first, second]) == first.size + second.size
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=second, actor=owner)
    assert documents_total_size([first, second]) == first.size
    assert documents_total_size(StoredDocument.objects.all()) == first.size
    assert documents_total_size(StoredDocument.objects.none()) == 0


def test_the_application_budget_refuses_with_the_limit_and_the_current_total(settings):
    settings.APPLICATION_MAX_BYTES = 25 * MB
    existing = [StoredDocument(size=10 * MB), StoredDocument(size=int(9.5 * MB))]
    check_total_size(existing=existing, adding=5 * MB + MB // 2)  # exactly 25 MB: fine

    with pytest.raises(DocumentRejected) as caught:
        check_total_size(existing=existing, adding=6 * MB)
    error = caught.value
    assert error.code == "total_too_large"
    assert "25 MB" in str(error.message) and "19.5 MB" in str(error.message) and "6 MB" in str(error.message)


def test_storing_can_check_the_budget_with_the_real_size(owner, settings):
    first = document_store_pdf(upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate")
    settings.APPLICATION_MAX_BYTES = first.size + 100
    with pytest.raises(DocumentRejected) as caught:
        document_store_pdf(
            upload=f.upload(f.pdf_bytes()), owner=owner, document_type="mandate", existing=[first]
        )
    assert caught.value.code == "total_too_large"
    assert StoredDocument.objects.count() == 1
