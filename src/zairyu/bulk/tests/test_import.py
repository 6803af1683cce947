"""Uploading a bulk file: rows become drafts or errors named by row and column, a corrected file
does not duplicate, rows in error can be deleted, the result is mailed, and a killed import
neither duplicates nor loses rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.bulk import services
from zairyu.bulk.columns import bulk_form
from zairyu.bulk.constants import ImportState, RowState
from zairyu.bulk.models import BulkImport, BulkRow
from zairyu.bulk.parsing import FileRefused
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import make_file, signed_in, student_form, student_of, upload
from zairyu.core import clock
from zairyu.core.models import AuditEvent
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def test_valid_rows_become_drafts_and_an_invalid_one_an_error_naming_its_row_and_column(staff, students):
    data = make_file(students, errors=1)
    bulk_import = upload(staff, data)
    assert bulk_import.state == ImportState.DONE
    assert (bulk_import.rows_total, bulk_import.rows_draft, bulk_import.rows_error) == (6, 5, 1)
    drafts = Application.objects.filter(filer=staff, state=ApplicationState.DRAFT)
    assert drafts.count() == 5
    assert {a.applicant_resident for a in drafts} == set(students[1:])
    draft = drafts.get(applicant_resident=students[1])
    assert draft.steps_done == ["2-1", "2-2", "2-3", "confirm"] and draft.procedure == "P3"
    assert draft.applicant_name == students[1].roman_name and draft.group == "P"

    error_row = BulkRow.objects.get(bulk_import=bulk_import, state=RowState.ERROR)
    assert error_row.row_number == 6  # the first applicant's row, as the spreadsheet numbers it
    (error,) = error_row.errors
    assert error["row"] == 6 and error["column"] == "G" and error["key"] == "place_of_birth"
    assert error["code"] == "too_long"
    assert "Place of birth" in error["message_en"] and "出生地" in error["message_ja"]
    assert error["header_en"] == "Place of birth"
    # The row in error is an application the user sees in their list, with its status.
    assert error_row.application.state == ApplicationState.ERROR_BULK
    assert error_row.application.applicant_resident == students[0]
    listing = signed_in(staff).get("/applications/").content.decode()
    assert "Error (bulk registration)" in listing


def test_the_result_page_names_each_error_by_row_and_column_and_an_email_summarises(staff, students):
    bulk_import = upload(staff, make_file(students, errors=2))
    page = signed_in(staff).get(f"/applications/bulk/{bulk_import.public_id}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-error-row="6" data-error-column="G"' in html
    assert "Place of birth: at most 60 characters" in html
    email = OutboundEmail.objects.get(kind="bulk_import_result", to=staff.email)
    assert "6" in email.body and "Place of birth" in email.body
    assert f"/applications/bulk/{bulk_import.public_id}/" in email.body
    progress = signed_in(staff).get(f"/applications/bulk/{bulk_import.public_id}/progress.json").json()
    assert progress == {
        "state": "done",
        "finished": True,
        "done": 6,
        "total": 6,
        "draft": 4,
        "error": 2,
        "refused": 0,
        "unchanged": 0,
    }


def test_a_corrected_file_uploaded_again_does_not_duplicate(staff, students):
    form = student_form()
    rows, injected = bulk_rows(form, students, errors=2)
    first = upload(staff, bulk_file(form, rows, kind="csv"))
    assert first.rows_error == 2
    fixed, _none = bulk_rows(form, students)
    second = upload(staff, bulk_file(form, fixed, kind="xlsx"), name="students.xlsx")
    assert second.state == ImportState.DONE
    assert (second.rows_draft, second.rows_unchanged, second.rows_error) == (2, 4, 0)
    # Every applicant has exactly one application, now all drafts.
    applications = Application.objects.filter(filer=staff)
    assert applications.count() == len(students)
    assert set(applications.values_list("state", flat=True)) == {ApplicationState.DRAFT}
    corrected = BulkRow.objects.get(bulk_import=second, row_number=injected[0].row)
    assert corrected.state == RowState.DRAFT
    assert (
        corrected.application
        == BulkRow.objects.get(bulk_import=first, row_number=injected[0].row).application
    )
    # A third upload of the same file changes nothing.
    third = upload(staff, bulk_file(form, fixed, kind="csv"))
    assert third.rows_unchanged == len(students) and Application.objects.filter(filer=staff).count() == 6


def test_an_applicant_outside_the_staff_members_scope_is_refused_and_nothing_is_created(staff, students):
    stranger = student_of(ReceivingOrganizationFactory(kind="school"))
    bulk_import = upload(staff, make_file([*students[:2], stranger]))
    assert (bulk_import.rows_draft, bulk_import.rows_refused) == (2, 1)
    row = BulkRow.objects.get(bulk_import=bulk_import, state=RowState.REFUSED)
    assert row.row_number == 8 and row.application is None
    assert row.errors and all(e["row"] == 8 for e in row.errors)
    assert not Application.objects.filter(applicant_resident=stranger).exists()


def test_an_unknown_card_number_is_named_in_its_cell(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:2])
    rows[1]["card_number"] = "ZZ99999999ZZ"
    bulk_import = upload(staff, bulk_file(form, rows, kind="csv"))
    row = BulkRow.objects.get(bulk_import=bulk_import, row_number=7)
    assert row.state == RowState.REFUSED
    assert ("A", "card_not_found") in [(e["column"], e["code"]) for e in row.errors]
    assert all(e["row"] == 7 for e in row.errors)


def test_a_duplicate_row_is_reported_and_registered_once(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:2])
    bulk_import = upload(staff, bulk_file(form, [*rows, dict(rows[0])], kind="csv"))
    assert (bulk_import.rows_draft, bulk_import.rows_refused) == (2, 1)
    duplicate = BulkRow.objects.get(bulk_import=bulk_import, row_number=8)
    assert [e["code"] for e in duplicate.errors] == ["duplicate_row"]
    assert "row 6" in duplicate.errors[0]["message_en"]
    assert Application.objects.filter(applicant_resident=students[0]).count() == 1


def test_rows_in_error_can_be_deleted(staff, students):
    bulk_import = upload(staff, make_file(students, errors=2))
    client = signed_in(staff)
    response = client.post(f"/applications/bulk/{bulk_import.public_id}/delete-errors/", {"all": "1"})
    assert response.status_code == 302
    assert not Application.objects.filter(state=ApplicationState.ERROR_BULK).exists()
    assert Application.objects.filter(state=ApplicationState.DRAFT).count() == 4
    assert BulkRow.objects.filter(bulk_import=bulk_import, state=RowState.DELETED).count() == 2


def test_another_user_cannot_see_an_import(staff, students):
    bulk_import = upload(staff, make_file(students[:1]))
    other = staff_member(EnrolmentFactory(organization=ReceivingOrganizationFactory(kind="school")))
    client = signed_in(other)
    base = f"/applications/bulk/{bulk_import.public_id}"
    for url in (
        f"{base}/",
        f"{base}/progress.json",
        f"{base}/annotated.xlsx",
        f"{base}/attachments/",
        f"{base}/submit/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{base}/delete-errors/", {"all": "1"}).status_code == 404


def test_a_self_applicant_cannot_file_in_bulk(students):
    from zairyu.accounts.tests.conftest import active_user

    self_applicant = active_user("U1")
    with pytest.raises(FileRefused) as refused:
        upload(self_applicant, make_file(students[:1], user_category="U4"))
    assert refused.value.code == "not_allowed"


def test_the_upload_page_refuses_a_file_at_once_and_says_why(staff):
    client = signed_in(staff)
    response = client.post(
        "/applications/bulk/upload/",
        {
            "procedure": "P3",
            "status": "student",
            "file": SimpleUploadedFile("x.csv", "名前,住所\n山田,東京\n".encode()),
        },
    )
    assert response.status_code == 400
    assert "row of column keys" in response.content.decode()
    assert not BulkImport.objects.exists()


def test_the_upload_page_processes_the_file_and_shows_the_result(
    staff, students, django_capture_on_commit_callbacks
):
    client = signed_in(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/applications/bulk/upload/",
            {
                "procedure": "P3",
                "status": "student",
                "file": SimpleUploadedFile("students.xlsx", make_file(students, kind="xlsx", errors=1)),
            },
        )
    bulk_import = BulkImport.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/applications/bulk/{bulk_import.public_id}/"
    )
    assert bulk_import.state == ImportState.DONE and bulk_import.rows_draft == 5
    assert bulk_import.pending == []  # the parsed cells live on in the rows only
    assert AuditEvent.objects.filter(action="bulk.uploaded", actor=staff).count() == 1
    assert AuditEvent.objects.filter(action="applications.created", actor=staff).count() == 6


# --- crash safety -------------------------------------------------------------------------------


class Killed(BaseException):
    """The worker dies: nothing after this point of the run happens (not an ordinary error)."""


def test_a_killed_import_resumes_without_duplicating_or_losing_rows(staff, school, settings, monkeypatch):
    settings.BULK_CHUNK_ROWS = 4
    students = [student_of(school) for _ in range(10)]
    bulk_import = services.bulk_import_create(
        user=staff,
        procedure="P3",
        status="student",
        upload=SimpleUploadedFile("students.csv", make_file(students, errors=1)),
    )
    real = BulkRow.objects.bulk_create
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed  # in the middle of the second chunk: its applications are written already
        return real(*args, **kwargs)

    monkeypatch.setattr(BulkRow.objects, "bulk_create", dying)
    with pytest.raises(Killed):
        services.bulk_import_run(import_id=bulk_import.pk)
    monkeypatch.setattr(BulkRow.objects, "bulk_create", real)
    bulk_import.refresh_from_db()
    # Only whole chunks: the first chunk's 4 rows and their applications, nothing of the second.
    assert bulk_import.state == ImportState.RUNNING and bulk_import.rows_done == 4
    assert BulkRow.objects.filter(bulk_import=bulk_import).count() == 4
    assert Application.objects.filter(filer=staff).count() == 4

    # The run holds the import until it is known to be dead; then the resume picks it up.
    assert services.bulk_import_run(import_id=bulk_import.pk) == ImportState.RUNNING
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        heartbeat_at=bulk_import.heartbeat_at.replace(year=2000)
    )
    assert services.bulk_imports_resume() == 1  # in this test, on_commit does not run the task: run it
    assert services.bulk_import_run(import_id=bulk_import.pk) == ImportState.DONE
    bulk_import.refresh_from_db()
    assert (bulk_import.rows_done, bulk_import.rows_draft, bulk_import.rows_error) == (10, 9, 1)
    assert BulkRow.objects.filter(bulk_import=bulk_import).count() == 10
    assert Application.objects.filter(filer=staff).count() == 10
    assert sorted(Application.objects.values_list("applicant_resident", flat=True)) == sorted(
        s.pk for s in students
    )
    assert OutboundEmail.objects.filter(kind="bulk_import_result").count() == 1


def test_an_import_killed_again_and_again_is_marked_failed_keeping_its_rows(
    staff, students, settings, monkeypatch
):
    settings.BULK_CHUNK_ROWS = 2
    settings.BULK_MAX_ATTEMPTS = 2
    bulk_import = services.bulk_import_create(
        user=staff, procedure="P3", status="student", upload=SimpleUploadedFile("s.csv", make_file(students))
    )
    real = BulkRow.objects.bulk_create

    def dying_after_one(*args, **kwargs):
        if BulkRow.objects.filter(bulk_import=bulk_import).count() >= 2:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(BulkRow.objects, "bulk_create", dying_after_one)
    for _attempt in range(2):
        with pytest.raises(Killed):
            services.bulk_import_run(import_id=bulk_import.pk)
        BulkImport.objects.filter(pk=bulk_import.pk).update(
            heartbeat_at=bulk_import.created_at.replace(year=2000)
        )
    assert services.bulk_import_run(import_id=bulk_import.pk) == ImportState.FAILED
    bulk_import.refresh_from_db()
    assert bulk_import.state == ImportState.FAILED and "interrupted" in bulk_import.error_summary
    assert Application.objects.filter(filer=staff).count() == 2 == bulk_import.rows_done
    page = signed_in(staff).get(f"/applications/bulk/{bulk_import.public_id}/").content.decode()
    assert "data-import-failed" in page


def test_an_acquisition_row_is_held_to_30_days_from_its_own_date_as_a_single_start_is(db):
    """P4 in bulk (a scrivener's newborns): no card column is needed, and each row's date of the
    birth or event is the one the 30-day limit runs from — refused with the day it ran out."""
    from zairyu.accounts.constants import UserKind
    from zairyu.accounts.tests.conftest import active_user

    scrivener = active_user(UserKind.U4, email="scrivener@example.com")
    form = bulk_form(procedure="P4", status="dependent", user_category="U4")
    babies = [ResidentFactory.build(), ResidentFactory.build()]
    rows, _ = bulk_rows(form, babies)
    recent, late = clock.today() - dt.timedelta(days=5), clock.today() - dt.timedelta(days=40)
    for cells, born in zip(rows, (recent, late), strict=True):
        cells["card_number"] = ""
        cells["acquisition_event_date"] = born.isoformat()
        cells["date_of_birth"] = born.isoformat()
    bulk_import = upload(scrivener, bulk_file(form, rows, kind="csv"), procedure="P4", status="dependent")
    first, second = BulkRow.objects.filter(bulk_import=bulk_import).order_by("row_number")
    assert not [e for e in first.errors if e["code"].startswith("acquisition")], first.errors
    assert second.state == RowState.REFUSED
    deadline = [e for e in second.errors if e["code"] == "acquisition_deadline_passed"]
    assert deadline and (late + dt.timedelta(days=30)).isoformat() in deadline[0]["message_en"]
