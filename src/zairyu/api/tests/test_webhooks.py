"""Status callbacks: written with the state change, posted signed to a real HTTP receiver after
commit, retried with back-off, given up, refused for private addresses, claimed by one worker."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import transaction

from zairyu.api import webhooks
from zairyu.api.models import ApiClient, IdempotencyRecord, WebhookDelivery
from zairyu.api.tasks import api_housekeeping, webhooks_deliver
from zairyu.api.tests.conftest import make_client
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.core import clock
from zairyu.review import services as review
from zairyu.review.tests.factories import filer, officer, submitted

pytestmark = pytest.mark.django_db

SECRET = "whsec_test-secret"


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request, answers with the queued statuses
    (then 200)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/zairyu?source=test"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def client_with_webhook(url: str, *, name: str = "HR system") -> ApiClient:
    client = make_client(name).client
    ApiClient.objects.filter(pk=client.pk).update(webhook_url=url, webhook_secret=SECRET)
    client.refresh_from_db()
    return client


def filed_via(client: ApiClient | None, **fields) -> Application:
    """A submitted application of the Tokyo office, created through ``client``."""
    application = submitted(by=filer(), **fields)
    Application.objects.filter(pk=application.pk).update(filed_via=client)
    application.refresh_from_db()
    return application


def verify_like_a_client(request: dict, secret: str = SECRET) -> dict:
    """What a receiver does: check the HMAC of ``<t>.<body>`` and the timestamp, then read the JSON."""
    parts = dict(part.split("=", 1) for part in request["headers"]["Zairyu-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + request["body"], hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected), "bad signature"
    assert abs(clock.now().timestamp() - int(parts["t"])) < 300
    return json.loads(request["body"])


# --- the notification of an officer's take-up ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_officer_taking_up_the_application_notifies_the_client_that_filed_it(receiver):
    client = client_with_webhook(receiver.url)
    application = filed_via(client)

    review.application_take_up(application_id=application.pk, officer=officer("tokyo"))

    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/zairyu?source=test"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "Zairyu-Webhooks/1"
    event = verify_like_a_client(request)
    assert headers["Zairyu-Event-Id"] == event["id"]
    assert event["type"] == "application.status_changed"
    assert event["data"] == {
        "application_id": str(application.public_id),
        "receipt_number": application.receipt_number,
        "state": ApplicationState.UNDER_REVIEW,
        "previous_state": ApplicationState.SUBMITTED,
        "action": "taken_up",
        "procedure": "P3",
        "status": "engineer_humanities",
        "office": "tokyo",
        "changed_at": event["data"]["changed_at"],
    }
    # No personal data: neither the applicant's name, nor e-mail, nor card number.
    body = request["body"].decode()
    assert application.applicant_name not in body and "applicant@example.com" not in body
    assert application.applicant_resident.card_number not in body

    delivery = WebhookDelivery.objects.get()
    assert str(delivery.event_id) == event["id"] and delivery.application_id == application.pk
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 1
    assert delivery.last_status == 200 and delivery.delivered_at is not None

    assert webhooks_deliver() == {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    assert len(receiver.requests) == 1  # delivered once


def test_every_state_change_is_notified_but_not_the_events_that_change_nothing(
    receiver, django_capture_on_commit_callbacks
):
    client = client_with_webhook(receiver.url)
    application = filed_via(client)
    desk = officer("tokyo")
    with django_capture_on_commit_callbacks(execute=True):
        review.application_take_up(application_id=application.pk, officer=desk)
    with django_capture_on_commit_callbacks(execute=True):
        review.documents_request(
            application_id=application.pk,
            officer=desk,
            message="Please send your latest tax certificate.",
            deadline=clock.today() + dt.timedelta(days=10),
        )
    assert [json.loads(r["body"])["data"]["action"] for r in receiver.requests] == ["taken_up"]
    assert WebhookDelivery.objects.count() == 1


def test_a_submission_through_the_services_is_notified(receiver, django_capture_on_commit_callbacks):
    from zairyu.applications import lifecycle

    client = client_with_webhook(receiver.url)
    application = filed_via(client, state=ApplicationState.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lifecycle.record(application, "submitted", actor=application.filer, from_state=ApplicationState.DRAFT)
        lifecycle.record(application, "created", actor=application.filer, from_state="")  # not notified
    (request,) = receiver.requests
    data = verify_like_a_client(request)["data"]
    assert (
        data["state"] == "submitted" and data["previous_state"] == "draft" and data["action"] == "submitted"
    )


@pytest.mark.parametrize("case", ["not_via_client", "no_webhook", "suspended"])
def test_no_delivery_without_a_client_webhook_to_tell(case, receiver, django_capture_on_commit_callbacks):
    client = client_with_webhook(receiver.url)
    if case == "no_webhook":
        ApiClient.objects.filter(pk=client.pk).update(webhook_url="", webhook_secret="")
    if case == "suspended":
        ApiClient.objects.filter(pk=client.pk).update(state=ApiClient.State.SUSPENDED)
    application = filed_via(None if case == "not_via_client" else client)
    with django_capture_on_commit_callbacks(execute=True):
        review.application_take_up(application_id=application.pk, officer=officer("tokyo"))
    assert Application.objects.get(pk=application.pk).state == ApplicationState.UNDER_REVIEW
    assert WebhookDelivery.objects.count() == 0
    assert receiver.requests == []


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_state_change_writes_and_sends_nothing(receiver):
    client = client_with_webhook(receiver.url)
    application = filed_via(client)
    with pytest.raises(Boom), transaction.atomic():
        review.application_take_up(application_id=application.pk, officer=officer("tokyo"))
        assert WebhookDelivery.objects.count() == 1  # written in the same transaction…
        raise Boom
    assert WebhookDelivery.objects.count() == 0  # …and gone with it
    assert Application.objects.get(pk=application.pk).state == ApplicationState.SUBMITTED
    assert webhooks_deliver()["delivered"] == 0
    assert receiver.requests == []


# --- retries ----------------------------------------------------------------------------------------


def test_a_refused_notification_is_retried_with_back_off_then_delivered(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.statuses = [500, 503]
    client = client_with_webhook(receiver.url)
    application = filed_via(client)
    with django_capture_on_commit_callbacks(execute=True):
        review.application_take_up(application_id=application.pk, officer=officer("tokyo"))

    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.attempts == 1
    assert delivery.last_status == 500 and delivery.last_error == "http_500"
    first_wait = delivery.next_attempt_at - clock.now()
    assert dt.timedelta(seconds=25) < first_wait <= dt.timedelta(seconds=30)

    assert webhooks_deliver()["retry"] == 0  # not yet due
    assert len(receiver.requests) == 1

    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert webhooks_deliver() == {"delivered": 0, "retry": 1, "failed": 0, "skipped": 0}
        delivery.refresh_from_db()
        assert delivery.attempts == 2 and delivery.last_status == 503
        assert delivery.next_attempt_at - clock.now() == dt.timedelta(seconds=60)  # doubled

    with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
        assert webhooks_deliver()["delivered"] == 1
        # The same event each time, each time signed afresh.
        events = [verify_like_a_client(request) for request in receiver.requests]

    assert len({event["id"] for event in events}) == 1 and len(events) == 3
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.DELIVERED and delivery.attempts == 3
    assert delivery.last_error == "" and delivery.last_status == 200


def test_delivery_is_given_up_after_the_last_attempt(receiver, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.statuses = [500] * 10
    client = client_with_webhook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.ping_queue(client=client)
    for _ in range(2):
        delivery.refresh_from_db()
        with time_machine.travel(delivery.next_attempt_at + dt.timedelta(seconds=1), tick=False):
            webhooks_deliver()
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.FAILED and delivery.attempts == 3
    with time_machine.travel(clock.now() + dt.timedelta(days=2), tick=False):
        assert webhooks_deliver() == {"delivered": 0, "retry": 0, "failed": 0, "skipped": 0}
    assert len(receiver.requests) == 3


def test_the_wait_doubles_up_to_six_hours(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    waits = [webhooks.retry_delay(n).total_seconds() for n in range(1, 15)]
    assert waits[:4] == [30, 60, 120, 240]
    assert max(waits) == 6 * 3600 and waits[-1] == 6 * 3600


def test_a_redirect_is_not_followed(receiver, django_capture_on_commit_callbacks):
    receiver.statuses = [302]
    client = client_with_webhook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.ping_queue(client=client)
    delivery.refresh_from_db()
    assert [r["path"] for r in receiver.requests] == ["/hooks/zairyu?source=test"]  # not /elsewhere
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.last_error == "redirect_not_followed"


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(
    receiver, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.2
    receiver.delay = 0.6
    client = client_with_webhook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.ping_queue(client=client)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING
    assert delivery.last_error == "timeout" and delivery.last_status is None


def test_a_receiver_that_is_down_is_tried_again(django_capture_on_commit_callbacks):
    with Receiver() as stopped:
        url = stopped.url
    client = client_with_webhook(url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.ping_queue(client=client)
    delivery.refresh_from_db()
    assert delivery.state == WebhookDelivery.State.PENDING and delivery.last_error == "connection_refused"


def test_removing_the_webhook_or_suspending_the_client_stops_its_deliveries(
    receiver, django_capture_on_commit_callbacks
):
    client = client_with_webhook(receiver.url)
    with django_capture_on_commit_callbacks(execute=False):
        first = webhooks.ping_queue(client=client)
        second = webhooks.ping_queue(client=client)
    ApiClient.objects.filter(pk=client.pk).update(state=ApiClient.State.SUSPENDED)
    assert webhooks.delivery_attempt(delivery_id=first.pk) == "failed"
    first.refresh_from_db()
    assert first.last_error == "client_not_approved"

    ApiClient.objects.filter(pk=client.pk).update(state=ApiClient.State.APPROVED)
    assert webhooks.webhook_remove(client=client) == 1
    second.refresh_from_db()
    assert second.state == WebhookDelivery.State.FAILED and second.last_error == "webhook_removed"
    assert receiver.requests == []


# --- where webhooks may go ----------------------------------------------------------------------------


def test_private_addresses_are_refused_outside_development(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in (receiver.url, "http://localhost/hook", "http://10.1.2.3/hook", "http://[::1]/hook"):
        with pytest.raises(webhooks.WebhookUrlRefused) as refused:
            webhooks.target_check(url)
        assert refused.value.code == "private_address", url
    unspecified = "0.0.0.0"  # noqa: S104 (an address to refuse, not one to bind)
    for address in (
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        unspecified,
        "::ffff:127.0.0.1",
        "fe80::1",
        "64:ff9b::a00:1",
    ):
        assert not webhooks.address_allowed(address), address
    assert webhooks.address_allowed("93.184.216.34") and webhooks.address_allowed("2606:4700::1111")

    # A webhook registered while allowed (or a name that now resolves inside) is checked again
    # at delivery: nothing is sent, the attempt fails.
    client = client_with_webhook(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.ping_queue(client=client)
    delivery.refresh_from_db()
    assert delivery.last_error == "refused_private_address" and delivery.attempts == 1
    assert receiver.requests == []


def test_only_https_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(webhooks.WebhookUrlRefused) as refused:
        webhooks.target_check("http://127.0.0.1/hook")
    assert refused.value.code == "scheme"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "required"),
        ("ftp://127.0.0.1/hook", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("http:///hook", "invalid"),
        ("http://127.0.0.1:99999/hook", "invalid"),
        ("http://user:pw@127.0.0.1/hook", "credentials"),
        ("http://127.0.0.1/hook#frag", "fragment"),
        ("http://no-such-host.invalid/hook", "unresolvable"),
        ("http://127.0.0.1/" + "a" * 500, "too_long"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url, code):
    with pytest.raises(webhooks.WebhookUrlRefused) as refused:
        webhooks.target_check(url)
    assert refused.value.code == code


def test_the_request_goes_to_the_checked_address_whatever_the_name_resolves_to_later(receiver):
    """Against DNS rebinding: the connection is made to the address that was checked, while the
    Host header (and TLS server name) stay the URL's."""
    target = webhooks.Target(
        scheme="http",
        host="rebound.invalid",  # resolves nowhere: only the pinned address can be reached
        port=receiver.server.server_address[1],
        path="/pinned",
        addresses=("127.0.0.1",),
    )
    assert webhooks._post(target, body=b"{}", headers={"Content-Type": "application/json"}) == 200
    (request,) = receiver.requests
    assert request["path"] == "/pinned"
    assert request["headers"]["Host"] == f"rebound.invalid:{target.port}"


