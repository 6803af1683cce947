"""Virus scanning of uploads with ClamAV's daemon, clamd (ADR 0013).

The protocol (clamd(8), "INSTREAM"): connect to clamd's unix socket or TCP port, send
``zINSTREAM\\0``, then the file as chunks ``<length: 4-byte unsigned, network order><bytes>`` and a
chunk of length 0. clamd answers one NUL-terminated line: ``stream: OK``, ``stream: <signature>
FOUND``, or ``… ERROR`` (``INSTREAM size limit exceeded`` when the file is larger than clamd's
``StreamMaxLength``; we never send more than ``CLAMD_STREAM_MAX_BYTES``, which must not exceed it).

Settings: ``CLAMD`` (``unix:///run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310``; empty = no
scanner, files are accepted unscanned), ``SCAN_FAIL_CLOSED`` (scanner unreachable: refuse the
upload, or hold the file until ``documents_rescan_held`` scans it), ``CLAMD_TIMEOUT`` and
``CLAMD_STREAM_MAX_BYTES``.

:func:`upload_scan` is the policy every upload path calls on the bytes it received, before any
other check parses them and before anything is stored. An infected file is refused and audited;
the audit record must outlive the refusal, which rolls back the caller's transaction, so inside a
transaction it is written when the request ends (:func:`refusal_audits_flush`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zairyu.core.audit import audit_record, audit_via, audit_via_current
from zairyu.documents.constants import ScanState
from zairyu.documents.errors import DocumentRejected, lazy_format

if TYPE_CHECKING:
    from zairyu.documents.models import StoredDocument

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
CONNECT_TIMEOUT = 3.0  # a clamd that is up accepts at once; waiting longer only delays the user
DEFAULT_TCP_PORT = 3310
_REPLY_MAX = 4096


# --- the clamd client ---------------------------------------------------------------------------


class ScannerError(Exception):
    """clamd gave no verdict: not reachable, too slow, or it answered with an error."""


@dataclass(frozen=True)
class ClamdAddress:
    family: str  # "unix" or "tcp"
    path: str = ""
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"unix://{self.path}" if self.family == "unix" else f"tcp://{self.host}:{self.port}"


def parse_clamd_address(value: str) -> ClamdAddress:
    """``unix:///path/to/clamd.ctl`` or ``tcp://host:port`` (port 3310 if left out)."""
    parsed = urlparse(value.strip())
    if parsed.scheme == "unix":
        path = unquote(parsed.netloc + parsed.path)
        if not path.startswith("/"):
            raise ValueError(
                f"a unix socket address needs an absolute path, e.g. unix:///run/clamav/clamd.ctl: {value!r}"
            )
        return ClamdAddress("unix", path=path)
    if parsed.scheme == "tcp":
        if not parsed.hostname:
            raise ValueError(f"a TCP address needs a host, e.g. tcp://127.0.0.1:3310: {value!r}")
        return ClamdAddress("tcp", host=parsed.hostname, port=parsed.port or DEFAULT_TCP_PORT)
    raise ValueError(f"the clamd address must start with unix:// or tcp://, not {value!r}")


@dataclass(frozen=True)
class Verdict:
    signature: str = ""  # empty: nothing found

    @property
    def infected(self) -> bool:
        return bool(self.signature)


def _connect(address: ClamdAddress, timeout: float) -> socket.socket:
    try:
        if address.family == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(min(CONNECT_TIMEOUT, timeout))
            try:
                sock.connect(address.path)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(
                (address.host, address.port), timeout=min(CONNECT_TIMEOUT, timeout)
            )
    except OSError as exc:
        raise ScannerError(f"cannot connect to clamd at {address}: {exc}") from exc
    sock.settimeout(timeout)
    return sock


def _reply(sock: socket.socket) -> str:
    data = bytearray()
    while b"\0" not in data and len(data) < _REPLY_MAX:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def _address(address: str | None) -> ClamdAddress:
    value = address if address is not None else settings.CLAMD
    if not value:
        raise ScannerError("no scanner is configured (ZAIRYU_CLAMD)")
    try:
        return parse_clamd_address(value)
    except ValueError as exc:
        raise ScannerError(str(exc)) from exc


