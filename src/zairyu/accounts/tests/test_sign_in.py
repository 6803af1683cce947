"""Sign-in protection: lock-out, same answers, throttling, second factor, session lifetime."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from zairyu.accounts.constants import UserKind
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import (
    PASSWORD,
    EnglishClient,
    active_user,
    link_from_last_email,
    path_of,
    totp_now,
)
from zairyu.core import clock
from zairyu.core.models import AuditEvent
from zairyu.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def sign_in(client, auth_id, password=PASSWORD):
    return client.post("/accounts/sign-in/", {"auth_id": auth_id, "password": password})


def refusal(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_five_wrong_passwords_lock_the_account_for_24_hours(django_capture_on_commit_callbacks):
    user = active_user()
    client = EnglishClient()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            assert sign_in(client, user.auth_id, "wrong password!!").status_code == 200
    user.refresh_from_db()
    assert user.is_locked()
    sixth = sign_in(client, user.auth_id)  # the right password, but locked
    assert sixth.status_code == 200
    assert OutboundEmail.objects.filter(kind="account_locked", to=user.email).count() == 1
    assert AuditEvent.objects.filter(action="accounts.locked", target_id=str(user.pk)).count() == 1

    with time_machine.travel(clock.now() + dt.timedelta(hours=23, minutes=59)):
        assert sign_in(EnglishClient(), user.auth_id).status_code == 200
    with time_machine.travel(clock.now() + dt.timedelta(hours=24, seconds=1)):
        assert sign_in(EnglishClient(), user.auth_id).status_code == 302


def test_a_locked_account_a_wrong_password_and_an_unknown_id_get_the_same_answer():
    locked = active_user()
    User.objects.filter(pk=locked.pk).update(locked_until=clock.now() + dt.timedelta(hours=1))
    other = active_user()
    answers = {
        refusal(sign_in(EnglishClient(), locked.auth_id)),
        refusal(sign_in(EnglishClient(), other.auth_id, "not the password")),
        refusal(sign_in(EnglishClient(), "NOSUCHID2345")),
    }
    assert len(answers) == 1
    assert "did not match" in answers.pop()


def test_a_password_reset_by_email_lifts_the_lock(django_capture_on_commit_callbacks):
    user = active_user()
    User.objects.filter(pk=user.pk).update(locked_until=clock.now() + dt.timedelta(hours=20))
    client = EnglishClient()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password/forgot/", {"auth_id": user.auth_id, "email": user.email})
        assert response.status_code == 200
        link = link_from_last_email("password_reset_link", to=user.email)
        new = "a brand new long password"
        assert client.post(path_of(link), {"password": new, "password_again": new}).status_code == 302
    user.refresh_from_db()
    assert not user.is_locked()
    assert sign_in(EnglishClient(), user.auth_id, new).status_code == 302
    assert OutboundEmail.objects.filter(kind="password_changed", to=user.email).count() == 1


def test_forgot_password_answers_the_same_for_unknown_details(django_capture_on_commit_callbacks):
    user = active_user()
    known = EnglishClient().post("/accounts/password/forgot/", {"auth_id": user.auth_id, "email": user.email})
    unknown = EnglishClient().post(
        "/accounts/password/forgot/", {"auth_id": user.auth_id, "email": "x@example.com"}
    )
    assert known.status_code == unknown.status_code == 200
    assert (
        known.content.replace(b"csrf", b"").split(b"<main")[1][:400]
        == unknown.content.replace(b"csrf", b"").split(b"<main")[1][:400]
    )
    assert OutboundEmail.objects.filter(kind="password_reset_link").count() == 1


def test_failures_are_throttled_per_address(settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    user = active_user()
    client = EnglishClient(REMOTE_ADDR="198.51.100.9")
    for n in range(3):
        sign_in(client, f"UNKNOWN{n}XYZAB", "nope nope nope")
    blocked = sign_in(client, user.auth_id)  # even the right password waits
    assert blocked.status_code == 200 and "Too many failed sign-ins" in refusal(blocked)
    assert sign_in(EnglishClient(REMOTE_ADDR="198.51.100.10"), user.auth_id).status_code == 302


def test_a_scrivener_must_set_up_and_then_use_a_second_factor():
    user = active_user(UserKind.U4)
    client = EnglishClient()
    response = sign_in(client, user.auth_id)
    assert response.status_code == 302 and response.url == "/accounts/sign-in/code/"
    page = client.get("/accounts/sign-in/code/")
    assert page.context["enrolling"] and page.context["qr"].startswith("data:image/svg+xml;base64,")
    assert client.get("/accounts/").status_code == 302  # not signed in before the code
    assert client.post("/accounts/sign-in/code/", {"code": "000000"}).status_code == 200
    code = totp_now(user)
    assert client.post("/accounts/sign-in/code/", {"code": code}).url == "/accounts/"
    assert client.get("/accounts/").status_code == 200

    second = EnglishClient()
    sign_in(second, user.auth_id)
    replay = second.post("/accounts/sign-in/code/", {"code": code})
    assert replay.status_code == 200  # a code works once
    with time_machine.travel(clock.now() + dt.timedelta(seconds=31)):
        assert second.post("/accounts/sign-in/code/", {"code": totp_now(user)}).status_code == 302


def test_password_change_ends_every_other_session(django_capture_on_commit_callbacks):
    user = active_user()
    first, second = EnglishClient(), EnglishClient()
    assert sign_in(first, user.auth_id).status_code == 302
    assert sign_in(second, user.auth_id).status_code == 302
    new = "another long password 42"
    with django_capture_on_commit_callbacks(execute=True):
        response = first.post(
            "/accounts/profile/password/", {"old_password": PASSWORD, "password": new, "password_again": new}
        )
    assert response.status_code == 302
    assert first.get("/accounts/").status_code == 200
    assert second.get("/accounts/").status_code == 302
    assert OutboundEmail.objects.filter(kind="password_changed", to=user.email).count() == 1


def test_an_idle_session_ends_after_30_minutes_and_any_session_after_12_hours():
    user = active_user()
    client = EnglishClient()
    sign_in(client, user.auth_id)
    start = clock.now()
    with time_machine.travel(start + dt.timedelta(minutes=29)):
        assert client.get("/accounts/").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=29 + 31)):
        response = client.get("/accounts/")
        assert response.status_code == 302 and response.url.startswith("/accounts/sign-in/?next=")

    client = EnglishClient()
    sign_in(client, user.auth_id)
    start = clock.now()
    for minutes in range(25, 12 * 60, 25):  # active every 25 minutes …
        with time_machine.travel(start + dt.timedelta(minutes=minutes)):
            assert client.get("/accounts/").status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1)):
        assert client.get("/accounts/").status_code == 302  # … but never longer than 12 hours


def test_sign_out_ends_the_session_on_the_server():
    user = active_user()
    client = EnglishClient()
    sign_in(client, user.auth_id)
    session_cookie = client.cookies["zairyu_session"].value
    client.post("/accounts/sign-out/")
    thief = EnglishClient()
    thief.cookies["zairyu_session"] = session_cookie
    assert thief.get("/accounts/").status_code == 302


def test_sign_in_rotates_the_session_key():
    user = active_user()
    client = EnglishClient()
    client.get("/accounts/sign-in/card/")  # creates a session for the challenge
    before = client.cookies["zairyu_session"].value
    sign_in(client, user.auth_id)
    assert client.cookies["zairyu_session"].value != before


def test_officers_sign_in_on_their_own_page_with_a_second_factor(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "create_officer",
            name="SATO HANAKO",
            email="sato@example.go.jp",
            office="tokyo",
            role="supervisor",
        )
        officer = User.objects.get(kind=UserKind.OFFICER)
        client = EnglishClient()
        client.post(
            path_of(link_from_last_email("set_password_link", to="sato@example.go.jp")),
            {"password": PASSWORD, "password_again": PASSWORD},
        )
    assert sign_in(EnglishClient(), officer.auth_id).status_code == 200  # not on the applicants' page
    response = client.post("/staff/sign-in/", {"auth_id": officer.auth_id, "password": PASSWORD})
    assert response.url == "/staff/sign-in/code/"
    client.get("/staff/sign-in/code/")
    assert client.post("/staff/sign-in/code/", {"code": totp_now(officer)}).url == "/staff/"
    home = client.get("/staff/")
    assert home.status_code == 200 and 'data-office="tokyo"' in home.content.decode()
    assert "東オン" in home.content.decode()
    # An applicant cannot open the officer pages.
    applicant = active_user()
    other = EnglishClient()
    sign_in(other, applicant.auth_id)
    assert other.get("/staff/").status_code == 403


def test_a_supervisor_unlocks_an_account():
    locked = active_user()
    User.objects.filter(pk=locked.pk).update(locked_until=clock.now() + dt.timedelta(hours=3))
    supervisor = active_user(UserKind.OFFICER, office="tokyo", role="supervisor")
    client = EnglishClient()
    client.force_login(supervisor)
    session = client.session
    session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
    session.save()
    assert client.post("/staff/unlock/", {"auth_id": locked.auth_id_display}).status_code == 302
    locked.refresh_from_db()
    assert not locked.is_locked()
    assert AuditEvent.objects.filter(action="accounts.unlocked", actor=supervisor).exists()
