"""The bulk journey in a browser (Playwright on Debian's Chromium), desktop and phone: a language
school's staff member downloads the template, uploads 20 students with two errors, sees each
error with its cell, downloads the annotated workbook, corrects it, uploads it again (nothing is
duplicated), attaches the photos and passport copies as one ZIP, and submits all 20."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import expect

from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.bulk.samples import attachments_zip, bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import student_form, student_of
from zairyu.core import clock
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 20


def session_cookie(user) -> str:
    """A signed-in session as after sign-in with ID, password and code (tested in accounts)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = clock.now().timestamp()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["signed_in_at"] = store["last_activity"] = now
    store.save()
    return store.session_key


def test_a_school_files_its_students_in_bulk(page, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "files"
    site = live_server.url
    school = ReceivingOrganizationFactory(kind="school", name="Demo Japanese Language School")
    staff = staff_member(EnrolmentFactory(organization=school))
    students = [student_of(school) for _ in range(ROWS)]
    page.context.add_cookies([{"name": "zairyu_session", "value": session_cookie(staff), "url": site}])

    page.goto(f"{site}/applications/")
    page.click("[data-action=bulk]")
    page.wait_for_url(re.compile(r"/applications/bulk/$"))

    # The template of the student extension, as Excel.
    template_form = page.locator("form[action$='/bulk/template/']")
    template_form.locator("select[name=procedure]").select_option("P3")
    template_form.locator("select[name=status]").select_option("student")
    with page.expect_download() as download:
        template_form.locator("[data-action=download-template]").click()
    assert download.value.suggested_filename == "zairyu-bulk-P3-P-student.xlsx"
    template = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert template["申請人 Applicants"]["A5"].value == "card_number"

    # 20 students, two with a mistake, filled in (by the generator, as a person would in Excel).
    form = student_form()
    rows, injected = bulk_rows(form, students, errors=2)
    upload_form = page.locator("form[action$='/bulk/upload/']")
    upload_form.locator("select[name=procedure]").select_option("P3")
    upload_form.locator("select[name=status]").select_option("student")
    upload_form.locator("input[type=file]").set_input_files(
        {
            "name": "students.xlsx",
            "mimeType": "application/octet-stream",
            "buffer": bulk_file(form, rows, kind="xlsx"),
        }
    )
    upload_form.locator("[data-action=upload]").click()
    page.wait_for_url(re.compile(r"/applications/bulk/[0-9a-f-]{36}/$"))
    expect(page.locator("[data-import-state=done]")).to_be_visible()
    assert page.text_content("[data-count=draft]").strip() == str(ROWS - 2)
    errors = page.locator("#errors tbody tr")
    expect(errors).to_have_count(2)
    for mistake in injected:
        cell = page.locator(f"#errors tr[data-error-row='{mistake.row}']")
        expect(cell).to_have_count(1)
        assert cell.get_attribute("data-error-column")  # named by its column letter

    # The annotated workbook: the wrong cells marked; correct them and upload it again.
    with page.expect_download() as download:
        page.click("[data-action=annotated-xlsx]")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = workbook["申請人 Applicants"]
    keys = {cell.value: cell.column for cell in sheet[5] if cell.value}
    valid, _ = bulk_rows(form, students)
    for mistake in injected:
        cell = sheet.cell(row=mistake.row, column=keys[mistake.key])
        assert cell.comment is not None and cell.fill.fgColor.rgb.endswith("FFC7CE")
        cell.value = valid[mistake.row - 6].get(mistake.key)
    fixed = io.BytesIO()
    workbook.save(fixed)
    page.click("[data-action=reupload]")
    upload_form = page.locator("form[action$='/bulk/upload/']")
    upload_form.locator("select[name=status]").select_option("student")
    upload_form.locator("input[type=file]").set_input_files(
        {"name": "students-checked.xlsx", "mimeType": "application/octet-stream", "buffer": fixed.getvalue()}
    )
    upload_form.locator("[data-action=upload]").click()
    page.wait_for_url(re.compile(r"/applications/bulk/[0-9a-f-]{36}/$"))
    expect(page.locator("[data-import-state=done]")).to_be_visible()
    assert page.text_content("[data-count=draft]").strip() == "2"
    assert page.text_content("[data-count=unchanged]").strip() == str(ROWS - 2)
    assert page.locator("#errors").count() == 0
    assert Application.objects.filter(filer=staff).count() == ROWS  # nothing duplicated

    # Photos and passport copies for all, as one ZIP.
    page.click("[data-action=attachments]")
    page.locator("input[type=file]").set_input_files(
        {
            "name": "photos.zip",
            "mimeType": "application/zip",
            "buffer": attachments_zip([s.card_number for s in students]),
        }
    )
    page.check("input[name=taken_within_6_months]")
    page.click("[data-action=upload-zip]")
    expect(page.locator("#zip-results tr[data-ok='1']")).to_have_count(2 * ROWS)

    # Submit all: each gets its receipt number.
    page.goto(page.url.replace("/attachments/", "/submit/"))
    expect(page.locator("input[name=application]:checked")).to_have_count(ROWS)
    page.select_option("#receipt-method", "window")
    page.check("#confirm-submit")
    page.click("[data-action=submit-selected]")
    expect(page.locator("#submit-results tr[data-submitted='1']")).to_have_count(ROWS)
    numbers = page.locator("#submit-results [data-receipt-number]")
    assert all(re.fullmatch(r"東オン-\w+-\d{4}-\d{6}", numbers.nth(i).text_content()) for i in range(ROWS))
    assert Application.objects.filter(filer=staff, state=ApplicationState.SUBMITTED).count() == ROWS
