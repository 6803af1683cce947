"""The consent page: the OAuth 2.0 authorization endpoint (``/oauth/authorize/``).

A signed-in applicant-side user sees, in their language, which software of which vendor asks for
what, ticks the scopes they allow and chooses a period (1, 30 or 90 days). "Allow" records the
consent (``services.authorisation_grant``) and issues an authorization code for exactly the ticked
scopes, in one transaction; "Deny" sends the browser back with ``error=access_denied``.

Refused here, before any consent is asked: unknown, unapproved or suspended clients and
unregistered redirect URIs (an error page, never a redirect); requests without a PKCE ``S256``
challenge (sent back with ``error=invalid_request``); officers, who never authorise software.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import AuthorizationView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from zairyu.api import services
from zairyu.api.forms import ConsentForm, is_loopback
from zairyu.core.http import is_officer, request_ip
from zairyu.core.middleware import CONTENT_SECURITY_POLICY

# Signed in with ID and password only, a card holder (U1–U3) may follow up applications but not
# file new ones (accounts: ``follow_up_only``); the software cannot be given more than that.
FOLLOW_UP_ONLY_SCOPES = ("applications:read", "applications:submit")
HOST_RE = re.compile(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+")


def consent_csp(redirect_uri: str) -> str:
    """Our policy with the client's redirect origin added to ``form-action``: browsers check the
    redirect that follows the consent form's POST against it. Built from the parsed host and port
    only, so nothing else of the (client-chosen) URI reaches the header."""
    try:
        parts = urlsplit(redirect_uri)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return CONTENT_SECURITY_POLICY
    if parts.scheme not in ("http", "https") or not HOST_RE.fullmatch(host):
        return CONTENT_SECURITY_POLICY
    origin = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{f':{port}' if port else ''}"
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


def _error_message(oauthlib_error) -> str:
    if isinstance(oauthlib_error, (oauth_errors.InvalidClientIdError, oauth_errors.MissingClientIdError)):
        return _(
            "This software is not registered with us, or it is not approved (or no longer). "
            "Nothing was shared. Tell the software's vendor."
        )
    if isinstance(
        oauthlib_error,
        (
            oauth_errors.InvalidRedirectURIError,
            oauth_errors.MissingRedirectURIError,
            oauth_errors.MismatchingRedirectURIError,
        ),
    ):
        return _(
            "This software asked to send you back to an address it has not registered. Nothing was "
            "shared. Tell the software's vendor."
        )
    return _("The software's request is not valid. Nothing was shared. Tell the software's vendor.")


class _CodeNotIssued(Exception):
    """oauthlib answered the allowed request with an error redirect instead of a code: the consent
    just recorded is rolled back."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri


