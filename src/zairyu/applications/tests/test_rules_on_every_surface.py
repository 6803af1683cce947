"""Every rule of ``docs/rules.md`` driven through the web pages and through the API, for the same
facts: both surfaces must give the rule's code and the same message (issue 14). A rule wired on one
surface only fails here.

Each case names the rule id of its row in ``docs/rules.md``; ``core/tests/test_rules_table.py``
holds the table to these cases (and to the other tests the table names). Two kinds of case:

* **at the start** — the start page (``/applications/new/``) and ``POST /applications/check`` and
  ``POST /applications`` with the same start;
* **later, with the clock moved** — a draft started while the rule did not hold, then the clock
  (or the registry) moved until it does: the confirmation page and a submission on the web,
  ``/validate`` and ``/submit`` through the API.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import api_caller
from zairyu.api.tests.test_applications_api import BASE
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import extension_applicant, signed_in_client, today_plus
from zairyu.core import clock
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    rule: str  # the rule's id in docs/rules.md
    code: str  # the problem code both surfaces give
    start: dict[str, Any]  # the start, "{card}" and "{parent}" standing for the records' card numbers
    user: str = UserKind.U4
    resident: dict[str, Any] | None = field(default_factory=dict)  # None: no applicant record
    parent: bool = False  # a parent's record, for a child born in Japan
    warning: bool = False  # a warning: the application still starts

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.code}"


def _born(years: int, days: int = 0) -> dt.date:
    today = clock.today()
    return today.replace(year=today.year - years) - dt.timedelta(days=days)


P3 = {"procedure": "P3", "status": "engineer_humanities", "card_number": "{card}"}
P3_STUDENT = {"procedure": "P3", "status": "student", "card_number": "{card}"}
COE = {"procedure": "P1", "status": "engineer_humanities", "card_number": ""}
NEWBORN = {"procedure": "P4", "status": "dependent", "card_number": "", "parent_card_number": "{parent}"}

AT_START = [
    # F-01 timing
    Case("F-01-last-day", "stay_last_day", P3, resident={"stay_expires_on": today_plus(0)}),
    Case("F-01-expired", "stay_expired", P3, resident={"stay_expires_on": today_plus(-3)}),
    Case("F-01-move-in-day", "move_in_today", P3, resident={"move_in_notified_on": today_plus(0)}),
    Case("F-01-abroad", "abroad_on_reentry", P3, resident={"abroad_on_reentry": True}),
    Case(
        "F-01-extension-early",
        "extension_too_early",
        P3,
        resident={"period_of_stay": "3Y", "stay_expires_on": today_plus(480)},
        warning=True,
    ),
    Case(
        "F-01-no-period",
        "no_period_to_extend",
        {**P3, "status": "permanent_resident"},
        resident={"status": "permanent_resident", "period_of_stay": "", "stay_expires_on": None},
    ),
    Case(
        "F-01-acquisition-30-days",
        "acquisition_deadline_passed",
        {**NEWBORN, "birth_or_event_date": today_plus(-31)},
        resident=None,
        parent=True,
    ),
    Case(
        "F-01-acquisition-date",
        "acquisition_date_in_future",
        {**NEWBORN, "birth_or_event_date": today_plus(2)},
        resident=None,
        parent=True,
    ),
    Case("F-01-acquisition-date", "acquisition_date_required", NEWBORN, resident=None, parent=True),
    Case(
        "F-02-acquisition-no-card",
        "acquisition_has_card",
        {**NEWBORN, "card_number": "{card}", "birth_or_event_date": today_plus(-3)},
        parent=True,
    ),
    Case(
        "F-02-parent-card",
        "card_not_found",
        {**NEWBORN, "parent_card_number": "AB12345678CD", "birth_or_event_date": today_plus(-3)},
        resident=None,
    ),
    # F-02 identity: the card number
    Case("F-02-card-format", "invalid_card_number", {**P3, "card_number": "AB1234"}, resident=None),
    Case("F-02-card-known", "card_not_found", {**P3, "card_number": "ZZ00000000ZZ"}, resident=None),
    # The user × procedure matrix
    Case(
        "M-relative-procedures",
        "matrix",
        {"procedure": "P5", "status": "engineer_humanities", "card_number": "{card}"},
        user=UserKind.U3,
    ),
    Case(
        "M-relative-statuses",
        "relative_family_status",
        {**COE, "facts": {"relative_lives_in_japan": True}},
        user=UserKind.U3,
        resident=None,
    ),
    Case(
        "M-relative-lives-in-japan",
        "condition_relative_lives_in_japan",
        {**COE, "status": "student"},
        user=UserKind.U3,
        resident=None,
    ),
    Case(
        "M-relative-age",
        "condition_applicant_unable",
        {**P3_STUDENT, "facts": {"relative_lives_in_japan": True}},
        user=UserKind.U3,
        resident={"status": "student", "date_of_birth": _born(20)},
    ),
    Case(
        "M-relative-age",
        "fact_reason_required",
        {**P3_STUDENT, "facts": {"relative_lives_in_japan": True, "applicant_unable": True}},
        user=UserKind.U3,
        resident={"status": "student", "date_of_birth": _born(20)},
    ),
    Case(
        "M-foreign-national-consulted",
        "condition_consulted_bureau",
        {"procedure": "P1", "status": "engineer_humanities", "card_number": ""},
        user=UserKind.U1,
        resident=None,
    ),
    Case("M-status-online", "status_not_online", {**P3, "status": "diplomat"}),
    Case("M-add-on-alone", "add_on_alone", {**P3, "procedure": "P6"}),
    Case(
        "M-add-on-combination",
        "add_on_not_allowed",
        {"procedure": "P5", "status": "engineer_humanities", "card_number": "{card}", "add_ons": ["P6"]},
    ),
    Case(
        "M-organization-scope",
        "applicant_in_scope",
        {**P3_STUDENT},
        user=UserKind.U5,
        resident={"status": "student"},
    ),
]


def _user(kind: str):
    if kind == UserKind.U5:
        from zairyu.organizations.tests.factories import staff_member

        return staff_member()  # a school's staff member; the applicant is not one of its students
    return active_user(kind, email=f"{kind.lower()}@example.com")


def _records(case: Case) -> dict[str, str]:
    cards = {"card": "", "parent": ""}
    if case.resident is not None:
        fields = dict(case.resident)
        if case.user == UserKind.U5:
            fields.setdefault("affiliation", ReceivingOrganizationFactory(kind="school"))
        cards["card"] = extension_applicant(**fields).card_number
    if case.parent:
        cards["parent"] = extension_applicant(
            period_of_stay="3Y", stay_expires_on=today_plus(700)
        ).card_number
    return cards


def _body(case: Case, cards: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in case.start.items():
        if isinstance(value, str):
            value = value.format(**cards)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        body[key] = value
    if body.get("facts", {}).get("applicant_unable") is False:
        body.pop("facts")
    return body


def _web_data(body: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in body.items() if k != "facts"}
    data.pop("organization_corporate_number", None)
    for code, stated in body.get("facts", {}).items():
        if stated:
            data[code] = "on"
    return data


def _text(page: bytes) -> str:
    """What a reader sees of a page: entities decoded, tags dropped, white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.decode())))


