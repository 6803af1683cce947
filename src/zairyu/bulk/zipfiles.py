"""Attachments for many applications at once: a ZIP whose file names say whose file each is.

Naming (docs/bulk.md): ``<key>_<kind>.<ext>``, where ``<key>`` is the applicant's residence card
number (``AB12345678CD``), the passport number for a certificate of eligibility, or ``row<N>``
(the row of the bulk file), and ``<kind>`` is ``photo`` (a JPEG), ``organization_part`` or a
document type of the checklist (``passport_copy``, ``enrolment_certificate`` …; a PDF). Folders
inside the ZIP are ignored.

The ZIP itself is inspected before anything is unpacked — number of entries, total uncompressed
size, compression ratio (of each large entry and of the whole), encrypted entries, links, paths
that climb out, nested archives — and refused whole if any is wrong. It is then scanned for
malware as a whole (ADR 0013; when it is within ``CLAMD_STREAM_MAX_BYTES``, else only its files
are) and refused whole if clamd finds anything. Each file is then read with a bound, must have
the size its entry declares, and goes through ``application_attach``: the same checks as a single
upload, its own malware scan included. A file that fails is reported with the reason; the others
are attached (a file held because the scanner was unreachable says so).
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zairyu.applications import services as applications
from zairyu.applications.checklist import document_types
from zairyu.applications.constants import DocumentRole
from zairyu.bulk.constants import limit
from zairyu.bulk.models import BulkImport
from zairyu.bulk.parsing import FileRefused
from zairyu.catalogue.validators import normalize_card_number
from zairyu.core.audit import audit_record
from zairyu.documents.checks import sanitize_filename
from zairyu.documents.constants import ScanState
from zairyu.documents.errors import DocumentRejected, lazy_format
from zairyu.documents.scanning import held_message, upload_scan

_NAME_RE = re.compile(r"(?P<key>[A-Za-z0-9]+)_(?P<kind>[a-z][a-z0-9_]*)\.(?P<ext>[A-Za-z]{3,4})")
_ARCHIVE_EXTENSIONS = (".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".lzh", ".cab")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"7z\xbc\xaf", b"Rar!", b"\x1f\x8b", b"BZh", b"\xfd7zXZ")
_LARGE = 1024 * 1024


@dataclass
class EntryResult:
    name: str
    ok: bool
    message: Any = ""
    row: int | None = None
    application: Any = None


def _refuse(code: str, message: Any) -> FileRefused:
    return FileRefused(code, message)


def inspect_zip(upload: Any) -> zipfile.ZipFile:
    """Open and check an uploaded ZIP; raise :class:`FileRefused` for anything but plain files
    within the limits."""
    size = getattr(upload, "size", None)
    cap = limit("ZIP_MAX_BYTES")
    if size is not None and size > cap:
        raise _refuse(
            "zip_too_large",
            lazy_format(
                _("The ZIP file is larger than %(limit)s MB. Split the files into several ZIP files."),
                {"limit": f"{cap / 1024 / 1024:.0f}"},
            ),
        )
    try:
        if hasattr(upload, "seek"):
            upload.seek(0)
        archive = zipfile.ZipFile(upload)
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _refuse(
            "zip_damaged", _("This is not a ZIP file, or it is damaged. Make the ZIP again.")
        ) from None
    if len(infos) > limit("ZIP_MAX_FILES"):
        raise _refuse(
            "zip_too_many",
            lazy_format(
                _("The ZIP file holds %(count)s entries; at most %(limit)s are read. Split it."),
                {"count": len(infos), "limit": limit("ZIP_MAX_FILES")},
            ),
        )
    total = 0
    for info in infos:
        name = info.filename
        parts = re.split(r"[/\\]", name)
        if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
            raise _refuse(
                "zip_path",
                _(
                    "The ZIP file holds a path that points outside it. Make the ZIP again from a plain folder."
                ),
            )
        if info.flag_bits & 0x1:
            raise _refuse(
                "zip_encrypted", _("The ZIP file is protected with a password. Make it again without one.")
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _refuse("zip_link", _("The ZIP file holds a link. Put the files themselves in it."))
        if info.is_dir():
            continue
        if name.lower().endswith(_ARCHIVE_EXTENSIONS):
            raise _refuse(
                "zip_nested",
                _("The ZIP file holds another archive. Put the photos and PDFs themselves in one ZIP file."),
            )
        total += info.file_size
        if info.file_size > _LARGE and info.file_size > limit("ZIP_MAX_RATIO") * max(info.compress_size, 1):
            raise _refuse(
                "zip_bomb",
                _("The ZIP file unpacks to far more than it holds, as no photo or PDF does. It was refused."),
            )
    compressed = sum(info.compress_size for info in infos if not info.is_dir())
    if total > _LARGE and total > limit("ZIP_MAX_RATIO") * max(compressed, 1):
        # Many small entries that each stay under the per-entry check can still add up to a bomb.
        raise _refuse(
            "zip_bomb",
            _("The ZIP file unpacks to far more than it holds, as no photo or PDF does. It was refused."),
        )
    cap = limit("ZIP_MAX_UNPACKED_BYTES")
    if total > cap:
        raise _refuse(
            "zip_too_large_unpacked",
            lazy_format(
                _(
                    "The files in the ZIP add up to %(size)s MB; at most %(limit)s MB can be read at once. Split it."
                ),
                {"size": f"{total / 1024 / 1024:.0f}", "limit": f"{cap / 1024 / 1024:.0f}"},
            ),
        )
    return archive


class _Named(io.BytesIO):
    """Bytes with the file name the user gave, as an upload has."""

    def __init__(self, data: bytes, name: str) -> None:
        super().__init__(data)
        self.name = name


def _scan_whole(upload: Any, *, user: Any, ip: str | None) -> None:
    """Scan the whole ZIP (clamd unpacks it) before any of its files is read."""
    size = getattr(upload, "size", None)
    if size is None or size > settings.CLAMD_STREAM_MAX_BYTES:
        return  # too large for one stream: each file is scanned on its own when attached
    name = sanitize_filename(getattr(upload, "name", None), default="attachments.zip")
    try:
        upload_scan(upload, name=name, subject="bulk_zip", actor=user, ip=ip)
    except DocumentRejected as rejected:
        raise _refuse(rejected.code, rejected.message) from None
    finally:
        upload.seek(0)


def _already_attached(application: Any, document_type: str, data: bytes) -> bool:
    """The same PDF attached before (the ZIP uploaded again): not attached twice."""
    digest = hashlib.sha256(data).hexdigest()
    return application.documents.filter(
        document_type=document_type, document__sha256=digest, document__deleted_at__isnull=True
    ).exists()


def bulk_attach_zip(
    *, bulk_import: BulkImport, user: Any, upload: Any, taken_within_6_months: bool, ip: str | None = None
) -> list[EntryResult]:
    """Attach each file of the ZIP to its row's application; a result per file."""
    archive = inspect_zip(upload)
    _scan_whole(upload, user=user, ip=ip)
    by_key = _rows_by_key(bulk_import)
    types = document_types()
    results: list[EntryResult] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = sanitize_filename(re.split(r"[/\\]", info.filename)[-1], default="file")
        if name.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue  # what a Mac adds to a ZIP
        results.append(
            _attach_entry(
                archive,
                info,
                name,
                by_key=by_key,
                types=types,
                user=user,
                taken_within_6_months=taken_within_6_months,
                ip=ip,
            )
        )
    audit_record(
        action="bulk.attachments",
        actor=user,
        target=bulk_import,
        ip=ip,
        details={"attached": sum(r.ok for r in results), "refused": sum(not r.ok for r in results)},
    )
    return results


