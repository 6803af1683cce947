"""Who is calling: an OAuth 2.0 access token of an approved client, for a user who authorised it.

Every authenticated operation checks, in one query plus one for the authorisation: the token
exists and has not expired; its client is approved; its user is active; the user's authorisation
of the client is neither revoked nor expired; the token's scopes (within the authorisation's) cover
the operation's. Then the per-client and per-user rate limits. The user, client and scopes are put
on the request, and everything the services audit during the call names the client.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security.base import AuthBase

from zairyu.api.problems import ApiError
from zairyu.core import clock
from zairyu.core.audit import audit_via_request
from zairyu.core.http import request_ip
from zairyu.core.net import throttle_hit

AUTHORIZE_URL = "/oauth/authorize/"
TOKEN_URL = "/oauth/token/"  # noqa: S105 (a URL, not a secret)


class OAuth2(AuthBase):
    """``Authorization: Bearer <access token>`` with the given scopes."""

    openapi_type = "oauth2"
    openapi_flows = {
        "authorizationCode": {
            "authorizationUrl": AUTHORIZE_URL,
            "tokenUrl": TOKEN_URL,
            "refreshUrl": TOKEN_URL,
            "scopes": {name: name for name in settings.API_SCOPES},
        }
    }
    openapi_description = (
        "OAuth 2.0 authorization code with PKCE (S256). Register the client at /api/clients/register/; "
        "an officer approves it; each user consents to the scopes and the period."
    )

    def __init__(self, *scopes: str) -> None:
        unknown = set(scopes) - set(settings.API_SCOPES)
        if unknown:
            raise ValueError(f"unknown API scopes {sorted(unknown)}")
        self.scopes = scopes
        super().__init__()

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return authenticate(request, token.strip(), self.scopes)


def _unauthenticated(detail: str = "") -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        detail or None,
        headers={"WWW-Authenticate": 'Bearer realm="zairyu", error="invalid_token"'},
    )


def authenticate(request: HttpRequest, token: str, scopes: tuple[str, ...]):
    from oauth2_provider.models import AccessToken

    from zairyu.accounts.constants import UserState
    from zairyu.api.models import Authorisation

    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    access = (
        AccessToken.objects.select_related("application__zairyu_client", "user")
        .filter(token_checksum=checksum)
        .first()
    )
    now = clock.now()
    if access is None or access.expires <= now or access.user is None:
        raise _unauthenticated()
    client = getattr(access.application, "zairyu_client", None)
    if client is None or not client.usable:
        raise _unauthenticated()
    user = access.user
    if not user.is_active or getattr(user, "state", UserState.ACTIVE) != UserState.ACTIVE:
        raise _unauthenticated()
    authorisation = (
        Authorisation.objects.filter(user=user, client=client, revoked_at__isnull=True, expires_at__gt=now)
        .order_by("-granted_at")
        .first()
    )
    if authorisation is None:
        raise _unauthenticated()
    granted = set(access.scope.split()) & set(authorisation.scopes)
    missing = [scope for scope in scopes if scope not in granted]
    if missing:
        raise ApiError(
            403,
            "insufficient_scope",
            " ".join(missing),
            headers={
                "WWW-Authenticate": f'Bearer realm="zairyu", error="insufficient_scope", scope="{" ".join(scopes)}"'
            },
        )
    if not throttle_hit(
        scope="api-client",
        key=str(client.pk),
        limit=settings.API_RATE_PER_CLIENT_PER_MINUTE,
        window_seconds=60,
    ) or not throttle_hit(
        scope="api-user", key=str(user.pk), limit=settings.API_RATE_PER_USER_PER_MINUTE, window_seconds=60
    ):
        raise ApiError(429, "rate_limited", headers={"Retry-After": "60"})
    request.user = user
    request.api_client = client
    request.api_scopes = granted
    request.api_authorisation = authorisation
    audit_via_request(client=client.client_id, client_name=client.name)
    return user


def anonymous_throttle(request: HttpRequest) -> None:
    """Public operations (catalogue, e-COE verification) are limited per address."""
    if not throttle_hit(
        scope="api-anon",
        key=request_ip(request) or "-",
        limit=settings.API_RATE_ANONYMOUS_PER_MINUTE,
        window_seconds=60,
    ):
        raise ApiError(429, "rate_limited", headers={"Retry-After": "60"})