def _said(message: str) -> str:
    return re.sub(r"\s+", " ", message).strip()


@pytest.mark.parametrize("case", AT_START, ids=lambda case: case.id)
@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_rule_at_the_start(case: Case, language: str):
    cards = _records(case)
    user = _user(case.user)
    body = _body(case, cards)

    api = api_caller(user, language=language)
    checked = api.post(f"{BASE}/check", body)
    assert checked.status_code == 200, checked.json()
    found = {p["code"]: p for p in checked.json()["problems"]}
    assert case.code in found, checked.json()
    assert found[case.code]["severity"] == ("warning" if case.warning else "block")
    message = found[case.code]["detail"]
    created = api.post(BASE, body)
    if case.warning:
        assert created.status_code == 201, created.json()
        Application.objects.all().delete()
    else:
        assert created.status_code in (400, 403, 422), created.json()
        said = [created.json().get("detail", "")] + [e["detail"] for e in created.json()["errors"]]
        assert message in said
        assert not Application.objects.exists()

    client = signed_in_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.post("/applications/new/", _web_data(body), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200, page.get("Location")
    assert not Application.objects.exists()  # refused, or warned and waiting for "Start anyway"
    assert _said(message) in _text(page.content), (case.code, message)
    if case.warning:
        assert f'data-warning="{case.code}"' in page.content.decode()


# --- later, with the clock or the registry moved ----------------------------------------------------


def _stay_ends_in(days: int) -> Callable[[], dict[str, Any]]:
    return lambda: {"period_of_stay": "1Y", "stay_expires_on": today_plus(days)}


@dataclass(frozen=True)
class Later:
    rule: str
    code: str
    days: int  # the clock moved this many days after the start
    resident: Callable[[], dict[str, Any]]
    registry: dict[str, Any] = field(default_factory=dict)  # the record changed after the start
    start: dict[str, Any] = field(default_factory=lambda: dict(P3))
    parent: bool = False

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.code}"


