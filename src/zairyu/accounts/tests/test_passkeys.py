"""Passkeys (WebAuthn, ADR 0012): adding, using at the second step, removing; the challenge rules,
the counter (clone) check, the relying party, recovery. A software authenticator signs for real."""

from __future__ import annotations

import datetime as dt
import json

import pyotp
import pytest
import time_machine
from django.test import RequestFactory

from zairyu.accounts.constants import UserKind
from zairyu.accounts.models import User, WebAuthnCredential
from zairyu.accounts.passkeys import address_for_passkeys, relying_party
from zairyu.accounts.tests.conftest import (
    PASSWORD,
    EnglishClient,
    active_user,
    link_from_last_email,
    path_of,
    totp_now,
)
from zairyu.accounts.tests.webauthn_soft import SoftAuthenticator
from zairyu.core import clock
from zairyu.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rp_testserver(settings):
    """The test client's host is ``testserver``; it is the relying party here. The failures these
    tests make must not reach the per-address throttle of the tests that run after them."""
    from django.core.cache import cache

    settings.WEBAUTHN_RP_ID = "testserver"
    settings.LOGIN_IP_FAILURE_LIMIT = 1000
    yield
    cache.clear()


def scrivener(**fields) -> User:
    return active_user(
        UserKind.U4, totp_secret=pyotp.random_base32(), totp_confirmed_at=clock.now(), **fields
    )


