"""The bulk API: templates, an upload checked row by row as on the web, its progress, its rows with
every error named by its cell, the annotated files; who may (the ``bulk`` scope, a bulk user), and
nobody sees another user's import."""

from __future__ import annotations

import csv
import io
import uuid

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import ApiCaller, api_caller
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.bulk import services
from zairyu.bulk.models import BulkImport
from zairyu.bulk.tests import conftest as bulk_fixtures
from zairyu.bulk.tests.conftest import make_file, student_of
from zairyu.core.models import AuditEvent
from zairyu.organizations.tests.factories import staff_member

pytestmark = pytest.mark.django_db

# The bulk tests' language school, its staff member and students whose stay ends soon.
school, enrolment, staff, students = (
    bulk_fixtures.school,
    bulk_fixtures.enrolment,
    bulk_fixtures.staff,
    bulk_fixtures.students,
)

BASE = "/api/v1/bulk"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SITE_URL = "http://testserver"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(staff) -> ApiCaller:
    return api_caller(staff, scopes=["bulk"])


@pytest.fixture
def agent():
    return active_user(UserKind.U4, email="scrivener@example.com")


def _csv(data: bytes, name: str = "students.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _upload(api: ApiCaller, data: bytes, *, capture, **fields):
    """Upload through the API; the queued task runs when the request's transaction commits."""
    with capture(execute=True):
        response = api.upload(
            f"{BASE}/imports", {"procedure": "P3", "status": "student", "file": _csv(data), **fields}
        )
    return response


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- templates ----------------------------------------------------------------------------------


def test_templates_in_both_formats(api, agent):
    xlsx = api.get(f"{BASE}/templates/P3/student", {"format": "xlsx"})
    assert xlsx.status_code == 200, xlsx.content
    assert xlsx["Content-Type"] == XLSX
    assert xlsx["Content-Disposition"] == 'attachment; filename="zairyu-bulk-P3-P-student.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book.worksheets[0]
    keys = [cell.value for cell in sheet[5] if cell.value]
    assert keys[0] == "card_number" and "place_of_birth" in keys

    default = api.get(f"{BASE}/templates/P3/student")
    assert default["Content-Type"] == XLSX

    text = api.get(f"{BASE}/templates/P3/student", {"format": "csv", "add_ons": "P6"})
    assert text.status_code == 200 and text["Content-Type"] == "text/csv; charset=utf-8"
    assert text["Content-Disposition"] == 'attachment; filename="zairyu-bulk-P3+P6-P-student.csv"'
    assert text.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    with_reentry = set(rows[4])
    without = set(
        next(
            csv.reader(
                io.StringIO(
                    api.get(f"{BASE}/templates/P3/student", {"format": "csv"})
                    .content.decode("utf-8-sig")
                    .splitlines()[4:5][0]
                )
            )
        )
    )
    assert rows[4][0] == "card_number" and with_reentry > without  # the re-entry items are added

    # A scrivener (U4) may too, and gets the forms of U4.
    scrivener = api_caller(agent, scopes=["bulk"])
    assert scrivener.get(f"{BASE}/templates/P1/engineer_humanities", {"format": "csv"}).status_code == 200
    # A status with a sub-category, in the path.
    slashed = scrivener.get(f"{BASE}/templates/P2/highly_skilled_professional/1a", {"format": "csv"})
    assert slashed.status_code == 200
    assert "highly_skilled_professional-1a" in slashed["Content-Disposition"]


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("P9/student", {}, "procedure"),
        ("P6/student", {}, "procedure"),
        ("P3/nothing", {}, "status"),
        ("P3/diplomat", {}, "status"),
        ("P3/student", {"add_ons": "P9"}, "add_ons"),
        ("P1/student", {"add_ons": "P6"}, "add_ons"),
        ("P3/student", {"format": "ods"}, "format"),
    ],
)
def test_a_template_that_does_not_exist_names_the_parameter(api, path, params, parameter):
    problem = _problem(api.get(f"{BASE}/templates/{path}", params), 422)
    assert parameter in {e["parameter"] for e in problem["errors"]}
    assert all(e["detail"] for e in problem["errors"])


def test_template_problems_in_japanese(staff):
    japanese = api_caller(staff, scopes=["bulk"], language="ja")
    problem = _problem(japanese.get(f"{BASE}/templates/P1/student", {"add_ons": "P6"}), 422)
    assert problem["errors"] == [
        {
            "parameter": "add_ons",
            "code": "form",
            "detail": "この手続と在留資格の組合せはオンラインで申請できません。",
        }
    ]