LATER = [
    Later("F-01-last-day", "stay_last_day", 20, _stay_ends_in(20)),
    Later("F-01-expired", "stay_expired", 25, _stay_ends_in(20)),
    Later(
        "F-01-move-in-day", "move_in_today", 0, _stay_ends_in(60), registry={"move_in_notified_on": "today"}
    ),
    Later("F-01-abroad", "abroad_on_reentry", 0, _stay_ends_in(60), registry={"abroad_on_reentry": True}),
    Later(
        "F-01-acquisition-30-days",
        "acquisition_deadline_passed",
        30,
        dict,
        start={**NEWBORN, "birth_or_event_date": "-3"},
        parent=True,
    ),
]


def _later_start(case: Later) -> tuple[dict[str, Any], str]:
    cards = {"card": "", "parent": ""}
    if case.parent:
        cards["parent"] = extension_applicant(
            period_of_stay="3Y", stay_expires_on=today_plus(700)
        ).card_number
    else:
        cards["card"] = extension_applicant(**case.resident()).card_number
    body = {k: (v.format(**cards) if isinstance(v, str) else v) for k, v in case.start.items()}
    if "birth_or_event_date" in body:
        body["birth_or_event_date"] = today_plus(int(body["birth_or_event_date"])).isoformat()
    return body, cards["card"]


def _move_registry(card: str, changes: dict[str, Any]) -> None:
    from zairyu.registry.models import Resident

    values = {k: (clock.today() if v == "today" else v) for k, v in changes.items()}
    Resident.objects.filter(card_number=card).update(**values)


@pytest.mark.parametrize("case", LATER, ids=lambda case: case.id)
def test_the_rule_later_with_the_clock_moved(case: Later):
    user = active_user(UserKind.U4, email="scrivener@example.com")
    body, card = _later_start(case)
    started = api_caller(user).post(BASE, body)
    assert started.status_code == 201, started.json()  # the rule does not hold yet
    on_web = signed_in_client(user).post("/applications/new/", _web_data(body))
    assert on_web.status_code == 302, _text(on_web.content)[:2000]
    api_id = started.json()["id"]
    web_id = on_web["Location"].split("/")[2]

    with time_machine.travel(clock.now() + dt.timedelta(days=case.days, hours=1), tick=False):
        _move_registry(card, case.registry)
        api = api_caller(user)
        validated = api.post(f"{BASE}/{api_id}/validate").json()
        found = {p["code"]: p for p in validated["problems"]}
        assert case.code in found and validated["ready"] is False, validated
        message = found[case.code]["detail"]
        submitted = api.post(f"{BASE}/{api_id}/submit", {})
        assert submitted.status_code in (400, 403, 409, 422)

        client = signed_in_client(user)
        confirm = client.get(f"/applications/{web_id}/confirm/")
        assert f'data-problem="{case.code}"' in confirm.content.decode()
        assert _said(message) in _text(confirm.content)
        refused = client.post(f"/applications/{web_id}/submit/", {"confirm": "yes"}, follow=True)
        assert _said(message) in _text(refused.content)
    assert not Application.objects.filter(state="submitted").exists()