# --- signatures ---------------------------------------------------------------------------------------


def test_signature_verification_helper():
    body = b'{"id":"1","type":"ping"}'
    now = 1_800_000_000
    header = webhooks.signature_header(secret=SECRET, timestamp=now, body=body)
    assert header.startswith(f"t={now},v1=")
    assert webhooks.signature_verify(secret=SECRET, header=header, body=body, now=now + 10)
    assert not webhooks.signature_verify(secret=SECRET, header=header, body=body + b" ", now=now)
    assert not webhooks.signature_verify(secret="whsec_other", header=header, body=body, now=now)
    assert not webhooks.signature_verify(secret=SECRET, header=header, body=body, now=now + 301)  # replay
    assert not webhooks.signature_verify(secret=SECRET, header="v1=abc", body=body, now=now)
    # During a secret rotation a receiver may be sent several v1 values; one match is enough.
    other = webhooks.signature(secret="whsec_old", timestamp=now, body=body)
    assert webhooks.signature_verify(secret=SECRET, header=f"{header},v1={other}", body=body, now=now)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_verifies_with_the_standard_webhooks_library(receiver):
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    client = client_with_webhook(receiver.url)
    _url, secret = webhooks.webhook_register(client=client, url=receiver.url)
    assert secret.startswith("whsec_") and len(webhooks.standard_key(secret)) == 32
    application = filed_via(client)

    review.application_take_up(application_id=application.pk, officer=officer("tokyo"))

    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    event = Webhook(secret).verify(body, headers)  # the secret as issued, as any such library takes it
    assert event["data"]["action"] == "taken_up"
    assert headers["webhook-id"] == event["id"] == headers["Zairyu-Event-Id"]
    assert abs(int(headers["webhook-timestamp"]) - clock.now().timestamp()) < 300
    verify_like_a_client(request, secret)  # the deprecated header still comes, for one more release
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks._secret_new()).verify(body, headers)


