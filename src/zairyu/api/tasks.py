"""Celery tasks of the API: webhook deliveries and housekeeping. They take IDs and are safe to run
twice (a delivery is claimed before it is sent; the rest deletes what has expired)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings

from zairyu.api import webhooks
from zairyu.core import clock


@shared_task(name="zairyu.api.tasks.webhook_deliver", ignore_result=True)
def webhook_deliver(delivery_id: int) -> str:
    """Attempt one delivery now (queued after the commit that wrote it).

    A failed attempt is not rescheduled from here: the periodic :func:`webhooks_deliver` picks it up
    when its back-off has passed (up to six hours, longer than a broker should hold a delayed task).
    """
    return webhooks.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="zairyu.api.tasks.webhooks_deliver", ignore_result=True)
def webhooks_deliver() -> dict[str, int]:
    """Attempt every due delivery: retries, and first attempts whose task was lost."""
    return webhooks.deliveries_flush()


@shared_task(name="zairyu.api.tasks.api_housekeeping", ignore_result=True)
def api_housekeeping() -> dict[str, int]:
    """Delete expired idempotency records, expired OAuth tokens and grants, and old deliveries.

    Expired authorisations are kept (the user's profile and the audit trail refer to them); every
    call checks their expiry, so they need nothing here."""
    from oauth2_provider.models import clear_expired

    from zairyu.api.models import IdempotencyRecord

    cutoff = clock.now() - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    idempotency, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    clear_expired()
    return {"idempotency_records": idempotency, "deliveries": webhooks.deliveries_purge()}