# --- the network rule: held before any view, by the middleware, for pages and software alike -------


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_rule_from_a_network_abroad(settings, language: str):
    """F-01-network: with the applicant side limited to Japan's networks, a start from abroad gets
    the rule's code and message on the page and through the API, and nothing is made."""
    settings.APPLICANT_NETWORKS = ["203.0.113.0/24"]
    user = active_user(UserKind.U4, email="scrivener@example.com")
    body = {**P3, "card_number": extension_applicant().card_number}
    api = api_caller(user, language=language)
    api.http.defaults["REMOTE_ADDR"] = "198.51.100.7"
    refused = api.post(f"{BASE}/check", body)
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/problem+json")
    [item] = refused.json()["errors"]
    assert item["code"] == "foreign_network" and refused.json()["detail"] == item["detail"]

    client = signed_in_client(user)
    client.defaults["REMOTE_ADDR"] = "198.51.100.7"
    page = client.post("/applications/new/", _web_data(body), HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 403 and 'data-problem="foreign_network"' in page.content.decode()
    assert _said(item["detail"]) in _text(page.content)
    assert not Application.objects.exists()

    api.http.defaults["REMOTE_ADDR"] = client.defaults["REMOTE_ADDR"] = "203.0.113.9"  # in Japan
    assert api.post(f"{BASE}/check", body).status_code == 200


# --- the receipt of the result (F-07): the same draft read on the receipt page and through the API --


def _role(role: str) -> str:
    from zairyu.catalogue.formspec import role_field_id

    return role_field_id(role)


@dataclass(frozen=True)
class Receipt:
    rule: str
    code: str
    answers: Callable[[], dict[str, Any]]
    resident: dict[str, Any] = field(default_factory=dict)
    status: str = "engineer_humanities"

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.code}"


RECEIPT = [
    Receipt(
        "F-07-passport-stamp", "post_unavailable_passport_stamp", lambda: {_role("stay.desired_period"): "3M"}
    ),
    Receipt(
        "F-07-kanji-name",
        "post_unavailable_kanji_name",
        lambda: {_role("card.kanji_name_requested"): True, _role("card.kanji_name"): "阮文安"},
        resident={"kanji_name": ""},
    ),
    Receipt(
        "F-07-card-validity",
        "post_unavailable_card_validity",
        lambda: {_role("identity.date_of_birth"): _born(16, days=-60).isoformat()},
    ),
    Receipt(
        "F-07-official", "post_unavailable_official", dict, resident={"status": "official"}, status="official"
    ),
]


