"""First use without traps: the site address follows the port, a favicon, the card bridge command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from zairyu.site.management.commands import serve

REPO = Path(__file__).resolve().parents[4]


def _site_url_in_a_fresh_process(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "ZAIRYU_SITE_URL")}
    environ.update(env, DJANGO_SETTINGS_MODULE="zairyu.config.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], env=environ, cwd=REPO, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_site_address_follows_the_port_make_run_exports():
    assert _site_url_in_a_fresh_process(PORT="18801") == "http://127.0.0.1:18801"
    assert _site_url_in_a_fresh_process() == "http://127.0.0.1:8000"
    explicit = _site_url_in_a_fresh_process(PORT="18801", ZAIRYU_SITE_URL="https://zairyu.example")
    assert explicit == "https://zairyu.example"


@pytest.fixture
def no_runserver(monkeypatch):
    calls = []
    monkeypatch.setattr(serve, "call_command", lambda *args, **kwargs: calls.append(args))
    # No scheduler thread left behind: it would run the periodic tasks for the rest of the run.
    monkeypatch.setattr(serve, "start_in_process_scheduler", lambda: None)
    monkeypatch.delenv("RUN_MAIN", raising=False)
    monkeypatch.setenv("PORT", "8000")  # restored after the test: serve sets it
    return calls


def test_serve_on_another_port_uses_it_for_links_and_prints_the_bridge_command(
    no_runserver, monkeypatch, settings, capsys
):
    monkeypatch.delenv("ZAIRYU_SITE_URL", raising=False)
    settings.SITE_URL = "http://127.0.0.1:8000"
    call_command("serve", "--port", "18801", "--noreload")
    assert settings.SITE_URL == "http://127.0.0.1:18801"
    assert os.environ["PORT"] == "18801"  # for the reloader's child, which reads the settings afresh
    assert no_runserver == [("runserver", "127.0.0.1:18801")]
    out = capsys.readouterr().out
    assert "bridge --card CARD_FILE --allow-origin http://127.0.0.1:18801" in out


def test_serve_keeps_an_explicit_site_address(no_runserver, monkeypatch, settings):
    monkeypatch.setenv("ZAIRYU_SITE_URL", "https://zairyu.example")
    settings.SITE_URL = "https://zairyu.example"
    call_command("serve", "--port", "18801", "--noreload")
    assert settings.SITE_URL == "https://zairyu.example"


@pytest.mark.django_db
def test_there_is_a_favicon_and_every_page_links_it(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")
    assert '<link rel="icon" href="/static/zairyu/favicon.svg"' in client.get("/").content.decode()
    svg = (REPO / "src/zairyu/static/zairyu/favicon.svg").read_text()
    assert svg.startswith("<svg") and len(svg) < 2000
