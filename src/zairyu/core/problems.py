"""The shape of an RFC 9457 problem document, for the API and for the answers core gives in its
place (the 503 of ``core.outage``). The API's codes, titles and items are in ``zairyu.api.problems``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_document(
    request: HttpRequest | None,
    status: int,
    code: str,
    title: Any,
    detail: Any = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``type`` (a fragment of ``/api/v1/docs/problems``), ``title``, ``status``, ``code``,
    ``errors``, then ``detail`` when there is one and ``instance`` (the path) for a request."""
    body: dict[str, Any] = {
        "type": f"/api/v1/docs/problems#{code}",
        "title": str(title),
        "status": status,
        "code": code,
        "errors": [{k: str(v) for k, v in item.items() if v is not None} for item in (errors or [])],
    }
    if detail:
        body["detail"] = str(detail)
    if request is not None:
        body["instance"] = request.path
    return body
