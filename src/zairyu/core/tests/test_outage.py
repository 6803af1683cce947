"""Redis, the task broker or the database not answering: a clear 503 (the site's page in the
user's language, or an RFC 9457 problem for the API) with ``Retry-After``, never a bare 500.

Every outage here is real: the service is pointed at a local port where nothing listens."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connections
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from conftest import free_port
from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import PASSWORD, active_user
from zairyu.api.tests.conftest import api_caller
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core.outage import RETRY_AFTER_SECONDS

pytestmark = pytest.mark.django_db

EMAIL = "tanaka.hanako@example.com"


def stop_redis(settings) -> None:
    """The cache and the sessions on Redis, as settings.py builds them for ZAIRYU_REDIS_URL, with
    nothing listening at the address."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def redis_down(settings):
    stop_redis(settings)


@pytest.fixture
def database_down():
    """The default database replaced by a PostgreSQL at a port where nothing listens."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    original = connections["default"]
    unreachable = DatabaseWrapper(
        {
            **original.settings_dict,
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "zairyu",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "OPTIONS": {"connect_timeout": 2},
            "CONN_HEALTH_CHECKS": False,
        },
        alias="default",
    )

    def down() -> None:
        connections["default"] = unreachable

    yield down
    connections["default"] = original


@pytest.fixture
def broker_down(settings):
    """Celery publishing to a Redis broker at a port where nothing listens (not in-process)."""
    from zairyu.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "task_always_eager", "broker_transport_options")}
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{free_port()}/0",
        task_always_eager=False,
        broker_transport_options={"socket_connect_timeout": 1, "max_retries": 1},
    )
    app._pool = app.amqp._producer_pool = None  # connect anew, to the new address
    yield
    app.conf.update(saved)
    app._pool = app.amqp._producer_pool = None


def assert_outage_page(response, language: str) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Language"] == language
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert "/static/zairyu/css/zairyu.css" in html  # the site's look
    assert 'data-error="503"' in html
    return html


def assert_outage_problem(response) -> dict:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == 503 and body["code"] == "unavailable"
    assert body["type"] == "/api/v1/docs/problems#unavailable"
    assert body["instance"] == response.wsgi_request.path
    return body


# --- Redis ------------------------------------------------------------------------------------


def test_signing_in_while_redis_is_down_shows_the_503_page_in_japanese(redis_down, caplog):
    user = active_user(UserKind.U8, email=EMAIL)
    client = Client()
    with caplog.at_level(logging.ERROR, logger="zairyu.outage"):
        response = client.post("/accounts/sign-in/", {"auth_id": user.username, "password": PASSWORD})
    html = assert_outage_page(response, "ja")
    assert "在留" in html  # the site's name in Japanese
    with translation.override("ja"):
        for text in ("The service is briefly unavailable", "Please try again in a few minutes."):
            assert gettext(text) in html
    records = [r for r in caplog.records if r.name == "zairyu.outage"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "redis.exceptions.ConnectionError" in message and "accounts:sign-in" in message
    assert user.username not in message and PASSWORD not in message and EMAIL not in message


def test_the_503_page_is_in_english_for_an_english_reader(redis_down):
    user = active_user(UserKind.U8, email=EMAIL)
    client = Client()
    client.cookies["zairyu_lang"] = "en"
    response = client.post("/accounts/sign-in/", {"auth_id": user.username, "password": PASSWORD})
    html = assert_outage_page(response, "en")
    assert "The service is briefly unavailable" in html
    assert "Nothing you entered and saved before is lost." in html
    assert "Please try again in a few minutes." in html


def test_a_public_page_on_the_cache_answers_503(redis_down):
    response = Client().get("/public/ecoe/ABCD-EFGH-JKLM/")
    assert_outage_page(response, "ja")


def test_a_signed_in_page_while_redis_is_down_is_the_503_page(settings, caplog):
    """The session is read in a middleware (Django's cached-database sessions put what they read
    from the database back into the cache): Django makes a 500 of it, which is replaced."""
    user = active_user(UserKind.U4, email=EMAIL)
    client = signed_in_client(user)  # signed in before the outage
    client.raise_request_exception = False  # the test client would re-raise what Django caught
    stop_redis(settings)
    client.handler.load_middleware()  # the session middleware reads its engine when it is set up
    with caplog.at_level(logging.ERROR, logger="zairyu.outage"):
        response = client.get("/applications/")
    html = assert_outage_page(response, "en")  # the signed-in test client asks in English
    assert "The service is briefly unavailable" in html
    assert "redis.exceptions.ConnectionError" in caplog.text


def test_an_api_call_while_redis_is_down_is_a_503_problem(redis_down):
    user = active_user(UserKind.U4, email=EMAIL)
    caller = api_caller(user)  # the token is issued before the outage
    body = assert_outage_problem(caller.get("/api/v1/applications"))
    assert body["title"] == "The service is briefly unavailable; try again in a few minutes."
    assert "Idempotency-Key" in body["detail"]
    japanese = api_caller(user, language="ja").get("/api/v1/applications")
    assert japanese["Content-Language"] == "ja"
    with translation.override("ja"):
        title = gettext("The service is briefly unavailable; try again in a few minutes.")
    assert assert_outage_problem(japanese)["title"] == title


# --- the database -----------------------------------------------------------------------------


def test_a_signed_in_page_while_the_database_is_down_is_the_503_page(database_down, caplog):
    """The session is read in a middleware here: Django makes a 500 of it, which is replaced."""
    user = active_user(UserKind.U4, email=EMAIL)
    client = signed_in_client(user)
    client.raise_request_exception = False  # the test client would re-raise what Django caught
    database_down()
    with caplog.at_level(logging.ERROR, logger="zairyu.outage"):
        response = client.get("/applications/")
    html = assert_outage_page(response, "en")  # the signed-in test client asks in English
    assert "The service is briefly unavailable" in html
    assert "django.db.utils.OperationalError" in caplog.text


def test_an_api_call_while_the_database_is_down_is_a_503_problem(database_down):
    caller = api_caller(active_user(UserKind.U4, email=EMAIL))
    database_down()
    assert_outage_problem(caller.get("/api/v1/applications"))


def test_the_oauth_token_endpoint_while_the_database_is_down_is_a_503_problem(database_down):
    from zairyu.api.tests.conftest import make_client

    client_id = make_client().client.client_id
    database_down()
    response = Client().post(
        "/oauth/token/", {"grant_type": "authorization_code", "code": "x", "client_id": client_id}
    )
    assert assert_outage_problem(response)["error"] == "temporarily_unavailable"


# --- the task broker --------------------------------------------------------------------------


def test_a_form_that_queues_work_while_the_broker_is_down_still_succeeds_and_loses_nothing(
    broker_down, settings, caplog
):
    """Work is queued after the commit (``core.tasks.enqueue_on_commit``), and only from forms:
    with the broker down the person's request still succeeds, the e-mail waits in the outbox
    and the outbox job sends it once the broker is back. No page that only shows something
    queues work (bulk/tests/test_reads_only.py)."""
    from zairyu.notifications.constants import EmailState
    from zairyu.notifications.models import OutboundEmail

    settings.CELERY_TASK_EAGER_PROPAGATES = False  # as in production
    user = active_user(UserKind.U4, email=EMAIL)
    client = Client()
    client.cookies["zairyu_lang"] = "en"
    with caplog.at_level(logging.ERROR):
        response = client.post("/accounts/password/forgot/", {"auth_id": user.auth_id, "email": user.email})
    assert response.status_code == 200
    email = OutboundEmail.objects.get(to=user.email)
    assert email.state == EmailState.QUEUED  # the job sends it later
    assert user.auth_id not in caplog.text and user.email not in caplog.text


# --- anything else is still a 500 --------------------------------------------------------------


def test_other_errors_are_the_branded_500_page(monkeypatch):
    from zairyu.site import views

    def broken(request):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "get_catalogue", lambda: broken(None))
    client = Client(raise_request_exception=False)
    response = client.get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-error="500"' in html and "/static/zairyu/css/zairyu.css" in html
    assert re.search(r'<html lang="ja">', html)
    assert "Retry-After" not in response
