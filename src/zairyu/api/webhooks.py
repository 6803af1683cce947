"""Status callbacks: the webhook outbox of API clients.

A state change of an application that a client filed (``Application.filed_via``) writes a
:class:`~zairyu.api.models.WebhookDelivery` in the transaction that changed the state (the
``post_save`` of ``ApplicationEvent``, see ``signals.py``); after commit a task posts it to the
client's URL, signed with the client's secret (Standard Webhooks headers, and the deprecated
``Zairyu-Signature``). A delivery that fails is retried with exponential
back-off (``WEBHOOK_RETRY_BASE_SECONDS`` doubling, at most six hours) by the periodic
:func:`deliveries_flush` until ``WEBHOOK_MAX_ATTEMPTS``, then given up.

Delivery claims a row with one conditional UPDATE of ``claimed_until`` (two workers never send the
same delivery at once; a worker killed mid-send leaves a claim that simply expires), posts without
holding a database lock, then records the outcome. Delivery is at least once: receivers recognise
a repeat by ``webhook-id`` (the event id).

The payload names the application by its public id and states; it carries no personal data.
Requests go only to public addresses (unless ``WEBHOOK_ALLOW_PRIVATE``), to the very address that
was checked (no second DNS lookup that could be rebound), never following redirects.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.api.models import ApiClient, WebhookDelivery
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Refused
from zairyu.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

STATUS_CHANGED = "application.status_changed"
PING = "ping"
USER_AGENT = "Zairyu-Webhooks/1"
SIGNATURE_HEADER = "Zairyu-Signature"  # deprecated: Standard Webhooks' three headers replace it
EVENT_ID_HEADER = "Zairyu-Event-Id"  # deprecated, as ``webhook-id``
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that names what the value is, not a secret)
MAX_RETRY_DELAY = dt.timedelta(hours=6)
SIGNATURE_TOLERANCE_SECONDS = 300
DELIVERY_RETENTION_DAYS = 30  # delivered and given-up deliveries are deleted after this
FLUSH_LIMIT = 200
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 behind a translator: the IPv4 address counts
RESPONSE_READ_LIMIT = 4096  # the receiver's answer is read (and dropped) up to this many bytes


# --- signatures -----------------------------------------------------------------------------------


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with the client's webhook secret."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: float | None = None,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: True if ``header`` (``t=…,v1=…``) signs ``body`` with ``secret`` and its
    timestamp is within ``tolerance_seconds`` of ``now`` (so an old request cannot be replayed)."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = clock.now().timestamp() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks (https://www.standardwebhooks.com/) signing key of ``secret``.

    A secret issued since Standard Webhooks signatures were added is ``whsec_`` + the standard
    base64 of 32 random bytes: the key is those bytes, as every Standard Webhooks library reads it.
    A secret issued before (``whsec_`` + 43 URL-safe characters, never valid standard base64) is
    not base64: its key is the UTF-8 bytes of the whole secret, the key ``Zairyu-Signature`` uses."""
    if secret.startswith(SECRET_PREFIX):
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if key:
            return key
    return secret.encode("utf-8")


def standard_signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature``: ``v1,`` + the base64 HMAC-SHA256 of ``"<id>.<timestamp>.<body>"``."""
    message = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(*, secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signature headers of a delivery: Standard Webhooks' three, and (deprecated, sent for
    one more release) ``Zairyu-Event-Id`` and ``Zairyu-Signature``."""
    return {
        STANDARD_ID_HEADER: message_id,
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: standard_signature(
            secret=secret, message_id=message_id, timestamp=timestamp, body=body
        ),
        EVENT_ID_HEADER: message_id,
        SIGNATURE_HEADER: signature_header(secret=secret, timestamp=timestamp, body=body),
    }


def payload_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes that are sent and signed."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


# --- where a webhook may point --------------------------------------------------------------------


class WebhookUrlRefused(Refused):
    """The URL may not receive webhooks; ``code`` and ``message`` say why (the message for the vendor)."""


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: where to connect (``addresses``) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _allowed_schemes() -> tuple[str, ...]:
    return ("https",) if getattr(settings, "PRODUCTION", False) else ("http", "https")