def clamd_ping(address: str | None = None, *, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether clamd answers ``PING`` with ``PONG``."""
    try:
        with _connect(_address(address), timeout) as sock:
            sock.sendall(b"zPING\0")
            return _reply(sock) == "PONG"
    except (ScannerError, OSError):
        return False


def _chunks(data: bytes | IO[bytes]) -> Any:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_SIZE):
            yield view[start : start + CHUNK_SIZE]
        return
    if hasattr(data, "seek"):
        with contextlib.suppress(OSError, ValueError):
            data.seek(0)
    while chunk := data.read(CHUNK_SIZE):
        yield chunk


def clamd_scan(
    data: bytes | IO[bytes],
    *,
    address: str | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> Verdict:
    """Scan ``data`` (bytes or a readable file) with clamd's INSTREAM command.

    Raises :class:`ScannerError` when there is no verdict: clamd unreachable or too slow, an error
    answer, or more than ``max_bytes`` (``CLAMD_STREAM_MAX_BYTES``) to send — clamd would cut the
    stream off, and a file it did not read whole is not a clean file.
    """
    target = _address(address)
    timeout = float(timeout if timeout is not None else settings.CLAMD_TIMEOUT)
    limit = max_bytes if max_bytes is not None else settings.CLAMD_STREAM_MAX_BYTES
    if isinstance(data, bytes | bytearray | memoryview) and len(data) > limit:
        raise ScannerError(f"{len(data)} bytes is more than CLAMD_STREAM_MAX_BYTES ({limit})")
    sent = 0
    try:
        with _connect(target, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            try:
                for chunk in _chunks(data):
                    sent += len(chunk)
                    if sent > limit:
                        raise ScannerError(f"the file is more than CLAMD_STREAM_MAX_BYTES ({limit})")
                    sock.sendall(struct.pack("!L", len(chunk)) + bytes(chunk))
                sock.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stopped reading (its size limit): its answer says why
            answer = _reply(sock)
    except TimeoutError as exc:
        raise ScannerError(f"clamd at {target} did not answer within {timeout:.0f} s") from exc
    except OSError as exc:
        raise ScannerError(f"talking to clamd at {target} failed: {exc}") from exc
    return _verdict(answer)


def _verdict(answer: str) -> Verdict:
    # "stream: OK", "stream: Eicar-Test-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    _name, _sep, result = answer.partition(": ")
    if not _sep:
        result = answer
    if result == "OK":
        return Verdict()
    if result.endswith(" FOUND"):
        return Verdict(signature=result.removesuffix(" FOUND").strip()[:200] or "unknown")
    raise ScannerError(f"clamd answered {answer[:200]!r}")


def scanner_configured() -> bool:
    return bool(settings.CLAMD)


def scanner_status_line() -> str:
    """One line for ``manage.py serve``: whether uploads are scanned, and what happens without clamd."""
    if not scanner_configured():
        return (
            "Virus scanning: off (no scanner: ZAIRYU_CLAMD is unset) - uploads are accepted unscanned. "
            "See ADR 0013 and scripts/clamd_ci.sh."
        )
    try:
        address = str(parse_clamd_address(settings.CLAMD))
    except ValueError as exc:
        return f"Virus scanning: ZAIRYU_CLAMD is not valid ({exc})"
    state = "reachable" if clamd_ping() else "NOT reachable"
    policy = "refused" if settings.SCAN_FAIL_CLOSED else "held until a rescan"
    return f"Virus scanning: clamd at {address} ({state}); while it is unreachable, uploads are {policy}."


# --- the policy for uploads ---------------------------------------------------------------------


def infected_message(name: str) -> Promise:
    return lazy_format(
        _(
            "The file “%(name)s” was refused because a virus or other malware was found in it. Nothing "
            "was kept. Check your device with an up-to-date antivirus program and upload a clean copy "
            "of the document."
        ),
        {"name": name},
    )


def unavailable_message(name: str) -> Promise:
    return lazy_format(
        _(
            "The file “%(name)s” could not be checked for viruses just now, so it was not accepted and "
            "nothing was kept. Try again in a few minutes."
        ),
        {"name": name},
    )


def held_message(name: str) -> Promise:
    return lazy_format(
        _(
            "The file “%(name)s” was received and is being checked for viruses. It cannot be submitted "
            "until the check is done, usually within a few minutes."
        ),
        {"name": name},
    )


def upload_scan(
    data: bytes | IO[bytes],
    *,
    name: str,
    subject: str,
    actor: Any = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Scan the bytes of an upload before they are parsed or kept; return the :class:`ScanState`
    it may be stored with: ``clean``, ``not_scanned`` (no scanner configured) or ``pending`` (the
    scanner is unreachable and ``SCAN_FAIL_CLOSED`` is off: the caller holds the file).

    ``name`` is the file's display name (in the messages only); ``subject`` a code for the audit
    trail (a document type, ``bulk_file``, ``bulk_zip``). Raises :class:`DocumentRejected` with
    code ``infected`` (audited with the signature's name) or ``scan_unavailable`` (fail closed).
    ``data`` may be an open file (an uploaded ZIP): it is streamed to clamd in chunks.
    """
    if not scanner_configured():
        return ScanState.NOT_SCANNED
    size = len(data) if isinstance(data, bytes | bytearray | memoryview) else getattr(data, "size", None)
    try:
        verdict = clamd_scan(data)
    except ScannerError as exc:
        logger.warning("virus scan of an upload (%s) failed: %s", subject, exc)
        if settings.SCAN_FAIL_CLOSED:
            audit_refusal(
                action="documents.scan_unavailable",
                actor=actor,
                ip=ip,
                details={"subject": subject, "size": size, **(details or {})},
            )
            raise DocumentRejected("scan_unavailable", unavailable_message(name)) from None
        return ScanState.PENDING
    if verdict.infected:
        logger.warning("upload refused (%s): malware %s found", subject, verdict.signature)
        audit_refusal(
            action="documents.malware_refused",
            actor=actor,
            ip=ip,
            details={"subject": subject, "signature": verdict.signature, "size": size, **(details or {})},
        )
        raise DocumentRejected("infected", infected_message(name), detail=verdict.signature)
    return ScanState.CLEAN


# --- audit records that outlive the refusal ----------------------------------------------------

_deferred = threading.local()


def audit_refusal(**record: Any) -> None:
    """Audit a refused upload. A refusal raises, which rolls back the caller's transaction and
    everything written in it; so inside a transaction the record waits for the end of the request
    (``request_finished``, connected in ``DocumentsConfig.ready``)."""
    if not transaction.get_connection().in_atomic_block:
        audit_record(**record)
        return
    pending = getattr(_deferred, "records", None)
    if pending is None:
        pending = _deferred.records = []
    pending.append((record, audit_via_current()))


def refusal_audits_discard() -> None:
    """Forget the deferred records of this thread (tests: what a previous test left)."""
    _deferred.records = []


def refusal_audits_flush(**_signal: Any) -> int:
    """Write the refusals audited inside transactions of this thread; how many were written."""
    pending = getattr(_deferred, "records", None) or []
    _deferred.records = []
    for record, via in pending:
        try:
            with audit_via(**via) if via else contextlib.nullcontext():
                audit_record(**record)
        except Exception:  # the request is over; losing the record must not break the response
            logger.exception("audit record %s of a refused upload could not be written", record.get("action"))
    return len(pending)


# --- held and infected files --------------------------------------------------------------------


def documents_scan_problems(documents: Any) -> list[tuple[str, Promise, StoredDocument]]:
    """Why these documents cannot be submitted yet: held files still waiting for the virus check
    (``document_being_checked``), files removed because malware was found (``document_infected``)."""
    problems: list[tuple[str, Promise, StoredDocument]] = []
    for document in documents:
        name = document.original_name or str(document.pk)
        if document.scan_state == ScanState.PENDING and document.deleted_at is None:
            problems.append(
                (
                    "document_being_checked",
                    lazy_format(
                        _(
                            "The file “%(name)s” is still being checked for viruses. Submit again in a "
                            "few minutes."
                        ),
                        {"name": name},
                    ),
                    document,
                )
            )
        elif document.scan_state == ScanState.INFECTED:
            problems.append(
                (
                    "document_infected",
                    lazy_format(
                        _(
                            "The file “%(name)s” was removed because a virus or other malware was found "
                            "in it. Attach a clean copy of the document."
                        ),
                        {"name": name},
                    ),
                    document,
                )
            )
    return problems
