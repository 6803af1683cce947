"""Documents: storing checked uploads privately, soft-deleting them, and the size budget of an application.

Files live under ``MEDIA_ROOT/documents/<yyyy>/<mm>/<random>.<ext>`` (directories 0700, files
0600), written to a temporary file and linked into place, so a half-written file never carries a
final name. The database row is written after the file; if the row cannot be written the file is
removed again, and if the file cannot be written no row is made.

One gap remains by nature: if a *caller's* surrounding transaction rolls back after a store
succeeded, the file stays without a row. :func:`documents_purge_orphan_files` (run daily by
``zairyu.documents.tasks.documents_purge_orphans``) removes such files.

Who may see or delete a document is not decided here: callers check access first.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.documents.checks import check_pdf, check_photo, format_mb, sanitize_filename
from zairyu.documents.constants import CONTENT_TYPES, EXTENSIONS, PHOTO_DOCUMENT_TYPE, DocumentKind
from zairyu.documents.errors import DocumentRejected, DocumentUnavailable, lazy_format
from zairyu.documents.models import StoredDocument

if TYPE_CHECKING:
    from zairyu.accounts.models import User

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
DOCUMENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEMPORARY_PREFIX = ".upload-"


# --- storing ------------------------------------------------------------------------------------


@transaction.atomic
def document_store_pdf(
    *,
    upload: IO[bytes],
    owner: User | None,
    document_type: str,
    ip: str | None = None,
    existing: Iterable[StoredDocument] | None = None,
) -> StoredDocument:
    """Check an uploaded PDF (``DOCUMENT_MAX_BYTES``) and store it for ``owner``.

    ``existing``: the documents already attached to the same application, if the caller wants
    the ``APPLICATION_MAX_BYTES`` budget checked with the real size of this file.

    Raises :class:`DocumentRejected` (see :func:`zairyu.documents.checks.check_pdf`).
    """
    _check_document_type(document_type)
    info = check_pdf(upload, max_bytes=settings.DOCUMENT_MAX_BYTES)
    if existing is not None:
        check_total_size(existing=existing, adding=info.size)
    document = StoredDocument(
        id=_new_document_id(),
        owner=owner,
        kind=DocumentKind.PDF,
        document_type=document_type,
        original_name=_display_name(upload, DocumentKind.PDF),
        content_type=CONTENT_TYPES[DocumentKind.PDF],
        size=info.size,
        sha256=info.sha256,
        page_count=info.page_count,
    )
    return _document_write(document, data=info.data, ip=ip)


@transaction.atomic
def document_store_photo(
    *,
    upload: IO[bytes],
    owner: User | None,
    taken_within_6_months: bool,
    ip: str | None = None,
    document_type: str = PHOTO_DOCUMENT_TYPE,
    existing: Iterable[StoredDocument] | None = None,
) -> StoredDocument:
    """Check a face photo (``PHOTO_MAX_BYTES``) and store it re-encoded, without metadata.

    The uploader must confirm that the photo was taken within the last 6 months.
    """
    _check_document_type(document_type)
    if not taken_within_6_months:
        raise DocumentRejected(
            "photo_age_not_confirmed",
            _(
                "Confirm that the photo was taken within the last 6 months by ticking the box. If it "
                "is older, take a new photo and upload that one."
            ),
        )
    result = check_photo(upload, max_bytes=settings.PHOTO_MAX_BYTES)
    if existing is not None:
        check_total_size(existing=existing, adding=result.size)
    document = StoredDocument(
        id=_new_document_id(),
        owner=owner,
        kind=DocumentKind.PHOTO,
        document_type=document_type,
        original_name=_display_name(upload, DocumentKind.PHOTO),
        content_type=CONTENT_TYPES[DocumentKind.PHOTO],
        size=result.size,
        sha256=result.sha256,
        width=result.width,
        height=result.height,
        photo_taken_within_6_months=True,
    )
    return _document_write(document, data=result.jpeg_bytes, ip=ip)


def _document_write(document: StoredDocument, *, data: bytes, ip: str | None) -> StoredDocument:
    now = clock.now()
    document.created_at = now
    document.storage_name = f"{now:%Y}/{now:%m}/{uuid.uuid4().hex}{EXTENSIONS[DocumentKind(document.kind)]}"
    path = _write_private_file(document.storage_name, data)  # no file, no row
    try:
        with transaction.atomic():
            document.save(force_insert=True)
            audit_record(
                action="documents.stored",
                actor=document.owner,
                target=document,
                ip=ip,
                details={
                    "kind": document.kind,
                    "document_type": document.document_type,
                    "size": document.size,
                    "sha256": document.sha256,
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)  # no row, no file
        raise
    return document


def _new_document_id() -> uuid.UUID:
    return uuid.uuid4()


def _check_document_type(document_type: str) -> None:
    if not DOCUMENT_TYPE_PATTERN.match(document_type or ""):
        # A programming error, not the user's: callers pass codes from their own constants.
        raise ValueError(f"document_type must be a short lower-case code, not {document_type!r}")


def _display_name(upload: Any, kind: DocumentKind) -> str:
    extension = EXTENSIONS[kind]
    name = sanitize_filename(getattr(upload, "name", None), max_length=200 - len(extension))
    accepted = (".jpg", ".jpeg") if kind == DocumentKind.PHOTO else (extension,)
    if not name.lower().endswith(accepted):
        name += extension  # the suggested download name matches what is served
    return name


# --- files on disk ------------------------------------------------------------------------------


def documents_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "documents"


def document_path(document: StoredDocument) -> Path:
    """Where the file of ``document`` is (or was). The name is ours; it is still checked to stay inside."""
    root = documents_root().resolve()
    path = (root / document.storage_name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise DocumentUnavailable("missing", _missing_message())
    return path


def _make_private_directories(directory: Path) -> None:
    """Create ``directory`` and missing parents with mode 0700 (whatever the umask)."""
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # made by a concurrent upload
        os.chmod(path, DIRECTORY_MODE)


def _write_private_file(storage_name: str, data: bytes) -> Path:
    target = documents_root() / storage_name
    _make_private_directories(target.parent)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX, suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # A hard link is atomic and, unlike rename, never replaces an existing file.
        os.link(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    _fsync_directory(target.parent)
    return target


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a directory; the file itself is synced
    finally:
        os.close(descriptor)


def _missing_message() -> Any:
    return _(
        "This document's file cannot be found. Upload the document again, or contact the help desk "
        "if it was already submitted."
    )


def document_open(document: StoredDocument) -> IO[bytes]:
    """The stored bytes of ``document``, opened for reading. The caller closes it (FileResponse does)."""
    if document.deleted_at is not None:
        raise DocumentUnavailable(
            "deleted", _("This document was deleted. Upload it again if it is still needed.")
        )
    try:
        return document_path(document).open("rb")
    except FileNotFoundError:
        raise DocumentUnavailable("missing", _missing_message()) from None


# --- deleting -----------------------------------------------------------------------------------


@transaction.atomic
def document_delete(*, document: StoredDocument, actor: User | None, ip: str | None = None) -> StoredDocument:
    """Mark ``document`` deleted and remove its file once the transaction commits.

    The row stays so that references and the audit trail remain consistent. Deleting a document
    that is already deleted changes nothing.
    """
    locked = StoredDocument.objects.select_for_update().get(pk=document.pk)
    if locked.deleted_at is None:
        locked.deleted_at = clock.now()
        locked.save(update_fields=["deleted_at"])
        audit_record(
            action="documents.deleted",
            actor=actor,
            target=locked,
            ip=ip,
            details={"kind": locked.kind, "document_type": locked.document_type},
        )
        path = document_path(locked)
        # robust: a file that cannot be removed now is removed by documents_purge_orphan_files.
        transaction.on_commit(lambda: path.unlink(missing_ok=True), robust=True)
    document.deleted_at = locked.deleted_at
    return locked


def documents_purge_orphan_files(*, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Remove files that no live row refers to and that are older than ``older_than``.

    They come from uploads whose surrounding transaction rolled back, from interrupted writes
    (temporary ``.upload-*.part`` files) and from deletions whose file removal failed. The age
    limit keeps uploads in progress safe. Returns how many files were removed.
    """
    root = documents_root()
    if not root.exists():
        return 0
    cutoff = (clock.now() - older_than).timestamp()
    candidates: dict[str, Path] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            candidates[path.relative_to(root).as_posix()] = path
    names = list(candidates)
    live: set[str] = set()
    for start in range(0, len(names), 500):  # bounded IN lists
        live.update(
            StoredDocument.objects.filter(
                storage_name__in=names[start : start + 500], deleted_at__isnull=True
            ).values_list("storage_name", flat=True)
        )
    removed = 0
    for name, path in candidates.items():
        if name not in live:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        audit_record(action="documents.orphans_purged", details={"count": removed})
    return removed


# --- size budget of one application -------------------------------------------------------------


def documents_total_size(documents: Iterable[StoredDocument]) -> int:
    """The bytes of the documents that are not deleted."""
    if isinstance(documents, QuerySet):
        return documents.filter(deleted_at__isnull=True).aggregate(total=Sum("size"))["total"] or 0
    return sum(document.size for document in documents if document.deleted_at is None)


def check_total_size(*, existing: Iterable[StoredDocument], adding: int) -> None:
    """Refuse ``adding`` bytes more if all files of one application would exceed ``APPLICATION_MAX_BYTES``."""
    limit = settings.APPLICATION_MAX_BYTES
    current = documents_total_size(existing)
    if current + adding > limit:
        raise DocumentRejected(
            "total_too_large",
            lazy_format(
                _(
                    "All files of one application may together be at most %(limit)s MB. The files "
                    "already attached add up to %(current)s MB and this file is %(adding)s MB. Remove "
                    "files you no longer need, or make this file smaller (for example by scanning at "
                    "200 dpi or in black and white), then upload it again."
                ),
                {"limit": format_mb(limit), "current": format_mb(current), "adding": format_mb(adding)},
            ),
        )
