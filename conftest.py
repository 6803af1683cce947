"""Shared test fixtures: real services when present, a plain message when they are not."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

REQUIRE_SERVICES = os.environ.get("ZAIRYU_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with a plain reason — or fail, in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (ZAIRYU_REQUIRE_SERVICES=1: this must run in CI)")
    pytest.skip(reason)


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def postgres_only(db) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL: run with ZAIRYU_DATABASE_URL=postgres://… (as .ci/run does)")


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("ZAIRYU_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    if not _reachable(url):
        skip_or_fail(f"needs Redis at {url}")
    return url


@pytest.fixture
def clamd(settings) -> str:
    """A running clamd that knows the EICAR test signature (``scripts/clamd_ci.sh start``; .ci/run
    starts it), made the site's scanner for this test. Returns its address."""
    from zairyu.documents.scanning import clamd_ping

    url = os.environ.get("ZAIRYU_TEST_CLAMD") or "tcp://127.0.0.1:3310"
    if not clamd_ping(url):
        skip_or_fail(f"needs clamd at {url} (scripts/clamd_ci.sh start; .ci/run starts it)")
    settings.CLAMD = url
    settings.SCAN_FAIL_CLOSED = False
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingSMTPHandler:
    """An SMTP server's handler that refuses the first ``fail_first`` messages with a 451."""

    def __init__(self) -> None:
        self.fail_first = 0
        self.messages: list[object] = []
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.refused < self.fail_first:
            self.refused += 1
            return "451 4.3.0 Temporary failure, try again later"
        self.messages.append(envelope)
        return "250 2.0.0 OK"


@pytest.fixture
def smtp_server(settings) -> Iterator[RecordingSMTPHandler]:
    """A real SMTP server on localhost (aiosmtpd); Django's SMTP backend is pointed at it."""
    from aiosmtpd.controller import Controller

    handler = RecordingSMTPHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    handler.port = port  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        controller.stop()


CHROMIUM = os.environ.get("ZAIRYU_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not os.path.exists(CHROMIUM):
        skip_or_fail(f"needs Chromium at {CHROMIUM} (apt-get install chromium; .ci/run installs it)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(params=["desktop", "phone"])
def page(request, chromium):
    viewport = DESKTOP if request.param == "desktop" else PHONE
    context = chromium.new_context(viewport=viewport, locale="en-US", is_mobile=request.param == "phone")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _audit_context_per_test():
    """The API names its client in audit records through a context variable that the request
    middleware scopes to each request; tests that call the API's authentication directly must not
    leave it set for the next test on this worker."""
    from zairyu.core.audit import _via

    token = _via.set(None)
    yield
    _via.reset(token)
