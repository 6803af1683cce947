"""The consent page in Chromium: software sends a scrivener to /oauth/authorize/, they sign in
(password and second factor), untick one scope, allow, and their browser lands on the software's
loopback callback with a code — which the Content-Security-Policy of the page must permit."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pyotp
import pytest

from conftest import free_port
from zairyu.accounts.constants import UserKind
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import PASSWORD, active_user
from zairyu.api.models import Authorisation
from zairyu.api.tests.conftest import make_client
from zairyu.core import clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Callback:
    """A tiny HTTP server standing in for the software's loopback redirect target."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's hook name)
                paths.append(self.path)
                body = b"<!doctype html><title>callback</title><p>Received.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Callback:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_scrivener_allows_part_of_the_request_and_returns_to_the_software_with_a_code(page, live_server):
    registered = make_client("Scrivener Desk", redirect="http://127.0.0.1/callback")
    scrivener = active_user(UserKind.U4)
    User.objects.filter(pk=scrivener.pk).update(totp_secret="", totp_confirmed_at=None)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    with Callback() as callback:
        query = {
            "response_type": "code",
            "client_id": registered.client_id,
            "redirect_uri": f"http://127.0.0.1:{callback.port}/callback",  # any port on the loopback
            "scope": "applications:read applications:write bulk",
            "state": "s-42",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page.goto(f"{live_server.url}/oauth/authorize/?{urlencode(query)}")
        page.wait_for_url(re.compile(r"/accounts/sign-in/\?next="))
        page.fill("#id_auth_id", scrivener.auth_id)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/sign-in/code/$"))
        secret = page.get_attribute("[data-totp-secret]", "data-totp-secret")
        page.fill("#id_code", pyotp.TOTP(secret).at(clock.now().timestamp()))
        page.click("main button[type=submit]")

        page.wait_for_url(re.compile(r"/oauth/authorize/\?"))
        assert page.inner_text("[data-item=software]") == "Scrivener Desk"
        assert page.inner_text("[data-item=vendor]").startswith("Test Vendor K.K.")
        assert page.locator("[data-scope] input").count() == 3
        page.uncheck("[data-scope=bulk] input")
        page.check("input[name=days][value='90']")
        page.click("[data-action=allow]")

        page.wait_for_url(re.compile(rf"^http://127\.0\.0\.1:{callback.port}/callback\?"))
        assert "Received." in page.inner_text("body")

    returned = parse_qs(urlsplit(page.url).query)
    assert returned["state"] == ["s-42"] and returned["code"][0]
    assert callback.paths and callback.paths[0].startswith("/callback?")
    authorisation = Authorisation.objects.get(user=scrivener, client=registered.client)
    assert authorisation.scopes == ["applications:read", "applications:write"]
    assert (authorisation.expires_at - authorisation.granted_at).days == 90