def signed_in(user: User, *, staff: bool = False) -> EnglishClient:
    client = EnglishClient()
    prefix = "/staff" if staff else "/accounts"
    response = client.post(f"{prefix}/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
    assert response.status_code == 302, response
    response = client.post(f"{prefix}/sign-in/code/", {"code": totp_now(user)})
    assert response.status_code == 302 and "/sign-in/" not in response.url
    return client


def add_passkey(client, authenticator: SoftAuthenticator, name: str = "laptop", *, staff: bool = False):
    base = "/staff/security/passkeys" if staff else "/accounts/profile/passkeys"
    options = client.post(f"{base}/options/").json()
    return client.post(f"{base}/add/", {"name": name, "credential": authenticator.create(options)})


def to_second_step(user: User, client=None, *, staff: bool = False) -> EnglishClient:
    client = client or EnglishClient()
    prefix = "/staff" if staff else "/accounts"
    response = client.post(f"{prefix}/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
    assert response.url == f"{prefix}/sign-in/code/"
    return client


def passkey_options(client, *, staff: bool = False) -> dict:
    prefix = "/staff" if staff else "/accounts"
    response = client.post(f"{prefix}/sign-in/passkey/options/")
    assert response.status_code == 200, response.content
    return response.json()


def answer(client, credential: str, *, staff: bool = False):
    prefix = "/staff" if staff else "/accounts"
    return client.post(f"{prefix}/sign-in/passkey/", {"credential": credential})


def message_texts(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_a_scrivener_adds_a_passkey_and_signs_in_with_it_instead_of_the_code():
    user = scrivener()
    client = signed_in(user)
    key = SoftAuthenticator()
    assert add_passkey(client, key, "office laptop").url == "/accounts/profile/"
    passkey = WebAuthnCredential.objects.get(user=user)
    assert passkey.name == "office laptop" and passkey.credential_id == key.id
    assert AuditEvent.objects.filter(action="accounts.passkey_registered", target_id=str(user.pk)).exists()
    profile = client.get("/accounts/profile/").content.decode()
    assert "office laptop" in profile and "Not used yet" in profile and "passkeys.js" in profile

    client.post("/accounts/sign-out/")
    client = to_second_step(user)
    page = client.get("/accounts/sign-in/code/").content.decode()
    assert 'data-passkey="sign-in"' in page and 'name="code"' in page  # either one
    assert client.get("/accounts/").status_code == 302  # not signed in before the second step
    options = passkey_options(client)
    assert options["rpId"] == "testserver"
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    response = answer(client, key.get(options))
    assert response.status_code == 302 and response.url == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    passkey.refresh_from_db()
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert AuditEvent.objects.filter(action="accounts.passkey_used", target_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(
        action="accounts.signed_in", target_id=str(user.pk), details__second_factor="passkey"
    ).exists()


def test_several_passkeys_per_account_and_one_authenticator_only_once():
    user = scrivener()
    client = signed_in(user)
    first, second = SoftAuthenticator(), SoftAuthenticator()
    add_passkey(client, first, "phone")
    add_passkey(client, second, "security key")
    options = client.post("/accounts/profile/passkeys/options/").json()
    assert {c["id"] for c in options["excludeCredentials"]} == {first.id, second.id}
    again = add_passkey(client, first, "phone again")
    assert "already registered" in " ".join(message_texts(again))
    assert list(WebAuthnCredential.objects.filter(user=user).values_list("name", flat=True)) == [
        "phone",
        "security key",
    ]
    # The second one signs in as well.
    client.post("/accounts/sign-out/")
    client = to_second_step(user)
    assert answer(client, second.get(passkey_options(client))).url == "/accounts/"


def test_a_passkey_challenge_is_single_use_bound_to_the_session_and_expires(settings):
    user = scrivener()
    key = SoftAuthenticator()
    add_passkey(signed_in(user), key)

    client = to_second_step(user)
    used = key.get(passkey_options(client))
    assert answer(client, used).url == "/accounts/"
    replay = to_second_step(user)
    assert answer(replay, used).url == "/accounts/sign-in/code/"  # the challenge was used
    assert replay.get("/accounts/").status_code == 302

    mine, thief = to_second_step(user), to_second_step(user)
    stolen = key.get(passkey_options(mine))
    assert answer(thief, stolen).url == "/accounts/sign-in/code/"  # issued to another session
    assert thief.get("/accounts/").status_code == 302

    settings.WEBAUTHN_CHALLENGE_SECONDS = 60
    late = to_second_step(user)
    options = passkey_options(late)
    with time_machine.travel(clock.now() + dt.timedelta(seconds=61)):  # the sign-in is still pending
        assert answer(late, key.get(options)).url == "/accounts/sign-in/code/"
        assert answer(late, key.get(passkey_options(late))).url == "/accounts/"  # a fresh one works
    refused = AuditEvent.objects.filter(action="accounts.passkey_refused", details__reason="challenge")
    assert refused.count() == 3


def test_a_counter_that_goes_back_is_refused_and_audited_as_a_possible_clone():
    user = scrivener()
    key = SoftAuthenticator()
    add_passkey(signed_in(user), key)
    client = to_second_step(user)
    assert answer(client, key.get(passkey_options(client), counter=7)).url == "/accounts/"

    clone = to_second_step(user)
    response = answer(clone, key.get(passkey_options(clone), counter=3))
    assert response.url == "/accounts/sign-in/code/"
    assert clone.get("/accounts/").status_code == 302
    event = AuditEvent.objects.get(action="accounts.passkey_clone_suspected")
    assert event.details["stored"] == 7 and event.details["received"] == 3
    assert WebAuthnCredential.objects.get(user=user).sign_count == 7


def test_answers_from_another_origin_another_key_or_a_bad_signature_are_refused():
    user = scrivener()
    key = SoftAuthenticator()
    add_passkey(signed_in(user), key)
    phishing = to_second_step(user)
    assert answer(phishing, key.get(passkey_options(phishing), origin="https://zairyu.example.evil")).url == (
        "/accounts/sign-in/code/"
    )
    stranger = to_second_step(user)
    assert (
        answer(stranger, SoftAuthenticator().get(passkey_options(stranger))).url == "/accounts/sign-in/code/"
    )
    forged = to_second_step(user)
    credential = json.loads(key.get(passkey_options(forged)))
    credential["response"]["signature"] = credential["response"]["signature"][::-1]
    assert answer(forged, json.dumps(credential)).url == "/accounts/sign-in/code/"
    garbage = to_second_step(user)
    assert answer(garbage, "{not json").url == "/accounts/sign-in/code/"
    reasons = list(
        AuditEvent.objects.filter(action="accounts.passkey_refused")
        .order_by("pk")
        .values_list("details__reason", flat=True)
    )
    assert reasons == ["invalid", "unknown_credential", "invalid", "malformed"]
    user.refresh_from_db()
    assert user.failed_logins == 4  # each counts like a wrong code


def test_failed_passkey_answers_lock_the_account_like_wrong_codes():
    user = scrivener()
    key = SoftAuthenticator()
    add_passkey(signed_in(user), key)
    for _ in range(5):
        client = to_second_step(user)
        answer(client, SoftAuthenticator().get(passkey_options(client)))
    user.refresh_from_db()
    assert user.is_locked()
    assert AuditEvent.objects.filter(action="accounts.locked", target_id=str(user.pk)).count() == 1
    # While locked, neither the password nor the passkey gets in.
    response = EnglishClient().post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
    assert response.status_code == 200


def test_removing_a_passkey_needs_the_password_and_is_audited():
    user = scrivener()
    client = signed_in(user)
    add_passkey(client, SoftAuthenticator())
    passkey = WebAuthnCredential.objects.get(user=user)
    wrong = client.post(f"/accounts/profile/passkeys/{passkey.pk}/remove/", {"password": "not my password"})
    assert "password is not correct" in " ".join(message_texts(wrong))
    empty = client.post(f"/accounts/profile/passkeys/{passkey.pk}/remove/", {})
    assert "Enter your password" in " ".join(message_texts(empty))
    assert WebAuthnCredential.objects.filter(pk=passkey.pk).exists()

    other = scrivener()
    other_client = signed_in(other)
    response = other_client.post(f"/accounts/profile/passkeys/{passkey.pk}/remove/", {"password": PASSWORD})
    assert "not registered to your account" in " ".join(message_texts(response))

    assert (
        client.post(f"/accounts/profile/passkeys/{passkey.pk}/remove/", {"password": PASSWORD}).status_code
        == 302
    )
    assert not WebAuthnCredential.objects.filter(pk=passkey.pk).exists()
    assert AuditEvent.objects.filter(
        action="accounts.passkey_removed", target_id=str(user.pk), details__passkey=passkey.pk
    ).exists()


def test_an_account_that_needs_a_second_factor_keeps_its_last_one():
    from zairyu.accounts import services

    user = active_user(UserKind.U5)  # must use a second factor; here a passkey only
    key = SoftAuthenticator()
    WebAuthnCredential.objects.create(user=user, name="only", credential_id=key.id, public_key=b"x")
    with pytest.raises(services.AccountError) as refused:
        services.passkey_remove(user=user, passkey_id=user.passkeys.get().pk, password=PASSWORD)
    assert refused.value.code == "last_factor"


def test_a_window_applicant_with_a_passkey_is_asked_for_it_and_not_for_an_app():
    user = active_user(UserKind.U8)  # no second factor required
    client = EnglishClient()
    assert (
        client.post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD}).url == "/accounts/"
    )
    key = SoftAuthenticator()
    add_passkey(client, key)
    client.post("/accounts/sign-out/")
    client = to_second_step(user)
    page = client.get("/accounts/sign-in/code/")
    assert not page.context["enrolling"] and not page.context["code_accepted"]
    assert 'name="code"' not in page.content.decode()
    assert client.post("/accounts/sign-in/code/", {"code": "123456"}).status_code == 200  # no code here
    assert client.get("/accounts/").status_code == 302
    assert answer(client, key.get(passkey_options(client))).url == "/accounts/"


def test_an_officer_adds_a_passkey_and_signs_in_with_it_on_the_staff_pages():
    officer = active_user(
        UserKind.OFFICER,
        office="tokyo",
        role="reviewer",
        totp_secret=pyotp.random_base32(),
        totp_confirmed_at=clock.now(),
    )
    client = signed_in(officer, staff=True)
    assert "/staff/security/" in client.get("/staff/").content.decode()
    key = SoftAuthenticator()
    assert add_passkey(client, key, "desk key", staff=True).url == "/staff/security/"
    assert "desk key" in client.get("/staff/security/").content.decode()
    client.post("/staff/sign-out/")

    # The applicants' second step does not serve a pending officer sign-in.
    client = to_second_step(officer, staff=True)
    assert client.post("/accounts/sign-in/passkey/options/").status_code == 400
    response = answer(client, key.get(passkey_options(client, staff=True)), staff=True)
    assert response.url == "/staff/"
    assert client.get("/staff/").status_code == 200
    passkey = WebAuthnCredential.objects.get(user=officer)
    assert client.post(f"/staff/security/passkeys/{passkey.pk}/remove/", {"password": PASSWORD}).url == (
        "/staff/security/"
    )
    assert not WebAuthnCredential.objects.filter(user=officer).exists()


def test_a_password_reset_keeps_the_passkeys_and_the_authenticator_app(django_capture_on_commit_callbacks):
    user = scrivener()
    key = SoftAuthenticator()
    add_passkey(signed_in(user), key)
    with django_capture_on_commit_callbacks(execute=True):
        EnglishClient().post("/accounts/password/forgot/", {"auth_id": user.auth_id, "email": user.email})
        new = "a brand new long password"
        EnglishClient().post(
            path_of(link_from_last_email("password_reset_link", to=user.email)),
            {"password": new, "password_again": new},
        )
    user.refresh_from_db()
    assert user.has_totp and WebAuthnCredential.objects.filter(user=user).count() == 1
    client = EnglishClient()
    assert client.post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": new}).url == (
        "/accounts/sign-in/code/"
    )  # a reset link alone does not get past the second step


def test_the_relying_party_comes_from_the_site_url_and_localhost_stands_in_for_an_ip(settings):
    factory = RequestFactory()
    settings.WEBAUTHN_RP_ID = ""
    settings.SITE_URL = "http://127.0.0.1:8000"
    on_ip = factory.get("/accounts/profile/", HTTP_HOST="127.0.0.1:8000")
    assert relying_party(on_ip) is None  # an RP ID cannot be an IP address …
    assert address_for_passkeys(on_ip) == "http://localhost:8000/accounts/profile/"  # … so use localhost
    on_localhost = factory.get("/", HTTP_HOST="localhost:8123")
    rp = relying_party(on_localhost)
    assert rp.id == "localhost" and rp.origins == ("http://localhost:8123",)  # any port in development

    settings.PRODUCTION = True
    settings.SITE_URL = "https://zairyu.example"
    settings.ALLOWED_HOSTS = ["zairyu.example", "www.zairyu.example"]
    rp = relying_party(factory.get("/", HTTP_HOST="zairyu.example", secure=True))
    assert rp.id == "zairyu.example" and rp.origins == ("https://zairyu.example",)
    settings.WEBAUTHN_RP_ID = "zairyu.example"
    settings.SITE_URL = "https://www.zairyu.example"
    rp = relying_party(factory.get("/", HTTP_HOST="www.zairyu.example", secure=True))
    assert rp.id == "zairyu.example" and rp.origins == ("https://www.zairyu.example",)


def test_at_an_address_without_passkeys_the_page_says_where_they_work(settings):
    settings.WEBAUTHN_RP_ID = ""
    settings.SITE_URL = "http://127.0.0.1:8000"
    user = scrivener()
    client = EnglishClient(HTTP_HOST="127.0.0.1:8000")
    client.force_login(user)
    session = client.session
    session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
    session.save()
    page = client.get("/accounts/profile/").content.decode()
    assert "Passkeys work only at http://localhost:8000/accounts/profile/" in page
    refused = client.post("/accounts/profile/passkeys/options/")
    assert refused.status_code == 400 and "localhost:8000" in refused.json()["message"]


def test_the_pages_tell_a_browser_without_passkeys_so():
    user = scrivener()
    page = signed_in(user).get("/accounts/profile/").content.decode()
    assert "Passkeys need JavaScript and a browser that supports them." in page
    assert "data-unsupported=" in page
    assert "<script>" not in page and "style=" not in page  # strict CSP: nothing inline


def test_adding_and_removing_a_passkey_is_told_to_the_user_by_email(django_capture_on_commit_callbacks):
    from zairyu.notifications.models import OutboundEmail

    user = scrivener()
    client = signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        add_passkey(client, SoftAuthenticator(), "tablet")
        passkey = WebAuthnCredential.objects.get(user=user)
        client.post(f"/accounts/profile/passkeys/{passkey.pk}/remove/", {"password": PASSWORD})
    added = OutboundEmail.objects.get(kind="passkey_added", to=user.email)
    removed = OutboundEmail.objects.get(kind="passkey_removed", to=user.email)
    assert '"tablet"' in added.body and '"tablet"' in removed.body


def test_a_supervisor_removes_the_lost_second_factor_of_an_account(django_capture_on_commit_callbacks):
    from zairyu.notifications.models import OutboundEmail

    user = scrivener()
    add_passkey(signed_in(user), SoftAuthenticator())
    reviewer = active_user(UserKind.OFFICER, office="tokyo", role="reviewer")
    supervisor = active_user(UserKind.OFFICER, office="tokyo", role="supervisor")
    data = {"factor-auth_id": user.auth_id_display, "factor-confirm": "on"}
    for officer in (reviewer, supervisor):
        client = EnglishClient()
        client.force_login(officer)
        session = client.session
        session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
        session.save()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/staff/second-factor-reset/", data)
        if officer is reviewer:
            assert response.status_code == 403
            assert WebAuthnCredential.objects.filter(user=user).exists()
    assert response.url == "/staff/"
    user.refresh_from_db()
    assert not user.has_totp and not WebAuthnCredential.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="accounts.second_factor_reset", target_id=str(user.pk))
    assert event.actor == supervisor and event.details == {"totp": True, "passkeys": 1}
    assert OutboundEmail.objects.filter(kind="second_factor_reset", to=user.email).count() == 1
    # The next sign-in sets up a new authenticator app.
    client = to_second_step(user)
    assert client.get("/accounts/sign-in/code/").context["enrolling"]


