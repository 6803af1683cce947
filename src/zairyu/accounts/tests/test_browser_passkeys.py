"""Browser journeys with a passkey (Playwright on Debian's Chromium, with Chromium's virtual
authenticator through CDP): a scrivener and an officer add a passkey, sign in with it as the second
step, and remove it."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import expect

from zairyu.accounts.constants import UserKind
from zairyu.accounts.models import WebAuthnCredential
from zairyu.accounts.tests.conftest import PASSWORD, active_user
from zairyu.core import clock
from zairyu.core.models import AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, live_server):
    settings.SITE_URL = live_server.url  # http://localhost:PORT: the RP ID is "localhost"
    settings.WEBAUTHN_RP_ID = ""
    return live_server.url


@pytest.fixture
def authenticator(page):
    """A platform authenticator with user verification, as a phone or laptop has."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    yield cdp, added["authenticatorId"]
    cdp.send("WebAuthn.disable")


def code_of(secret: str, *, step: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(clock.now().timestamp() + step * totp.interval)


def sign_in_with_password(page, site, user, *, staff: bool):
    page.goto(f"{site}/staff/sign-in/" if staff else f"{site}/accounts/sign-in/")
    page.fill("#id_auth_id", user.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))


def journey(page, site, authenticator, user, *, staff: bool):
    cdp, authenticator_id = authenticator
    home = r"/staff/$" if staff else r"/accounts/$"
    security = f"{site}/staff/security/" if staff else f"{site}/accounts/profile/"

    sign_in_with_password(page, site, user, staff=staff)
    assert page.locator("[data-passkey]").count() == 0  # no passkey yet: the code only
    page.fill("#id_code", code_of(user.totp_secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(home))

    page.goto(security)
    expect(page.locator("[data-passkey=register] form")).to_be_visible()
    page.click("[data-passkey-start]")  # no name yet: the page asks for one
    expect(page.locator("[data-passkey=register] [data-passkey-status]")).to_contain_text("name")
    page.fill("#id_name", "virtual laptop")
    page.click("[data-passkey-start]")
    expect(page.locator("[data-passkey-name]")).to_have_text("virtual laptop")
    expect(page.locator("[data-message=success]")).to_contain_text("virtual laptop")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})["credentials"]
    assert len(credentials) == 1
    assert WebAuthnCredential.objects.filter(user=user).count() == 1

    page.click("[data-action=sign-out]")
    sign_in_with_password(page, site, user, staff=staff)
    expect(page.locator("[data-passkey=sign-in] form")).to_be_visible()
    page.click("[data-passkey-start]")
    page.wait_for_url(re.compile(home))
    passkey = WebAuthnCredential.objects.get(user=user)
    assert passkey.last_used_at is not None
    assert AuditEvent.objects.filter(action="accounts.passkey_used", target_id=str(user.pk)).exists()

    page.goto(security)
    row = page.locator(f"[data-passkey-row='{passkey.pk}']")
    row.locator("input[type=password]").fill(PASSWORD)
    row.locator("[data-passkey-remove]").click()
    expect(page.locator("[data-passkey-none]")).to_be_visible()
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="accounts.passkey_removed", target_id=str(user.pk)).exists()


def test_a_scrivener_adds_a_passkey_signs_in_with_it_and_removes_it(page, site, authenticator):
    scrivener = active_user(UserKind.U4, totp_secret=pyotp.random_base32(), totp_confirmed_at=clock.now())
    journey(page, site, authenticator, scrivener, staff=False)


def test_an_officer_adds_a_passkey_signs_in_with_it_and_removes_it(page, site, authenticator):
    officer = active_user(
        UserKind.OFFICER,
        office="osaka",
        role="reviewer",
        totp_secret=pyotp.random_base32(),
        totp_confirmed_at=clock.now(),
    )
    journey(page, site, authenticator, officer, staff=True)


def test_a_browser_without_passkeys_is_told_so(page, site):
    page.add_init_script("delete window.PublicKeyCredential;")
    user = active_user(UserKind.U8)
    page.goto(f"{site}/accounts/sign-in/")
    page.fill("#id_auth_id", user.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/$"))
    page.goto(f"{site}/accounts/profile/")
    expect(page.locator("[data-passkey=register] [data-passkey-status]")).to_contain_text(
        "This browser cannot use passkeys"
    )
    expect(page.locator("[data-passkey=register] form")).to_be_hidden()
