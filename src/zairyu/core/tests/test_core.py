import datetime as dt
import logging

import pytest
import time_machine

from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.logging import RedactPersonalDataFilter, redact
from zairyu.core.models import AuditEvent


def test_clock_is_in_japan_standard_time_and_tests_can_move_it():
    # 2026-03-31 15:30 UTC is already 1 April in Japan: "today" must say so.
    with time_machine.travel(dt.datetime(2026, 3, 31, 15, 30, tzinfo=dt.UTC), tick=False):
        assert clock.today() == dt.date(2026, 4, 1)
        assert clock.now().utcoffset() == dt.timedelta(hours=9)
        assert clock.start_of_day(clock.today()).isoformat() == "2026-04-01T00:00:00+09:00"


@pytest.mark.django_db
def test_audit_record_names_actor_action_object_and_address(django_user_model):
    officer = django_user_model.objects.create_user(username="officer", is_staff=True)
    event = audit_record(
        action="registry.viewed", actor=officer, target=officer, ip="203.0.113.5", details={"n": 1}
    )
    event.refresh_from_db()
    assert event.actor == officer and event.actor_kind == AuditEvent.ActorKind.OFFICER
    assert (event.target_type, event.target_id) == ("accounts.user", str(officer.pk))
    assert event.ip == "203.0.113.5" and event.details == {"n": 1}
    system = audit_record(action="outbox.flushed")
    assert system.actor is None and system.actor_kind == AuditEvent.ActorKind.SYSTEM


def test_personal_data_is_masked_in_log_records(caplog):
    assert redact("card AB12345678CD for taro@example.jp, tel 03-1234-5678, no 123456789012") == (
        "card [card-number] for [email], tel [phone], no [number]"
    )
    logger = logging.getLogger("zairyu.test.redaction")
    logger.addFilter(RedactPersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="zairyu.test.redaction"):
        logger.info("lookup of %s failed", "AB12345678CD")
    assert "AB12345678CD" not in caplog.text and "[card-number]" in caplog.text


@pytest.mark.django_db
def test_every_response_carries_the_security_headers(client):
    response = client.get("/healthz")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_throttle_counts_within_a_window_on_redis(redis_url, settings):
    import uuid

    from django.core.cache import cache

    from zairyu.core.net import throttle_exceeded, throttle_hit

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    key = uuid.uuid4().hex
    assert [throttle_hit(scope="t", key=key, limit=2, window_seconds=5) for _ in range(3)] == [
        True,
        True,
        False,
    ]
    assert throttle_exceeded(scope="t", key=key, limit=2)
    raw = cache.make_and_validate_key(f"throttle:t:{key}")
    assert 0 < cache._cache.get_client(raw).ttl(raw) <= 5  # the window closes by itself
