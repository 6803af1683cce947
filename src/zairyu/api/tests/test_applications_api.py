"""The applications API: drafts, answers, attachments, submission with idempotency and the card
signature, the list, and who may see what."""

from __future__ import annotations

import base64
import threading
import uuid

import pytest
from django.db import connection

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import SIGNING_PIN, active_user
from zairyu.api.tests.conftest import ApiCaller, api_caller
from zairyu.applications.constants import ApplicationState
from zairyu.applications.disclosure import registry_answers
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.applications.services import application_form
from zairyu.applications.tests.helpers import extension_applicant, pdf_upload, photo_upload
from zairyu.core import clock
from zairyu.core.models import AuditEvent

pytestmark = pytest.mark.django_db

BASE = "/api/v1/applications"


@pytest.fixture
def engineer():
    return extension_applicant()


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="scrivener@example.com")


def _start_body(resident, **extra):
    return {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number, **extra}


def _complete(api: ApiCaller, application_id: str, *, method: str = "post") -> None:
    """Fill every answer and attach what the extension needs, through the API only."""
    application = Application.objects.get(public_id=application_id)
    record = registry_answers(application.applicant_resident) if application.applicant_resident else {}
    answers = sample_answers(  # the filer types what the applicant's card shows
        application_form(application), today=clock.today(), overrides={**record, **application.answers}
    )
    response = api.patch(f"{BASE}/{application_id}", {"answers": answers})
    assert response.status_code == 200, response.json()
    assert response.json()["errors"] == [], response.json()["errors"]
    for document_type in ("passport_copy", "employment_contract", "tax_certificate"):
        response = api.upload(
            f"{BASE}/{application_id}/documents",
            {
                "file": pdf_upload(f"{document_type}.pdf"),
                "role": "supporting",
                "document_type": document_type,
            },
        )
        assert response.status_code == 201, response.json()
    response = api.upload(
        f"{BASE}/{application_id}/documents",
        {"file": photo_upload(), "role": "photo", "taken_within_6_months": "true"},
    )
    assert response.status_code == 201, response.json()
    response = api.put(f"{BASE}/{application_id}/receipt-method", {"method": method})
    assert response.status_code == 200, response.json()
    problems = {p["code"] for p in api.post(f"{BASE}/{application_id}/validate").json()["problems"]}
    if "organization_part_missing" in problems:  # self-filers attach the employer's part as a PDF
        response = api.upload(
            f"{BASE}/{application_id}/documents", {"file": pdf_upload("org.pdf"), "role": "organization_part"}
        )
        assert response.status_code == 201, response.json()


def test_a_scrivener_files_an_extension_through_the_api(
    scrivener, engineer, django_capture_on_commit_callbacks
):
    api = api_caller(scrivener)
    created = api.post(BASE, _start_body(engineer))
    assert created.status_code == 201, created.json()
    body = created.json()
    # A scrivener's link to the applicant is not proven: the registry fills nothing in.
    assert body["state"] == "draft" and set(body["answers"]) <= {"card_number"}
    assert body["filed_via_this_client"] is True
    application_id = body["id"]

    not_ready = api.post(f"{BASE}/{application_id}/validate").json()
    assert not_ready["ready"] is False and {p["code"] for p in not_ready["problems"]} >= {"form_incomplete"}

    _complete(api, application_id)
    ready = api.post(f"{BASE}/{application_id}/validate").json()
    assert ready == {"ready": True, "problems": [], "card_signature_required": False}

    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": key})
    assert first.status_code == 200, first.json()
    assert first.json()["state"] == "submitted" and first.json()["receipt_number"].startswith("東オン-")
    again = api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    other_body = api.post(
        f"{BASE}/{application_id}/submit", {"signature": "eA=="}, headers={"Idempotency-Key": key}
    )
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_mismatch"
    assert other_body["Content-Type"] == "application/problem+json"

    listing = api.get(BASE, {"state": "submitted"}).json()
    assert [item["id"] for item in listing["items"]] == [application_id]
    assert listing["meta"] == {"page": 1, "page_size": 50, "total": 1, "pages": 1}
    events = api.get(f"{BASE}/{application_id}/events").json()
    assert [e["action"] for e in events] == ["created", "submitted"]
    audit = AuditEvent.objects.filter(action="applications.submitted").get()
    assert audit.details["via"]["client"] == api.client.client_id


def test_submission_needs_an_idempotency_key(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    missing = api.post(f"{BASE}/{application_id}/submit", {})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["parameter"] == "Idempotency-Key"
    refused = api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "k-1"})
    assert refused.status_code == 422 and refused.json()["code"] == "refused"
    codes = {e["code"] for e in refused.json()["errors"]}
    assert "form_incomplete" in codes and "photo_missing" in codes
    # a refused attempt releases the key: after fixing, the same key submits
    _complete(api, application_id)
    assert (
        api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "k-1"}).status_code == 200
    )


