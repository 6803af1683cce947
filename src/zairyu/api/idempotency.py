"""``Idempotency-Key``: a repeated request gets the first response, never a second effect.

The key is claimed by inserting its record in its own transaction before the work starts; the
unique constraint (client, user, key) makes a concurrent second request fail to claim it, and it
is answered 409 while the first runs. Finished successful responses are kept (for
``API_IDEMPOTENCY_HOURS``) and replayed for the same key and the same request; the same key with
another request is refused (422). A failed attempt releases the key, so the client may retry
after fixing what was wrong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from zairyu.api.models import IdempotencyRecord
from zairyu.api.problems import ApiError

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEPT_HEADERS = ("Content-Type", "Location", "Content-Language")


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _key_error(code: str, detail) -> ApiError:
    return ApiError(400, "bad_request", errors=[{"parameter": HEADER, "code": code, "detail": detail}])


def idempotent(request: HttpRequest, *, operation: str, run: Callable[[], HttpResponse]) -> HttpResponse:
    key = request.headers.get(HEADER)
    if key is None:
        raise _key_error("missing", _("Send an Idempotency-Key header, e.g. a new UUID for each submission."))
    if not KEY_PATTERN.match(key):
        raise _key_error("invalid", _("The Idempotency-Key must be 1 to 255 visible ASCII characters."))
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # The claim need not wait for the disk: the submission's own commit, later in the
                # same WAL, makes it durable; a claim lost in a crash before that claimed nothing.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
            record = IdempotencyRecord.objects.create(
                client=request.api_client,
                user=request.user,
                key=key,
                operation=operation,
                fingerprint=fingerprint,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(
            client=request.api_client, user=request.user, key=key
        ).first()
        if existing is None:  # released in between: the other attempt failed; the client may retry
            raise ApiError(409, "idempotency_in_progress", headers={"Retry-After": "1"}) from None
        if existing.fingerprint != fingerprint or existing.operation != operation:
            raise ApiError(
                422,
                "idempotency_mismatch",
                errors=[
                    {
                        "parameter": HEADER,
                        "code": "reused",
                        "detail": _("Use a new Idempotency-Key for a different request."),
                    }
                ],
            ) from None
        if not existing.finished:
            raise ApiError(409, "idempotency_in_progress", headers={"Retry-After": "1"}) from None
        response = HttpResponse(bytes(existing.response_body), status=existing.status_code)
        for name, value in existing.response_headers.items():
            response[name] = value
        response[REPLAYED] = "true"
        return response
    try:
        with transaction.atomic():  # the work and the stored response commit together
            response = run()
            if 200 <= response.status_code < 300:
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    finished=True,
                    status_code=response.status_code,
                    response_body=response.content,
                    response_headers={
                        name: response[name] for name in KEPT_HEADERS if response.has_header(name)
                    },
                )
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    if not 200 <= response.status_code < 300:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
    return response
