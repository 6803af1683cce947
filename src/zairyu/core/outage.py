"""A dependency that does not answer (Redis, the task broker, the database): a clear 503 page in
the user's language, or an RFC 9457 problem for the API — never a bare 500.

``ServiceUnavailableMiddleware`` answers for the views (``process_exception``) and for failures
inside other middleware (the session saved on the way out, the user read from the session): those
Django turns into a 500 before any outer middleware sees them, so ``got_request_exception`` notes
the outage on the request and the middleware replaces that 500. The API (django-ninja catches
everything its operations raise) registers ``outage_problem`` as its handler for these errors.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import OperationalError as DatabaseOperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from zairyu.core.http import request_language
from zairyu.core.problems import PROBLEM_MEDIA_TYPE, problem_document

logger = logging.getLogger("zairyu.outage")

OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,  # the cache, sessions, throttles
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,  # the task broker
    DatabaseOperationalError,  # the database unreachable (or refusing for the moment)
)
RETRY_AFTER_SECONDS = 120
PROBLEM_CODE = "unavailable"
_NOTED = "_zairyu_outage"

# What an answer must carry even when it did not pass the middleware that adds it (a 500 turned
# into a 503 on the way out).
_HEADERS = {
    "Retry-After": str(RETRY_AFTER_SECONDS),
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def log_outage(request: HttpRequest, exc: BaseException) -> None:
    """The error's kind and the operation, never the request's data (the message of a connection
    error names a host and a port; the logging filter masks anything personal regardless)."""
    match = getattr(request, "resolver_match", None)
    first_line = (str(exc).splitlines() or [""])[0][:200]
    logger.error(
        "Service unavailable: %s.%s (%s) on %s %s",
        type(exc).__module__,
        type(exc).__qualname__,
        first_line,
        request.method,
        (match.view_name if match else "") or "-",
        exc_info=exc if settings.DEBUG else None,
    )


def _is_api(request: HttpRequest) -> bool:
    path = request.path_info
    return path.startswith("/api/v1/") or (
        path.startswith("/oauth/") and not path.startswith("/oauth/authorize/")
    )


def outage_page(request: HttpRequest) -> HttpResponse:
    """The branded 503 page. Rendered without the request's context processors: the user, the
    messages and the session may be exactly what cannot be read now."""
    language = request_language(request)
    with translation.override(language):
        html = render_to_string("503.html")
    response = HttpResponse(html, status=503, content_type="text/html; charset=utf-8")
    response["Content-Language"] = language
    return _finish(response)


def outage_problem(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """The API's answer: an RFC 9457 problem (``core.problems``, the API's shape) with 503."""
    if exc is not None:
        log_outage(request, exc)
    language = request_language(request)
    with translation.override(language):
        body: dict[str, Any] = problem_document(
            request,
            503,
            PROBLEM_CODE,
            _("The service is briefly unavailable; try again in a few minutes."),
            _(
                "Nothing saved before this request is lost. Send the request again in a few minutes "
                "(with the same Idempotency-Key where the operation takes one)."
            ),
        )
        if request.path_info.startswith("/oauth/"):
            body["error"] = "temporarily_unavailable"  # what OAuth 2.0 clients read (RFC 6749)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=503, content_type=PROBLEM_MEDIA_TYPE)
    response["Content-Language"] = language
    return _finish(response)


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    log_outage(request, exc)
    return outage_problem(request) if _is_api(request) else outage_page(request)


def _finish(response: HttpResponse) -> HttpResponse:
    from zairyu.core.middleware import CONTENT_SECURITY_POLICY

    for name, value in _HEADERS.items():
        response[name] = value
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def noted_outage(request: HttpRequest) -> BaseException | None:
    return getattr(request, _NOTED, None)


def _note_outage(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Django sends this while it turns an exception into a 500: note an outage for the middleware."""
    exc = sys.exc_info()[1]
    if request is not None and is_outage(exc):
        setattr(request, _NOTED, exc)


got_request_exception.connect(_note_outage, dispatch_uid="zairyu.core.outage")
