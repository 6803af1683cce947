"""F-07, issue 14: asking for the name in kanji on the new residence card.

The request is handed in at the window when the card is collected (Q&A A5-1 (2), A5-4), so the
card cannot then be posted, unless the current card already shows a kanji name. The item is on
the forms that issue a card (change, extension, acquisition), never on a COE or an employment
certificate; the web steps and the API both read it from the catalogue.
"""

from __future__ import annotations

from typing import Any

import pytest

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import ApiCaller, api_caller
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.applications.services import application_form
from zairyu.applications.tests.helpers import (
    extension_applicant,
    pdf_upload,
    photo_upload,
    signed_in_client,
    step_post,
)
from zairyu.catalogue.formspec import form_for, role_field_id
from zairyu.core import clock

pytestmark = pytest.mark.django_db

API = "/api/v1/applications"
REGISTRY_KANJI = "王 小明"  # the record's kanji name: never shown to the filer
TYPED_KANJI = "阮 文安"
KANJI_REASON = "Adding a kanji name to the residence card"


def requested(kanji: str = TYPED_KANJI) -> dict[str, Any]:
    return {role_field_id("card.kanji_name_requested"): True, role_field_id("card.kanji_name"): kanji}


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="scrivener@example.com")


# --- the web ----------------------------------------------------------------------------------


def start_extension(client, resident) -> Application:
    response = client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number},
    )
    assert response.status_code == 302
    return Application.objects.latest("pk")


def fill_steps(client, application, overrides: dict[str, Any] | None = None) -> None:
    """Every step with valid answers, the applicant's name in kanji left blank (the filer does
    not type the card's kanji: nothing on the page can then have come from it)."""
    overrides = {role_field_id("applicant.kanji_name"): "", **(overrides or {})}
    for step in application_form(application).step_ids:
        application.refresh_from_db()
        data = step_post(application, step, overrides=overrides)
        response = client.post(f"/applications/{application.public_id}/step/{step}/", data)
        assert response.status_code == 302, (step, response.context and response.context["form"].errors)
    application.refresh_from_db()


def attach_everything(client, application) -> None:
    base = f"/applications/{application.public_id}"
    for document_type in ("passport_copy", "employment_contract", "tax_certificate"):
        response = client.post(
            f"{base}/documents/",
            {
                "upload": "document",
                "document_type": document_type,
                "file": pdf_upload(f"{document_type}.pdf"),
            },
        )
        assert response.status_code == 302
    response = client.post(
        f"{base}/documents/", {"upload": "photo", "photo": photo_upload(), "taken_within_6_months": "on"}
    )
    assert response.status_code == 302


def offered(page) -> list[str]:
    return [code for code, _label in page.context["form"].fields["method"].choices]


def test_asking_for_kanji_leaves_only_the_window_when_the_card_has_none(scrivener):
    client = signed_in_client(scrivener)
    application = start_extension(client, extension_applicant(kanji_name=""))
    fill_steps(client, application, requested())
    assert application.answers[role_field_id("card.kanji_name_requested")] is True
    assert application.answers[role_field_id("card.kanji_name")] == TYPED_KANJI

    receipt = f"/applications/{application.public_id}/receipt/"
    page = client.get(receipt)
    assert page.status_code == 200 and offered(page) == ["window"]
    assert 'data-reason="post_unavailable_kanji_name"' in page.content.decode()
    refused = client.post(receipt, {"method": "post"})
    assert refused.status_code == 200 and not Application.objects.get(pk=application.pk).receipt_methods
    assert client.post(receipt, {"method": "window"}).status_code == 302


def test_post_stays_open_when_the_current_card_already_shows_kanji(scrivener):
    client = signed_in_client(scrivener)
    application = start_extension(client, extension_applicant(kanji_name=REGISTRY_KANJI))
    fill_steps(client, application, requested())
    assert application.answers[role_field_id("card.kanji_name_requested")] is True

    page = client.get(f"/applications/{application.public_id}/receipt/")
    assert offered(page) == ["post", "window"]
    text = page.content.decode()
    assert "post_unavailable_kanji_name" not in text
    assert REGISTRY_KANJI not in text  # only whether the card shows one counts, never what it is
    step = client.get(f"/applications/{application.public_id}/step/2-2/").content.decode()
    assert REGISTRY_KANJI not in step and TYPED_KANJI in step


def test_a_post_chosen_before_the_kanji_request_is_refused_at_submission(scrivener):
    client = signed_in_client(scrivener)
    application = start_extension(client, extension_applicant(kanji_name=""))
    fill_steps(client, application)
    attach_everything(client, application)
    base = f"/applications/{application.public_id}"
    assert client.post(f"{base}/receipt/", {"method": "post"}).status_code == 302
    assert not client.get(f"{base}/confirm/").context["problems"]

    # Step 2-2 again, now asking for the kanji name: the post chosen earlier no longer holds.
    application.refresh_from_db()
    data = step_post(application, "2-2", overrides=requested())
    assert client.post(f"{base}/step/2-2/", data).status_code == 302
    confirm = client.get(f"{base}/confirm/")
    [problem] = confirm.context["problems"]
    assert problem.code == "receipt_method_unavailable"
    assert problem.data["reasons"] == ["post_unavailable_kanji_name"]
    assert KANJI_REASON in str(problem.message) and KANJI_REASON in confirm.content.decode()
    submitted = client.post(
        f"{base}/submit/", {"confirm": "yes", "submission_key": confirm.context["submit_key"]}, follow=True
    )
    assert KANJI_REASON in submitted.content.decode()
    assert Application.objects.get(pk=application.pk).state == ApplicationState.DRAFT

    assert client.post(f"{base}/receipt/", {"method": "window"}).status_code == 302
    assert not client.get(f"{base}/confirm/").context["problems"]


