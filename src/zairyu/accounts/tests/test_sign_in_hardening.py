"""Sign-in that cannot be worn down (F-15, ASVS V6): second-factor failures count until a sign-in
completes, every refusal costs one password hash, the TOTP key stays put while it is set up."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from zairyu.accounts import services
from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import PASSWORD, EnglishClient, active_user, totp_now
from zairyu.core import clock
from zairyu.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_address_throttle(settings):
    """These tests are about the account's own count, not the per-address throttle (whose count,
    kept in the cache, must not reach the tests that run after these)."""
    from django.core.cache import cache

    settings.LOGIN_IP_FAILURE_LIMIT = 1000
    yield
    cache.clear()


def sign_in(client, auth_id, password=PASSWORD):
    return client.post("/accounts/sign-in/", {"auth_id": auth_id, "password": password})


def with_app(kind=UserKind.U4) -> User:
    return active_user(kind, totp_secret=pyotp.random_base32(), totp_confirmed_at=clock.now())


# --- 1. second-factor failures count until the sign-in completes ------------------------------


def test_the_right_password_with_wrong_codes_ends_in_a_lock_out():
    """A stolen password must not buy endless guesses at the code: password, wrong code, again."""
    user = with_app()
    client = EnglishClient()
    for _ in range(20):
        if sign_in(client, user.auth_id).status_code == 302:
            client.post("/accounts/sign-in/code/", {"code": "000000"})
    user.refresh_from_db()
    assert user.is_locked()
    assert AuditEvent.objects.filter(action="accounts.locked", target_id=str(user.pk)).count() == 1
    # Locked: the right password and the right code are refused too.
    right = EnglishClient()
    assert sign_in(right, user.auth_id).status_code == 200
    assert right.post("/accounts/sign-in/code/", {"code": totp_now(user)}).status_code == 302
    assert right.get("/accounts/").status_code == 302
    assert not services.totp_verify(user=user, code=totp_now(user, offset_steps=1))


def test_a_lock_out_during_the_code_step_stops_the_pending_sign_in():
    user = with_app()
    client = EnglishClient()
    sign_in(client, user.auth_id)
    User.objects.filter(pk=user.pk).update(failed_logins=4)
    client.post("/accounts/sign-in/code/", {"code": "000000"})
    user.refresh_from_db()
    assert user.is_locked()
    assert client.post("/accounts/sign-in/code/", {"code": totp_now(user)}).status_code == 200
    assert client.get("/accounts/").status_code == 302


def test_the_failure_count_is_reset_only_when_the_whole_sign_in_succeeds():
    user = with_app()
    for _ in range(2):
        sign_in(EnglishClient(), user.auth_id, "wrong password!!")
    client = EnglishClient()
    assert sign_in(client, user.auth_id).status_code == 302
    client.post("/accounts/sign-in/code/", {"code": "000000"})
    user.refresh_from_db()
    assert user.failed_logins == 3  # the right password did not reset it
    assert AuditEvent.objects.filter(action="accounts.password_accepted", target_id=str(user.pk)).exists()
    assert not AuditEvent.objects.filter(action="accounts.signed_in", target_id=str(user.pk)).exists()
    assert client.post("/accounts/sign-in/code/", {"code": totp_now(user)}).url == "/accounts/"
    user.refresh_from_db()
    assert user.failed_logins == 0 and user.last_login is not None
    assert AuditEvent.objects.filter(
        action="accounts.signed_in", target_id=str(user.pk), details__second_factor="totp"
    ).exists()


def test_without_a_second_factor_the_right_password_completes_the_sign_in():
    user = active_user(UserKind.U8)
    sign_in(EnglishClient(), user.auth_id, "wrong password!!")
    assert sign_in(EnglishClient(), user.auth_id).url == "/accounts/"
    user.refresh_from_db()
    assert user.failed_logins == 0


def test_an_officer_on_the_applicants_page_is_refused_without_a_sign_in_recorded():
    applicant = active_user(UserKind.U8)
    response = EnglishClient().post("/staff/sign-in/", {"auth_id": applicant.auth_id, "password": PASSWORD})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action="accounts.signed_in", target_id=str(applicant.pk)).exists()
    assert AuditEvent.objects.filter(
        action="accounts.sign_in_failed", target_id=str(applicant.pk), details__reason="other_side"
    ).exists()


# --- 2. every refusal costs the same password-hashing work -------------------------------------


class CountingHasher(MD5PasswordHasher):
    """The test hasher, counting how often a password is hashed (made or checked)."""

    calls = 0

    def encode(self, password, salt):
        CountingHasher.calls += 1
        return super().encode(password, salt)


def _locked():
    user = active_user()
    User.objects.filter(pk=user.pk).update(locked_until=clock.now() + dt.timedelta(hours=3))
    return user.auth_id


def _in_state(state):
    def make():
        user = active_user()
        User.objects.filter(pk=user.pk).update(state=state)
        return user.auth_id

    return make


def _without_password(state):
    def make():
        user = active_user()
        user.set_unusable_password()
        user.state = state
        user.save()
        return user.auth_id

    return make


REFUSALS = {
    "wrong_password": lambda: active_user().auth_id,
    "unknown_id": lambda: "NOSUCHID2345",
    "locked": _locked,
    "suspended": _in_state(UserState.SUSPENDED),
    "pending_without_password": _without_password(UserState.PENDING),
    "removed": _without_password(UserState.REMOVED),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_costs_one_password_hash(settings, case):
    """Timing must not tell an unknown ID, a locked or inactive account and a wrong password apart:
    each refusal runs the configured hasher exactly once (benchmarks/bench_sign_in_timing.py
    measures it with Argon2)."""
    settings.PASSWORD_HASHERS = ["zairyu.accounts.tests.test_sign_in_hardening.CountingHasher"]
    auth_id = REFUSALS[case]()
    password = "wrong password!!" if case == "wrong_password" else PASSWORD
    CountingHasher.calls = 0
    with pytest.raises(services.SignInRefused):
        services.sign_in_verify(auth_id=auth_id, password=password, card_id=None)
    assert CountingHasher.calls == 1


# --- 4. the TOTP key stays the same while it is set up ----------------------------------------


def _enrolment_page(client):
    page = client.get("/accounts/sign-in/code/")
    assert page.context["enrolling"]
    return page.context["secret"]


def test_the_totp_key_stays_the_same_through_reloads_wrong_codes_and_a_new_sign_in():
    user = active_user(UserKind.U4)
    client = EnglishClient()
    sign_in(client, user.auth_id)
    key = _enrolment_page(client)
    assert _enrolment_page(client) == key  # reload
    wrong = client.post("/accounts/sign-in/code/", {"code": "000000"})
    assert wrong.status_code == 200 and wrong.context["secret"] == key  # a wrong code
    assert _enrolment_page(client) == key

    later = EnglishClient()  # the user comes back after installing the app
    sign_in(later, user.auth_id)
    assert _enrolment_page(later) == key
    code = pyotp.TOTP(key).at(clock.now().timestamp())
    assert later.post("/accounts/sign-in/code/", {"code": code}).url == "/accounts/"
    user.refresh_from_db()
    assert user.has_totp and user.totp_secret == key


def test_a_new_totp_key_only_when_the_user_asks_for_one():
    user = active_user(UserKind.U4)
    client = EnglishClient()
    sign_in(client, user.auth_id)
    old = _enrolment_page(client)
    response = client.post("/accounts/sign-in/code/", {"new_key": "1"})
    assert response.status_code == 302 and response.url == "/accounts/sign-in/code/"
    new = _enrolment_page(client)
    assert new != old
    assert AuditEvent.objects.filter(action="accounts.totp_key_renewed", target_id=str(user.pk)).exists()
    stale = pyotp.TOTP(old).at(clock.now().timestamp())
    assert client.post("/accounts/sign-in/code/", {"code": stale}).status_code == 200
    fresh = pyotp.TOTP(new).at(clock.now().timestamp())
    assert client.post("/accounts/sign-in/code/", {"code": fresh}).url == "/accounts/"


def test_an_active_authenticator_app_is_not_replaced_by_a_new_key():
    user = with_app()
    with pytest.raises(services.AccountError):
        services.totp_begin(user=user, renew=True)
    client = EnglishClient()
    sign_in(client, user.auth_id)
    client.post("/accounts/sign-in/code/", {"new_key": "1"})
    assert User.objects.get(pk=user.pk).totp_secret == user.totp_secret
