"""Serving a stored document. There are no routes here: the applications and organizations views
decide who may see a document (with their access functions) and then call :func:`document_response`.

Headers, and why:

- ``Content-Type`` comes from the document's kind (``application/pdf`` or ``image/jpeg``), never
  from what the client sent when uploading; ``X-Content-Type-Options: nosniff`` stops the browser
  from guessing another type.
- ``Content-Security-Policy: sandbox; default-src 'none'; frame-ancestors 'none'``: should a file
  ever be rendered as something active, it runs in an opaque origin without scripts, cannot load
  anything, and cannot be framed by another page. Chromium's PDF viewer renders PDFs served this
  way, both opened directly and in a frame: checked with Debian's Chromium 156 (see
  ``tests/test_views.py::test_chromium_renders_an_inline_pdf_served_with_these_headers``); the old
  Chromium bug where ``sandbox`` blanked the viewer (crbug 413851) is fixed, so we need neither
  ``allow-scripts`` nor to drop the sandbox. Some Safari versions refuse to show certain PDFs in a
  sandbox; pages should therefore always offer the download (``inline=False``) next to the viewer.
- ``Content-Disposition`` with an ASCII fallback ``filename`` and, for other names, an RFC 5987
  ``filename*`` (RFC 6266), both built from the sanitised display name.
- ``Cache-Control: private, no-store``: personal documents are kept in no cache, shared or local.
- ``Cross-Origin-Resource-Policy: same-origin``: other sites cannot embed the bytes.
- ``Referrer-Policy: no-referrer``: links inside a PDF do not reveal the document's address.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.http import FileResponse, HttpRequest, HttpResponse

from zairyu.documents.checks import sanitize_filename
from zairyu.documents.constants import CONTENT_TYPES, EXTENSIONS, DocumentKind
from zairyu.documents.errors import DocumentUnavailable
from zairyu.documents.models import StoredDocument
from zairyu.documents.services import document_open

DOCUMENT_CONTENT_SECURITY_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
SCAN_STATUS = {"being_checked": 409, "infected": 410}  # DocumentUnavailable codes of the virus check
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._() -]+")


def document_response(
    request: HttpRequest, document: StoredDocument, *, inline: bool
) -> FileResponse | HttpResponse:
    """The file of ``document`` as a response with safe headers; the caller has checked access.

    A file held for the virus check answers 409, one removed as infected 410, each with a plain
    message (ADR 0013). Raises :class:`zairyu.documents.errors.DocumentUnavailable` if it was
    deleted or its file is gone.
    """
    kind = DocumentKind(document.kind)
    try:
        handle = document_open(document)
    except DocumentUnavailable as unavailable:
        if unavailable.code not in SCAN_STATUS:
            raise
        refusal = HttpResponse(
            str(unavailable.message),
            status=SCAN_STATUS[unavailable.code],
            content_type="text/plain; charset=utf-8",
        )
        refusal["X-Content-Type-Options"] = "nosniff"
        refusal["Cache-Control"] = "private, no-store"
        return refusal
    response = FileResponse(handle, content_type=CONTENT_TYPES[kind])
    name = sanitize_filename(document.original_name, default=f"document{EXTENSIONS[kind]}")
    response["Content-Disposition"] = content_disposition(name, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOCUMENT_CONTENT_SECURITY_POLICY
    response["Cache-Control"] = "private, no-store"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Referrer-Policy"] = "no-referrer"
    return response


def content_disposition(name: str, *, inline: bool) -> str:
    """``inline``/``attachment`` with an ASCII ``filename`` and, if needed, a UTF-8 ``filename*``."""
    disposition = "inline" if inline else "attachment"
    fallback = _ascii_filename(name)
    header = f'{disposition}; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def _ascii_filename(name: str) -> str:
    """An ASCII stand-in for old clients: accents dropped, other characters replaced."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = _ASCII_UNSAFE.sub("_", ascii_stem).strip(" ._")
    if not ascii_stem or not re.search(r"[A-Za-z0-9]", ascii_stem):
        ascii_stem = "document"
    ascii_extension = _ASCII_UNSAFE.sub("", extension)
    return f"{ascii_stem}.{ascii_extension}" if ascii_extension else ascii_stem