@pytest.mark.parametrize("case", RECEIPT, ids=lambda case: case.id)
def test_the_receipt_rule_on_the_page_and_through_the_api(case: Receipt):
    user = active_user(UserKind.U4, email="scrivener@example.com")
    resident = extension_applicant(**case.resident)
    api = api_caller(user)
    started = api.post(BASE, {**P3, "status": case.status, "card_number": resident.card_number})
    assert started.status_code == 201, started.json()
    application_id = started.json()["id"]
    saved = api.patch(f"{BASE}/{application_id}", {"answers": case.answers()})
    assert saved.status_code == 200, saved.json()

    refused = api.put(f"{BASE}/{application_id}/receipt-method", {"method": "post"})
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["errors"]
    assert error["code"] == "receipt_method_unavailable"
    options = api.get(f"{BASE}/{application_id}/receipt-method").json()
    assert options["methods"] == ["window"]

    client = signed_in_client(user)
    page = client.get(f"/applications/{application_id}/receipt/")
    content = page.content.decode()
    assert f'data-reason="{case.code}"' in content
    reason = re.search(rf'data-reason="{case.code}">(.*?)</p>', content, re.S)
    assert reason is not None
    said = _said(html.unescape(reason.group(1)))
    assert said in _said(error["detail"])  # the API's refusal gives the same reason
    posted = client.post(f"/applications/{application_id}/receipt/", {"method": "post"})
    assert posted.status_code == 200 and not Application.objects.get(public_id=application_id).receipt_methods


# --- the identity cross-check (F-02): an item changed after the match, read before submission ------


@pytest.mark.parametrize(
    ("role", "value", "says"),
    [
        ("identity.roman_name", "SOMEONE,ELSE", "The name does not match the residence card record"),
        ("identity.date_of_birth", "1970-01-01", "date of birth"),
    ],
)
def test_the_identity_rule_on_the_confirmation_and_through_the_api(role: str, value: str, says: str):
    """F-02-identity: an identity item changed after it matched the card is named, never shown
    with the record's value, on the confirmation page and by ``/validate`` alike."""
    from zairyu.api.tests.test_applications_api import _complete

    user = active_user(UserKind.U4, email="scrivener@example.com")
    api = api_caller(user)
    application_id = api.post(BASE, {**P3, "card_number": extension_applicant().card_number}).json()["id"]
    _complete(api, application_id)
    assert api.patch(f"{BASE}/{application_id}", {"answers": {_role(role): value}}).status_code == 200

    validated = api.post(f"{BASE}/{application_id}/validate").json()
    [problem] = [p for p in validated["problems"] if p["code"] == "identity_mismatch"]
    assert says in problem["detail"] and value not in problem["detail"] and validated["ready"] is False
    page = signed_in_client(user).get(f"/applications/{application_id}/confirm/")
    assert 'data-problem="identity_mismatch"' in page.content.decode()
    assert _said(problem["detail"]) in _text(page.content)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_user_category_that_files_at_the_window(language: str):
    """M-window-only: an e-COE recipient (U8) is told on the start page what the API's check says."""
    user = active_user(UserKind.U8, email="ecoe@example.com")
    body = {**COE}
    checked = api_caller(user, language=language).post(f"{BASE}/check", body)
    found = {p["code"]: p for p in checked.json().get("problems", [])}
    assert "window_only" in found, checked.json()
    client = signed_in_client(user)
    page = client.get("/applications/new/", HTTP_ACCEPT_LANGUAGE=language, follow=True)
    assert _said(found["window_only"]["detail"]) in _text(page.content)
    assert not Application.objects.exists()


# --- rules of a single item: the step page and the API's answers give the same error ---------------


@pytest.mark.parametrize(
    ("rule", "role", "step", "value", "code"),
    [
        ("F-02-name-format", "identity.roman_name", "2-1", "王 明", "roman_name_characters"),
        ("F-03-applicant-email", "applicant.email", "2-1", "", "required"),
        ("F-03-applicant-email", "applicant.email", "2-1", "not@mail", "invalid_email"),
    ],
    ids=lambda value: value if isinstance(value, str) and value.startswith("F-") else None,
)
def test_an_item_rule_on_the_step_page_and_through_the_api(rule, role, step, value, code):
    from zairyu.applications.tests.helpers import step_post

    user = active_user(UserKind.U4, email="scrivener@example.com")
    resident = extension_applicant()
    api = api_caller(user)
    api_id = api.post(BASE, {**P3, "card_number": resident.card_number}).json()["id"]
    saved = api.patch(f"{BASE}/{api_id}", {"answers": {_role(role): value}})
    assert saved.status_code == 200, saved.json()
    errors = {e["code"]: e for e in saved.json()["errors"] if e["pointer"] == f"/answers/{_role(role)}"}
    assert code in errors, saved.json()["errors"]

    client = signed_in_client(user)
    started = client.post("/applications/new/", {**P3, "card_number": resident.card_number})
    application = Application.objects.get(public_id=started["Location"].split("/")[2])
    data = step_post(application, step)
    data[_role(role)] = value
    page = client.post(f"/applications/{application.public_id}/step/{step}/", data)
    assert page.status_code == 200
    assert _said(errors[code]["detail"]) in _text(page.content), errors[code]["detail"]
    assert page.context["form"][_role(role)].value() == value  # what was typed is kept