def test_answers_are_saved_with_errors_named_by_pointer_in_the_callers_language(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    response = api.patch(f"{BASE}/{application_id}", {"answers": {"date_of_birth": "not a date"}})
    assert response.status_code == 200
    errors = response.json()["errors"]
    by_pointer = {e["pointer"]: e for e in errors}
    assert by_pointer["/answers/date_of_birth"]["code"] != "required"  # what was typed is wrong
    assert Application.objects.get(public_id=application_id).answers["date_of_birth"] == "not a date"  # kept

    api.language = "ja"
    unknown = api.patch(f"{BASE}/{application_id}", {"answers": {"no_such_item": "x"}})
    assert unknown.status_code == 422 and unknown["Content-Language"] == "ja"
    problem = unknown.json()
    assert problem["errors"][0]["pointer"] == "/answers/no_such_item"
    assert problem["title"] != "Some values are missing or wrong."  # Japanese
    assert "no_such_item" not in Application.objects.get(public_id=application_id).answers  # nothing saved


def test_bad_bodies_get_problem_details(scrivener, engineer):
    api = api_caller(scrivener)
    response = api.post(BASE, {"procedure": "P3"})
    assert response.status_code == 422
    pointers = {e.get("pointer") for e in response.json()["errors"]}
    assert "/status" in pointers
    raw = api.http.post(BASE, "{not json", content_type="application/json", headers=api._headers(None))
    assert raw.status_code in (400, 422) and raw["Content-Type"] == "application/problem+json"
    refused = api.post(
        BASE, {"procedure": "P3", "status": "engineer_humanities", "card_number": "AB12345678CD"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["pointer"] == "/card_number"
    bad_page = api.get(BASE, {"page": "0"})
    assert bad_page.status_code == 422 and bad_page.json()["errors"][0]["parameter"] == "page"


def test_a_hostile_file_is_refused_and_nothing_is_attached(scrivener, engineer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    fake = SimpleUploadedFile("x.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    response = api.upload(
        f"{BASE}/{application_id}/documents",
        {"file": fake, "role": "supporting", "document_type": "passport_copy"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["parameter"] == "file"
    assert Application.objects.get(public_id=application_id).documents.count() == 0
    wrong_type = api.upload(
        f"{BASE}/{application_id}/documents",
        {"file": pdf_upload(), "role": "supporting", "document_type": "nope"},
    )
    assert wrong_type.status_code == 422 and wrong_type.json()["errors"][0]["parameter"] == "document_type"


def test_another_users_application_is_not_found_on_every_operation(scrivener, engineer):
    owner = api_caller(scrivener)
    application_id = owner.post(BASE, _start_body(engineer)).json()["id"]
    intruder = api_caller(active_user(UserKind.U4, email="other@example.com"), client=owner.client)
    for method, path, body in [
        ("get", f"{BASE}/{application_id}", None),
        ("patch", f"{BASE}/{application_id}", {"answers": {}}),
        ("delete", f"{BASE}/{application_id}", None),
        ("post", f"{BASE}/{application_id}/validate", {}),
        ("get", f"{BASE}/{application_id}/receipt-method", None),
        ("put", f"{BASE}/{application_id}/receipt-method", {"method": "post"}),
        ("get", f"{BASE}/{application_id}/signing-data", None),
        ("post", f"{BASE}/{application_id}/submit", {}),
        ("get", f"{BASE}/{application_id}/events", None),
        ("post", f"{BASE}/{application_id}/requests", {"kind": "withdrawal"}),
        ("delete", f"{BASE}/{application_id}/documents/1", None),
    ]:
        headers = {"Idempotency-Key": "x"}
        if method in ("get", "delete"):
            response = getattr(intruder, method)(path, headers=headers)
        else:
            response = getattr(intruder, method)(path, body, headers=headers)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["code"] == "not_found"
    upload = intruder.upload(
        f"{BASE}/{application_id}/documents",
        {"file": pdf_upload(), "role": "supporting", "document_type": "passport_copy"},
    )
    assert upload.status_code == 404
    assert intruder.get(BASE).json()["meta"]["total"] == 0
    assert Application.objects.get(public_id=application_id).state == "draft"


def test_scopes_limit_what_the_client_may_do(scrivener, engineer):
    reader = api_caller(scrivener, scopes=["applications:read"])
    response = reader.post(BASE, _start_body(engineer))
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert "insufficient_scope" in response["WWW-Authenticate"]
    writer = api_caller(scrivener, scopes=["applications:read", "applications:write"], client=reader.client)
    application_id = writer.post(BASE, _start_body(engineer)).json()["id"]
    assert (
        writer.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "a"}).status_code
        == 403
    )


def test_no_token_or_a_revoked_authorisation_is_401(scrivener):
    from zairyu.api import services

    assert ApiCaller(None).get(BASE).status_code == 401
    assert ApiCaller("not-a-token").get(BASE).status_code == 401
    api = api_caller(scrivener)
    assert api.get(BASE).status_code == 200
    services.authorisation_revoke(user=scrivener, client=api.client)
    response = api.get(BASE)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_authorisation_or_suspended_client_stops_calls(scrivener):
    import time_machine

    api = api_caller(scrivener, days=1)
    assert api.get(BASE).status_code == 200
    with time_machine.travel(clock.now() + __import__("datetime").timedelta(days=2)):
        assert api.get(BASE).status_code == 401
    api.client.state = api.client.State.SUSPENDED
    api.client.save()
    assert api.get(BASE).status_code == 401


def test_officers_cannot_file(engineer):
    officer = active_user(UserKind.OFFICER, email="officer@example.com", is_staff=True)
    api = api_caller(officer)
    assert api.post(BASE, _start_body(engineer)).status_code == 403


def test_a_draft_can_be_deleted_but_not_a_submitted_application(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    assert api.delete(f"{BASE}/{application_id}").status_code == 204
    assert not Application.objects.filter(public_id=application_id).exists()
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    _complete(api, application_id)
    assert (
        api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "s"}).status_code == 200
    )
    assert api.delete(f"{BASE}/{application_id}").status_code == 409
    withdrawal = api.post(f"{BASE}/{application_id}/requests", {"kind": "withdrawal", "message": "moving"})
    assert withdrawal.status_code == 201 and withdrawal.json()["kind"] == "withdrawal"
    assert api.post(f"{BASE}/{application_id}/requests", {"kind": "withdrawal"}).status_code == 409
    change = api.put(f"{BASE}/{application_id}/receipt-method", {"method": "window"})
    assert change.status_code in (200, 422)
    extra = api.upload(
        f"{BASE}/{application_id}/additional-documents",
        {"file": pdf_upload("extra.pdf"), "document_type": "other", "declared": "true"},
    )
    assert extra.status_code == 201, extra.json()
    undeclared = api.upload(
        f"{BASE}/{application_id}/additional-documents",
        {"file": pdf_upload("extra.pdf"), "document_type": "other"},
    )
    assert undeclared.status_code == 422


def test_check_says_whether_a_filing_may_start_without_creating_it(scrivener, engineer):
    api = api_caller(scrivener)
    ok = api.post(f"{BASE}/check", _start_body(engineer)).json()
    assert ok["may_start"] is True
    bad = api.post(f"{BASE}/check", _start_body(engineer, procedure="P9")).json()
    assert bad["may_start"] is False and bad["problems"][0]["pointer"] == "/procedure"
    assert Application.objects.count() == 0


def test_list_filters_and_pages(scrivener, engineer):
    api = api_caller(scrivener)
    ids = [api.post(BASE, _start_body(engineer)).json()["id"] for _ in range(5)]
    page = api.get(BASE, {"page_size": 2, "page": 2}).json()
    assert page["meta"] == {"page": 2, "page_size": 2, "total": 5, "pages": 3}
    assert [i["id"] for i in page["items"]] == list(reversed(ids))[2:4]
    assert api.get(BASE, {"procedure": "P2"}).json()["meta"]["total"] == 0
    assert api.get(BASE, {"page_size": 101}).status_code == 422


# --- U1: the card signature ------------------------------------------------------------------


@pytest.fixture
def resident_with_card(jpki, tmp_path, engineer):
    from zairyu.accounts.tests.conftest import make_card

    card = make_card(jpki, tmp_path, name=engineer.roman_name)
    user = active_user(
        UserKind.U1, email="self@example.com", card_id=card.card_id, full_name=engineer.roman_name
    )
    return user, card


def _sign(card, api, application_id):
    data = api.get(f"{BASE}/{application_id}/signing-data").json()
    raw = base64.b64decode(data["data"])
    signature = card.sign(which="signing", pin=SIGNING_PIN, data=raw)
    return {"signature": base64.b64encode(signature).decode(), "certificate": card.certificate_pem("signing")}


def test_a_foreign_national_must_sign_with_their_card(resident_with_card, engineer, jpki, tmp_path):
    from zairyu.accounts.tests.conftest import make_card

    user, card = resident_with_card
    api = api_caller(user)
    created = api.post(BASE, _start_body(engineer))
    assert created.status_code == 201, created.json()
    application_id = created.json()["id"]
    _complete(api, application_id)
    assert api.post(f"{BASE}/{application_id}/validate").json()["card_signature_required"] is True

    unsigned = api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "u1"})
    assert unsigned.status_code == 422 and unsigned.json()["code"] == "signature"

    other_card = make_card(jpki, tmp_path / "other", name="SOMEONE ELSE")
    forged = _sign(other_card, api, application_id)
    response = api.post(f"{BASE}/{application_id}/submit", forged, headers={"Idempotency-Key": "u2"})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "other_card"

    stale = _sign(card, api, application_id)
    api.patch(f"{BASE}/{application_id}", {"answers": {"applicant_email": "changed@example.com"}})
    response = api.post(f"{BASE}/{application_id}/submit", stale, headers={"Idempotency-Key": "u3"})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "bad_signature"
    assert Application.objects.get(public_id=application_id).state == "draft"

    good = _sign(card, api, application_id)
    response = api.post(f"{BASE}/{application_id}/submit", good, headers={"Idempotency-Key": "u4"})
    assert response.status_code == 200, response.json()["errors"]
    assert response.json()["state"] == ApplicationState.SUBMITTED


# --- idempotency under concurrency (PostgreSQL: real row locks) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_with_one_key_submit_once(postgres_only, scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    _complete(api, application_id)
    token = api.token
    results: list[int] = []
    barrier = threading.Barrier(4)

    def submit():
        caller = ApiCaller(token)
        barrier.wait()
        try:
            results.append(
                caller.post(
                    f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "same"}
                ).status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(results)) in ([200], [200, 409]), results
    assert results.count(200) >= 1
    application = Application.objects.get(public_id=application_id)
    assert application.state == "submitted" and application.receipt_number


