"""U1–U3: registration and sign-in with the My Number Card (JPKI simulation), end to end."""

import datetime as dt

import pytest

from zairyu.accounts.constants import UserState
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import (
    PASSWORD,
    card_answer,
    link_from_last_email,
    make_card,
    path_of,
    register_with_card,
)
from zairyu.accounts.tests.conftest import EnglishClient as Client
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def errors_of(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_a_foreign_national_registers_with_the_card_sets_a_password_and_signs_in(
    card, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = register_with_card(client, card)
    assert response.status_code == 302 and response.url == "/accounts/register/done/"
    user = User.objects.get(card_id=card.card_id)
    assert (user.kind, user.state, user.full_name, user.sex) == (
        "U1",
        UserState.PENDING,
        "NGUYEN VAN AN",
        "M",
    )
    assert user.date_of_birth == dt.date(1995, 4, 1)
    assert (user.prefecture, user.municipality) == ("13", "新宿区")
    assert user.valid_until == card.certificate("signing").not_valid_after_utc.astimezone(clock.JST).date()

    done = client.get("/accounts/register/done/")
    assert user.auth_id_display in done.content.decode()
    assert user.auth_id_display not in client.get("/accounts/register/done/").content.decode()  # shown once

    link = link_from_last_email("set_password_link")
    assert OutboundEmail.objects.filter(kind="set_password_link", to="an@example.com").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path_of(link), {"password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/sign-in/card/"
    user.refresh_from_db()
    assert user.state == UserState.ACTIVE and user.check_password(PASSWORD)
    assert OutboundEmail.objects.filter(kind="registration_complete", to="an@example.com").count() == 1
    assert client.get(path_of(link)).status_code == 410  # the link works once

    page = client.get("/accounts/sign-in/card/")
    nonce = page.context["challenge"]
    answer = card_answer(card, cert="auth", nonce=nonce, purpose="sign_in")
    response = client.post(
        "/accounts/sign-in/card/",
        {"auth_id": user.auth_id_display.lower(), "password": PASSWORD, "challenge": nonce, **answer},
    )
    assert response.status_code == 302 and response.url == "/accounts/"
    home = client.get("/accounts/")
    assert home.status_code == 200 and 'data-user-kind="U1"' in home.content.decode()


def test_the_card_answer_can_also_be_pasted_from_the_card_program(card):
    import json

    client = Client()
    nonce = client.get("/accounts/register/card/U1/").context["challenge"]
    pasted = json.dumps(card_answer(card, cert="signing", nonce=nonce, purpose="register"))
    response = client.post("/accounts/register/card/U1/", {"challenge": nonce, "card_response": pasted})
    assert response.status_code == 302


def test_a_replayed_challenge_is_refused(card):
    client = Client()
    nonce = client.get("/accounts/register/card/U1/").context["challenge"]
    answer = card_answer(card, cert="signing", nonce=nonce, purpose="register")
    assert client.post("/accounts/register/card/U1/", {"challenge": nonce, **answer}).status_code == 302
    replay = client.post("/accounts/register/card/U1/", {"challenge": nonce, **answer})
    assert replay.status_code == 200 and "stale or was used already" in errors_of(replay)
    other_browser = Client()
    other_browser.get("/accounts/register/card/U1/")
    nonce2 = client.get("/accounts/register/card/U1/").context["challenge"]
    stolen = card_answer(card, cert="signing", nonce=nonce2, purpose="register")
    response = other_browser.post("/accounts/register/card/U1/", {"challenge": nonce2, **stolen})
    assert "stale or was used already" in errors_of(response)  # bound to the session that asked for it


def test_an_expired_challenge_is_refused(card):
    import time_machine

    client = Client()
    nonce = client.get("/accounts/register/card/U1/").context["challenge"]
    answer = card_answer(card, cert="signing", nonce=nonce, purpose="register")
    with time_machine.travel(clock.now() + dt.timedelta(minutes=6)):
        response = client.post("/accounts/register/card/U1/", {"challenge": nonce, **answer})
    assert "stale or was used already" in errors_of(response)


@pytest.mark.parametrize("problem", ["revoked", "expired", "foreign", "wrong_certificate", "other_data"])
def test_signatures_that_must_not_register(problem, jpki, tmp_path, tmp_path_factory):
    from zairyu.jpki.demo import ensure_demo_ca

    today = clock.today()
    if problem == "revoked":
        card = make_card(jpki, tmp_path)
        jpki.revoke(card.card_id)
    elif problem == "expired":
        card = make_card(
            jpki,
            tmp_path,
            valid_from=today - dt.timedelta(days=400),
            valid_until=today - dt.timedelta(days=1),
        )
    elif problem == "foreign":
        card = make_card(ensure_demo_ca(tmp_path_factory.mktemp("foreign-ca")), tmp_path)
    else:
        card = make_card(jpki, tmp_path)
    client = Client()
    nonce = client.get("/accounts/register/card/U1/").context["challenge"]
    if problem == "wrong_certificate":
        answer = card_answer(card, cert="auth", nonce=nonce, purpose="register")
    elif problem == "other_data":
        answer = card_answer(card, cert="signing", nonce=nonce, purpose="sign_in")
    else:
        answer = card_answer(card, cert="signing", nonce=nonce, purpose="register")
    response = client.post("/accounts/register/card/U1/", {"challenge": nonce, **answer})
    assert response.status_code == 200
    expected = {
        "revoked": "revoked",
        "expired": "has expired",
        "foreign": "not issued by the authority we trust",
        "wrong_certificate": "wrong certificate",
        "other_data": "signature does not match",
    }[problem]
    assert expected in errors_of(response)
    assert not User.objects.exists()


def test_one_card_registers_once_per_user_category(card):
    assert register_with_card(Client(), card, "U1").status_code == 302
    again = register_with_card(Client(), card, "U1")
    assert again.status_code == 200 and "already registered in this user category" in errors_of(again)
    as_relative = register_with_card(Client(), card, "U3", relation="spouse")
    assert as_relative.status_code == 302
    assert sorted(User.objects.filter(card_id=card.card_id).values_list("kind", flat=True)) == ["U1", "U3"]


def test_a_relative_must_say_how_they_stand_to_the_applicant(card):
    response = register_with_card(Client(), card, "U3")
    assert response.status_code == 200 and "relation" in response.context["form"].errors


def test_card_sign_in_needs_the_registered_card_and_the_password(
    card, jpki, tmp_path, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        register_with_card(client, card)
        client.post(
            path_of(link_from_last_email("set_password_link")),
            {"password": PASSWORD, "password_again": PASSWORD},
        )
    user = User.objects.get(card_id=card.card_id)
    other_card = make_card(jpki, tmp_path, name="OTHER PERSON")

    def attempt(with_card, password):
        page = Client()
        nonce = page.get("/accounts/sign-in/card/").context["challenge"]
        answer = card_answer(with_card, cert="auth", nonce=nonce, purpose="sign_in")
        return page.post(
            "/accounts/sign-in/card/",
            {"auth_id": user.auth_id, "password": password, "challenge": nonce, **answer},
        )

    assert attempt(other_card, PASSWORD).status_code == 200
    assert attempt(card, "wrong password 123").status_code == 200
    assert attempt(card, PASSWORD).status_code == 302
    # Without the card, ID and password alone do not sign a U1 in while the card is valid …
    password_only = Client().post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
    assert password_only.status_code == 200
    # … but do once its certificate has expired, to follow up what was filed.
    User.objects.filter(pk=user.pk).update(valid_until=clock.today() - dt.timedelta(days=1))
    follow_up = Client()
    response = follow_up.post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
    assert response.status_code == 302
    assert "follow up applications you filed" in follow_up.get("/accounts/").content.decode()