@pytest.mark.parametrize(
    ("procedure", "status", "asked"),
    [
        ("P1", "engineer_humanities", False),  # a COE: no card yet
        ("P5", "engineer_humanities", False),  # an employment certificate: no card issued
        ("P2", "engineer_humanities", True),
        ("P3", "engineer_humanities", True),
        ("P4", "engineer_humanities", True),
    ],
)
def test_the_item_is_only_on_the_forms_that_issue_a_card(procedure, status, asked):
    form = form_for(procedure=procedure, status=status, user_category="U4")
    for role in ("card.kanji_name_requested", "card.kanji_name"):
        assert (form.field_for_role(role) is not None) is asked, (procedure, role)


def test_the_kanji_name_is_asked_only_when_the_request_is_ticked():
    from zairyu.catalogue.formspec import normalize_and_validate

    form = form_for(procedure="P3", status="engineer_humanities", user_category="U4")
    name = role_field_id("card.kanji_name")
    base = sample_answers(form, today=clock.today())
    missing = normalize_and_validate(form, {**base, **requested("")}, today=clock.today())
    assert name in {e.field_id for e in missing.errors}
    not_asked = {**base, role_field_id("card.kanji_name_requested"): False, name: ""}
    assert name not in {
        e.field_id for e in normalize_and_validate(form, not_asked, today=clock.today()).errors
    }
    too_long = normalize_and_validate(form, {**base, **requested("漢" * 61)}, today=clock.today())
    assert name in {e.field_id for e in too_long.errors}


# --- the API ----------------------------------------------------------------------------------


def api_draft(api: ApiCaller, resident) -> str:
    created = api.post(
        API, {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number}
    )
    assert created.status_code == 201, created.json()
    return created.json()["id"]


def api_answer(api: ApiCaller, application_id: str, answers: dict[str, Any]) -> None:
    response = api.patch(f"{API}/{application_id}", {"answers": answers})
    assert response.status_code == 200, response.json()


def test_the_api_offers_only_the_window_when_kanji_is_asked_and_the_card_has_none(scrivener):
    api = api_caller(scrivener)
    application_id = api_draft(api, extension_applicant(kanji_name=""))
    assert api.get(f"{API}/{application_id}/receipt-method").json()["methods"] == ["post", "window"]

    api_answer(api, application_id, requested())
    options = api.get(f"{API}/{application_id}/receipt-method").json()
    assert options["methods"] == ["window"] and options["default"] == "window"
    refused = api.put(f"{API}/{application_id}/receipt-method", {"method": "post"})
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["errors"]
    assert error["code"] == "receipt_method_unavailable" and error["pointer"] == "/method"
    assert KANJI_REASON in error["detail"]
    assert api.put(f"{API}/{application_id}/receipt-method", {"method": "window"}).status_code == 200


def test_the_api_keeps_post_when_the_card_shows_kanji_and_never_tells_it(scrivener):
    api = api_caller(scrivener)
    application_id = api_draft(api, extension_applicant(kanji_name=REGISTRY_KANJI))
    api_answer(api, application_id, requested())
    options = api.get(f"{API}/{application_id}/receipt-method")
    assert options.json()["methods"] == ["post", "window"]
    assert api.put(f"{API}/{application_id}/receipt-method", {"method": "post"}).status_code == 200
    for response in (
        options,
        api.get(f"{API}/{application_id}"),
        api.post(f"{API}/{application_id}/validate"),
    ):
        assert REGISTRY_KANJI not in response.content.decode("utf-8")


def test_the_api_validation_refuses_a_post_chosen_before_the_kanji_request(scrivener):
    api = api_caller(scrivener)
    resident = extension_applicant(kanji_name="")
    application_id = api_draft(api, resident)
    application = Application.objects.get(public_id=application_id)
    answers = sample_answers(
        application_form(application), today=clock.today(), overrides=application.answers
    )
    api_answer(api, application_id, answers)
    assert api.put(f"{API}/{application_id}/receipt-method", {"method": "post"}).status_code == 200
    codes = {p["code"] for p in api.post(f"{API}/{application_id}/validate").json()["problems"]}
    assert "receipt_method_unavailable" not in codes

    api_answer(api, application_id, requested())
    result = api.post(f"{API}/{application_id}/validate").json()
    assert result["ready"] is False
    [problem] = [p for p in result["problems"] if p["code"] == "receipt_method_unavailable"]
    assert problem["data"]["reasons"] == ["post_unavailable_kanji_name"]
    assert KANJI_REASON in problem["detail"]


@pytest.mark.parametrize(("procedure", "asked"), [("P1", False), ("P5", False), ("P3", True)])
def test_the_api_form_schema_has_the_item_only_where_a_card_is_issued(procedure, asked):
    response = ApiCaller(None).get(
        f"/api/v1/catalogue/forms/{procedure}/engineer_humanities", {"user_category": "U4"}
    )
    assert response.status_code == 200, response.content
    properties = response.json()["properties"]
    for role in ("card.kanji_name_requested", "card.kanji_name"):
        assert (role_field_id(role) in properties) is asked, (procedure, role)
