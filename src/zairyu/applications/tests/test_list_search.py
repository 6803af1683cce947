"""The applicant's search of their applications: a POST kept in the session, then a redirect, so a
name never travels in an address (access logs, browser history, Referer)."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.applications.views.applicant import SEARCH_SESSION_KEY

pytestmark = pytest.mark.django_db

NAME, OTHER = "TRAN THI LAN", "NGUYEN VAN AN"
CARD = "AB12345678CD"


def _application(user, name: str, *, state=ApplicationState.SUBMITTED, receipt_number="", days_ago=1):
    from zairyu.core import clock

    return Application.objects.create(
        filer=user,
        user_category=user.kind,
        procedure="P3",
        status="student",
        group="1",
        applicant_name=name,
        state=state,
        receipt_number=receipt_number,
        receipt_date=clock.today() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def filer():
    return active_user(UserKind.U4, email="agent@example.com")


def _listed(response) -> set[str]:
    return set(re.findall(r'data-application="([0-9a-f-]+)"', response.content.decode()))


def _addresses(response) -> list[str]:
    return [url for url, _status in response.redirect_chain] + [response.request["PATH_INFO"]]


def test_the_search_is_a_post_and_redirects_to_an_address_without_it(filer):
    lan = _application(filer, NAME)
    an = _application(filer, OTHER)
    client = signed_in_client(filer)
    page = client.get("/applications/").content.decode()
    form = re.search(r"<form[^>]*data-search[^>]*>(.*?)</form>", page, re.S)
    assert form and 'method="post"' in form.group(0) and "csrfmiddlewaretoken" in form.group(1)

    for typed in ("tran thi", CARD):
        response = client.post("/applications/", {"q": typed}, follow=True)
        assert response.redirect_chain == [("/applications/", 302)]
        for address in _addresses(response):
            assert not urlsplit(address).query
            assert typed.lower() not in address.lower() and "TRAN" not in address
    response = client.post("/applications/", {"q": "tran thi"}, follow=True)
    assert _listed(response) == {str(lan.public_id)}
    assert client.session[SEARCH_SESSION_KEY] == {"q": "tran thi"}
    # The search stays while the user goes back to the list; the form shows it.
    again = client.get("/applications/")
    assert _listed(again) == {str(lan.public_id)}
    assert 'value="tran thi"' in again.content.decode()
    assert str(an.public_id) not in again.content.decode()


def test_a_search_in_the_query_string_is_not_taken(filer):
    """Nobody gets used to addresses with names in them: ``?q=`` filters nothing."""
    _application(filer, NAME)
    _application(filer, OTHER)
    client = signed_in_client(filer)
    assert len(_listed(client.get("/applications/", {"q": NAME}))) == 2


def test_filters_that_are_not_personal_work_too(filer):
    submitted = _application(filer, NAME, days_ago=10)
    draft = _application(filer, OTHER, state=ApplicationState.DRAFT, days_ago=2)
    client = signed_in_client(filer)
    response = client.post("/applications/", {"state": ApplicationState.DRAFT}, follow=True)
    assert _listed(response) == {str(draft.public_id)}
    from zairyu.core import clock

    since = (clock.today() - dt.timedelta(days=5)).isoformat()
    response = client.post("/applications/", {"submitted_to": since}, follow=True)
    assert response.redirect_chain == [("/applications/", 302)]
    assert _listed(response) == {str(submitted.public_id)}


def test_pages_keep_the_search_and_carry_only_the_page_number(filer):
    matching = {str(_application(filer, f"{NAME} {n}").public_id) for n in range(30)}
    for n in range(5):
        _application(filer, f"{OTHER} {n}")
    client = signed_in_client(filer)
    first = client.post("/applications/", {"q": NAME}, follow=True)
    links = re.findall(r'href="(\?[^"]*)"', first.content.decode())
    assert links == ["?page=2"]
    second = client.get("/applications/?page=2")
    assert len(_listed(first)) == 25 and len(_listed(second)) == 5
    assert _listed(first) | _listed(second) == matching


def test_clearing_the_search_shows_everything_again(filer):
    _application(filer, NAME)
    _application(filer, OTHER)
    client = signed_in_client(filer)
    assert len(_listed(client.post("/applications/", {"q": NAME}, follow=True))) == 1
    assert 'name="clear"' in client.get("/applications/").content.decode()
    response = client.post("/applications/", {"q": NAME, "clear": "1"}, follow=True)
    assert response.redirect_chain == [("/applications/", 302)]
    assert len(_listed(response)) == 2
    assert SEARCH_SESSION_KEY not in client.session
    assert 'name="clear"' not in response.content.decode()


def test_a_wrong_value_is_shown_without_a_redirect(filer):
    _application(filer, NAME)
    client = signed_in_client(filer)
    response = client.post("/applications/", {"q": NAME, "submitted_from": "not a date"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    assert SEARCH_SESSION_KEY not in client.session


def test_the_search_needs_the_csrf_token(filer):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(filer)
    assert client.post("/applications/", {"q": NAME}).status_code == 403


def test_one_users_search_is_not_anothers(filer):
    mine = _application(filer, NAME)
    other_user = active_user(UserKind.U4, email="other@example.com")
    theirs = _application(other_user, NAME)
    client = signed_in_client(filer)
    response = client.post("/applications/", {"q": NAME}, follow=True)
    assert _listed(response) == {str(mine.public_id)}
    assert str(theirs.public_id) not in response.content.decode()
    assert len(_listed(signed_in_client(other_user).get("/applications/"))) == 1
