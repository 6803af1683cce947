"""The local bridge over real HTTP on 127.0.0.1, as a browser page would call it."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from zairyu.jpki.ca import DemoCA
from zairyu.jpki.card import make_bridge_server
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.client import decode_signature
from zairyu.jpki.verify import TrustStore, verify_signature

from .conftest import AUTH_PIN, NOW

ALLOWED = "http://127.0.0.1:8000"
CHALLENGE = bytes(range(100, 132))


@pytest.fixture
def bridge(card_file: Path) -> Iterator[str]:
    server = make_bridge_server(card_file, 0, [ALLOWED, "http://localhost:8000"])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _request(
    url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http://127.0.0.1 only
            status, response_headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, raw = error.code, dict(error.headers), error.read()
    return status, response_headers, json.loads(raw) if raw else None


def _sign(
    base: str, payload: dict[str, Any], origin: str | None = ALLOWED
) -> tuple[int, dict[str, str], Any]:
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = origin
    return _request(f"{base}/sign", method="POST", body=json.dumps(payload).encode(), headers=headers)


def test_status_names_the_card(bridge: str, template_card: CardFile) -> None:
    status, headers, body = _request(f"{bridge}/status", headers={"Origin": ALLOWED})

    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert body["card_id"] == template_card.card_id
    assert body["certificates"]["auth"]["remaining_tries"] == 3
    assert set(body["certificates"]) == {"signing", "auth"}


def test_sign_returns_a_signature_the_server_accepts(bridge: str, ca: DemoCA) -> None:
    status, headers, body = _sign(bridge, {"challenge": CHALLENGE.hex(), "cert": "auth", "pin": AUTH_PIN})

    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    verified = verify_signature(
        certificate_pem=body["certificate"],
        signature=decode_signature(body["signature"]),
        data=CHALLENGE,
        purpose="auth",
        trust=TrustStore.from_directory(ca.directory),
        at=NOW + timedelta(hours=1),
    )
    assert verified.purpose == "auth"


def test_wrong_pin_reports_remaining_tries_then_the_lock(bridge: str) -> None:
    payload = {"challenge": CHALLENGE.hex(), "cert": "auth", "pin": "9999"}
    answers = [_sign(bridge, payload) for _ in range(4)]

    assert [(status, body["error"]) for status, _, body in answers] == [
        (403, "wrong_pin"),
        (403, "wrong_pin"),
        (423, "card_locked"),
        (423, "card_locked"),
    ]
    assert [body.get("remaining") for _, _, body in answers[:2]] == [2, 1]
    assert all("9999" not in json.dumps(body) for _, _, body in answers)


def test_preflight_from_an_allowed_origin_gets_cors_and_private_network_headers(bridge: str) -> None:
    status, headers, _ = _request(
        f"{bridge}/sign",
        method="OPTIONS",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )

    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ALLOWED
    assert headers["Access-Control-Allow-Private-Network"] == "true"
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in headers["Access-Control-Allow-Headers"]


def test_other_origins_get_no_cors_and_cannot_spend_pin_tries(bridge: str, card_file: Path) -> None:
    evil = "https://evil.example"
    status, headers, _ = _request(
        f"{bridge}/sign", method="OPTIONS", headers={"Origin": evil, "Access-Control-Request-Method": "POST"}
    )
    assert status == 403
    assert "Access-Control-Allow-Origin" not in headers

    status, headers, body = _sign(
        bridge, {"challenge": CHALLENGE.hex(), "cert": "auth", "pin": "0000"}, origin=evil
    )
    assert (status, body["error"]) == (403, "origin_not_allowed")
    assert "Access-Control-Allow-Origin" not in headers
    assert CardFile.load(card_file).remaining_tries("auth") == 3


def test_oversized_body_is_refused(bridge: str, card_file: Path) -> None:
    payload = {"challenge": CHALLENGE.hex(), "cert": "auth", "pin": "0000", "padding": "x" * 20_000}
    status, _, body = _sign(bridge, payload)

    assert (status, body["error"]) == (413, "payload_too_large")
    assert CardFile.load(card_file).remaining_tries("auth") == 3


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"challenge": "zz" * 32, "cert": "auth", "pin": AUTH_PIN}, "challenge"),
        ({"challenge": "ab" * 2000, "cert": "auth", "pin": AUTH_PIN}, "challenge"),
        ({"challenge": CHALLENGE.hex(), "cert": "encryption", "pin": AUTH_PIN}, "cert"),
        ({"challenge": CHALLENGE.hex(), "cert": "auth"}, "pin"),
    ],
)
def test_bad_requests_name_the_field(bridge: str, payload: dict[str, Any], field: str) -> None:
    status, _, body = _sign(bridge, payload)
    assert (status, body["error"], body["field"]) == (400, "bad_request", field)


def test_foreign_host_header_is_refused(bridge: str) -> None:
    # What a DNS-rebinding page would send: our address, someone else's name.
    status, _, body = _request(f"{bridge}/status", headers={"Host": "rebind.example:8765"})
    assert (status, body["error"]) == (400, "bad_request")
