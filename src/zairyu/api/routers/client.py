"""API: the calling client's own registration and its status callbacks (webhooks).

These operations act for the client itself, not for a user, so they are authenticated with the
client's own credentials (HTTP Basic, ``client_id:client_secret``, as at the token endpoint) and
only for an approved confidential client. A client sees only its own webhook and deliveries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.db.models import F
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.security import HttpBasicAuth
from ninja.security.http import DecodeError

from zairyu.api import webhooks
from zairyu.api.models import ApiClient, WebhookDelivery
from zairyu.api.problems import ApiError
from zairyu.api.schemas_common import Page, page_query, page_size_query, paginate
from zairyu.core.audit import audit_via_request
from zairyu.core.http import request_ip
from zairyu.core.net import throttle_exceeded, throttle_hit

_FAILED_SCOPE = "api-client-basic-failed"


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        _("Give the client ID and client secret of an approved confidential client (HTTP Basic)."),
        headers={"WWW-Authenticate": 'Basic realm="zairyu", charset="UTF-8"'},
    )


def _secret_matches(provided: str, stored: str) -> bool:
    """As django-oauth-toolkit checks it: the stored secret is hashed (or, for old rows, plain)."""
    try:
        identify_hasher(stored)
    except ValueError:
        return constant_time_compare(provided, stored)
    return check_password(provided, stored)


class ClientBasic(HttpBasicAuth):
    """``Authorization: Basic base64(client_id:client_secret)`` of an approved confidential client."""

    openapi_description = (
        "The client's own credentials, as at the token endpoint: HTTP Basic with the client ID and "
        "client secret (each form-urlencoded, RFC 6749 §2.3.1). Only for approved confidential clients."
    )

    def __call__(self, request: HttpRequest) -> Any:
        # Every failure is a 401 with a Basic challenge (not the API's default Bearer one).
        header = request.headers.get(self.header, "")
        if not header.lower().startswith("basic "):
            raise _unauthenticated()
        try:
            client_id, secret = self.decode_authorization(header)
        except DecodeError:
            raise _unauthenticated() from None
        return self.authenticate(request, unquote_plus(client_id), unquote_plus(secret))

    def authenticate(self, request: HttpRequest, username: str, password: str) -> ApiClient:
        address = request_ip(request) or "-"
        limit = settings.API_RATE_ANONYMOUS_PER_MINUTE
        if throttle_exceeded(scope=_FAILED_SCOPE, key=address, limit=limit):
            raise ApiError(429, "rate_limited", headers={"Retry-After": "60"})
        client = (
            ApiClient.objects.select_related("oauth_application")
            .filter(oauth_application__client_id=username)
            .first()
            if username
            else None
        )
        if client is None:
            make_password(password)  # as long as a real check, so the time tells nothing
            ok = False
        else:
            application = client.oauth_application
            ok = (
                application.client_type == application.CLIENT_CONFIDENTIAL
                and bool(application.client_secret)
                and _secret_matches(password, application.client_secret)
                and client.usable
            )
        if not ok:
            throttle_hit(scope=_FAILED_SCOPE, key=address, limit=limit, window_seconds=60)
            raise _unauthenticated()
        if not throttle_hit(
            scope="api-client",
            key=str(client.pk),
            limit=settings.API_RATE_PER_CLIENT_PER_MINUTE,
            window_seconds=60,
        ):
            raise ApiError(429, "rate_limited", headers={"Retry-After": "60"})
        request.api_client = client
        audit_via_request(client=client.client_id, client_name=client.name)
        return client


router = Router(auth=ClientBasic())


# --- schemas ----------------------------------------------------------------------------------------


class ScopeOut(Schema):
    name: str = Field(..., description="The scope, as asked for in the authorization request.")
    description: str = Field(..., description="What it allows, as users see it on the consent screen.")


class ClientOut(Schema):
    client_id: str
    name: str = Field(..., description="The software's name.")
    vendor_name: str
    state: Literal["pending", "approved", "rejected", "suspended"]
    webhook_url: str | None = Field(None, description="Where status callbacks are sent; null if none.")
    scopes: list[ScopeOut] = Field(..., description="The scopes a user can allow this client.")


class WebhookIn(Schema):
    url: str = Field(
        ...,
        max_length=500,
        description="An https URL reachable from the internet (http and private addresses only in development).",
        examples=["https://hr.example.com/zairyu/webhook"],
    )


class WebhookSecretOut(Schema):
    url: str
    secret: str = Field(
        ...,
        description="The key of the HMAC-SHA256 signatures (Zairyu-Signature). Shown only now; "
        "registering again gives a new one.",
    )


class DeliveryOut(Schema):
    id: uuid.UUID = Field(..., description="The event id, also sent as Zairyu-Event-Id.")
    event_type: str = Field(..., examples=["application.status_changed", "ping"])
    application_id: uuid.UUID | None = Field(None, description="The application the event is about.")
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None = Field(None, description="The HTTP status of the last attempt's answer.")
    last_error: str | None = Field(
        None, description="Why the last attempt failed: http_<status>, timeout, connection_refused…"
    )
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None = Field(None, description="When it is tried again, while pending.")
    delivered_at: dt.datetime | None = None


class DeliveryPage(Page[DeliveryOut]):
    pass


def _delivery_out(delivery: WebhookDelivery) -> dict[str, Any]:
    pending = delivery.state == WebhookDelivery.State.PENDING
    return {
        "id": delivery.event_id,
        "event_type": delivery.event_type,
        "application_id": getattr(delivery, "application_public_id", None),  # annotated by the list
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_status": delivery.last_status,
        "last_error": delivery.last_error or None,
        "created_at": delivery.created_at,
        "next_attempt_at": delivery.next_attempt_at if pending else None,
        "delivered_at": delivery.delivered_at,
    }


def _client_out(client: ApiClient) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "vendor_name": client.vendor_name,
        "state": client.state,
        "webhook_url": client.webhook_url or None,
        "scopes": [{"name": name, "description": str(label)} for name, label in settings.API_SCOPES.items()],
    }


# --- operations -------------------------------------------------------------------------------------


@router.get("", response={200: ClientOut}, operation_id="client_get", summary="The calling client")
def client_get(request: HttpRequest):
    """The client's registration as Zairyu knows it, its webhook URL and the scopes users can allow."""
    return _client_out(request.api_client)