def _rows_by_key(bulk_import: BulkImport) -> dict[str, Any]:
    """The import's rows with an application, by the keys a file name may start with: ``row<n>``,
    the card number, the passport number."""
    rows = list(bulk_import.rows.filter(application__isnull=False).select_related("application"))
    by_key: dict[str, Any] = {}
    for row in rows:
        by_key[f"row{row.row_number}"] = row
        kind, _sep, rest = row.natural_key.partition(":")
        if kind == "card":
            by_key[rest] = row
        elif kind == "passport":
            by_key[rest.split(":", 1)[0]] = row
    return by_key


def _attach_entry(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    name: str,
    *,
    by_key: dict[str, Any],
    types: Any,
    user: Any,
    taken_within_6_months: bool,
    ip: str | None,
) -> EntryResult:
    """One file of the ZIP: matched to its row by its name, read, and attached; or why not."""
    match = _NAME_RE.fullmatch(name)
    if match is None:
        return EntryResult(
            name,
            False,
            _(
                "The file name does not say whose file it is: name it <residence card number>_<kind>.<ext>, e.g. AB12345678CD_photo.jpg."
            ),
        )
    key, kind = match["key"], match["kind"]
    row = by_key.get(key.lower() if key.lower().startswith("row") else normalize_card_number(key))
    if row is None:
        row = by_key.get(key.upper())
    if row is None:
        return EntryResult(
            name,
            False,
            _("No row of this file with an application matches this name (card number or row number)."),
        )
    target = _entry_target(kind, types)
    if target is None:
        return EntryResult(
            name,
            False,
            lazy_format(
                _("“%(kind)s” is not a kind of document. Use photo, organization_part or one of: %(types)s."),
                {"kind": kind[:40], "types": ", ".join(types)},
            ),
            row=row.row_number,
        )
    role, document_type, max_bytes = target
    if role == DocumentRole.PHOTO and not taken_within_6_months:
        return EntryResult(
            name,
            False,
            _("Confirm that the photos were taken within the last 6 months (the box above the file)."),
            row=row.row_number,
        )
    data, problem = _entry_data(archive, info, max_bytes)
    if problem is not None:
        return EntryResult(name, False, problem, row=row.row_number)
    if role != DocumentRole.PHOTO and _already_attached(row.application, document_type, data):
        return EntryResult(
            name, True, _("Already attached."), row=row.row_number, application=row.application
        )
    return _attach(
        row,
        data,
        name,
        role=role,
        document_type=document_type,
        user=user,
        taken_within_6_months=taken_within_6_months,
        ip=ip,
    )


