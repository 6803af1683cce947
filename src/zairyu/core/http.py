"""What every view asks of a request: where it comes from, which language to answer in, and
whether the signed-in user may use the applicant side or the officers' side.

The one place for each: views, the API and the middleware use these and nothing of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation

from zairyu.core.net import client_ip

LANGUAGES = ("ja", "en")  # what the site speaks; Japanese unless English is asked for


def request_ip(request: HttpRequest) -> str:
    """The client's address ("" when unknown): the one ``NetworkAllowListMiddleware`` worked out
    for the request (``core.net.client_ip``: ``X-Forwarded-For`` believed only from a trusted
    proxy), or worked out here when that middleware has not run."""
    address = getattr(request, "client_ip", None)
    return address if address is not None else client_ip(request)


def supported_language(code: str | None) -> str:
    """``"en"`` for any English language code, ``"ja"`` for anything else (or nothing)."""
    return "en" if (code or "ja").startswith("en") else "ja"


def request_language(request: HttpRequest | None = None) -> str:
    """The language to answer in, ``"ja"`` or ``"en"``: the active one (what ``LocaleMiddleware``
    picked for the request). A request that middleware has not seen yet (a middleware before it)
    answers in the language it asks for."""
    if request is not None and not hasattr(request, "LANGUAGE_CODE"):
        return supported_language(translation.get_language_from_request(request))
    return supported_language(translation.get_language())


def is_officer(user: Any) -> bool:
    """A signed-in officer (a user of the officers' side)."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "kind", None) == "officer")


View = Callable[..., HttpResponse]
# The view's name and docstring, not its attributes: an attribute such as ``csrf_exempt`` on the
# inner view must not exempt the checked one.
_NAMES = ("__module__", "__name__", "__qualname__", "__doc__")


def applicant_required(view: View) -> View:
    """The applicant side: signed in (else to the sign-in page), and not an officer (an officer is
    sent to the officers' home)."""

    @login_required
    @wraps(view, assigned=_NAMES, updated=())
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_officer(request.user):
            return redirect("staff:home")
        return view(request, *args, **kwargs)

    return wrapped


def officer_required(view: View) -> View:
    """The officers' side: signed in on the officers' sign-in page, and an officer (anyone else is
    refused with 403)."""

    @login_required(login_url="staff:sign-in")
    @wraps(view, assigned=_NAMES, updated=())
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_officer(request.user):
            return render(request, "accounts/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped
