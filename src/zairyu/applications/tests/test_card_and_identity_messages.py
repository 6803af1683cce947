"""Issue 14: a card number that finds no record says which of three things is wrong, and an
identity item changed on its own (through the API) is named at submission — the same on the web
start page and through the API."""

from __future__ import annotations

import pytest
from django.utils import translation

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import api_caller
from zairyu.api.tests.test_applications_api import BASE, _complete, _start_body
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import extension_applicant, signed_in_client
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.rules import add_on_alone

pytestmark = pytest.mark.django_db

FORMAT = "two letters, eight digits and two letters"
CASES = [
    ("", "card_number_required", "Enter the applicant's residence card number"),
    ("AB12", "invalid_card_number", "“AB12” is not a residence card number"),
    ("ZZ99999999ZZ", "card_not_found", "No residence card with the number ZZ99999999ZZ was found"),
]


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="scrivener@example.com")


@pytest.mark.parametrize(("typed", "code", "says"), CASES)
def test_the_web_start_page_says_what_is_wrong_with_the_card_number(scrivener, typed, code, says):
    client = signed_in_client(scrivener)
    page = client.post(
        "/applications/new/", {"procedure": "P3", "status": "engineer_humanities", "card_number": typed}
    )
    assert page.status_code == 200 and not Application.objects.exists()
    text = page.content.decode()
    assert says.replace("'", "&#x27;").replace("“", "“") in text
    if code == "card_not_found":
        assert FORMAT not in text  # a well-formed number is not told its shape is wrong


@pytest.mark.parametrize(("typed", "code", "says"), CASES)
def test_the_api_says_the_same(scrivener, typed, code, says):
    api = api_caller(scrivener)
    response = api.post(
        f"{BASE}/check", {"procedure": "P3", "status": "engineer_humanities", "card_number": typed}
    )
    errors = response.json()["problems"]
    assert code in [e["code"] for e in errors]
    detail = next(e["detail"] for e in errors if e["code"] == code)
    assert says in detail
    assert code != "card_not_found" or FORMAT not in detail


def test_a_name_changed_through_the_api_is_named_at_submission(scrivener):
    engineer = extension_applicant()
    api = api_caller(scrivener)
    application_id = api.post(BASE, _start_body(engineer)).json()["id"]
    _complete(api, application_id)
    assert (
        api.patch(f"{BASE}/{application_id}", {"answers": {"roman_name": "SOMEONE ELSE"}}).status_code == 200
    )
    for response, key in (
        (api.post(f"{BASE}/{application_id}/validate", {}), "problems"),
        (api.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "named"}), "errors"),
    ):
        errors = [e for e in response.json()[key] if e["code"] == "identity_mismatch"]
        assert len(errors) == 1, response.json()
        assert "The name does not match the residence card record" in errors[0]["detail"]
        assert "SOMEONE" not in errors[0]["detail"] and engineer.roman_name not in errors[0]["detail"]


@pytest.mark.parametrize("procedure", ["P6", "P7"])
def test_a_re_entry_permit_or_activity_permission_alone_is_told_what_to_do(scrivener, procedure):
    engineer = extension_applicant()
    api = api_caller(scrivener)
    for response in (
        api.post(f"{BASE}/check", _start_body(engineer, procedure=procedure)),
        api.post(BASE, _start_body(engineer, procedure=procedure)),
    ):
        body = response.json()
        problems = body.get("problems") or body.get("errors")
        assert [p["code"] for p in problems] == ["add_on_alone"], body
        detail = problems[0]["detail"]
        assert "Extension of period of stay" in detail and "window" in detail
    assert not Application.objects.exists()
    with translation.override("ja"):
        reason = add_on_alone(get_catalogue().procedures[procedure])
        assert "窓口" in str(reason.message) and "在留期間更新" in str(reason.message)
