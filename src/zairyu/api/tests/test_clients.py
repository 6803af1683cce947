"""Vendors register clients; administrators approve, reject or suspend them; the demo client."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.test import Client
from oauth2_provider.models import AccessToken
from oauth2_provider.models import Application as OAuthApplication

from zairyu.accounts.constants import OfficerRole, UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api import services
from zairyu.api.models import ApiClient
from zairyu.api.tests.conftest import make_client
from zairyu.catalogue.validators import corporate_number_with_check_digit
from zairyu.core.models import AuditEvent

pytestmark = pytest.mark.django_db

VALID_CORPORATE_NUMBER = corporate_number_with_check_digit("234567890123")


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def english() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def registration(**overrides) -> dict[str, str]:
    return {
        "name": "Scrivener Desk",
        "vendor_name": "Desk Software K.K.",
        "vendor_corporate_number": "",
        "contact_email": "api@desk.example",
        "description": "Prepares applications for administrative scriveners.",
        "redirect_uris": "https://desk.example/oauth/callback\nhttp://127.0.0.1/callback",
        "client_type": "confidential",
        **overrides,
    }


def officer(role: str):
    user = active_user(UserKind.OFFICER, role=role, office="tokyo")
    http = english()
    http.force_login(user)
    return user, http


# --- registration ----------------------------------------------------------------------------


def test_a_vendor_registers_and_sees_the_secret_once():
    page = english().get("/api/clients/register/")
    assert page.status_code == 200 and 'data-form="client-register"' in page.content.decode()

    response = english().post("/api/clients/register/", registration())
    assert response.status_code == 200, response.content.decode()[:3000]
    assert response["Cache-Control"] == "no-store"
    registered = response.context["registered"]
    html = response.content.decode()
    assert registered.client_id in html and registered.client_secret in html
    assert "only time it is shown" in html and "waits for an officer" in html

    client = ApiClient.objects.get(pk=registered.client.pk)
    assert client.state == ApiClient.State.PENDING and client.vendor_name == "Desk Software K.K."
    application = client.oauth_application
    assert application.client_type == OAuthApplication.CLIENT_CONFIDENTIAL
    assert application.redirect_uris.split() == [
        "https://desk.example/oauth/callback",
        "http://127.0.0.1/callback",
    ]
    assert application.client_secret != registered.client_secret
    assert check_password(registered.client_secret, application.client_secret)
    assert AuditEvent.objects.filter(action="api.client_registered").exists()
    assert registered.client_secret not in english().get("/api/clients/register/").content.decode()


def test_a_public_client_gets_no_secret():
    response = english().post("/api/clients/register/", registration(client_type="public"))
    assert response.status_code == 200
    registered = response.context["registered"]
    assert registered.client_secret == ""
    assert registered.client.oauth_application.client_type == OAuthApplication.CLIENT_PUBLIC
    assert "data-client-secret" not in response.content.decode()


def test_the_corporate_number_is_normalised_and_checked():
    typed = "".join(chr(ord(d) + 0xFEE0) for d in VALID_CORPORATE_NUMBER)  # full-width digits
    response = english().post("/api/clients/register/", registration(vendor_corporate_number=typed))
    assert response.status_code == 200
    assert response.context["registered"].client.vendor_corporate_number == VALID_CORPORATE_NUMBER

    wrong = str((int(VALID_CORPORATE_NUMBER[0]) + 1) % 10) + VALID_CORPORATE_NUMBER[1:]
    response = english().post("/api/clients/register/", registration(vendor_corporate_number=wrong))
    assert response.status_code == 400
    assert "check digit" in response.content.decode()


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("not a web address", "is not a web address"),
        ("https://desk.example/cb#part", "fragment"),
        ("https://user:pw@desk.example/cb", "user name or password"),
        ("ftp://desk.example/cb", "is not a web address"),
        ("", "This field is required"),
    ],
)
def test_bad_redirect_uris_are_refused_and_what_was_typed_stays(uris, message):
    response = english().post("/api/clients/register/", registration(redirect_uris=uris))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="Scrivener Desk"' in html and 'value="api@desk.example"' in html
    assert response.context["form"]["redirect_uris"].value() == uris
    assert not ApiClient.objects.exists()


def test_in_production_http_is_only_for_the_loopback_address(settings):
    settings.PRODUCTION = True
    response = english().post(
        "/api/clients/register/",
        registration(redirect_uris="http://desk.example/cb\nhttps://desk.example/cb", name="Desk Two"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "uses http" in html and 'value="Desk Two"' in html
    assert "http://desk.example/cb" in html  # the textarea keeps the lines
    response = english().post(
        "/api/clients/register/",
        registration(redirect_uris="http://127.0.0.1/cb\nhttp://localhost:8080/cb\nhttps://desk.example/cb"),
    )
    assert response.status_code == 200


def test_registration_is_throttled_per_address():
    for _ in range(10):
        assert english().post("/api/clients/register/", registration()).status_code == 200
    response = english().post("/api/clients/register/", registration(name="One too many"))
    assert response.status_code == 429
    assert "Too many registrations" in response.content.decode()
    assert 'value="One too many"' in response.content.decode()
    assert ApiClient.objects.count() == 10


# --- officers ---------------------------------------------------------------------------------


def test_the_list_is_for_officers_only():
    assert english().get("/staff/api-clients/").status_code == 302
    applicant = active_user(UserKind.U1)
    http = english()
    http.force_login(applicant)
    assert http.get("/staff/api-clients/").status_code == 403


def test_pending_clients_come_first_and_reviewers_may_look_but_not_decide():
    pending = make_client("Pending one", approved=False).client
    approved = make_client("Approved one").client
    _reviewer, http = officer(OfficerRole.REVIEWER)
    page = http.get("/staff/api-clients/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index('data-state-group="pending"') < html.index('data-state-group="approved"')
    assert html.index("Pending one") < html.index("Approved one")

    detail = http.get(f"/staff/api-clients/{pending.pk}/")
    assert detail.status_code == 200 and 'data-action="approve"' not in detail.content.decode()
    response = http.post(f"/staff/api-clients/{pending.pk}/decide/", {"action": "approve"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == ApiClient.State.PENDING

    _supervisor, http = officer(OfficerRole.SUPERVISOR)
    assert (
        http.post(f"/staff/api-clients/{approved.pk}/decide/", {"action": "suspend", "note": "x"}).status_code
        == 403
    )
    approved.refresh_from_db()
    assert approved.state == ApiClient.State.APPROVED


def test_an_administrator_approves_then_suspends_and_the_tokens_stop():
    client = make_client(approved=False).client
    admin, http = officer(OfficerRole.ADMINISTRATOR)
    detail = http.get(f"/staff/api-clients/{client.pk}/").content.decode()
    assert 'data-action="approve"' in detail and 'data-action="reject"' in detail
    assert 'data-action="suspend"' not in detail

    response = http.post(f"/staff/api-clients/{client.pk}/decide/", {"action": "approve", "note": ""})
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.state == ApiClient.State.APPROVED and client.decided_by == admin
    assert AuditEvent.objects.filter(action="api.client_approved", actor=admin).exists()

    user = active_user(UserKind.U1)
    services.authorisation_grant(user=user, client=client, scopes=["applications:read"], days=30)
    services.access_token_issue(user=user, client=client, scopes=["applications:read"])
    response = http.post(f"/staff/api-clients/{client.pk}/decide/", {"action": "suspend", "note": ""})
    assert response.status_code == 400
    assert "Say why" in response.content.decode()
    client.refresh_from_db()
    assert client.state == ApiClient.State.APPROVED

    response = http.post(
        f"/staff/api-clients/{client.pk}/decide/", {"action": "suspend", "note": "Abuse reported"}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.state == ApiClient.State.SUSPENDED and client.decision_note == "Abuse reported"
    assert not AccessToken.objects.filter(application=client.oauth_application).exists()


def test_an_action_that_does_not_fit_the_state_changes_nothing():
    client = make_client(approved=False).client
    _admin, http = officer(OfficerRole.ADMINISTRATOR)
    response = http.post(
        f"/staff/api-clients/{client.pk}/decide/", {"action": "suspend", "note": "why"}, follow=True
    )
    assert "state has changed meanwhile" in response.content.decode()
    client.refresh_from_db()
    assert client.state == ApiClient.State.PENDING


def test_a_pending_client_is_rejected_with_a_reason():
    client = make_client(approved=False).client
    _admin, http = officer(OfficerRole.ADMINISTRATOR)
    response = http.post(
        f"/staff/api-clients/{client.pk}/decide/", {"action": "reject", "note": "Unknown vendor"}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.state == ApiClient.State.REJECTED


def test_the_officer_home_links_to_the_clients():
    _admin, http = officer(OfficerRole.ADMINISTRATOR)
    assert "/staff/api-clients/" in http.get("/staff/").content.decode()


# --- the demo client ----------------------------------------------------------------------------


def test_the_demo_client_is_approved_and_loaded_once(settings):
    from zairyu.api.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, load_api_demo

    lines = load_api_demo()
    load_api_demo()
    assert OAuthApplication.objects.filter(client_id=DEMO_CLIENT_ID).count() == 1
    client = ApiClient.objects.get(oauth_application__client_id=DEMO_CLIENT_ID)
    assert client.state == ApiClient.State.APPROVED and client.name == "Zairyu example client"
    assert client.oauth_application.redirect_uris == "http://127.0.0.1/callback"
    assert check_password(DEMO_CLIENT_SECRET, client.oauth_application.client_secret)
    assert any(DEMO_CLIENT_SECRET in text for _label, text in lines)

    settings.PRODUCTION = True
    with pytest.raises(RuntimeError):
        load_api_demo()
