import datetime as dt

import pytest
import time_machine
from django.db import transaction

from zairyu.core import clock
from zairyu.notifications.constants import EmailState
from zairyu.notifications.models import OutboundEmail
from zairyu.notifications.services import email_queue, outbox_deliver, outbox_flush, outbox_requeue

CONTEXT = {"title": "Maintenance", "text": "The service stops on Sunday night."}


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_email_queued_in_a_rolled_back_transaction_is_never_sent(smtp_server):
    with pytest.raises(Boom), transaction.atomic():
        email_queue(kind="announcement", to="someone@example.com", context=CONTEXT)
        raise Boom

    assert OutboundEmail.objects.count() == 0
    assert outbox_flush() == {"reclaimed": 0, "sent": 0, "queued": 0, "failed": 0}
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_committed_email_is_sent_once_even_when_the_first_smtp_attempt_fails(smtp_server):
    smtp_server.fail_first = 1
    with transaction.atomic():
        email = email_queue(kind="announcement", to="someone@example.com", context=CONTEXT, language="en")

    # The after-commit task tried at once; the server refused it; the row waits for its retry.
    email.refresh_from_db()
    assert smtp_server.refused == 1 and smtp_server.messages == []
    assert email.state == EmailState.QUEUED and email.attempts == 1
    assert "SMTPDataError" in email.last_error
    assert email.next_attempt_at > clock.now()

    assert outbox_flush()["sent"] == 0  # not yet due

    with time_machine.travel(email.next_attempt_at + dt.timedelta(seconds=1)):
        assert outbox_flush()["sent"] == 1
        assert outbox_flush()["sent"] == 0  # nothing left to send
        assert outbox_deliver(email_id=email.pk) == EmailState.SENT  # a duplicate task does nothing

    email.refresh_from_db()
    assert email.state == EmailState.SENT and email.attempts == 2 and email.sent_at is not None
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["someone@example.com"]
    assert b"Maintenance" in envelope.content


@pytest.mark.django_db(transaction=True)
def test_an_idempotency_key_queues_one_email_however_often_the_job_runs(smtp_server):
    for _ in range(3):
        with transaction.atomic():
            email_queue(kind="announcement", to="a@example.com", context=CONTEXT, key="announce:42:user:7")
    assert OutboundEmail.objects.filter(key="announce:42:user:7").count() == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db
def test_a_claim_left_by_a_killed_worker_is_returned_to_the_queue(
    django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=False):
        email = email_queue(kind="announcement", to="a@example.com", context=CONTEXT)
    OutboundEmail.objects.filter(pk=email.pk).update(state=EmailState.SENDING, claimed_at=clock.now())

    assert outbox_flush()["reclaimed"] == 0  # a fresh claim belongs to a live worker
    later = clock.now() + dt.timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT + 1)
    with time_machine.travel(later):
        result = outbox_flush()
    assert result["reclaimed"] == 1 and result["sent"] == 1
    email.refresh_from_db()
    assert email.state == EmailState.SENT


@pytest.mark.django_db
def test_delivery_gives_up_after_the_configured_attempts_and_can_be_requeued(
    django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    settings.OUTBOX_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=False):
        email = email_queue(kind="announcement", to="a@example.com", context=CONTEXT)
    moment = clock.now()
    for expected in (EmailState.QUEUED, EmailState.QUEUED, EmailState.FAILED):
        with time_machine.travel(moment):
            assert outbox_deliver(email_id=email.pk) == expected
        email.refresh_from_db()
        moment = email.next_attempt_at + dt.timedelta(seconds=1)
    assert email.attempts == 3

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_requeue(email_id=email.pk)
    assert outbox_deliver(email_id=email.pk) == EmailState.SENT


@pytest.mark.django_db
def test_email_is_rendered_in_the_recipients_language(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        english = email_queue(kind="announcement", to="a@example.com", context=CONTEXT, language="en-us")
        japanese = email_queue(kind="announcement", to="b@example.com", context=CONTEXT, language="ja")
    assert english.language == "en" and japanese.language == "ja"
    assert "automatically" in english.body
    assert "automatically" not in japanese.body
    assert english.subject != japanese.subject


@pytest.mark.django_db
def test_one_email_to_several_addresses_is_written_once_per_key_however_often_it_runs():
    from zairyu.notifications.services import email_queue_all

    recipients = [("a@example.com", "news:1:a"), ("b@example.com", "news:1:b")]
    first = email_queue_all(kind="announcement", recipients=recipients, context=CONTEXT)
    assert [e.to for e in first] == ["a@example.com", "b@example.com"] and all(e.pk for e in first)
    assert first[0].body == first[1].body
    again = email_queue_all(
        kind="announcement", recipients=[*recipients, ("c@example.com", "news:1:c")], context=CONTEXT
    )
    assert [e.pk for e in again[:2]] == [e.pk for e in first]  # the keys already queued: the same e-mails
    assert OutboundEmail.objects.filter(key__startswith="news:1:").count() == 3