class ConsentView(AuthorizationView):
    template_name = "api/consent.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if is_officer(user) or user.is_staff:
            return render(request, "api/consent_officer.html", status=403)
        return super().dispatch(request, *args, **kwargs)

    # --- GET: the request is checked, then the page asks ---------------------------------------

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        application = get_application_model().objects.get(client_id=credentials["client_id"])
        if credentials.get("code_challenge_method") != "S256":
            return self._pkce_refused(credentials, application)
        requested = [scope for scope in settings.API_SCOPES if scope in scopes]
        grantable = self._grantable(requested)
        form = ConsentForm(
            initial={
                "client_id": credentials["client_id"],
                "redirect_uri": credentials["redirect_uri"],
                "response_type": credentials["response_type"],
                "state": credentials.get("state") or "",
                "code_challenge": credentials.get("code_challenge") or "",
                "code_challenge_method": credentials.get("code_challenge_method") or "",
                "requested": " ".join(requested),
                "scopes": [name for name, _label in grantable],
                "days": 30,
            },
            grantable=grantable,
        )
        return self._page(form, application, credentials["redirect_uri"], requested)

    # --- POST: allow or deny ------------------------------------------------------------------

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        data = request.POST
        application = (
            get_application_model().objects.filter(client_id=data.get("client_id", "")[:200]).first()
            if data.get("client_id")
            else None
        )
        redirect_uri = data.get("redirect_uri", "")
        if application is None or not application.redirect_uri_allowed(redirect_uri):
            return self._error_page(
                oauth_errors.InvalidClientIdError()
                if application is None
                else oauth_errors.MismatchingRedirectURIError()
            )
        credentials = {
            "client_id": application.client_id,
            "redirect_uri": redirect_uri,
            "response_type": data.get("response_type", ""),
            "state": data.get("state") or None,
            "code_challenge": data.get("code_challenge") or None,
            "code_challenge_method": data.get("code_challenge_method") or None,
        }
        if data.get("decision") != "allow":
            denied = oauth_errors.AccessDeniedError(state=credentials["state"])
            return self.error_response(
                OAuthToolkitError(error=denied, redirect_uri=redirect_uri), application
            )
        if credentials["code_challenge_method"] != "S256":
            return self._pkce_refused(credentials, application)
        client = getattr(application, "zairyu_client", None)
        if client is None or not client.usable:
            return self._error_page(oauth_errors.InvalidClientIdError())
        requested = [scope for scope in settings.API_SCOPES if scope in data.get("requested", "").split()]
        form = ConsentForm(data, grantable=self._grantable(requested))
        if not form.is_valid():
            return self._page(form, application, redirect_uri, requested, status=400)
        chosen = form.cleaned_data["scopes"]
        try:
            with transaction.atomic():
                services.authorisation_grant(
                    user=request.user,
                    client=client,
                    scopes=chosen,
                    days=form.cleaned_data["days"],
                    ip=request_ip(request),
                )
                uri, _headers, _body, _status = self.create_authorization_response(
                    request=request, scopes=" ".join(chosen), credentials=credentials, allow=True
                )
                if "code" not in parse_qs(urlsplit(uri or "").query):
                    raise _CodeNotIssued(uri)
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        except _CodeNotIssued as refused:
            return self.redirect(refused.uri, application)
        return self.redirect(uri, application)

    # --- helpers ------------------------------------------------------------------------------

    def _grantable(self, requested: list[str]) -> list[tuple[str, str]]:
        follow_up_only = bool(self.request.session.get("follow_up_only"))
        return [
            (scope, settings.API_SCOPES[scope])
            for scope in requested
            if not follow_up_only or scope in FOLLOW_UP_ONLY_SCOPES
        ]

    def _page(self, form, application, redirect_uri: str, requested: list[str], status: int = 200):
        grantable = {name for name, _label in form.fields["scopes"].choices}
        context = {
            "form": form,
            "client": application.zairyu_client,
            "redirect_host": urlsplit(redirect_uri).netloc,
            "not_grantable": [settings.API_SCOPES[name] for name in requested if name not in grantable],
            "follow_up_only": bool(self.request.session.get("follow_up_only")),
        }
        response = render(self.request, self.template_name, context, status=status)
        response["Content-Security-Policy"] = consent_csp(redirect_uri)
        response["Cache-Control"] = "no-store"
        return response

    def _pkce_refused(self, credentials: dict, application) -> HttpResponse:
        error = OAuthToolkitError(
            error=oauth_errors.InvalidRequestError(
                description='PKCE is required with code_challenge_method "S256".',
                state=credentials.get("state"),
            ),
            redirect_uri=credentials["redirect_uri"],
        )
        return self.error_response(error, application)

    def _error_page(self, oauthlib_error) -> HttpResponse:
        return render(
            self.request,
            "api/consent_error.html",
            {"message": _error_message(oauthlib_error)},
            status=400,
        )

    def error_response(self, error, application, **kwargs):
        """Errors about the client or its redirect URI are shown here (never a redirect to an
        unchecked address); the others go back to the client as ``?error=…``."""
        if isinstance(error, FatalClientError) or not getattr(error.oauthlib_error, "redirect_uri", None):
            return self._error_page(error.oauthlib_error)
        _redirect, response = OAuthLibMixin.error_response(self, error, **kwargs)
        return self.redirect(response["url"], application)

    def redirect(self, redirect_to, application):
        """As django-oauth-toolkit's, but http is allowed for the loopback address (RFC 8252)
        where only https is allowed otherwise (production)."""
        schemes = list(oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES)
        if "http" not in schemes and is_loopback(urlsplit(str(redirect_to)).hostname):
            schemes.append("http")
        return OAuth2ResponseRedirect(redirect_to, schemes)