def address_allowed(address: str) -> bool:
    """True for a public unicast address; private, loopback, link-local, multicast, reserved,
    shared (CGNAT) and unspecified addresses are only allowed with ``WEBHOOK_ALLOW_PRIVATE``."""
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not address_allowed(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
    )


def target_check(url: str) -> Target:
    """Parse and resolve ``url``; raise :class:`WebhookUrlRefused` if it may not receive webhooks.

    Every address the host resolves to must be allowed (a name that resolves to one public and one
    private address is refused): the delivery then connects only to these addresses."""
    url = (url or "").strip()
    if not url:
        raise WebhookUrlRefused("required", _("Give the URL that should receive the notifications."))
    if len(url) > 500:
        raise WebhookUrlRefused("too_long", _("The URL can be at most 500 characters long."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlRefused("invalid", _("This is not a valid URL.")) from None
    schemes = _allowed_schemes()
    if parts.scheme not in schemes:
        if schemes == ("https",):
            raise WebhookUrlRefused("scheme", _("The URL must start with https://."))
        raise WebhookUrlRefused("scheme", _("The URL must start with https:// or http://."))
    host = parts.hostname or ""
    if not host:
        raise WebhookUrlRefused("invalid", _("This is not a valid URL."))
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlRefused(
            "credentials", _("Do not put a user name or password in the URL; check the signature instead.")
        )
    if parts.fragment:
        raise WebhookUrlRefused("fragment", _("Remove the part after “#” from the URL."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError):  # ValueError: a NUL or a label IDNA cannot encode
        raise WebhookUrlRefused(
            "unresolvable", _("The host name of this URL cannot be found. Check it for typing errors.")
        ) from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise WebhookUrlRefused(
            "unresolvable", _("The host name of this URL cannot be found. Check it for typing errors.")
        )
    if not all(address_allowed(address) for address in addresses):
        raise WebhookUrlRefused(
            "private_address",
            _(
                "This URL leads to a private or reserved network address. Give a URL reachable from the internet."
            ),
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


# --- registering ------------------------------------------------------------------------------------


def _secret_new() -> str:
    """``whsec_`` + standard base64 of 32 random bytes: the form Standard Webhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def webhook_register(*, client: ApiClient, url: str, ip: str | None = None) -> tuple[str, str]:
    """Set the client's webhook URL and give it a new secret (returned once, with the URL).

    A new secret on every registration: the vendor who (re)registers knows the URL is theirs, and a
    leaked secret is replaced by registering again. Pending deliveries go to the new URL with the
    new secret."""
    target_check(url)  # resolves the name: before the transaction, which need not wait for DNS
    url = url.strip()
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        client.webhook_url = url
        client.webhook_secret = _secret_new()
        client.save(update_fields=["webhook_url", "webhook_secret"])
        audit_record(
            action="api.webhook_registered", target=client, ip=ip, details={"client": client.client_id}
        )
    return client.webhook_url, client.webhook_secret


@transaction.atomic
def webhook_remove(*, client: ApiClient, ip: str | None = None) -> int:
    """Remove the client's webhook; the deliveries still waiting are given up. Returns their number."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    client.webhook_url = ""
    client.webhook_secret = ""
    client.save(update_fields=["webhook_url", "webhook_secret"])
    given_up = WebhookDelivery.objects.filter(client=client, state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.FAILED, claimed_until=None, last_error="webhook_removed"
    )
    audit_record(
        action="api.webhook_removed",
        target=client,
        ip=ip,
        details={"client": client.client_id, "given_up": given_up},
    )
    return given_up


# --- the outbox -------------------------------------------------------------------------------------


def _queue(*, client: ApiClient, event_type: str, data: dict[str, Any], application=None) -> WebhookDelivery:
    event_id = uuid.uuid4()
    now = clock.now()
    delivery = WebhookDelivery.objects.create(
        client=client,
        event_id=event_id,
        event_type=event_type,
        application=application,
        payload={"id": str(event_id), "type": event_type, "created_at": now.isoformat(), "data": data},
        created_at=now,
        next_attempt_at=now,
    )
    from zairyu.api.tasks import webhook_deliver

    enqueue_on_commit(webhook_deliver, delivery.pk)
    return delivery


def _notified(event) -> bool:
    """Whether ``event`` is a state change the filing client's webhook hears of."""
    if event.application.filed_via_id is None:
        return False
    if not event.from_state:
        return False  # the draft was just created: the client that created it knows
    return event.to_state != event.from_state or event.action == "submitted"


def _status_data(event, *, at: dt.datetime | None = None) -> dict[str, Any]:
    application = event.application
    changed_at = event.at if isinstance(event.at, dt.datetime) else None
    return {
        "application_id": str(application.public_id),
        "receipt_number": application.receipt_number or None,
        "state": event.to_state,
        "previous_state": event.from_state,
        "action": event.action,
        "procedure": application.procedure,
        "status": application.status,
        "office": application.office or None,
        "changed_at": (changed_at or at or clock.now()).isoformat(),
    }


def _webhook_clients(client_ids) -> dict[int, ApiClient]:
    return (
        ApiClient.objects.filter(pk__in=set(client_ids), state=ApiClient.State.APPROVED)
        .exclude(webhook_url="")
        .in_bulk()
    )


def status_change_queue(*, event) -> WebhookDelivery | None:
    """Queue a notification of ``event`` (an ``ApplicationEvent`` just written) if it changed the
    state of an application filed through a client that has a webhook. Called inside the
    transaction that wrote the event, so the delivery exists exactly if the change does."""
    if not _notified(event):
        return None
    application = event.application
    client = _webhook_clients([application.filed_via_id]).get(application.filed_via_id)
    if client is None:
        return None
    return _queue(client=client, event_type=STATUS_CHANGED, data=_status_data(event), application=application)


def status_changes_queue(*, events, at: dt.datetime | None = None) -> list[WebhookDelivery]:
    """:func:`status_change_queue` for events written with ``bulk_create`` (which sends no
    ``post_save``), with one query for their clients. ``at``: the time of events whose ``at`` is
    a database expression (see ``bulk.services._stamp``)."""
    notified = [event for event in events if _notified(event)]
    if not notified:
        return []
    clients = _webhook_clients(event.application.filed_via_id for event in notified)
    return [
        _queue(
            client=clients[event.application.filed_via_id],
            event_type=STATUS_CHANGED,
            data=_status_data(event, at=at),
            application=event.application,
        )
        for event in notified
        if event.application.filed_via_id in clients
    ]


@transaction.atomic
def ping_queue(*, client: ApiClient) -> WebhookDelivery:
    """A test notification (``ping``) to the client's webhook, delivered like any other."""
    return _queue(client=client, event_type=PING, data={"client_id": client.client_id})


# --- delivering -------------------------------------------------------------------------------------


class _PinnedConnectionMixin:
    """Connect to the addresses that were checked, whatever the host name resolves to now."""

    _addresses: tuple[str, ...] = ()

    def _connect_checked(self, address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        error: OSError | None = None
        for ip in self._addresses:
            try:
                return socket.create_connection((ip, address[1]), timeout, source_address)
            except OSError as exc:
                error = exc
        raise error or OSError("no address to connect to")


class _PinnedHTTPConnection(_PinnedConnectionMixin, http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses
        self._create_connection = self._connect_checked


class _PinnedHTTPSConnection(_PinnedConnectionMixin, http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        # The certificate is checked against the host name of the URL (SNI too), not the address.
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = target.addresses
        self._create_connection = self._connect_checked


def _post(target: Target, *, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body``; the response's status. No proxy from the environment (it would connect to a
    host we did not check) and no redirect is followed (http.client never does)."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return response.status
    finally:
        connection.close()


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failed attempt: the base, doubling, at most six hours."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return min(dt.timedelta(seconds=seconds), MAX_RETRY_DELAY)


def claim_seconds() -> int:
    """How long a claim keeps other workers off a delivery: longer than one attempt can take."""
    return max(60, 6 * settings.WEBHOOK_TIMEOUT_SECONDS)


def delivery_claim(*, delivery_id: int) -> bool:
    """Claim a due delivery for one attempt: one conditional UPDATE, so of two workers only one
    wins. An expired claim (its worker died) may be taken over."""
    now = clock.now()
    return bool(
        WebhookDelivery.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=delivery_id,
            state=WebhookDelivery.State.PENDING,
            next_attempt_at__lte=now,
        ).update(claimed_until=now + dt.timedelta(seconds=claim_seconds()))
    )


def _error_code(exc: BaseException) -> str:
    if isinstance(exc, WebhookUrlRefused):
        return f"refused_{exc.code}"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls_error"
    if isinstance(exc, ConnectionRefusedError):
        return "connection_refused"
    if isinstance(exc, http.client.HTTPException):
        return "bad_response"
    return "connection_error"


def delivery_attempt(*, delivery_id: int) -> str:
    """Try to deliver one pending delivery now, if it is due and nobody else is at it.

    Returns ``delivered``, ``retry`` (failed, will be tried again), ``failed`` (given up) or
    ``skipped`` (not due, already done, or claimed by another worker)."""
    if not delivery_claim(delivery_id=delivery_id):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("client").get(pk=delivery_id)
    client = delivery.client
    attempts = delivery.attempts + 1
    status: int | None = None
    error = ""
    if not client.usable or not client.webhook_url or not client.webhook_secret:
        # Nothing to deliver to any more: give up at once rather than retrying for hours.
        WebhookDelivery.objects.filter(pk=delivery.pk, state=WebhookDelivery.State.PENDING).update(
            state=WebhookDelivery.State.FAILED,
            claimed_until=None,
            last_error="client_not_approved" if not client.usable else "webhook_removed",
        )
        logger.info("webhook delivery %s of client %s given up: no webhook", delivery.pk, client.pk)
        return "failed"
    body = payload_body(delivery.payload)
    timestamp = int(clock.now().timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(
            secret=client.webhook_secret, message_id=str(delivery.event_id), timestamp=timestamp, body=body
        ),
    }
    try:
        target = target_check(client.webhook_url)  # again now: the name may resolve elsewhere today
        status = _post(target, body=body, headers=headers)
    except Exception as exc:  # any failure to deliver is retried later; nothing is lost
        error = _error_code(exc)
    if status is not None and 200 <= status < 300:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.DELIVERED,
            attempts=attempts,
            last_status=status,
            last_error="",
            claimed_until=None,
            delivered_at=clock.now(),
        )
        logger.info("webhook delivery %s of client %s delivered (%s)", delivery.pk, client.pk, status)
        return "delivered"
    if status is not None:
        error = "redirect_not_followed" if 300 <= status < 400 else f"http_{status}"
    gave_up = attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    WebhookDelivery.objects.filter(pk=delivery.pk, state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.FAILED if gave_up else WebhookDelivery.State.PENDING,
        attempts=attempts,
        last_status=status,
        last_error=error[:300],
        claimed_until=None,
        next_attempt_at=clock.now() + retry_delay(attempts),
    )
    logger.warning(
        "webhook delivery %s of client %s attempt %s failed (%s)%s",
        delivery.pk,
        client.pk,
        attempts,
        error,
        "; given up" if gave_up else "",
    )
    return "failed" if gave_up else "retry"


def deliveries_flush(*, limit: int = FLUSH_LIMIT) -> dict[str, int]:
    """Attempt every due pending delivery (run every 30 seconds by the scheduler)."""
    now = clock.now()
    due = list(
        WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    results = {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    for delivery_id in due:
        results[delivery_attempt(delivery_id=delivery_id)] += 1
    return results


def deliveries_purge(*, days: int = DELIVERY_RETENTION_DAYS) -> int:
    """Delete delivered and given-up deliveries older than ``days``."""
    cutoff = clock.now() - dt.timedelta(days=days)
    deleted, _by_model = WebhookDelivery.objects.filter(
        state__in=[WebhookDelivery.State.DELIVERED, WebhookDelivery.State.FAILED], created_at__lt=cutoff
    ).delete()
    return deleted
