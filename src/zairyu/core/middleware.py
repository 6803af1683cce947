"""Headers every response carries; no cache keeps what is meant for one person; a dependency
that does not answer is a 503, not a bare 500."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from zairyu.core.audit import audit_via_isolated

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' http://127.0.0.1:* http://localhost:*",  # the local card bridge (JPKI)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class RequestContextMiddleware:
    """Scopes the per-request context variables (e.g. the API client named in audit records) to the
    request, so nothing set while handling one request leaks into the next on this thread."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_via_isolated():
            return self.get_response(request)


PRIVATE_CACHE_CONTROL = "private, no-store"


def is_private(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the answer may carry personal data: anything but a GET or HEAD, a request with
    credentials (a bearer token, HTTP authentication), a request or answer with a session (a
    signed-in user, or a registration under way), a signed-in user however authenticated."""
    if request.method not in ("GET", "HEAD"):
        return True
    if "HTTP_AUTHORIZATION" in request.META:
        return True
    session_cookie = settings.SESSION_COOKIE_NAME
    if session_cookie in request.COOKIES or session_cookie in response.cookies:
        return True
    user = getattr(request, "user", None)  # without a session cookie: anonymous, no query
    return bool(user is not None and user.is_authenticated)


class PrivateNoStoreMiddleware:
    """``Cache-Control: private, no-store`` and ``Pragma: no-cache`` on every answer that may carry
    personal data (``is_private``), so neither a shared cache nor the browser's keeps it (the back
    button of a shared computer, a proxy). Public pages and the API's catalogue keep their own
    caching; static files are answered by WhiteNoise before this.

    It stands before the session middleware, so that it sees the session cookie that one sets, and
    reads the user on the way out (the authentication middleware has run by then)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request, response):
            if "no-store" not in response.get("Cache-Control", ""):
                response["Cache-Control"] = PRIVATE_CACHE_CONTROL
            response["Pragma"] = "no-cache"
        return response


class ServiceUnavailableMiddleware:
    """Redis, the task broker or the database not answering: the 503 of ``zairyu.core.outage``
    (a page in the user's language, or a problem for the API) with ``Retry-After``.

    ``process_exception`` answers for the views; an outage inside a middleware further in (the
    session saved on the way out, the user read from the session) reaches this one as the 500
    Django made of it, noted by ``outage``'s signal receiver, and is replaced here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from zairyu.core import outage  # connects the signal receiver

        self.outage = outage
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        exc = self.outage.noted_outage(request)
        if exc is not None and response.status_code == 500:
            return self.outage.outage_response(request, exc)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if self.outage.is_outage(exception):
            return self.outage.outage_response(request, exception)
        return None