def _entry_target(kind: str, types: Any) -> tuple[str, str, int] | None:
    """The role, document type and size cap of a file of ``kind``; None for an unknown kind."""
    if kind == "photo":
        return DocumentRole.PHOTO, "face_photo", settings.PHOTO_MAX_BYTES
    if kind == "organization_part":
        return DocumentRole.ORGANIZATION_PART, "organization_part", settings.DOCUMENT_MAX_BYTES
    if kind in types:
        return DocumentRole.SUPPORTING, kind, settings.DOCUMENT_MAX_BYTES
    return None


def _entry_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> tuple[bytes, Any]:
    """The bytes of one entry, read with a bound, and what is wrong with them (None when nothing)."""
    try:
        with archive.open(info) as handle:
            data = handle.read(max_bytes + 1)  # the declared size is not trusted
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError):
        return b"", _("This file of the ZIP is damaged.")
    if len(data) <= max_bytes and len(data) != info.file_size:
        # the entry's header lies about its size: not a file we read as is
        return data, _("This file of the ZIP is damaged.")
    if data.startswith(b"PK\x03\x04") or any(data.startswith(m) for m in _ARCHIVE_MAGIC[1:]):
        return data, _("This file is an archive, not a photo or a PDF.")
    return data, None


def _attach(
    row: Any,
    data: bytes,
    name: str,
    *,
    role: str,
    document_type: str,
    user: Any,
    taken_within_6_months: bool,
    ip: str | None,
) -> EntryResult:
    """Attach the file as a single upload is (``application_attach``: its checks and scan)."""
    try:
        attached = applications.application_attach(
            application=row.application,
            user=user,
            upload=_Named(data, name),
            role=role,
            document_type=document_type,
            taken_within_6_months=taken_within_6_months,
            ip=ip,
        )
    except DocumentRejected as rejected:
        return EntryResult(name, False, rejected.message, row=row.row_number)
    except applications.ApplicationRefused as refusal:
        return EntryResult(name, False, refusal.problems[0].message, row=row.row_number)
    held = attached.document.scan_state == ScanState.PENDING
    return EntryResult(
        name,
        True,
        held_message(name) if held else "",
        row=row.row_number,
        application=row.application,
    )
