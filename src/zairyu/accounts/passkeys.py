"""Passkeys (WebAuthn) with py_webauthn: the relying party, the options the browser is given, and
the checks of what it answers. Services (``accounts.services``) keep the challenges and the
credentials; this module touches no database.

RP ID and origins (ADR 0012): the RP ID is ``WEBAUTHN_RP_ID``, or the host name of ``SITE_URL``,
or ``localhost`` when that host is an IP address (a WebAuthn RP ID cannot be one). The origin
accepted is ``SITE_URL``'s; outside production also the origin of the request itself when its
host is the RP ID (``make run`` on any port, opened as http://localhost:PORT).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

TIMEOUT_MS = 120_000
MAX_CREDENTIAL_JSON = 16_000


class PasskeyResponseInvalid(Exception):
    """The browser's answer does not verify (``code`` says why, for the audit trail)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class RelyingParty:
    id: str
    name: str
    origins: tuple[str, ...]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def rp_id() -> str:
    configured = (settings.WEBAUTHN_RP_ID or "").strip().lower()
    if configured:
        return configured
    host = (urlsplit(settings.SITE_URL).hostname or "localhost").lower()
    return "localhost" if _is_ip(host) else host


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _request_host(request: HttpRequest) -> str:
    return (urlsplit(f"//{request.get_host()}").hostname or "").lower()


def _host_fits(host: str, rp: str) -> bool:
    return host == rp or host.endswith("." + rp)


def relying_party(request: HttpRequest) -> RelyingParty | None:
    """The relying party for this request, or ``None`` when this address cannot use passkeys
    (the browser would refuse: its host is not the RP ID nor under it)."""
    rp = rp_id()
    if not _host_fits(_request_host(request), rp):
        return None
    origins = set()
    site_host = (urlsplit(settings.SITE_URL).hostname or "").lower()
    if _host_fits(site_host, rp):
        origins.add(_origin(settings.SITE_URL))
    if not settings.PRODUCTION:
        origins.add(f"{request.scheme}://{request.get_host()}".lower())
    if not origins:
        return None
    return RelyingParty(id=rp, name=str(settings.SITE_NAME), origins=tuple(sorted(origins)))


def address_for_passkeys(request: HttpRequest) -> str:
    """Where this page works with passkeys, to tell a user who opened it elsewhere (e.g. at
    http://127.0.0.1:8000 in development, where the RP ID is ``localhost``)."""
    site = urlsplit(settings.SITE_URL)
    if _host_fits((site.hostname or "").lower(), rp_id()):
        return f"{site.scheme}://{site.netloc}{request.path}"
    port = urlsplit(f"//{request.get_host()}").port
    return f"{request.scheme}://{rp_id()}{f':{port}' if port else ''}{request.path}"


def user_handle(username: str) -> bytes:
    """The WebAuthn user handle: stable for the account, and no personal data (RFC: opaque)."""
    return hashlib.sha256(b"zairyu-webauthn-user:" + username.encode()).digest()


def _descriptors(credentials: list[tuple[str, list[str]]]) -> list[PublicKeyCredentialDescriptor]:
    known = {t.value for t in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=b64url_decode(credential_id),
            transports=[AuthenticatorTransport(t) for t in transports if t in known] or None,
        )
        for credential_id, transports in credentials
    ]


def registration_options_json(
    *,
    rp: RelyingParty,
    challenge: bytes,
    username: str,
    display_name: str,
    existing: list[tuple[str, list[str]]],
) -> str:
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle(username),
        user_name=username,
        user_display_name=display_name or username,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    return options_to_json(options)


def authentication_options_json(
    *, rp: RelyingParty, challenge: bytes, credentials: list[tuple[str, list[str]]]
) -> str:
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(credentials),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options)


def b64url_decode(value: str) -> bytes:
    value = value or ""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url_encode(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


def parse_credential(raw: str) -> dict[str, Any]:
    """The browser's answer as a dict, refused when it is not the JSON our script sends."""
    if not raw or len(raw) > MAX_CREDENTIAL_JSON:
        raise PasskeyResponseInvalid("malformed")
    try:
        credential = json.loads(raw)
    except ValueError:
        raise PasskeyResponseInvalid("malformed") from None
    if not isinstance(credential, dict) or not isinstance(credential.get("response"), dict):
        raise PasskeyResponseInvalid("malformed")
    return credential


def challenge_of(credential: dict[str, Any]) -> bytes:
    """The challenge the browser says it answered (checked against ours by the services)."""
    try:
        client_data = json.loads(b64url_decode(credential["response"]["clientDataJSON"]))
        return b64url_decode(client_data["challenge"])
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise PasskeyResponseInvalid("malformed") from None


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: bytes
    sign_count: int
    transports: list[str]
    aaguid: str


def verify_registration(*, rp: RelyingParty, credential: dict[str, Any], challenge: bytes) -> NewCredential:
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
        )
    except (InvalidRegistrationResponse, KeyError, TypeError, ValueError, binascii.Error):
        raise PasskeyResponseInvalid("invalid") from None
    transports = credential["response"].get("transports") or []
    return NewCredential(
        credential_id=b64url_encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t) for t in transports if isinstance(t, str)][:8],
        aaguid=verified.aaguid,
    )


def verify_authentication(
    *, rp: RelyingParty, credential: dict[str, Any], challenge: bytes, public_key: bytes, sign_count: int
) -> int:
    """Check the signature and return the authenticator's new counter. The counter is compared
    by the caller (so that a lagging counter, the sign of a clone, is told apart and audited)."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=list(rp.origins),
            credential_public_key=public_key,
            credential_current_sign_count=0,  # compared below, by the caller
        )
    except (InvalidAuthenticationResponse, KeyError, TypeError, ValueError, binascii.Error):
        raise PasskeyResponseInvalid("invalid") from None
    return verified.new_sign_count


def counter_lags(*, stored: int, received: int) -> bool:
    """WebAuthn §6.1.1: a counter that does not grow (when either is non-zero) may be a clone."""
    return (stored > 0 or received > 0) and received <= stored