@pytest.mark.django_db(transaction=True)
def test_a_secret_issued_before_standard_webhooks_is_the_key_as_its_bytes(receiver):
    from standardwebhooks.webhooks import Webhook

    old = "whsec_" + "Ab-_" * 10 + "xyz"  # secrets.token_urlsafe(32): 43 characters, not base64
    client = client_with_webhook(receiver.url)
    ApiClient.objects.filter(pk=client.pk).update(webhook_secret=old)
    assert webhooks.standard_key(old) == old.encode()
    review.application_take_up(application_id=filed_via(client).pk, officer=officer("tokyo"))
    (request,) = receiver.requests
    Webhook(old.encode()).verify(request["body"], request["headers"])
    verify_like_a_client(request, old)


# --- claims ---------------------------------------------------------------------------------------------


def test_of_two_claims_of_one_delivery_only_one_wins(django_capture_on_commit_callbacks, settings):
    client = client_with_webhook("http://127.0.0.1:9/hook")
    with django_capture_on_commit_callbacks(execute=False):
        delivery = webhooks.ping_queue(client=client)
    assert webhooks.delivery_claim(delivery_id=delivery.pk) is True
    assert webhooks.delivery_claim(delivery_id=delivery.pk) is False
    assert webhooks.delivery_attempt(delivery_id=delivery.pk) == "skipped"  # another worker's
    assert webhooks_deliver()["skipped"] == 0  # the flush does not even look at it
    # A worker that died leaves a claim that expires; then the delivery is taken over.
    later = clock.now() + dt.timedelta(seconds=webhooks.claim_seconds() + 1)
    with time_machine.travel(later, tick=False):
        assert webhooks.delivery_claim(delivery_id=delivery.pk) is True


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgresql_let_one_worker_win(postgres_only):
    from django.db import connection

    client = client_with_webhook("http://127.0.0.1:9/hook")
    delivery = WebhookDelivery.objects.create(
        client=client, event_id="00000000-0000-4000-8000-000000000001", event_type="ping"
    )
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def worker() -> None:
        try:
            barrier.wait()
            wins.append(webhooks.delivery_claim(delivery_id=delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False, False, False, True]


# --- housekeeping ---------------------------------------------------------------------------------------


def test_housekeeping_deletes_expired_idempotency_records_tokens_and_old_deliveries(settings):
    from oauth2_provider.models import AccessToken

    from zairyu.api.services import access_token_issue

    registered = make_client()
    client = registered.client
    user = filer()
    old = IdempotencyRecord.objects.create(
        client=client,
        user=user,
        key="old",
        operation="submit",
        fingerprint="x",
        created_at=clock.now() - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS + 1),
    )
    fresh = IdempotencyRecord.objects.create(
        client=client, user=user, key="new", operation="submit", fingerprint="y"
    )
    expired = access_token_issue(user=user, client=client, scopes=["applications:read"], seconds=1)
    AccessToken.objects.filter(token=expired).update(expires=clock.now() - dt.timedelta(hours=1))
    valid = access_token_issue(user=user, client=client, scopes=["applications:read"])
    long_ago = clock.now() - dt.timedelta(days=webhooks.DELIVERY_RETENTION_DAYS + 1)
    WebhookDelivery.objects.create(
        client=client,
        event_id="00000000-0000-4000-8000-000000000002",
        event_type="ping",
        state=WebhookDelivery.State.DELIVERED,
        created_at=long_ago,
    )
    pending = WebhookDelivery.objects.create(
        client=client, event_id="00000000-0000-4000-8000-000000000003", event_type="ping", created_at=long_ago
    )

    assert api_housekeeping() == {"idempotency_records": 1, "deliveries": 1}
    assert api_housekeeping() == {"idempotency_records": 0, "deliveries": 0}  # safe to run twice
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert list(AccessToken.objects.values_list("token", flat=True)) == [valid]
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [pending.pk]
