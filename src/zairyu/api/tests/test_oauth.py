"""The OAuth 2.0 authorization code flow with PKCE, end to end through our consent page and
django-oauth-toolkit's token endpoint: consent in the user's language, a subset of scopes, the
token's scopes and lifetime bound to the consent, refresh, revocation; and what is refused."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from zairyu.accounts.constants import OfficerRole, UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api import services
from zairyu.api.auth import authenticate
from zairyu.api.models import ApiClient, Authorisation
from zairyu.api.problems import ApiError
from zairyu.api.tests.conftest import ALL_SCOPES, make_client
from zairyu.core import clock

pytestmark = pytest.mark.django_db

REDIRECT = "http://127.0.0.1:9/cb"


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_query(client_id: str, challenge: str | None, **overrides) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": " ".join(ALL_SCOPES),
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    query.update(overrides)
    return {key: value for key, value in query.items() if value is not None}


def consent_post_data(page) -> dict:
    """The consent form's hidden fields as the page rendered them."""
    form = page.context["form"]
    return {field.name: field.value() for field in form.hidden_fields()}


def browser(user=None, language: str = "en") -> Client:
    http = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        http.force_login(user)
    return http


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def allow(http: Client, registered, *, scopes, days: int = 30, challenge: str, **query_overrides):
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge, **query_overrides))
    assert page.status_code == 200, page.content.decode()[:2000]
    data = {**consent_post_data(page), "scopes": scopes, "days": str(days), "decision": "allow"}
    return http.post("/oauth/authorize/", data)


def exchange(registered, code: str, verifier: str | None, *, redirect: str = REDIRECT):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": registered.client_id,
        "client_secret": registered.client_secret,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return Client().post("/oauth/token/", data)


def refresh(registered, refresh_token: str):
    return Client().post(
        "/oauth/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": registered.client_id,
            "client_secret": registered.client_secret,
        },
    )


def tokens_for(user, registered, *, scopes=("applications:read",), days: int = 30) -> dict:
    verifier, challenge = pkce()
    response = allow(browser(user), registered, scopes=list(scopes), days=days, challenge=challenge)
    assert response.status_code == 302, response.content.decode()[:2000]
    answer = exchange(registered, query_of(response["Location"])["code"], verifier)
    assert answer.status_code == 200, answer.content
    return answer.json()


def check_token(token: str, scopes: tuple[str, ...] = ()):
    from django.test import RequestFactory

    return authenticate(RequestFactory().get("/api/v1/applications"), token, scopes)


@pytest.fixture
def u1():
    return active_user(UserKind.U1)


@pytest.fixture
def registered():
    return make_client()


# --- the whole flow ---------------------------------------------------------------------------------


def test_consent_with_a_subset_of_scopes_gives_a_token_of_exactly_that_subset(u1, registered):
    verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Test HR system" in html and "Test Vendor K.K." in html
    with translation.override("en"):
        for label in settings.API_SCOPES.values():
            assert str(label) in html
    assert page.context["form"]["days"].value() == 30
    # The browser may follow the redirect after the POST to the client's origin (CSP form-action).
    assert "form-action 'self' http://127.0.0.1:9" in page["Content-Security-Policy"]

    chosen = ["applications:read", "applications:write"]
    data = {**consent_post_data(page), "scopes": chosen, "days": "30", "decision": "allow"}
    response = http.post("/oauth/authorize/", data)
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    back = query_of(response["Location"])
    assert back["state"] == "state-123" and back["code"]

    authorisation = Authorisation.objects.get(user=u1, client=registered.client)
    assert authorisation.scopes == sorted(chosen) and authorisation.revoked_at is None
    assert abs((authorisation.expires_at - clock.now()) - dt.timedelta(days=30)) < dt.timedelta(minutes=1)

    answer = exchange(registered, back["code"], verifier)
    assert answer.status_code == 200, answer.content
    token = answer.json()
    assert set(token["scope"].split()) == set(chosen)
    assert token["expires_in"] == settings.OAUTH2_PROVIDER["ACCESS_TOKEN_EXPIRE_SECONDS"]
    assert check_token(token["access_token"], ("applications:write",)) == u1
    with pytest.raises(ApiError) as refused:
        check_token(token["access_token"], ("applications:submit",))
    assert refused.value.status == 403

    # The code is single-use.
    assert exchange(registered, back["code"], verifier).status_code == 400


def test_the_consent_page_speaks_japanese_by_accept_language_or_cookie(u1, registered):
    _verifier, challenge = pkce()
    query = authorize_query(registered.client_id, challenge)
    by_header = browser(u1, language="ja").get("/oauth/authorize/", query)
    by_cookie = browser(u1, language="en")
    by_cookie.cookies[settings.LANGUAGE_COOKIE_NAME] = "ja"
    by_cookie = by_cookie.get("/oauth/authorize/", query)
    with translation.override("ja"):
        labels = [str(label) for label in settings.API_SCOPES.values()]
        deny = translation.gettext("Deny")
    assert deny != "Deny"
    for page in (by_header, by_cookie):
        html = page.content.decode()
        assert page.status_code == 200 and '<html lang="ja">' in html
        assert deny in html
        for label in labels:
            assert label in html


