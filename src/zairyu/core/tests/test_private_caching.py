"""What is meant for one person is kept in no cache: ``Cache-Control: no-store`` and ``Pragma:
no-cache`` on every answer to a signed-in user (every page the URL configuration has, and detail
pages) and to every API call with a token; public pages, the API's catalogue and static files keep
their own caching."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

from zairyu.accounts.constants import OfficerRole, UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import api_caller, make_client
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.review.tests.factories import officer, submitted

pytestmark = pytest.mark.django_db


def plain_paths() -> list[str]:
    """Every address of the URL configuration that takes no argument."""
    found: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            if not isinstance(entry.pattern, RoutePattern) or "<" in str(entry.pattern):
                continue  # an argument (or a regular expression): reached through fixtures below
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            elif isinstance(entry, URLPattern):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def assert_private(response, what: str) -> None:
    assert "no-store" in response.get("Cache-Control", ""), (what, response.status_code)
    assert response.get("Pragma") == "no-cache", (what, response.status_code)
    assert "public" not in response["Cache-Control"], what


def walk_as(client: Client, extra: list[str] = ()) -> dict[str, int]:
    statuses = {}
    for path in [*plain_paths(), *extra]:
        response = client.get(path)
        assert_private(response, path)
        statuses[path] = response.status_code
    return statuses


def test_the_walk_covers_the_site():
    paths = plain_paths()
    assert len(paths) > 40
    assert {"/applications/", "/accounts/", "/staff/review/", "/api/v1/applications"} <= set(paths)


def test_every_page_of_an_applicant_is_kept_in_no_cache():
    user = active_user(UserKind.U4, email="agent@example.com")
    application = submitted(by=user)
    base = f"/applications/{application.public_id}/"
    client = signed_in_client(user)
    statuses = walk_as(
        client,
        [base, f"{base}manage/", f"{base}application.pdf", f"{base}proof.pdf", f"{base}confirm/"],
    )
    assert statuses["/applications/"] == statuses["/accounts/"] == statuses[base] == 200
    assert client.get("/accounts/").wsgi_request.user == user  # still signed in after the walk


def test_every_page_of_a_window_applicant_is_kept_in_no_cache():
    statuses = walk_as(signed_in_client(active_user(UserKind.U8, email="u8@example.com")))
    assert statuses["/applications/"] == 200


def test_every_page_of_organization_staff_is_kept_in_no_cache():
    from zairyu.organizations.tests.factories import staff_member

    walk_as(signed_in_client(staff_member(email="hr@example.com")))


@pytest.mark.parametrize("role", [OfficerRole.REVIEWER, OfficerRole.ADMINISTRATOR])
def test_every_page_of_an_officer_is_kept_in_no_cache(role):
    person = officer(role=role, is_staff=role == OfficerRole.ADMINISTRATOR)
    application = submitted(office=person.office)
    client = signed_in_client(person)
    base = f"/staff/review/applications/{application.pk}/"
    statuses = walk_as(client, [base, f"{base}form.pdf"])
    assert statuses[base] == statuses["/staff/review/"] == statuses["/staff/"] == 200


def test_a_sign_in_answer_is_kept_in_no_cache():
    """The session cookie is set on this answer: whoever shares the browser must not get it back."""
    user = active_user(UserKind.U8, email="u8@example.com")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/accounts/sign-in/", {"auth_id": user.username, "password": "x"})
    assert_private(response, "sign-in POST")


def test_every_api_answer_with_a_token_is_kept_in_no_cache():
    user = active_user(UserKind.U4, email="agent@example.com")
    application = submitted(by=user)
    caller = api_caller(user)
    for path in [
        "/api/v1/applications",
        f"/api/v1/applications/{application.public_id}",
        "/api/v1/catalogue/procedures",  # public data, but asked with a token: a person's answer
        "/api/v1/no-such-thing",
    ]:
        assert_private(caller.get(path), path)
    assert_private(caller.post("/api/v1/applications", {"procedure": "P3"}), "POST applications")


def test_oauth_token_answers_are_kept_in_no_cache():
    approved_client = make_client().client
    client = Client()
    refused = client.post(
        "/oauth/token/",
        {"grant_type": "authorization_code", "code": "nope", "client_id": approved_client.client_id},
    )
    assert refused.status_code in (400, 401)
    assert_private(refused, "token endpoint")


def test_public_answers_keep_their_caching(client):
    catalogue = Client().get("/api/v1/catalogue/procedures")
    assert catalogue["Cache-Control"] == "public, max-age=300"
    assert "Pragma" not in catalogue
    home = client.get("/catalogue/who-can-file/")
    assert home.status_code == 200
    assert "no-store" not in home.get("Cache-Control", "") and "Pragma" not in home
    assert client.get("/healthz")["Cache-Control"].startswith("max-age=0")


def test_static_files_keep_whitenoise_caching(settings):
    settings.WHITENOISE_USE_FINDERS = True
    user = active_user(UserKind.U8, email="u8@example.com")
    client = signed_in_client(user)  # a new client: WhiteNoise is set up with the setting above
    response = client.get("/static/zairyu/css/zairyu.css")
    assert response.status_code == 200
    assert "max-age" in response["Cache-Control"] and "no-store" not in response["Cache-Control"]
