"""The client's own operations (``/api/v1/client``): HTTP Basic with the client's credentials, the
webhook registration, the test ping and the list of deliveries — each client only its own."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from zairyu.api.models import ApiClient, WebhookDelivery
from zairyu.api.services import access_token_issue, authorisation_grant, client_decide, client_register
from zairyu.api.tests.conftest import make_client
from zairyu.api.tests.test_webhooks import Receiver, verify_like_a_client
from zairyu.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


class BasicCaller:
    """Calls the client operations with ``client_id:client_secret`` (English answers)."""

    def __init__(self, client_id: str, secret: str, *, language: str = "en") -> None:
        token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Accept-Language": language}
        self.http = Client()

    def get(self, path: str, params=None):
        return self.http.get(f"/api/v1/client{path}", params or {}, headers=self.headers)

    def put(self, path: str, body):
        return self.http.put(
            f"/api/v1/client{path}", json.dumps(body), content_type="application/json", headers=self.headers
        )

    def post(self, path: str):
        return self.http.post(
            f"/api/v1/client{path}", "{}", content_type="application/json", headers=self.headers
        )

    def delete(self, path: str):
        return self.http.delete(f"/api/v1/client{path}", headers=self.headers)


def caller_of(registered) -> BasicCaller:
    return BasicCaller(registered.client_id, registered.client_secret)


def test_the_client_reads_its_own_registration():
    registered = make_client("Scrivener tool")
    response = caller_of(registered).get("")
    assert response.status_code == 200
    body = response.json()
    assert body["client_id"] == registered.client_id
    assert body["name"] == "Scrivener tool" and body["vendor_name"] == "Test Vendor K.K."
    assert body["state"] == "approved" and body["webhook_url"] is None
    assert [scope["name"] for scope in body["scopes"]] == [
        "applications:read",
        "applications:write",
        "applications:submit",
        "bulk",
    ]
    assert body["scopes"][0]["description"] == "See your applications and their status"


def _assert_unauthenticated(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Basic ")
    problem = response.json()
    assert problem["code"] == "unauthenticated" and problem["status"] == 401
    assert "client secret" in problem["detail"]


def test_wrong_missing_or_unusable_credentials_are_a_401_problem():
    registered = make_client()
    _assert_unauthenticated(BasicCaller(registered.client_id, "not-the-secret").get(""))
    _assert_unauthenticated(BasicCaller("no-such-client", registered.client_secret).get(""))
    _assert_unauthenticated(
        Client().get("/api/v1/client", headers={"Authorization": "Basic !!!", "Accept-Language": "en"})
    )
    _assert_unauthenticated(Client().get("/api/v1/client", headers={"Accept-Language": "en"}))

    # A user's bearer token is not the client's own credential.
    from zairyu.review.tests.factories import filer

    user = filer()
    authorisation_grant(user=user, client=registered.client, scopes=["applications:read"], days=30)
    token = access_token_issue(user=user, client=registered.client, scopes=["applications:read"])
    _assert_unauthenticated(
        Client().get("/api/v1/client", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    )

    # Not yet approved, or suspended: the right secret is not enough.
    pending = make_client("Pending tool", approved=False)
    _assert_unauthenticated(caller_of(pending).get(""))
    client_decide(client=registered.client, officer=None, approve=False)
    _assert_unauthenticated(caller_of(registered).get("/webhook/deliveries"))


def test_a_public_client_has_no_secret_to_authenticate_with():
    public = client_register(
        name="Desktop app",
        vendor_name="Vendor",
        contact_email="v@example.com",
        redirect_uris=["http://127.0.0.1:9/cb"],
        confidential=False,
    )
    ApiClient.objects.filter(pk=public.client.pk).update(state=ApiClient.State.APPROVED)
    _assert_unauthenticated(BasicCaller(public.client_id, "").get(""))


def test_repeated_wrong_secrets_are_throttled(settings):
    settings.API_RATE_ANONYMOUS_PER_MINUTE = 3
    registered = make_client()
    wrong = BasicCaller(registered.client_id, "guess")
    assert [wrong.get("").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert caller_of(registered).get("").status_code == 429  # from the same address, for a minute


def test_registering_a_webhook_gives_a_new_secret_each_time(receiver):
    registered = make_client()
    caller = caller_of(registered)

    first = caller.put("/webhook", {"url": receiver.url})
    assert first.status_code == 200
    assert first.json()["url"] == receiver.url and first.json()["secret"].startswith("whsec_")
    second = caller.put("/webhook", {"url": f"  {receiver.url}  "})
    assert second.json()["url"] == receiver.url
    assert second.json()["secret"] != first.json()["secret"]

    client = ApiClient.objects.get(pk=registered.client.pk)
    assert client.webhook_url == receiver.url and client.webhook_secret == second.json()["secret"]
    assert caller.get("").json()["webhook_url"] == receiver.url
    audit = AuditEvent.objects.filter(action="api.webhook_registered").order_by("at", "id").last()
    assert audit.details["client"] == registered.client_id
    assert second.json()["secret"] not in json.dumps(audit.details)


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://127.0.0.1/hook", "scheme"),
        ("not a url", "scheme"),
        ("http://user:secret@127.0.0.1/hook", "credentials"),
        ("http://no-such-host.invalid/hook", "unresolvable"),
    ],
)
def test_a_bad_webhook_url_is_a_422_pointing_at_url(url, code):
    registered = make_client()
    response = caller_of(registered).put("/webhook", {"url": url})
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation"
    assert problem["errors"] == [{"pointer": "/url", "code": code, "detail": problem["errors"][0]["detail"]}]
    assert problem["errors"][0]["detail"]
    assert ApiClient.objects.get(pk=registered.client.pk).webhook_url == ""


def test_a_private_address_is_refused_in_production_like_settings(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    registered = make_client()
    response = caller_of(registered).put("/webhook", {"url": receiver.url})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["pointer"] == "/url" and error["code"] == "private_address"
    assert "private" in error["detail"]


def test_a_missing_url_is_a_validation_problem():
    response = caller_of(make_client()).put("/webhook", {})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/url"


def test_the_test_ping_is_delivered_signed_with_the_new_secret(receiver, django_capture_on_commit_callbacks):
    registered = make_client()
    caller = caller_of(registered)
    secret = caller.put("/webhook", {"url": receiver.url}).json()["secret"]

    with django_capture_on_commit_callbacks(execute=True):
        response = caller.post("/webhook/test")
    assert response.status_code == 202
    queued = response.json()
    assert queued["event_type"] == "ping" and queued["state"] == "pending"

    (request,) = receiver.requests
    event = verify_like_a_client(request, secret=secret)
    assert event["id"] == queued["id"] and event["type"] == "ping"
    assert event["data"] == {"client_id": registered.client_id}

    listed = caller.get("/webhook/deliveries").json()
    assert listed["meta"] == {"page": 1, "page_size": 25, "total": 1, "pages": 1}
    (item,) = listed["items"]
    assert item["id"] == queued["id"] and item["state"] == "delivered"
    assert item["attempts"] == 1 and item["last_status"] == 200 and item["delivered_at"]


def test_no_test_ping_without_a_webhook():
    response = caller_of(make_client()).post("/webhook/test")
    assert response.status_code == 409
    assert "PUT /client/webhook" in response.json()["detail"]
    assert WebhookDelivery.objects.count() == 0


def test_removing_the_webhook(receiver, django_capture_on_commit_callbacks):
    registered = make_client()
    caller = caller_of(registered)
    caller.put("/webhook", {"url": receiver.url})
    with django_capture_on_commit_callbacks(execute=False):
        caller.post("/webhook/test")

    response = caller.delete("/webhook")
    assert response.status_code == 204
    client = ApiClient.objects.get(pk=registered.client.pk)
    assert client.webhook_url == "" and client.webhook_secret == ""
    assert caller.get("/webhook/deliveries", {"state": "failed"}).json()["meta"]["total"] == 1
    assert receiver.requests == []


def test_a_client_sees_only_its_own_deliveries(django_capture_on_commit_callbacks):
    from zairyu.api import webhooks

    mine, theirs = make_client("Mine"), make_client("Theirs")
    for registered, count in ((mine, 2), (theirs, 3)):
        ApiClient.objects.filter(pk=registered.client.pk).update(
            webhook_url="http://127.0.0.1:9/hook", webhook_secret="whsec_x"
        )
        registered.client.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=False):
            for _ in range(count):
                webhooks.ping_queue(client=registered.client)
    their_ids = {
        str(e)
        for e in WebhookDelivery.objects.filter(client=theirs.client).values_list("event_id", flat=True)
    }

    listed = caller_of(mine).get("/webhook/deliveries", {"page_size": 1}).json()
    assert listed["meta"] == {"page": 1, "page_size": 1, "total": 2, "pages": 2}
    second = caller_of(mine).get("/webhook/deliveries", {"page_size": 1, "page": 2}).json()
    mine_seen = {listed["items"][0]["id"], second["items"][0]["id"]}
    assert len(mine_seen) == 2 and not mine_seen & their_ids
    assert caller_of(mine).get("/webhook/deliveries", {"state": "delivered"}).json()["meta"]["total"] == 0
    assert caller_of(theirs).get("/webhook/deliveries").json()["meta"]["total"] == 3


def test_bad_list_parameters_are_named():
    caller = caller_of(make_client())
    response = caller.get("/webhook/deliveries", {"state": "lost"})
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "state"
    response = caller.get("/webhook/deliveries", {"page": 0})
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "page"
    # Beyond the declared maximum (the offset would not fit the database's integers): 422, not 500.
    for name, value in (("page", "35477715387856351232"), ("page", "100001"), ("page_size", "101")):
        response = caller.get("/webhook/deliveries", {name: value})
        assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == name
