"""The bridge allows, by default, the origins of the Zairyu server that started it (any port)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from zairyu.jpki.bridge import DEFAULT_ALLOWED_ORIGINS, bridge_command, default_allowed_origins
from zairyu.jpki.card import _parser, make_bridge_server


def test_without_environment_the_port_8000_origins():
    assert default_allowed_origins({}) == list(DEFAULT_ALLOWED_ORIGINS)


def test_the_port_of_the_server_gives_both_loopback_origins():
    assert default_allowed_origins({"PORT": "18801"}) == ["http://127.0.0.1:18801", "http://localhost:18801"]


def test_the_site_address_is_allowed_with_its_loopback_twin():
    origins = default_allowed_origins({"ZAIRYU_SITE_URL": "http://localhost:18801/", "PORT": "18801"})
    assert origins == ["http://127.0.0.1:18801", "http://localhost:18801"]
    assert default_allowed_origins({"ZAIRYU_SITE_URL": "https://Zairyu.example/app"}) == [
        "https://zairyu.example"
    ]


def test_the_banner_command_names_the_origin():
    assert bridge_command("http://127.0.0.1:18801/") == (
        ".venv/bin/python -m zairyu.jpki.card bridge --card CARD_FILE --allow-origin http://127.0.0.1:18801"
    )
    args = _parser().parse_args(bridge_command("http://127.0.0.1:18801").split()[3:])
    assert args.allow_origins == ["http://127.0.0.1:18801"]


@pytest.mark.parametrize("origin", ["http://127.0.0.1:18801", "http://localhost:18801"])
def test_a_bridge_started_beside_a_server_on_another_port_answers_its_pages(
    card_file: Path, monkeypatch, origin
):
    monkeypatch.setenv("PORT", "18801")
    monkeypatch.delenv("ZAIRYU_SITE_URL", raising=False)
    server = make_bridge_server(card_file, 0, default_allowed_origins())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for page, allowed in ((origin, True), ("http://127.0.0.1:8000", False)):
            request = urllib.request.Request(f"{base}/status", headers={"Origin": page})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                    status, headers = response.status, response.headers
            except urllib.error.HTTPError as error:
                status, headers = error.code, error.headers
                assert json.loads(error.read())["error"] == "origin_not_allowed"
            assert (status == 200) is allowed
            assert (headers.get("Access-Control-Allow-Origin") == page) is allowed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_page_says_which_command_starts_a_bridge_for_its_own_origin():
    root = Path(__file__).resolve().parents[2]
    template = (root / "accounts/templates/accounts/_card_reader.html").read_text()
    script = (root / "static/zairyu/js/card.js").read_text()
    assert 'data-bridge-command="python -m zairyu.jpki.card bridge --card YOUR.card.json"' in template
    assert '" --allow-origin " + window.location.origin' in script
    assert "<script>" not in template  # CSP: no inline script