def test_a_broken_multipart_body_or_an_unknown_address_is_a_problem(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    broken = api.http.post(
        f"{BASE}/{application_id}/documents",
        b"--x\r\n",
        content_type="multipart/form-data",
        headers=api._headers(None),
    )
    assert broken.status_code == 400 and broken["Content-Type"] == "application/problem+json"
    unknown = api.get("/api/v1/no/such/operation")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    numeric_date = api.get(BASE, {"updated_since": "0.5"})
    assert (
        numeric_date.status_code == 422 and numeric_date.json()["errors"][0]["parameter"] == "updated_since"
    )
    assert api.get(BASE, {"updated_since": "2026-01-01T00:00:00+09:00"}).status_code == 200
    number_fact = api.post(f"{BASE}/check", _start_body(engineer, facts={"x": 0}))
    assert number_fact.status_code == 422 and number_fact.json()["errors"][0]["pointer"] == "/facts/x"


def test_identity_items_changed_to_not_match_the_card_record_stop_the_submission(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    _complete(api, application_id)
    # the name is asked on step 2-1, compared with the card record on step 2-2: saved without error…
    assert (
        api.patch(f"{BASE}/{application_id}", {"answers": {"roman_name": "SOMEONE ELSE"}}).status_code == 200
    )
    # …and caught at submission
    refused = api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "id-1"})
    assert refused.status_code == 422
    assert [e["code"] for e in refused.json()["errors"]] == ["identity_mismatch"]
    assert Application.objects.get(public_id=application_id).state == "draft"


