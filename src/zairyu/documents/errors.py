"""Errors of the documents domain. ``message`` is for the user (lazy, translatable); ``code`` is for
tests, the API and the audit trail."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise, lazy

from zairyu.core.errors import Refused


class DocumentError(Refused):
    """A refusal of the documents domain; ``detail`` is a finer reason within the code (e.g.
    "javascript" for ``active_content``), for the API and logs."""

    def __init__(self, code: str, message: str | Promise, *, detail: str | None = None) -> None:
        super().__init__(code, message, detail=detail)


class DocumentRejected(DocumentError):
    """An uploaded file was refused. The message says what is wrong and how to fix it."""


class DocumentUnavailable(DocumentError):
    """A stored document cannot be read: it was deleted, or its file is missing."""


def _interpolate(message: str | Promise, params: dict[str, Any]) -> str:
    return str(message) % params


lazy_format = lazy(_interpolate, str)
"""``lazy_format(_("… %(limit)s …"), {"limit": 10})``: interpolated in the language active when shown."""
