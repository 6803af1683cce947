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
import hashlib
import logging
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
from zairyu.documents.checks import (
    check_pdf,
    check_photo,
    format_mb,
    pdf_too_large_message,
    photo_too_large_message,
    read_bounded,
    sanitize_filename,
)
from zairyu.documents.constants import (
    CONTENT_TYPES,
    EXTENSIONS,
    PHOTO_DOCUMENT_TYPE,
    DocumentKind,
    ScanState,
)
from zairyu.documents.errors import DocumentRejected, DocumentUnavailable, lazy_format
from zairyu.documents.models import StoredDocument
from zairyu.documents.scanning import ScannerError, clamd_scan, refusal_audits_flush, upload_scan

if TYPE_CHECKING:
    from zairyu.accounts.models import User

logger = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600
DOCUMENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
TEMPORARY_PREFIX = ".upload-"


# --- storing ------------------------------------------------------------------------------------


def document_store_pdf(
    *,
    upload: IO[bytes],
    owner: User | None,
    document_type: str,
    ip: str | None = None,
    existing: Iterable[StoredDocument] | None = None,
    generated: bool = False,
) -> StoredDocument:
    """Check an uploaded PDF (``DOCUMENT_MAX_BYTES``) and store it for ``owner``.

    The bytes are read (bounded), scanned for malware (:func:`zairyu.documents.scanning.upload_scan`),
    checked, and stored; the scan comes first so that a known exploit never reaches the PDF parser.
    The returned document's ``scan_state`` is ``pending`` when it is held because the scanner was
    unreachable: the caller tells the user it is being checked.

    ``existing``: the documents already attached to the same application, if the caller wants
    the ``APPLICATION_MAX_BYTES`` budget checked with the real size of this file.
    ``generated``: a PDF this system made (an issued certificate), not an upload: not scanned.

    Raises :class:`DocumentRejected` (see :func:`zairyu.documents.checks.check_pdf`, and
    ``infected`` / ``scan_unavailable`` from the scan).
    """
    _check_document_type(document_type)
    max_bytes = settings.DOCUMENT_MAX_BYTES
    data = read_bounded(upload, max_bytes=max_bytes, too_large_message=pdf_too_large_message(max_bytes))
    name = _display_name(upload, DocumentKind.PDF)
    scan_state = (
        ScanState.NOT_SCANNED
        if generated
        else upload_scan(
            data,
            name=name,
            subject=document_type,
            actor=owner,
            ip=ip,
            details={"kind": DocumentKind.PDF, "sha256": hashlib.sha256(data).hexdigest()},
        )
    )
    info = check_pdf(data, max_bytes=max_bytes)
    if existing is not None:
        check_total_size(existing=existing, adding=info.size)
    document = StoredDocument(
        id=_new_document_id(),
        owner=owner,
        kind=DocumentKind.PDF,
        document_type=document_type,
        original_name=name,
        content_type=CONTENT_TYPES[DocumentKind.PDF],
        size=info.size,
        sha256=info.sha256,
        page_count=info.page_count,
    )
    return _document_write(document, data=info.data, ip=ip, scan_state=scan_state)


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

    The uploader must confirm that the photo was taken within the last 6 months. The uploaded
    bytes are scanned for malware before Pillow reads them (see :func:`document_store_pdf`).
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
    max_bytes = settings.PHOTO_MAX_BYTES
    data = read_bounded(upload, max_bytes=max_bytes, too_large_message=photo_too_large_message(max_bytes))
    name = _display_name(upload, DocumentKind.PHOTO)
    scan_state = upload_scan(
        data,
        name=name,
        subject=document_type,
        actor=owner,
        ip=ip,
        details={"kind": DocumentKind.PHOTO, "sha256": hashlib.sha256(data).hexdigest()},
    )
    result = check_photo(data, max_bytes=max_bytes)
    if existing is not None:
        check_total_size(existing=existing, adding=result.size)
    document = StoredDocument(
        id=_new_document_id(),
        owner=owner,
        kind=DocumentKind.PHOTO,
        document_type=document_type,
        original_name=name,
        content_type=CONTENT_TYPES[DocumentKind.PHOTO],
        size=result.size,
        sha256=result.sha256,
        width=result.width,
        height=result.height,
        photo_taken_within_6_months=True,
    )
    return _document_write(document, data=result.jpeg_bytes, ip=ip, scan_state=scan_state)


