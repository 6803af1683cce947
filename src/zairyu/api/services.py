"""API clients and users' authorisations: registering, approving, consenting, revoking."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from zairyu.accounts.models import User
from zairyu.api.models import ApiClient, Authorisation
from zairyu.core import clock
from zairyu.core.audit import audit_record

AUTHORISATION_PERIODS_DAYS = (1, 30, 90)


@dataclass(frozen=True)
class Registered:
    client: ApiClient
    client_id: str
    client_secret: str  # shown once; only its hash is kept


@transaction.atomic
def client_register(
    *,
    name: str,
    vendor_name: str,
    contact_email: str,
    redirect_uris: list[str],
    vendor_corporate_number: str = "",
    description: str = "",
    confidential: bool = True,
    client_id: str | None = None,
    client_secret: str | None = None,
    ip: str | None = None,
) -> Registered:
    """A vendor registers its software; it waits for an officer's approval."""
    from oauth2_provider.models import Application as OAuthApplication

    secret = client_secret or (secrets.token_urlsafe(32) if confidential else "")
    oauth_application = OAuthApplication(
        name=name[:255],
        client_type=OAuthApplication.CLIENT_CONFIDENTIAL if confidential else OAuthApplication.CLIENT_PUBLIC,
        authorization_grant_type=OAuthApplication.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        skip_authorization=False,
        algorithm="",
    )
    if client_id:
        oauth_application.client_id = client_id
    oauth_application.client_secret = secret
    oauth_application.save()
    client = ApiClient.objects.create(
        oauth_application=oauth_application,
        name=name,
        vendor_name=vendor_name,
        vendor_corporate_number=vendor_corporate_number,
        contact_email=contact_email,
        description=description,
    )
    audit_record(action="api.client_registered", target=client, ip=ip, details={"client": client.client_id})
    return Registered(client=client, client_id=oauth_application.client_id, client_secret=secret)


@transaction.atomic
def client_decide(
    *, client: ApiClient, officer: User, approve: bool, note: str = "", ip: str | None = None
) -> ApiClient:
    """An officer (or administrator) approves, rejects or suspends a client. Suspending or
    rejecting stops every token of the client at once."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    client.state = (
        ApiClient.State.APPROVED
        if approve
        else (
            ApiClient.State.SUSPENDED
            if client.state == ApiClient.State.APPROVED
            else ApiClient.State.REJECTED
        )
    )
    client.decided_by = officer
    client.decided_at = clock.now()
    client.decision_note = note[:500]
    client.save()
    if not approve:
        _delete_tokens(client=client)
    audit_record(
        action=f"api.client_{client.state}",
        actor=officer,
        target=client,
        ip=ip,
        details={"client": client.client_id},
    )
    return client


def _delete_tokens(*, client: ApiClient, user: User | None = None) -> None:
    from oauth2_provider.models import AccessToken, Grant, RefreshToken

    filters = {"application": client.oauth_application}
    if user is not None:
        filters["user"] = user
    RefreshToken.objects.filter(**filters).delete()
    AccessToken.objects.filter(**filters).delete()
    Grant.objects.filter(**filters).delete()


@transaction.atomic
def authorisation_grant(
    *, user: User, client: ApiClient, scopes: list[str], days: int, ip: str | None = None
) -> Authorisation:
    """The user allows ``client`` to act for them with ``scopes`` for ``days`` days. A new consent
    replaces the previous one of the same client."""
    unknown = set(scopes) - set(settings.API_SCOPES)
    if unknown or not scopes:
        raise ValueError(f"bad scopes {sorted(unknown) or scopes}")
    if days not in AUTHORISATION_PERIODS_DAYS:
        raise ValueError(f"bad period {days}")
    now = clock.now()
    Authorisation.objects.filter(user=user, client=client, revoked_at__isnull=True).update(revoked_at=now)
    authorisation = Authorisation.objects.create(
        user=user,
        client=client,
        scopes=sorted(set(scopes)),
        granted_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    audit_record(
        action="api.authorised",
        actor=user,
        target=client,
        ip=ip,
        details={"client": client.client_id, "scopes": authorisation.scopes, "days": days},
    )
    return authorisation


@transaction.atomic
def authorisation_revoke(*, user: User, client: ApiClient, ip: str | None = None) -> int:
    """The user withdraws the client's authorisation: its tokens for the user are deleted and the
    next call fails."""
    count = Authorisation.objects.filter(user=user, client=client, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
    _delete_tokens(client=client, user=user)
    audit_record(
        action="api.authorisation_revoked",
        actor=user,
        target=client,
        ip=ip,
        details={"client": client.client_id},
    )
    return count


def authorisations_of(user: User) -> QuerySet[Authorisation]:
    """The user's active authorisations, newest first, with their clients."""
    return (
        Authorisation.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=clock.now())
        .select_related("client")
        .order_by("-granted_at")
    )


def access_token_issue(
    *, user: User, client: ApiClient, scopes: list[str], seconds: int | None = None
) -> str:
    """An access token, as the token endpoint would issue it. For tests, benchmarks and the demo;
    real clients obtain tokens through the authorization code flow."""
    from oauth2_provider.models import AccessToken

    token = secrets.token_urlsafe(30)
    AccessToken.objects.create(
        user=user,
        application=client.oauth_application,
        token=token,
        scope=" ".join(scopes),
        expires=clock.now()
        + dt.timedelta(seconds=seconds or cast(int, settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"])),
    )
    return token


# --- Officers' decisions and users' revocations from the web pages -------------------------------

CLIENT_ACTIONS: dict[str, frozenset[str]] = {
    # action → the states it may be taken from
    "approve": frozenset({ApiClient.State.PENDING, ApiClient.State.SUSPENDED, ApiClient.State.REJECTED}),
    "reject": frozenset({ApiClient.State.PENDING, ApiClient.State.SUSPENDED}),
    "suspend": frozenset({ApiClient.State.APPROVED}),
}


class ClientDecisionRefused(Exception):
    """The action does not fit the client's current state (e.g. two officers decided at once)."""


def client_may_decide(officer: User) -> bool:
    """Only administrators approve, reject or suspend clients; other officers may look."""
    from zairyu.accounts.constants import OfficerRole, UserKind

    return bool(
        officer.is_authenticated
        and officer.kind == UserKind.OFFICER
        and officer.role == OfficerRole.ADMINISTRATOR
    )


@transaction.atomic
def client_decision_take(
    *, client: ApiClient, officer: User, action: str, note: str = "", ip: str | None = None
) -> ApiClient:
    """An administrator approves, rejects or suspends a client, if its current state allows it."""
    from django.core.exceptions import PermissionDenied

    if not client_may_decide(officer):
        raise PermissionDenied("only administrators decide on API clients")
    if action not in CLIENT_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    locked = ApiClient.objects.select_for_update().get(pk=client.pk)
    if locked.state not in CLIENT_ACTIONS[action]:
        raise ClientDecisionRefused(locked.state)
    return client_decide(client=locked, officer=officer, approve=action == "approve", note=note, ip=ip)


def authorisation_of(*, user: User, authorisation_id: int) -> Authorisation:
    """One of the user's own active authorisations (another user's is DoesNotExist, like none)."""
    return authorisations_of(user).get(pk=authorisation_id)


def authorisation_revoke_by_id(*, user: User, authorisation_id: int, ip: str | None = None) -> ApiClient:
    """The user revokes one of their authorisations, named by its id on the profile page."""
    authorisation = authorisation_of(user=user, authorisation_id=authorisation_id)
    authorisation_revoke(user=user, client=authorisation.client, ip=ip)
    return authorisation.client