def test_the_receipt_method_is_asked_before_submission():
    """F-07-method: no receipt method chosen: the confirmation and the API's check say so alike."""
    from zairyu.api.tests.test_applications_api import _complete

    user = active_user(UserKind.U4, email="scrivener@example.com")
    api = api_caller(user)
    application_id = api.post(BASE, {**P3, "card_number": extension_applicant().card_number}).json()["id"]
    _complete(api, application_id)
    Application.objects.filter(public_id=application_id).update(receipt_methods={})
    validated = api.post(f"{BASE}/{application_id}/validate").json()
    [problem] = [p for p in validated["problems"] if p["code"] == "receipt_method_required"]
    page = signed_in_client(user).get(f"/applications/{application_id}/confirm/")
    assert 'data-problem="receipt_method_required"' in page.content.decode()
    assert _said(problem["detail"]) in _text(page.content)


# --- attachments (F-04): the documents page and the API's upload refuse a file in the same words ---


def _upload(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def _pdf(kind: str) -> bytes:
    from zairyu.documents.tests import factories

    return {
        "encrypted": factories.pdf_encrypted_with_user_password,
        "restricted": lambda: factories.pdf_encrypted_with_owner_password(restricted=True),
        "not_pdf": factories.zip_bytes,
        "active_content": factories.pdf_with_open_action_javascript,
    }[kind]()


def _jpeg(kind: str) -> bytes:
    from zairyu.documents.tests import factories

    return {
        "wrong_proportion": lambda: factories.jpeg_bytes(400, 300),
        "not_jpeg": factories.zip_bytes,
        "too_small": lambda: factories.jpeg_bytes(150, 200),
    }[kind]()


ATTACHMENTS = [
    ("F-04-pdf", "supporting", "encrypted"),
    ("F-04-pdf", "supporting", "restricted"),
    ("F-04-pdf", "supporting", "not_pdf"),
    ("F-04-pdf", "supporting", "active_content"),
    ("F-04-photo", "photo", "wrong_proportion"),
    ("F-04-photo", "photo", "not_jpeg"),
    ("F-04-photo", "photo", "too_small"),
]


@pytest.mark.parametrize(("rule", "role", "code"), ATTACHMENTS, ids=lambda v: v)
def test_an_attachment_rule_on_the_documents_page_and_through_the_api(rule, role, code, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    user = active_user(UserKind.U4, email="scrivener@example.com")
    api = api_caller(user)
    application_id = api.post(BASE, {**P3, "card_number": extension_applicant().card_number}).json()["id"]
    if role == "photo":
        content, name, mime = _jpeg(code), "photo.jpg", "image/jpeg"
        api_data = {"role": "photo", "taken_within_6_months": "true"}
        web_data = {"upload": "photo", "taken_within_6_months": "on"}
        field_name = "photo"
    else:
        content, name, mime = _pdf(code), "contract.pdf", "application/pdf"
        api_data = {"role": "supporting", "document_type": "employment_contract"}
        web_data = {"upload": "document", "document_type": "employment_contract"}
        field_name = "file"
    refused = api.upload(
        f"{BASE}/{application_id}/documents", {**api_data, "file": _upload(name, content, mime)}
    )
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["errors"]
    assert error["code"] == code, error

    client = signed_in_client(user)
    page = client.post(
        f"/applications/{application_id}/documents/", {**web_data, field_name: _upload(name, content, mime)}
    )
    assert page.status_code == 400
    assert _said(error["detail"]) in _text(page.content), error["detail"]
    assert not Application.objects.get(public_id=application_id).documents.exists()


# --- after submission (F-05, F-06, F-07): what the filer reads on the page and through the API ------


def _submitted(procedure: str = "P3", *, by=None, **fields):
    from zairyu.review.tests.factories import filer, submitted

    user = by or filer()
    application = submitted(procedure=procedure, by=user, **fields)
    return user, application


def test_a_certificate_of_eligibility_keeps_its_receipt_method_after_submission():
    """F-07-changeable: the COE's method is fixed at submission; the card's may change while the
    application is submitted or under review."""
    user, coe = _submitted("P1", status="engineer_humanities", method="email")
    api = api_caller(user, scopes=["applications:read", "applications:write", "applications:submit"])
    refused = api.put(f"{BASE}/{coe.public_id}/receipt-method", {"method": "post"})
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["errors"]
    assert error["code"] == "method_fixed"
    client = signed_in_client(user)
    page = client.post(f"/applications/{coe.public_id}/manage/", {"action": "method", "method": "post"})
    assert page.status_code == 400 and _said(error["detail"]) in _text(page.content)
    shown = client.get(f"/applications/{coe.public_id}/manage/").content.decode()
    assert 'data-problem="method_fixed"' in shown and 'name="method"' not in shown
    coe.refresh_from_db()
    assert coe.receipt_methods == {"coe": "email"}

    _user, extension = _submitted("P3", by=user, method="post")
    changed = api.put(f"{BASE}/{extension.public_id}/receipt-method", {"method": "window"})
    assert changed.status_code == 200, changed.json()
    again = client.post(
        f"/applications/{extension.public_id}/manage/", {"action": "method", "method": "post"}
    )
    assert again.status_code == 302
    extension.refresh_from_db()
    assert extension.receipt_methods == {"residence_card": "post"}


@pytest.mark.parametrize(
    ("prefecture", "office", "prefix"), [("13", "tokyo", "東オン"), ("27", "osaka", "阪オン")]
)
def test_the_receipt_number_names_the_office_of_the_applicants_address(prefecture, office, prefix):
    """F-05-office: the office follows the address; the receipt number's prefix shows it, on the
    application's page and through the API alike."""
    user, application = _submitted(office=office, prefecture=prefecture)
    assert application.office == office and application.receipt_number.startswith(prefix)
    detail = api_caller(user).get(f"{BASE}/{application.public_id}").json()
    assert detail["receipt_number"] == application.receipt_number
    page = signed_in_client(user).get(f"/applications/{application.public_id}/")
    assert application.receipt_number in _text(page.content)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_state_is_named_alike_on_the_list_and_through_the_api(language: str):
    """F-06-states: the label of each state (F-06) is the same on the filer's pages and in the API."""
    from zairyu.applications.constants import ApplicationState

    user = active_user(UserKind.U4, email="scrivener@example.com")
    api = api_caller(user, language=language)
    draft_id = api.post(BASE, {**P3, "card_number": extension_applicant().card_number}).json()["id"]
    _same_user, application = _submitted(by=user)
    Application.objects.filter(pk=application.pk).update(state=ApplicationState.UNDER_REVIEW)
    client = signed_in_client(user)
    for public_id in (draft_id, application.public_id):
        label = api.get(f"{BASE}/{public_id}").json()["state_label"]
        assert label in _text(
            client.get(f"/applications/{public_id}/", HTTP_ACCEPT_LANGUAGE=language).content
        )
        assert label in _text(client.get("/applications/", HTTP_ACCEPT_LANGUAGE=language).content)


# --- bulk (F-09): the upload page and the API's upload refuse a file in the same words --------------


def _bulk_refusals(data: bytes, *, procedure: str = "P3", status: str = "student"):
    from zairyu.bulk.models import BulkImport
    from zairyu.bulk.tests.conftest import signed_in
    from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member

    staff = staff_member(EnrolmentFactory(organization=ReceivingOrganizationFactory(kind="school")))
    fields = {"procedure": procedure, "status": status}
    refused = api_caller(staff, scopes=["bulk"]).upload(
        "/api/v1/bulk/imports", {**fields, "file": _upload("students.csv", data, "text/csv")}
    )
    page = signed_in(staff).post(
        "/applications/bulk/upload/", {**fields, "file": _upload("students.csv", data, "text/csv")}
    )
    assert not BulkImport.objects.exists()
    return refused, page


@pytest.mark.parametrize(
    ("rule", "rows", "status", "code"),
    [
        ("F-09-size", 301, "student", "too_many_rows"),
        ("F-09-one-form", 2, "engineer_humanities", "unknown_columns"),
    ],
)
def test_a_bulk_file_rule_on_the_upload_page_and_through_the_api(
    rule, rows, status, code, settings, tmp_path
):
    """F-09-size: at most 300 applicants a file; F-09-one-form: one procedure and input screen a file
    (the columns of another form are refused, naming them)."""
    from zairyu.bulk.samples import bulk_file
    from zairyu.bulk.tests.conftest import student_form

    settings.MEDIA_ROOT = tmp_path / "files"
    cells = [{"card_number": f"AB{n:08d}CD", "place_of_birth": "HANOI"} for n in range(rows)]
    refused, page = _bulk_refusals(bulk_file(student_form(), cells, kind="csv"), status=status)
    assert refused.status_code == 422, refused.json()
    [error] = refused.json()["errors"]
    assert error["code"] == code, error
    assert page.status_code == 400
    assert _said(error["detail"]) in _text(page.content), error["detail"]


# --- what stops a draft from being submitted: the confirmation and /validate list the same ----------


@pytest.mark.parametrize("kind", [UserKind.U4, UserKind.U1])
def test_an_unfinished_draft_is_held_back_alike_on_the_confirmation_and_through_the_api(kind):
    """F-03-confirmation, F-03-organization-part, F-04-documents: every problem the API's check
    gives for a draft is on the confirmation page with the same message, and the other way round.
    The foreign national (U1) fills no organization's part (step 2-3): they attach it as a PDF."""
    if kind == UserKind.U1:
        user = active_user(kind, email="self@example.com", card_id="CARD-SELF-1", valid_until=today_plus(900))
    else:
        user = active_user(kind, email="scrivener@example.com")
    api = api_caller(user)
    started = api.post(BASE, {**P3, "card_number": extension_applicant().card_number})
    assert started.status_code == 201, started.json()
    application_id = started.json()["id"]
    validated = api.post(f"{BASE}/{application_id}/validate").json()
    assert validated["ready"] is False
    page = signed_in_client(user).get(f"/applications/{application_id}/confirm/")
    content = page.content.decode()
    shown = set(re.findall(r'data-problem="([a-z0-9_]+)"', content))
    blocking = [p for p in validated["problems"] if p["severity"] == "block"]
    assert {p["code"] for p in blocking} == shown
    for problem in blocking:
        assert _said(problem["detail"]) in _text(page.content), problem
    assert {"form_incomplete", "document_missing", "photo_missing", "receipt_method_required"} <= shown
    steps = set(re.findall(r"/step/([0-9-]+)/", content))
    if kind == UserKind.U1:
        assert "organization_part_missing" in shown and "2-3" not in steps
    else:
        assert "organization_part_missing" not in shown and "2-3" in steps