# --- who may ------------------------------------------------------------------------------------


def test_only_bulk_users_with_the_scope(api, staff):
    foreigner = api_caller(active_user(UserKind.U1, email="self@example.com"), scopes=["bulk"])
    refused = _problem(foreigner.get(f"{BASE}/templates/P3/student"), 403)
    assert refused["code"] == "forbidden" and "Bulk filing is for lawyers" in refused["detail"]
    upload = foreigner.upload(
        f"{BASE}/imports", {"procedure": "P3", "status": "student", "file": _csv(b"card_number\n")}
    )
    assert _problem(upload, 403)["code"] == "forbidden"
    assert foreigner.get(f"{BASE}/imports").json()["items"] == []

    anonymous = ApiCaller(None)
    for path in ("/templates/P3/student", "/imports", f"/imports/{uuid.uuid4()}"):
        response = anonymous.get(BASE + path)
        assert _problem(response, 401)["code"] == "unauthenticated", path
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert _problem(anonymous.upload(f"{BASE}/imports", {"procedure": "P3"}), 401)

    reader = api_caller(staff, scopes=["applications:read", "applications:write"])
    for path in ("/templates/P3/student", "/imports"):
        problem = _problem(reader.get(BASE + path), 403)
        assert problem["code"] == "insufficient_scope", path
    assert (
        _problem(reader.upload(f"{BASE}/imports", {"procedure": "P3"}), 403)["code"] == "insufficient_scope"
    )


# --- an upload and its result -------------------------------------------------------------------


def test_an_upload_is_checked_row_by_row_and_its_errors_are_named_by_cell(
    api, staff, students, django_capture_on_commit_callbacks
):
    response = _upload(api, make_file(students, errors=1), capture=django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    accepted = response.json()
    bulk_import = BulkImport.objects.get(public_id=accepted["id"])
    assert response["Location"] == f"/api/v1/bulk/imports/{bulk_import.public_id}"
    assert accepted["state"] == "queued" and accepted["progress"]["total"] == 6
    assert (
        accepted["procedure"] == "P3" and accepted["status"] == "student" and accepted["file_kind"] == "csv"
    )
    assert accepted["rows_url"] == f"/api/v1/bulk/imports/{bulk_import.public_id}/rows"

    detail = api.get(response["Location"]).json()
    assert detail["state"] == "done" and detail["finished"] is True and detail["failure"] is None
    assert detail["progress"] == {"total": 6, "done": 6, "draft": 5, "error": 1, "refused": 0, "unchanged": 0}

    errors = api.get(f"{response['Location']}/rows", {"state": "error"}).json()
    assert errors["meta"] == {"page": 1, "page_size": 100, "total": 1, "pages": 1}
    (row,) = errors["items"]
    assert row["row"] == 6 and row["state"] == "error" and row["state_label"] == "Error (bulk registration)"
    (error,) = row["errors"]
    assert (error["row"], error["column"], error["field"], error["code"]) == (
        6,
        "G",
        "place_of_birth",
        "too_long",
    )
    assert error["item"] == "Place of birth" and error["detail"].startswith(
        "Place of birth: at most 60 characters"
    )
    application = Application.objects.get(public_id=row["application"])
    assert application.state == ApplicationState.ERROR_BULK and application.filer == staff

    every = api.get(f"{response['Location']}/rows").json()
    assert [r["row"] for r in every["items"]] == [6, 7, 8, 9, 10, 11]
    drafts = [r for r in every["items"] if r["state"] == "draft"]
    assert len(drafts) == 5 and all(r["errors"] == [] and r["application"] for r in drafts)
    assert {
        a.state for a in Application.objects.filter(public_id__in=[r["application"] for r in drafts])
    } == {ApplicationState.DRAFT}
    paged = api.get(f"{response['Location']}/rows", {"page": 2, "page_size": 4}).json()
    assert [r["row"] for r in paged["items"]] == [10, 11] and paged["meta"]["pages"] == 2

    # The upload is audited with the client's name, as every API call's audit is.
    event = AuditEvent.objects.get(action="bulk.uploaded")
    assert event.details["via"]["client"] == api.client.client_id

    ja = api_caller(staff, scopes=["bulk"], client=api.client, language="ja")
    (row_ja,) = ja.get(f"{response['Location']}/rows", {"state": "error"}).json()["items"]
    assert row_ja["errors"][0]["item"] == "出生地" and "出生地" in row_ja["errors"][0]["detail"]


def test_the_annotated_files(api, students, django_capture_on_commit_callbacks):
    location = _upload(api, make_file(students, errors=2), capture=django_capture_on_commit_callbacks)[
        "Location"
    ]
    xlsx = api.get(f"{location}/annotated.xlsx")
    assert xlsx.status_code == 200 and xlsx["Content-Type"] == XLSX
    assert xlsx["Content-Disposition"] == 'attachment; filename="students-checked.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    marked = [
        (cell.row, cell.comment.text)
        for row in book.worksheets[0].iter_rows(min_row=6)
        for cell in row
        if cell.comment
    ]
    in_error = api.get(f"{location}/rows", {"state": "error"}).json()["items"]
    assert len(in_error) == 2
    assert [row for row, _text in marked] == [r["row"] for r in in_error]  # each wrong cell is marked
    assert all(len(text.split("\n")) == 2 for _row, text in marked)  # Japanese, then English

    text = api.get(f"{location}/annotated.csv", {"rows": "errors"})
    assert text.status_code == 200 and text["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig"))))
    data_rows = [r for r in rows[5:] if any(r)]  # blank lines keep the spreadsheet's row numbers
    assert len(data_rows) == 2
    for line, row in zip(data_rows, in_error, strict=True):
        assert line[-1] == f"{row['errors'][0]['column']}: {row['errors'][0]['detail']}"
    everything = list(
        csv.reader(io.StringIO(api.get(f"{location}/annotated.csv").content.decode("utf-8-sig")))
    )
    assert len([r for r in everything[5:] if any(r)]) == 6
    assert (
        _problem(api.get(f"{location}/annotated.csv", {"rows": "some"}), 422)["errors"][0]["parameter"]
        == "rows"
    )


