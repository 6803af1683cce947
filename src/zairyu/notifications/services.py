"""The e-mail outbox: queueing (inside the caller's transaction) and delivery (after commit).

Delivery claims a row with one conditional UPDATE, sends without holding a database lock, then
records the outcome. A worker killed mid-send leaves the row "sending"; :func:`outbox_flush`
returns such rows to the queue after ``OUTBOX_CLAIM_TIMEOUT`` seconds.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from zairyu.core import clock
from zairyu.core.tasks import enqueue_on_commit
from zairyu.notifications.constants import EmailState
from zairyu.notifications.messages import EMAIL_KINDS
from zairyu.notifications.models import OutboundEmail

logger = logging.getLogger(__name__)


def _retry_delay(attempts: int) -> dt.timedelta:
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


def email_render(*, kind: str, language: str, context: dict[str, Any] | None = None) -> tuple[str, str]:
    """The subject and body of an e-mail of ``kind`` in ``language``."""
    email_kind = EMAIL_KINDS[kind]
    language = "en" if language.startswith("en") else "ja"
    with translation.override(language):
        subject = str(email_kind.subject)
        body = render_to_string(email_kind.template, {**(context or {}), "language": language})
    return subject, body


def email_queue(
    *,
    kind: str,
    to: str,
    language: str = "ja",
    context: dict[str, Any] | None = None,
    key: str | None = None,
    rendered: tuple[str, str] | None = None,
) -> OutboundEmail:
    """Write an e-mail of ``kind`` to the outbox; it is sent once the caller's transaction commits.

    With ``key``, an e-mail already queued under the same key is returned instead of a second one,
    so a job that runs twice (a reminder, a retried request) never mails twice. ``rendered``: the
    (subject, body) of :func:`email_render` for the same kind, language and context, when one text
    goes to several addresses.
    """
    language = "en" if language.startswith("en") else "ja"
    subject, body = rendered or email_render(kind=kind, language=language, context=context)
    try:  # the unique key refuses a second e-mail: one statement when it is new (the usual case)
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                key=key, kind=kind, to=to, language=language, subject=subject.strip(), body=body
            )
    except IntegrityError:
        if key is None:
            raise
        return OutboundEmail.objects.get(key=key)  # queued before (a re-run) or by a concurrent call
    from zairyu.notifications.tasks import outbox_send

    enqueue_on_commit(outbox_send, email.pk)
    return email


def email_queue_all(
    *,
    kind: str,
    recipients: list[tuple[str, str]],
    language: str = "ja",
    context: dict[str, Any] | None = None,
) -> list[OutboundEmail]:
    """The same e-mail to several addresses, each ``(to, key)``: rendered once and written in one
    statement; if any key was queued before, each is queued as :func:`email_queue` would."""
    language = "en" if language.startswith("en") else "ja"
    subject, body = email_render(kind=kind, language=language, context=context)
    try:
        with transaction.atomic():
            emails = OutboundEmail.objects.bulk_create(
                [
                    OutboundEmail(
                        key=key, kind=kind, to=to, language=language, subject=subject.strip(), body=body
                    )
                    for to, key in recipients
                ]
            )
    except IntegrityError:
        return [
            email_queue(
                kind=kind, to=to, language=language, context=context, key=key, rendered=(subject, body)
            )
            for to, key in recipients
        ]
    from zairyu.notifications.tasks import outbox_send

    for email in emails:
        enqueue_on_commit(outbox_send, email.pk)
    return emails


def outbox_deliver(*, email_id: int) -> str:
    """Try to send one queued e-mail now. Returns the state it ends in."""
    now = clock.now()
    claimed = OutboundEmail.objects.filter(
        pk=email_id, state=EmailState.QUEUED, next_attempt_at__lte=now
    ).update(state=EmailState.SENDING, claimed_at=now)
    if not claimed:
        # Already sent, being sent by another worker, or not yet due: nothing to do.
        return OutboundEmail.objects.filter(pk=email_id).values_list("state", flat=True).first() or "missing"
    email = OutboundEmail.objects.get(pk=email_id)
    message = EmailMessage(
        subject=email.subject,
        body=email.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={"Auto-Submitted": "auto-generated", "X-Zairyu-Email": str(email.pk)},
    )
    try:
        with get_connection(fail_silently=False) as connection:
            connection.send_messages([message])
    except Exception as exc:  # any delivery failure is retried later; nothing is lost
        attempts = email.attempts + 1
        gave_up = attempts >= settings.OUTBOX_MAX_ATTEMPTS
        OutboundEmail.objects.filter(pk=email.pk, state=EmailState.SENDING).update(
            state=EmailState.FAILED if gave_up else EmailState.QUEUED,
            attempts=attempts,
            next_attempt_at=clock.now() + _retry_delay(attempts),
            claimed_at=None,
            last_error=f"{type(exc).__name__}: {exc}"[:255],
        )
        logger.warning("email %s attempt %s failed (%s)", email.pk, attempts, type(exc).__name__)
        return EmailState.FAILED if gave_up else EmailState.QUEUED
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=EmailState.SENT,
        attempts=email.attempts + 1,
        sent_at=clock.now(),
        claimed_at=None,
        last_error="",
    )
    return EmailState.SENT


def outbox_flush(*, limit: int = 500) -> dict[str, int]:
    """Send every queued e-mail that is due, and return stale claims to the queue.

    Run periodically (Celery beat in production, the in-process scheduler of ``make run``)."""
    now = clock.now()
    stale = now - dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
    reclaimed = OutboundEmail.objects.filter(state=EmailState.SENDING, claimed_at__lt=stale).update(
        state=EmailState.QUEUED, claimed_at=None
    )
    due = list(
        OutboundEmail.objects.filter(state=EmailState.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    results = {"reclaimed": reclaimed, "sent": 0, "queued": 0, "failed": 0}
    for email_id in due:
        state = outbox_deliver(email_id=email_id)
        if state in (EmailState.SENT, EmailState.QUEUED, EmailState.FAILED):
            results[str(state)] += 1
    return results


def outbox_requeue(*, email_id: int) -> None:
    """Give a failed e-mail another round of attempts (an administrator's action)."""
    OutboundEmail.objects.filter(pk=email_id, state=EmailState.FAILED).update(
        state=EmailState.QUEUED, attempts=0, next_attempt_at=clock.now(), last_error=""
    )