def _document_write(
    document: StoredDocument, *, data: bytes, ip: str | None, scan_state: str
) -> StoredDocument:
    now = clock.now()
    document.created_at = now
    document.scan_state = scan_state
    document.scanned_at = now if scan_state == ScanState.CLEAN else None
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
                    "scan": document.scan_state,
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
    if document.scan_state == ScanState.INFECTED:
        raise DocumentUnavailable(
            "infected",
            _(
                "This file was removed because a virus or other malware was found in it. Upload a "
                "clean copy of the document."
            ),
        )
    if document.deleted_at is not None:
        raise DocumentUnavailable(
            "deleted", _("This document was deleted. Upload it again if it is still needed.")
        )
    if document.scan_state == ScanState.PENDING:
        # Held: stored while the scanner was unreachable. Nobody opens it before it was scanned.
        raise DocumentUnavailable(
            "being_checked",
            _("This file is still being checked for viruses. Open it again in a few minutes."),
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


# --- held files: the rescan -----------------------------------------------------------------------

RESCAN_BATCH = 200


def documents_rescan_held(*, batch: int = RESCAN_BATCH) -> dict[str, int]:
    """Scan the files held while the scanner was unreachable (``scan_state`` pending), oldest first.

    Clean: accepted (``clean``). Infected: deleted, audited with the signature's name, and the
    uploader is e-mailed. Stops at the first file the scanner cannot answer for (still down): the
    rest wait for the next run. Safe to run twice: each file's state is checked under a row lock.
    """
    counts = {"clean": 0, "infected": 0, "still_held": 0, "missing": 0}
    if not settings.CLAMD:
        return counts
    held = list(
        StoredDocument.objects.filter(scan_state=ScanState.PENDING, deleted_at__isnull=True)
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for position, document_id in enumerate(held):
        document = StoredDocument.objects.get(pk=document_id)
        try:
            with document_path(document).open("rb") as handle:
                verdict = clamd_scan(handle)
        except (FileNotFoundError, DocumentUnavailable):
            counts["missing"] += 1  # removed meanwhile; documents_purge_orphan_files tidies up
            continue
        except ScannerError as exc:
            logger.warning("rescan of held files stopped: %s", exc)
            counts["still_held"] += len(held) - position
            break
        state = document_scan_record(document_id=document_id, signature=verdict.signature)
        if state in counts:
            counts[state] += 1
    refusal_audits_flush()
    return counts


@transaction.atomic
def document_scan_record(*, document_id: uuid.UUID, signature: str) -> str:
    """Record the rescan of a held document: ``signature`` empty = clean. Returns the new state
    (or the state it already had, if another run recorded it first)."""
    document = StoredDocument.objects.select_for_update().get(pk=document_id)
    if document.scan_state != ScanState.PENDING or document.deleted_at is not None:
        return document.scan_state
    now = clock.now()
    document.scanned_at = now
    if not signature:
        document.scan_state = ScanState.CLEAN
        document.save(update_fields=["scan_state", "scanned_at"])
        audit_record(action="documents.scanned", target=document, details={"scan": ScanState.CLEAN})
        return ScanState.CLEAN
    document.scan_state = ScanState.INFECTED
    document.scan_signature = signature[:200]
    document.deleted_at = now
    document.save(update_fields=["scan_state", "scanned_at", "scan_signature", "deleted_at"])
    audit_record(
        action="documents.malware_found",
        target=document,
        details={
            "signature": document.scan_signature,
            "kind": document.kind,
            "document_type": document.document_type,
            "sha256": document.sha256,
        },
    )
    logger.warning("held document %s removed: malware %s found", document.pk, document.scan_signature)
    path = document_path(document)
    transaction.on_commit(lambda: path.unlink(missing_ok=True), robust=True)
    owner = document.owner
    if owner is not None and owner.email:
        from zairyu.notifications.services import email_queue

        email_queue(
            kind="documents_malware_removed",
            to=owner.email,
            language=getattr(owner, "language", "ja") or "ja",
            context={"file_name": document.original_name, "uploaded_at": document.created_at},
            key=f"documents_malware_removed:{document.pk}",
        )
    return ScanState.INFECTED


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