def test_an_import_still_running_has_no_annotated_file_yet(api, staff, students):
    bulk_import = services.bulk_import_create(
        user=staff, procedure="P3", status="student", upload=_csv(make_file(students))
    )  # the task is queued on commit, which this test's transaction never reaches
    detail = api.get(f"{BASE}/imports/{bulk_import.public_id}").json()
    assert detail["state"] == "queued" and detail["finished"] is False
    problem = _problem(api.get(f"{BASE}/imports/{bulk_import.public_id}/annotated.xlsx"), 409)
    assert problem["code"] == "conflict" and problem["detail"]


def test_a_file_that_is_not_a_bulk_file_is_refused_at_once(api, students, django_capture_on_commit_callbacks):
    refused = _upload(api, b"name,colour\nAN,red\n", capture=django_capture_on_commit_callbacks)
    problem = _problem(refused, 422)
    (error,) = problem["errors"]
    assert error["parameter"] == "file" and error["code"] and error["detail"]
    assert not BulkImport.objects.exists()

    missing = _problem(api.upload(f"{BASE}/imports", {"procedure": "P3", "status": "student"}), 422)
    assert [e["parameter"] for e in missing["errors"]] == ["file"]
    wrong = _problem(
        api.upload(f"{BASE}/imports", {"procedure": "P9", "status": "student", "file": _csv(b"x")}), 422
    )
    assert [e["parameter"] for e in wrong["errors"]] == ["procedure"]
    combination = _problem(
        _upload(api, make_file(students), capture=django_capture_on_commit_callbacks, add_ons=["P7", "P9"]),
        422,
    )
    assert [e["parameter"] for e in combination["errors"]] == ["add_ons"]
    assert not BulkImport.objects.exists()


# --- lists and other users' imports -------------------------------------------------------------