def test_a_registration_answer_counts_once_and_only_from_our_origin():
    user = scrivener()
    client = signed_in(user)
    key = SoftAuthenticator()
    options = client.post("/accounts/profile/passkeys/options/").json()
    assert (
        options["rp"]["id"] == "testserver"
        and options["authenticatorSelection"]["residentKey"] == "preferred"
    )
    phished = client.post(
        "/accounts/profile/passkeys/add/",
        {"name": "x", "credential": key.create(options, origin="https://zairyu.example.evil")},
    )
    assert "could not be added" in " ".join(message_texts(phished))
    replay = client.post("/accounts/profile/passkeys/add/", {"name": "x", "credential": key.create(options)})
    assert "could not be added" in " ".join(message_texts(replay))  # that challenge is used up
    # A sign-in challenge does not register a key either.
    other = scrivener()
    add_passkey(signed_in(other), SoftAuthenticator())
    pending = to_second_step(other)
    sign_in_options = passkey_options(pending)
    fake = {"rp": {"id": "testserver"}, "challenge": sign_in_options["challenge"]}
    assert "could not be added" in " ".join(
        message_texts(
            client.post("/accounts/profile/passkeys/add/", {"name": "x", "credential": key.create(fake)})
        )
    )
    assert not WebAuthnCredential.objects.filter(user=user).exists()
    reasons = list(
        AuditEvent.objects.filter(action="accounts.passkey_refused", details__step="register")
        .order_by("pk")
        .values_list("details__reason", flat=True)
    )
    assert reasons == ["invalid", "challenge", "challenge"]
