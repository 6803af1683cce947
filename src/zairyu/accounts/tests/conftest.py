"""Fixtures for the accounts tests: a demo JPKI authority, cards, and helpers that drive the pages."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pyotp
import pytest
from django.test import Client

from zairyu.accounts.cards import _trust_store
from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import challenge_bytes
from zairyu.jpki.ca import DemoCA
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.demo import ensure_demo_ca, issue_demo_card
from zairyu.jpki.profile import BasicFourItems
from zairyu.notifications.models import OutboundEmail

SIGNING_PIN, AUTH_PIN = "ZAIRYU2026", "1234"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def ca_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("jpki")
    ensure_demo_ca(directory)
    return directory


@pytest.fixture
def jpki(settings, ca_dir) -> DemoCA:
    settings.JPKI_DIR = ca_dir
    _trust_store.cache_clear()
    yield DemoCA.load(ca_dir)
    _trust_store.cache_clear()


_counter = iter(range(1, 10_000))


def make_card(ca: DemoCA, directory, *, name="NGUYEN VAN AN", valid_from=None, valid_until=None) -> CardFile:
    from zairyu.core import clock

    today = clock.today()
    path = issue_demo_card(
        ca,
        holder=BasicFourItems(
            name=name, sex="M", date_of_birth=dt.date(1995, 4, 1), address="東京都新宿区西新宿2-8-1"
        ),
        directory=directory,
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id=f"TESTCARD{next(_counter):06d}{abs(hash(str(directory))) % 10000:04d}",
        valid_from=valid_from or today - dt.timedelta(days=30),
        valid_until=valid_until or today + dt.timedelta(days=3 * 365),
    )
    return CardFile.load(path)


@pytest.fixture
def card(jpki, tmp_path) -> CardFile:
    return make_card(jpki, tmp_path)


def card_answer(card: CardFile, *, cert: str, nonce: str, purpose: str) -> dict[str, str]:
    pin = SIGNING_PIN if cert == "signing" else AUTH_PIN
    signature = card.sign(which=cert, pin=pin, data=challenge_bytes(nonce=nonce, purpose=purpose))
    return {"certificate": card.certificate_pem(cert), "signature": base64.b64encode(signature).decode()}


def register_with_card(client: Client, card: CardFile, kind: str = "U1", **details):
    page = client.get(f"/accounts/register/card/{kind}/")
    nonce = page.context["challenge"]
    answer = card_answer(card, cert="signing", nonce=nonce, purpose="register")
    response = client.post(f"/accounts/register/card/{kind}/", {"challenge": nonce, **answer})
    if response.status_code != 302:
        return response
    data = {
        "email": "an@example.com",
        "email_again": "an@example.com",
        "prefecture": "13",
        "municipality": "新宿区",
        "address_rest": "西新宿2-8-1",
        "language": "en",
        **details,
    }
    return client.post(f"/accounts/register/card/{kind}/details/", data)


def link_from_last_email(kind: str, to: str | None = None) -> str:
    emails = OutboundEmail.objects.filter(kind=kind)
    if to:
        emails = emails.filter(to=to)
    body = emails.latest("id").body
    return re.search(r"https?://\S+", body).group(0)


def path_of(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def active_user(kind: str = UserKind.U8, *, password: str = PASSWORD, **fields) -> User:
    from zairyu.accounts.services import auth_id_generate

    values = {"email": "user@example.com", "full_name": "TEST USER", "language": "en", **fields}
    user = User(username=auth_id_generate(), kind=kind, state=UserState.ACTIVE, **values)
    user.set_password(password)
    user.save()
    return user


def totp_now(user: User, *, offset_steps: int = 0) -> str:
    user.refresh_from_db()
    totp = pyotp.TOTP(user.totp_secret)
    from zairyu.core import clock

    return totp.at(clock.now().timestamp() + offset_steps * totp.interval)


@pytest.fixture(autouse=True)
def english():
    """These tests read messages in English: the pages are asked in English, and lazy texts are
    rendered in English in the test body."""
    from django.utils import translation

    with translation.override("en"):
        yield


class EnglishClient(Client):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        super().__init__(*args, **kwargs)
