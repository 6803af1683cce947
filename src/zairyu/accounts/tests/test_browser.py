"""Browser journeys (Playwright on Debian's Chromium): U1 registration with the card bridge, U4
registration with a second factor, and an officer's sign-in. Desktop and phone-sized."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pyotp
import pytest
from playwright.sync_api import expect

from conftest import free_port
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import AUTH_PIN, PASSWORD, SIGNING_PIN, make_card
from zairyu.core import clock
from zairyu.jpki.bridge import make_bridge_server
from zairyu.notifications.models import OutboundEmail
from zairyu.registry.tests.factories import AgentCertificateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def set_password_link(to: str) -> str:
    body = OutboundEmail.objects.filter(kind="set_password_link", to=to).latest("id").body
    return re.search(r"https?://\S+", body).group(0)


@pytest.fixture
def card_bridge(settings, live_server, tmp_path_factory, jpki):
    card = make_card(jpki, tmp_path_factory.mktemp("cards"), name="TRAN THI MAI")
    port = free_port()
    server = make_bridge_server(card.path, port=port, allowed_origins=[live_server.url])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CARD_BRIDGE_URL = f"http://127.0.0.1:{port}"
    yield card
    server.shutdown()
    server.server_close()


@pytest.fixture
def site(settings, live_server):
    settings.SITE_URL = live_server.url
    return live_server.url


def test_u1_registers_with_the_card_bridge_and_signs_in_with_card_id_and_password(page, site, card_bridge):
    page.goto(f"{site}/accounts/register/")
    page.click("[data-register=U1]")
    page.fill("#card-pin", SIGNING_PIN)
    page.click("#card-read")
    expect(page.locator("#card-certificate")).not_to_have_value("")
    page.click("#card-submit")
    page.wait_for_url(re.compile(r"/details/$"))
    assert page.text_content("[data-item=name]") == "TRAN THI MAI"
    page.select_option("#id_prefecture", "13")
    page.fill("#id_municipality", "新宿区")
    page.fill("#id_address_rest", "西新宿2-8-1")
    page.fill("#id_email", "mai@example.com")
    page.fill("#id_email_again", "mai@example.com")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/register/done/$"))
    auth_id = page.get_attribute("[data-auth-id]", "data-auth-id")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", auth_id)

    page.goto(set_password_link("mai@example.com"))
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/sign-in/card/$"))

    page.fill("#id_auth_id", auth_id)
    page.fill("#id_password", PASSWORD)
    page.fill("#card-pin", AUTH_PIN)
    page.click("#card-submit")  # the page reads the card first, then submits
    page.wait_for_url(re.compile(r"/accounts/$"))
    assert page.get_attribute("[data-user-kind]", "data-user-kind") == "U1"
    assert User.objects.get(card_id=card_bridge.card_id).state == "active"

    page.click("[data-action=sign-out]")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{site}/accounts/")
    assert "/accounts/sign-in/" in page.url


def test_a_wrong_pin_is_reported_by_the_page(page, site, card_bridge):
    page.goto(f"{site}/accounts/register/card/U1/")
    page.fill("#card-pin", "WRONG1PIN")
    page.click("#card-read")
    expect(page.locator("#card-status")).to_contain_text("could not be read")
    assert "could not be read" in page.text_content("#card-status")
    assert page.input_value("#card-certificate") == ""


def test_u4_registers_with_the_agent_number_and_sets_up_a_second_factor(page, site):
    certificate = AgentCertificateFactory(
        holder_kind="lawyer", expires_on=clock.today() + dt.timedelta(days=500)
    )
    page.goto(f"{site}/accounts/register/")
    page.click("[data-register=U4]")
    page.fill("#id_number", certificate.number)
    page.fill("#id_holder_name", certificate.holder_name)
    page.fill("#id_expires_on", certificate.expires_on.isoformat())
    page.fill("#id_email", "lawyer@example.com")
    page.fill("#id_email_again", "lawyer@example.com")
    page.select_option("#id_language", "en")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/register/done/$"))
    auth_id = page.get_attribute("[data-auth-id]", "data-auth-id")

    page.goto(set_password_link("lawyer@example.com"))
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/sign-in/$"))
    page.fill("#id_auth_id", auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))
    secret = page.get_attribute("[data-totp-secret]", "data-totp-secret")
    assert page.is_visible("img.qr")
    page.fill("#id_code", pyotp.TOTP(secret).at(clock.now().timestamp()))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/$"))
    assert page.get_attribute("[data-user-kind]", "data-user-kind") == "U4"


def test_an_officer_signs_in_with_a_second_factor(page, site):
    from zairyu.accounts.tests.conftest import active_user

    officer = active_user(
        "officer",
        office="osaka",
        role="reviewer",
        totp_secret=pyotp.random_base32(),
        totp_confirmed_at=clock.now(),
    )
    page.goto(f"{site}/staff/sign-in/")
    page.fill("#id_auth_id", officer.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/sign-in/code/$"))
    page.fill("#id_code", pyotp.TOTP(officer.totp_secret).at(clock.now().timestamp()))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/$"))
    assert page.get_attribute("[data-office]", "data-office") == "osaka"