def test_the_list_is_the_users_own_paginated(
    api, staff, enrolment, school, django_capture_on_commit_callbacks
):
    first = _upload(api, make_file([student_of(school)]), capture=django_capture_on_commit_callbacks).json()
    second = _upload(api, make_file([student_of(school)]), capture=django_capture_on_commit_callbacks).json()
    colleague = staff_member(enrolment, email="colleague@school.example")
    theirs = services.bulk_import_create(
        user=colleague, procedure="P3", status="student", upload=_csv(make_file([student_of(school)]))
    )
    page = api.get(f"{BASE}/imports").json()
    assert [i["id"] for i in page["items"]] == [second["id"], first["id"]]
    assert page["meta"] == {"page": 1, "page_size": 25, "total": 2, "pages": 1}
    assert str(theirs.public_id) not in {i["id"] for i in page["items"]}
    one = api.get(f"{BASE}/imports", {"page_size": 1, "page": 2}).json()
    assert [i["id"] for i in one["items"]] == [first["id"]] and one["meta"]["pages"] == 2
    assert api.get(f"{BASE}/imports", {"state": "queued"}).json()["items"] == []
    problem = _problem(api.get(f"{BASE}/imports", {"page_size": 0}), 422)
    assert problem["errors"][0]["parameter"] == "page_size"
    assert _problem(api.get(f"{BASE}/imports", {"page": 0}), 422)["errors"][0]["parameter"] == "page"
    for name, value in (("page", "35477715387856351232"), ("page", "100001"), ("page_size", "101")):
        assert _problem(api.get(f"{BASE}/imports", {name: value}), 422)["errors"][0]["parameter"] == name

    # Another user's import is not found, whatever is asked of it.
    for suffix in ("", "/rows", "/annotated.xlsx", "/annotated.csv"):
        problem = _problem(api.get(f"{BASE}/imports/{theirs.public_id}{suffix}"), 404)
        assert problem["code"] == "not_found", suffix
        assert _problem(api.get(f"{BASE}/imports/{uuid.uuid4()}{suffix}"), 404)["code"] == "not_found"
    bad = _problem(api.get(f"{BASE}/imports/not-a-uuid"), 422)
    assert bad["errors"][0]["parameter"] == "import_id"


def test_drafts_uploaded_through_the_api_record_the_client_and_notify_its_webhook(
    api, staff, students, django_capture_on_commit_callbacks
):
    from zairyu.api.models import ApiClient, WebhookDelivery
    from zairyu.api.tests.test_webhooks import SECRET, Receiver, verify_like_a_client
    from zairyu.bulk.tests.conftest import bulk_file, bulk_rows, student_form

    form = student_form()
    rows, _injected = bulk_rows(form, students, errors=2)
    fixed, _none = bulk_rows(form, students)
    with Receiver() as receiver:
        ApiClient.objects.filter(pk=api.client.pk).update(webhook_url=receiver.url, webhook_secret=SECRET)
        first = _upload(api, bulk_file(form, rows, kind="csv"), capture=django_capture_on_commit_callbacks)
        assert first.status_code == 202, first.content
        applications = Application.objects.filter(filer=staff)
        assert applications.count() == len(students)
        assert set(applications.values_list("filed_via", flat=True)) == {api.client.pk}
        # New drafts are not notified (as for a single draft: the client that made them knows).
        assert not WebhookDelivery.objects.exists()

        # The corrected file turns the two rows in error into drafts: two status changes.
        second = _upload(api, bulk_file(form, fixed, kind="csv"), capture=django_capture_on_commit_callbacks)
        assert api.get(second["Location"]).json()["progress"]["draft"] == 2
        deliveries = WebhookDelivery.objects.filter(client=api.client)
        assert deliveries.count() == 2
        assert {d.state for d in deliveries} == {WebhookDelivery.State.DELIVERED}
        changed = {str(a.public_id) for a in applications}
        assert len(receiver.requests) == 2
        for request in receiver.requests:
            data = verify_like_a_client(request)["data"]
            assert data["application_id"] in changed and data["action"] == "bulk_updated"
            assert (data["previous_state"], data["state"]) == (
                ApplicationState.ERROR_BULK,
                ApplicationState.DRAFT,
            )
            assert data["changed_at"]


def test_a_bulk_upload_on_the_web_records_no_client_and_notifies_none(staff, students):
    from zairyu.api.models import WebhookDelivery
    from zairyu.bulk.tests.conftest import bulk_file, bulk_rows, student_form, upload

    form = student_form()
    rows, _injected = bulk_rows(form, students, errors=2)
    fixed, _none = bulk_rows(form, students)
    upload(staff, bulk_file(form, rows, kind="csv"))
    second = upload(staff, bulk_file(form, fixed, kind="csv"))
    assert second.rows_draft == 2 and second.filed_via_id is None
    assert set(Application.objects.filter(filer=staff).values_list("filed_via", flat=True)) == {None}
    assert not WebhookDelivery.objects.exists()