def test_a_body_that_is_not_an_object_and_odd_offsets_are_refused(scrivener, engineer):
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    for body in ("false", "[]", '"x"', "1"):
        response = api.http.post(
            f"{BASE}/{application_id}/submit",
            body,
            content_type="application/json",
            headers=api._headers({"Idempotency-Key": "odd"}),
        )
        assert response.status_code == 400 and response["Content-Type"] == "application/problem+json", body
    odd = api.get(BASE, {"updated_since": "0337-05-06T12:46:07-23:39"})
    assert odd.status_code == 422 and odd.json()["errors"][0]["parameter"] == "updated_since"
    assert api.get(BASE, {"updated_since": "2026-05-06T12:46:07-09:30"}).status_code == 200


def test_an_unknown_query_parameter_is_refused_not_ignored(scrivener):
    api = api_caller(scrivener)
    response = api.get(BASE, {"stat": "draft"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"parameter": "stat", "code": "unknown_parameter", "detail": "This operation has no such parameter."}
    ]
    assert api.get(BASE, {"state": "draft"}).status_code == 200


def test_calls_are_limited_per_user_and_per_client(scrivener, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_PER_USER_PER_MINUTE = 2
    api = api_caller(scrivener)
    assert [api.get(BASE).status_code for _ in range(2)] == [200, 200]
    limited = api.get(BASE)
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert limited.json()["code"] == "rate_limited"

    cache.clear()
    settings.API_RATE_PER_USER_PER_MINUTE = 100
    settings.API_RATE_PER_CLIENT_PER_MINUTE = 3
    other = api_caller(active_user(UserKind.U4, email="other@example.com"), client=api.client)
    assert [api.get(BASE).status_code, other.get(BASE).status_code, api.get(BASE).status_code] == [200] * 3
    assert other.get(BASE).status_code == 429  # the client's budget is shared by all its users
