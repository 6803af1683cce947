"""The applicant's journey through the pages, submission, receipt numbers and access rules."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.services import (
    application_form,
    application_submit,
    drafts_expire,
    receipt_numbers_retry,
)
from zairyu.applications.tests.helpers import (
    extension_applicant,
    pdf_upload,
    photo_upload,
    signed_in_client,
    step_post,
    today_plus,
)
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def engineer():
    return extension_applicant()


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="scrivener@example.com")


def start(client, resident, procedure="P3", add_ons=("P6", "P7"), status="engineer_humanities"):
    return client.post(
        "/applications/new/",
        {
            "procedure": procedure,
            "status": status,
            "add_ons": list(add_ons),
            "card_number": resident.card_number.lower(),
        },
    )


def fill_everything(client, application):
    for step in application_form(application).step_ids:
        application.refresh_from_db()
        response = client.post(
            f"/applications/{application.public_id}/step/{step}/", step_post(application, step)
        )
        assert response.status_code == 302, (step, response.context and response.context["form"].errors)
    base = f"/applications/{application.public_id}"
    for document_type, name in [
        ("passport_copy", "passport.pdf"),
        ("employment_contract", "contract.pdf"),
        ("tax_certificate", "tax.pdf"),
    ]:
        response = client.post(
            f"{base}/documents/",
            {"upload": "document", "document_type": document_type, "file": pdf_upload(name)},
        )
        assert response.status_code == 302, response.content[:2000]
    response = client.post(
        f"{base}/documents/", {"upload": "photo", "photo": photo_upload(), "taken_within_6_months": "on"}
    )
    assert response.status_code == 302
    assert client.post(f"{base}/receipt/", {"method": "post"}).status_code == 302


def test_a_scrivener_files_an_extension_with_re_entry_and_activity_permission(
    scrivener, engineer, django_capture_on_commit_callbacks
):
    client = signed_in_client(scrivener)
    response = start(client, engineer)
    assert response.status_code == 302
    application = Application.objects.get(filer=scrivener)
    assert application.applicant_resident == engineer and application.add_ons == ["P6", "P7"]
    # A scrivener's link to the applicant is not proven: nothing is filled from the registry.
    assert "roman_name" not in application.answers and application.applicant_name == ""
    assert application.answers["card_number"] == engineer.card_number
    fill_everything(client, application)

    confirm = client.get(f"/applications/{application.public_id}/confirm/")
    assert confirm.status_code == 200 and not confirm.context["problems"], confirm.context["problems"]
    assert engineer.roman_name in confirm.content.decode()
    key = confirm.context["submit_key"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/applications/{application.public_id}/submit/", {"confirm": "yes", "submission_key": key}
        )
        again = client.post(
            f"/applications/{application.public_id}/submit/", {"confirm": "yes", "submission_key": key}
        )
    assert response.status_code == again.status_code == 302
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED
    assert re.fullmatch(r"東オン-KN-\d{4}-\d{6}", application.receipt_number)
    assert application.receipt_date == clock.today() and application.office == "tokyo"
    assert application.fee_yen == 5500 + 3500 + 0  # extension online + single re-entry online + activity
    assert OutboundEmail.objects.filter(kind="application_received", to=scrivener.email).count() == 1
    listing = client.get("/applications/").content.decode()
    assert application.receipt_number in listing
    detail = client.get(f"/applications/{application.public_id}/").content.decode()
    assert application.receipt_number in detail and "passport.pdf" in detail


def test_nothing_is_submitted_without_the_explicit_confirmation(scrivener, engineer):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    fill_everything(client, application)
    client.post(f"/applications/{application.public_id}/submit/", {"submission_key": "k"})
    application.refresh_from_db()
    assert application.state == ApplicationState.DRAFT


def test_a_draft_is_saved_as_the_user_goes_and_resumed_from_another_device(engineer):
    user = active_user(UserKind.U4)
    first = signed_in_client(user)
    start(first, engineer)
    application = Application.objects.get(filer=user)
    data = step_post(application, "2-1", overrides={"phone_number": "０３－１２３４－５６７８"}, draft=True)
    data["occupation"] = ""  # left half-way
    assert first.post(f"/applications/{application.public_id}/step/2-1/", data).status_code == 302
    application.refresh_from_db()
    assert application.answers["phone_number"] == "03-1234-5678"  # normalised, and kept
    assert "2-1" not in application.steps_done or application.answers.get("occupation") in (None, "")
    second = signed_in_client(user)
    page = second.get(f"/applications/{application.public_id}/step/2-1/")
    assert page.status_code == 200 and "03-1234-5678" in page.content.decode()


def test_the_matrix_and_the_timing_rules_are_checked_when_starting(engineer):
    relative = active_user(UserKind.U3)
    response = start(signed_in_client(relative), engineer, procedure="P5", add_ons=())
    assert response.status_code == 200 and not Application.objects.exists()
    engineer.stay_expires_on = clock.today()
    engineer.save()
    response = start(signed_in_client(active_user(UserKind.U4)), engineer)
    text = " ".join(str(e) for e in response.context["form"].non_field_errors())
    assert response.status_code == 200 and "window" in text


def test_another_user_can_never_see_or_act_on_an_application(scrivener, engineer):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    client.post(
        f"/applications/{application.public_id}/documents/",
        {"upload": "document", "document_type": "passport_copy", "file": pdf_upload()},
    )
    attachment = application.documents.get()
    intruder = signed_in_client(active_user(UserKind.U4))
    base = f"/applications/{application.public_id}"
    for url in [
        f"{base}/",
        f"{base}/step/2-1/",
        f"{base}/documents/",
        f"{base}/documents/{attachment.pk}/",
        f"{base}/receipt/",
        f"{base}/confirm/",
    ]:
        assert intruder.get(url).status_code == 404, url
    for url in [
        f"{base}/step/2-1/",
        f"{base}/documents/",
        f"{base}/documents/{attachment.pk}/remove/",
        f"{base}/receipt/",
        f"{base}/submit/",
    ]:
        assert intruder.post(url, {"confirm": "yes"}).status_code == 404, url
    assert application.public_id.hex not in intruder.get("/applications/").content.decode()
    officer = signed_in_client(active_user(UserKind.OFFICER, office="tokyo", role="reviewer"))
    assert officer.get(f"{base}/").status_code in (302, 404)
    assert application.documents.count() == 1


def test_a_failed_receipt_number_is_retried_by_the_job(
    scrivener, engineer, django_capture_on_commit_callbacks
):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    fill_everything(client, application)
    application_submit(application_id=application.pk, user=scrivener, submission_key="x")
    application.refresh_from_db()
    number = application.receipt_number
    Application.objects.filter(pk=application.pk).update(
        state=ApplicationState.ERROR_RECEIPT, receipt_number=""
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert receipt_numbers_retry() == 1
        assert receipt_numbers_retry() == 0
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED and application.receipt_number != number
    assert OutboundEmail.objects.filter(kind="receipt_number").count() == 1


def test_receipt_serials_are_gap_free_per_office_and_year(scrivener):
    from django.db import transaction

    from zairyu.applications.receipts import receipt_number

    day = dt.date(2026, 11, 21)
    with transaction.atomic():
        first = receipt_number(office="tokyo", procedure="P3", group="N", receipt_date=day)
        second = receipt_number(office="tokyo", procedure="P2", group="P", receipt_date=day)
        osaka = receipt_number(office="osaka", procedure="P3", group="N", receipt_date=day)
    with pytest.raises(RuntimeError), transaction.atomic():
        receipt_number(office="tokyo", procedure="P3", group="N", receipt_date=day)
        raise RuntimeError  # a rolled-back submission gives its number back
    with transaction.atomic():
        third = receipt_number(office="tokyo", procedure="P3", group="N", receipt_date=day.replace(year=2027))
        fourth = receipt_number(office="tokyo", procedure="P3", group="N", receipt_date=day)
    assert (first, second, osaka) == (
        "東オン-KN-2026-000001",
        "東オン-HP-2026-000002",
        "阪オン-KN-2026-000001",
    )
    assert third == "東オン-KN-2027-000001" and fourth == "東オン-KN-2026-000003"


def test_drafts_expire_after_a_warning(scrivener, engineer, settings, django_capture_on_commit_callbacks):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    expiry = application.draft_expires_at
    with time_machine.travel(expiry - dt.timedelta(days=3)), django_capture_on_commit_callbacks(execute=True):
        assert drafts_expire() == {"warned": 1, "deleted": 0}
        assert drafts_expire() == {"warned": 1, "deleted": 0}
    assert OutboundEmail.objects.filter(kind="draft_expiring").count() == 1
    with time_machine.travel(expiry + dt.timedelta(minutes=1)):
        assert drafts_expire()["deleted"] == 1
    assert not Application.objects.exists()


def submitted_application(client, user, resident):
    start(client, resident)
    application = Application.objects.get(filer=user)
    fill_everything(client, application)
    return application_submit(application_id=application.pk, user=user, submission_key="k")


def test_after_submission_the_filer_changes_the_receipt_method_adds_documents_and_asks_for_a_correction(
    scrivener, engineer, django_capture_on_commit_callbacks
):
    client = signed_in_client(scrivener)
    application = submitted_application(client, scrivener, engineer)
    base = f"/applications/{application.public_id}"
    assert client.get(f"{base}/manage/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{base}/manage/", {"action": "method", "method": "window"}).status_code == 302
    application.refresh_from_db()
    assert application.receipt_methods == {"residence_card": "window"}
    assert OutboundEmail.objects.filter(kind="receipt_method_changed").count() == 1

    undeclared = client.post(
        f"{base}/manage/", {"action": "document", "document_type": "other", "file": pdf_upload()}
    )
    assert undeclared.status_code == 400
    assert (
        client.post(
            f"{base}/manage/",
            {
                "action": "document",
                "document_type": "other",
                "file": pdf_upload("more.pdf"),
                "declared": "on",
            },
        ).status_code
        == 302
    )
    assert application.documents.filter(role="additional").count() == 1

    assert (
        client.post(
            f"{base}/manage/",
            {"action": "request", "kind": "correction", "message": "The salary is 260,000 yen."},
        ).status_code
        == 302
    )
    again = client.post(f"{base}/manage/", {"action": "request", "kind": "correction", "message": "again"})
    assert again.status_code == 400 and application.requests.count() == 1
    intruder = signed_in_client(active_user(UserKind.U4))
    assert intruder.get(f"{base}/manage/").status_code == 404
    assert (
        intruder.post(
            f"{base}/manage/", {"action": "request", "kind": "withdrawal", "message": "x"}
        ).status_code
        == 404
    )


def test_a_draft_cannot_use_the_after_submission_actions(scrivener, engineer):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    response = client.post(
        f"/applications/{application.public_id}/manage/",
        {"action": "request", "kind": "withdrawal", "message": "x"},
    )
    assert response.status_code == 400 and not application.requests.exists()


def test_a_self_applicant_attaches_income_and_tax_data_from_mynaportal(engineer):
    from zairyu.applications.mynaportal import available_years

    user = active_user(UserKind.U1, card_id="CARD-MYNA-1", valid_until=today_plus(900))
    client = signed_in_client(user)
    client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": engineer.card_number},
    )
    application = Application.objects.get(filer=user)
    year = available_years(clock.today())[0]
    response = client.post(
        f"/applications/{application.public_id}/documents/",
        {"upload": "mynaportal", "fiscal_year": str(year)},
    )
    assert response.status_code == 302
    data = application.data.get()
    assert data.payload["fiscal_year"] == year and data.payload["total_income"] > 0
    again = application.data.model.objects.filter(application=application)
    client.post(
        f"/applications/{application.public_id}/documents/",
        {"upload": "mynaportal", "fiscal_year": str(year)},
    )
    assert again.count() == 1  # fetched again: replaced, not duplicated
    assert (
        client.post(
            f"/applications/{application.public_id}/documents/",
            {"upload": "mynaportal", "fiscal_year": "1999"},
        ).status_code
        == 302
    )
    assert application.data.count() == 1
    page = client.get(f"/applications/{application.public_id}/confirm/").content.decode()
    assert f"Fiscal year {year}" in page
    scrivener = active_user(UserKind.U4)
    other = signed_in_client(scrivener)
    other.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": engineer.card_number},
    )
    theirs = Application.objects.get(filer=scrivener)
    other.post(
        f"/applications/{theirs.public_id}/documents/", {"upload": "mynaportal", "fiscal_year": str(year)}
    )
    assert not theirs.data.exists()  # only a self-applicant fetches their own data


def test_the_documents_checklist_comes_from_catalogue_data_and_each_type_once():
    from zairyu.applications.checklist import checklist, document_types

    student = {i.document_type for i in checklist(procedure="P3", group="P", user_category="U4")}
    assert {"passport_copy", "enrolment_certificate", "attendance_certificate"} <= student
    assert "employment_contract" not in student
    engineer = {i.document_type: i for i in checklist(procedure="P1", group="N", user_category="U5")}
    assert engineer["passport_copy"].required and "company_documents" in engineer
    assert "residence_card_copy" not in engineer  # no card yet for a COE
    assert all(str(label) for label in document_types().values())


def test_the_detail_page_links_the_form_pdf_and_after_submission_the_proof(scrivener, engineer):
    client = signed_in_client(scrivener)
    application = submitted_application(client, scrivener, engineer)
    page = client.get(f"/applications/{application.public_id}/").content.decode()
    assert f"/applications/{application.public_id}/application.pdf" in page
    assert f"/applications/{application.public_id}/proof.pdf" in page
    response = client.get(f"/applications/{application.public_id}/proof.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert (
        signed_in_client(active_user(UserKind.U4))
        .get(f"/applications/{application.public_id}/proof.pdf")
        .status_code
        == 404
    )


def test_the_identity_cross_check_names_the_item_and_is_throttled_and_audited(scrivener, engineer, settings):
    from zairyu.core.models import AuditEvent

    settings.CROSSCHECK_MISMATCH_LIMIT = 2
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    wrong_birth = (engineer.date_of_birth - dt.timedelta(days=1)).isoformat()
    assert (
        client.post(
            f"/applications/{application.public_id}/step/2-1/",
            step_post(application, "2-1", overrides={"date_of_birth": wrong_birth}),
        ).status_code
        == 302
    )
    application.refresh_from_db()
    response = client.post(f"/applications/{application.public_id}/step/2-2/", step_post(application, "2-2"))
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["form"].non_field_errors())
    assert "date of birth" in errors.lower()
    assert engineer.date_of_birth.isoformat() not in response.content.decode()  # the record is never shown
    assert AuditEvent.objects.filter(action="applications.crosscheck_mismatch").count() == 1
    client.post(f"/applications/{application.public_id}/step/2-2/", step_post(application, "2-2"))
    throttled = client.post(f"/applications/{application.public_id}/step/2-2/", step_post(application, "2-2"))
    assert "Too many attempts" in throttled.content.decode()
    assert "2-2" not in Application.objects.get(pk=application.pk).steps_done


def test_autosave_keeps_what_is_typed_without_leaving_the_page(scrivener, engineer):
    client = signed_in_client(scrivener)
    start(client, engineer)
    application = Application.objects.get(filer=scrivener)
    data = step_post(application, "2-1", overrides={"occupation": "Engineer at a software company"})
    data["autosave"] = "1"
    response = client.post(f"/applications/{application.public_id}/step/2-1/", data)
    assert response.status_code == 204
    application.refresh_from_db()
    assert application.answers["occupation"] == "Engineer at a software company"
