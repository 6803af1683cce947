"""Celery tasks of the outbox. They take IDs and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from zairyu.notifications import services
from zairyu.notifications.constants import EmailState


@shared_task(name="zairyu.notifications.tasks.outbox_send", ignore_result=True)
def outbox_send(email_id: int) -> str:
    state = services.outbox_deliver(email_id=email_id)
    if state == EmailState.QUEUED and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Try again after the back-off; the periodic flush is the safety net if this is lost.
        from zairyu.notifications.models import OutboundEmail

        email = OutboundEmail.objects.get(pk=email_id)
        outbox_send.apply_async((email_id,), eta=email.next_attempt_at)
    return str(state)


@shared_task(name="zairyu.notifications.tasks.outbox_flush", ignore_result=True)
def outbox_flush() -> dict[str, int]:
    return services.outbox_flush()