def test_refresh_works_until_the_user_revokes_in_the_profile(u1, registered):
    token = tokens_for(u1, registered, scopes=("applications:read", "bulk"))
    renewed = refresh(registered, token["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    renewed = renewed.json()
    assert set(renewed["scope"].split()) == {"applications:read", "bulk"}
    assert check_token(renewed["access_token"], ("bulk",)) == u1
    authorisation = Authorisation.objects.get(user=u1, client=registered.client, revoked_at__isnull=True)
    assert authorisation.last_used_at is not None

    http = browser(u1)
    page = http.get("/api/clients/connected/")
    assert "Test HR system" in page.content.decode()
    response = http.post(f"/api/clients/connected/{authorisation.pk}/revoke/")
    assert response.status_code == 302

    assert refresh(registered, renewed["refresh_token"]).status_code in (400, 401)
    with pytest.raises(ApiError) as refused:
        check_token(renewed["access_token"])
    assert refused.value.status == 401
    after = http.get("/api/clients/connected/").content.decode()
    assert f'data-authorisation="{authorisation.pk}"' not in after and "data-empty" in after


def test_a_refresh_after_the_consent_expired_fails_and_tokens_never_outlive_it(u1, registered):
    start = clock.now()
    with time_machine.travel(start, tick=False):
        token = tokens_for(u1, registered, days=1)
    with time_machine.travel(start + dt.timedelta(hours=23, minutes=55), tick=False):
        renewed = refresh(registered, token["refresh_token"])
        assert renewed.status_code == 200, renewed.content
        renewed = renewed.json()
        assert 0 < renewed["expires_in"] <= 5 * 60  # cut to the consent's end, not 15 minutes
    with time_machine.travel(start + dt.timedelta(days=1, minutes=1), tick=False):
        assert refresh(registered, renewed["refresh_token"]).status_code in (400, 401)


def test_a_new_consent_with_fewer_scopes_narrows_old_refresh_tokens(u1, registered):
    old = tokens_for(u1, registered, scopes=("applications:read", "applications:write"))
    tokens_for(u1, registered, scopes=("applications:read",))
    renewed = refresh(registered, old["refresh_token"])
    assert renewed.status_code == 200, renewed.content
    assert renewed.json()["scope"] == "applications:read"


# --- what is refused ---------------------------------------------------------------------------------


def test_deny_sends_access_denied_back_and_records_nothing(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    response = http.post("/oauth/authorize/", {**consent_post_data(page), "decision": "deny"})
    assert response.status_code == 302
    back = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT)
    assert back["error"] == "access_denied" and back["state"] == "state-123"
    assert not Authorisation.objects.filter(user=u1).exists()


def test_deny_never_redirects_to_an_unregistered_address(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    data = {**consent_post_data(page), "decision": "deny", "redirect_uri": "https://evil.example/cb"}
    response = http.post("/oauth/authorize/", data)
    assert response.status_code == 400
    assert "evil.example" not in response.get("Location", "")


def test_allow_without_any_scope_ticked_asks_again(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    response = http.post("/oauth/authorize/", {**consent_post_data(page), "days": "30", "decision": "allow"})
    assert response.status_code == 400
    assert "Tick at least one thing" in response.content.decode()
    assert not Authorisation.objects.filter(user=u1).exists()


def test_a_period_other_than_1_30_or_90_days_is_refused(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    data = {**consent_post_data(page), "scopes": ["applications:read"], "days": "365", "decision": "allow"}
    assert http.post("/oauth/authorize/", data).status_code == 400
    assert not Authorisation.objects.filter(user=u1).exists()


def test_pkce_is_required(u1, registered):
    response = browser(u1).get("/oauth/authorize/", authorize_query(registered.client_id, None))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"


@pytest.mark.parametrize("method", ["plain", None])
def test_pkce_plain_is_refused(u1, registered, method):
    query = authorize_query(registered.client_id, "a" * 43, code_challenge_method=method)
    response = browser(u1).get("/oauth/authorize/", query)
    assert response.status_code == 302
    back = query_of(response["Location"])
    assert back["error"] == "invalid_request" and "S256" in back["error_description"]


def test_plain_slipped_into_the_consent_form_is_refused_and_nothing_is_recorded(u1, registered):
    verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    data = {
        **consent_post_data(page),
        "code_challenge": verifier,
        "code_challenge_method": "plain",
        "scopes": ["applications:read"],
        "days": "30",
        "decision": "allow",
    }
    response = http.post("/oauth/authorize/", data)
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert not Authorisation.objects.filter(user=u1).exists()


def test_the_token_endpoint_wants_the_right_code_verifier(u1, registered):
    verifier, challenge = pkce()
    response = allow(browser(u1), registered, scopes=["applications:read"], challenge=challenge)
    code = query_of(response["Location"])["code"]
    assert exchange(registered, code, None).status_code == 400
    assert exchange(registered, code, pkce()[0]).status_code == 400


@pytest.mark.parametrize(
    "state", [ApiClient.State.PENDING, ApiClient.State.SUSPENDED, ApiClient.State.REJECTED]
)
def test_an_unapproved_or_suspended_client_is_refused_at_authorize(u1, state):
    registered = make_client(approved=False)
    ApiClient.objects.filter(pk=registered.client.pk).update(state=state)
    _verifier, challenge = pkce()
    response = browser(u1).get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    assert response.status_code == 400
    assert "not approved" in response.content.decode()
    assert "Location" not in response


def test_a_client_suspended_after_the_code_is_refused_at_the_token_endpoint(u1, registered):
    verifier, challenge = pkce()
    response = allow(browser(u1), registered, scopes=["applications:read"], challenge=challenge)
    code = query_of(response["Location"])["code"]
    admin = active_user(UserKind.OFFICER, role=OfficerRole.ADMINISTRATOR, office="tokyo")
    services.client_decide(client=registered.client, officer=admin, approve=False, note="abuse")
    answer = exchange(registered, code, verifier)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


def test_a_client_suspended_while_the_page_is_open_gets_no_consent(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    ApiClient.objects.filter(pk=registered.client.pk).update(state=ApiClient.State.SUSPENDED)
    data = {**consent_post_data(page), "scopes": ["applications:read"], "days": "30", "decision": "allow"}
    response = http.post("/oauth/authorize/", data)
    assert response.status_code == 400
    assert not Authorisation.objects.filter(user=u1).exists()


def test_an_unregistered_redirect_uri_is_shown_not_followed(u1, registered):
    _verifier, challenge = pkce()
    query = authorize_query(registered.client_id, challenge, redirect_uri="https://evil.example/cb")
    response = browser(u1).get("/oauth/authorize/", query)
    assert response.status_code == 400 and "Location" not in response
    assert "has not registered" in response.content.decode()


def test_the_loopback_redirect_uri_may_use_any_port_but_not_another_path(u1, registered):
    _verifier, challenge = pkce()
    http = browser(u1)
    other_port = authorize_query(registered.client_id, challenge, redirect_uri="http://127.0.0.1:54321/cb")
    assert http.get("/oauth/authorize/", other_port).status_code == 200
    other_path = authorize_query(registered.client_id, challenge, redirect_uri="http://127.0.0.1:9/other")
    assert http.get("/oauth/authorize/", other_path).status_code == 400


def test_officers_cannot_authorise_software(registered):
    officer = active_user(UserKind.OFFICER, role=OfficerRole.REVIEWER, office="tokyo")
    _verifier, challenge = pkce()
    http = browser(officer)
    response = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    assert response.status_code == 403
    assert http.post("/oauth/authorize/", {"client_id": registered.client_id}).status_code == 403
    assert not Authorisation.objects.filter(user=officer).exists()


def test_signing_in_comes_back_to_the_same_request(u1, registered):
    _verifier, challenge = pkce()
    query = authorize_query(registered.client_id, challenge)
    response = browser().get("/oauth/authorize/", query)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/accounts/sign-in/"
    back = urlsplit(parse_qs(target.query)["next"][0])
    assert back.path == "/oauth/authorize/"
    assert {key: values[0] for key, values in parse_qs(back.query).items()} == query


def test_signed_in_without_the_card_a_card_holder_can_only_allow_following_up(u1, registered):
    verifier, challenge = pkce()
    http = browser(u1)
    session = http.session
    session["follow_up_only"] = True
    session.save()
    page = http.get("/oauth/authorize/", authorize_query(registered.client_id, challenge))
    assert [value for value, _label in page.context["form"].fields["scopes"].choices] == [
        "applications:read",
        "applications:submit",
    ]
    data = {**consent_post_data(page), "scopes": ["applications:write"], "days": "30", "decision": "allow"}
    assert http.post("/oauth/authorize/", data).status_code == 400
    assert not Authorisation.objects.filter(user=u1).exists()


def test_another_users_authorisation_cannot_be_revoked_by_id(u1, registered):
    tokens_for(u1, registered)
    authorisation = Authorisation.objects.get(user=u1, revoked_at__isnull=True)
    other = active_user(UserKind.U1)
    response = browser(other).post(f"/api/clients/connected/{authorisation.pk}/revoke/")
    assert response.status_code == 404
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None
    assert "data-authorisation" not in browser(other).get("/api/clients/connected/").content.decode()


def test_the_profile_links_to_connected_software(u1):
    assert "/api/clients/connected/" in browser(u1).get("/accounts/profile/").content.decode()
