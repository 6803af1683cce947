"""Session lifetime and where the applicant side may be reached from."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from zairyu.core import clock
from zairyu.core.net import FOREIGN_NETWORK_MESSAGE, address_in, client_ip
from zairyu.core.problems import PROBLEM_MEDIA_TYPE, problem_document

# Paths outside the applicant side: staff pages, health checks, static files, language switch.
NOT_APPLICANT_SIDE = ("/staff/", "/admin/", "/healthz", "/static/", "/i18n/", "/jsi18n/")


class NetworkAllowListMiddleware:
    """F-01: the applicant side answers only to the configured networks (e.g. Japan's), when set."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_ip = client_ip(request)  # type: ignore[attr-defined]
        networks = settings.APPLICANT_NETWORKS
        if (
            networks
            and not request.path.startswith(NOT_APPLICANT_SIDE)
            and not address_in(
                request.client_ip,
                networks,  # type: ignore[attr-defined]
            )
        ):
            return _network_refused(request)
        return self.get_response(request)


def _network_refused(request: HttpRequest) -> HttpResponse:
    """F-01's network rule, in the rule's words: a page, or for software a problem document
    (``errors`` carries the rule's code, as the API's checks give it)."""
    if request.path.startswith("/api/"):
        body = problem_document(
            request,
            403,
            "forbidden",
            _("You may not do this."),
            FOREIGN_NETWORK_MESSAGE,
            errors=[{"code": "foreign_network", "detail": FOREIGN_NETWORK_MESSAGE}],
        )
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False), status=403, content_type=PROBLEM_MEDIA_TYPE
        )
        response["Content-Language"] = translation.get_language() or "ja"
        return response
    return render(request, "accounts/network_refused.html", {"message": FOREIGN_NETWORK_MESSAGE}, status=403)


class SessionTimeoutMiddleware:
    """Ends a session after ``SESSION_IDLE_SECONDS`` without a request and after
    ``SESSION_ABSOLUTE_SECONDS`` in all. Nothing typed is lost: drafts are saved as the user goes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            last = request.session.get("last_activity", now)
            started = request.session.get("signed_in_at", now)
            if (
                now - last > settings.SESSION_IDLE_SECONDS
                or now - started > settings.SESSION_ABSOLUTE_SECONDS
            ):
                staff = request.path.startswith("/staff/")
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after a period without activity. Sign in again to continue."),
                )
                target = reverse("staff:sign-in") if staff else reverse("accounts:sign-in")
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
            if now - last > 30:  # write the session at most every 30 seconds
                request.session["last_activity"] = now
        return self.get_response(request)