@router.put(
    "/webhook",
    response={200: WebhookSecretOut},
    operation_id="client_webhook_put",
    summary="Register a webhook",
)
def client_webhook_put(request: HttpRequest, body: WebhookIn):
    """Set the URL that receives status callbacks of the applications this client filed. Each call
    returns a new signing secret, shown only in this answer."""
    try:
        url, secret = webhooks.webhook_register(
            client=request.api_client, url=body.url, ip=request_ip(request) or None
        )
    except webhooks.WebhookUrlRefused as refused:
        raise ApiError(
            422,
            "validation",
            errors=[{"pointer": "/url", "code": refused.code, "detail": str(refused.message)}],
        ) from None
    return {"url": url, "secret": secret}


@router.delete(
    "/webhook", response={204: None}, operation_id="client_webhook_delete", summary="Remove the webhook"
)
def client_webhook_delete(request: HttpRequest):
    """Stop status callbacks; deliveries still waiting are given up."""
    webhooks.webhook_remove(client=request.api_client, ip=request_ip(request) or None)
    return Status(204, None)


@router.post(
    "/webhook/test",
    response={202: DeliveryOut},
    operation_id="client_webhook_test",
    summary="Send a test notification",
)
def client_webhook_test(request: HttpRequest):
    """Queue a ``ping`` to the webhook, signed and retried like every notification."""
    client = request.api_client
    if not client.webhook_url:
        raise ApiError(
            409, "conflict", _("This client has no webhook. Register one with PUT /client/webhook.")
        )
    delivery = webhooks.ping_queue(client=client)
    delivery.refresh_from_db()  # without a broker it may have been delivered already
    return Status(202, _delivery_out(delivery))


@router.get(
    "/webhook/deliveries",
    response={200: DeliveryPage},
    operation_id="client_webhook_deliveries",
    summary="Recent deliveries",
)
def client_webhook_deliveries(
    request: HttpRequest,
    state: Literal["pending", "delivered", "failed"] | None = Query(
        None, description="Only deliveries in this state."
    ),
    page: int = page_query(),
    page_size: int = page_size_query(),
):
    """This client's notifications, newest first, with the outcome of their attempts."""
    deliveries = WebhookDelivery.objects.filter(client=request.api_client).annotate(
        application_public_id=F("application__public_id")
    )
    if state:
        deliveries = deliveries.filter(state=state)
    items, meta = paginate(deliveries.order_by("-created_at", "-id"), page, page_size)
    return {"items": [_delivery_out(d) for d in items], "meta": meta}
