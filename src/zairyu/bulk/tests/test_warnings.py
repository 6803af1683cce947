"""A row whose start warns without stopping — an extension filed more than about three months before
the stay ends (F-01) — is registered as a draft, as a single application is, and the import's
page, the result e-mail and the annotated files say the warning with the single start's message."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from zairyu.applications import services as applications
from zairyu.applications.constants import ApplicationState
from zairyu.applications.rules.timing import earliest_extension_date
from zairyu.bulk.constants import RowState
from zairyu.bulk.models import BulkRow
from zairyu.bulk.tests.conftest import make_file, signed_in, student_of, upload
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def early(school):
    """A student whose three-year stay ends in 480 days: an extension now is early."""
    expires = clock.today() + dt.timedelta(days=480)
    return student_of(school, period_of_stay="3Y", stay_expires_on=expires, card_expires_on=expires)


def single_warnings(user, resident, language: str = "en") -> list[tuple[str, str]]:
    from django.utils import translation

    problems, _resident, _organization = applications.start_problems(
        user=user,
        start=applications.Start(procedure="P3", status="student", card_number=resident.card_number),
        today=clock.today(),
    )
    with translation.override(language):
        return [(p.code, str(p.message)) for p in problems if not p.blocks]


def test_an_early_extension_is_a_draft_with_the_single_starts_warning(staff, students, early):
    bulk_import = upload(staff, make_file([students[0], early]))
    on_time, warned = BulkRow.objects.filter(bulk_import=bulk_import).order_by("row_number")
    assert on_time.warnings == [] and on_time.state == RowState.DRAFT
    assert warned.state == RowState.DRAFT and warned.errors == []
    assert warned.application.state == ApplicationState.DRAFT
    ((code, message),) = single_warnings(staff, early)
    assert code == "extension_too_early"
    assert [(w["code"], w["message_en"]) for w in warned.warnings] == [(code, message)]
    assert warned.warnings[0]["message_ja"] == single_warnings(staff, early, "ja")[0][1]
    earliest = earliest_extension_date(early.stay_expires_on).isoformat()  # the first advised day
    assert early.stay_expires_on.isoformat() in message and earliest in message
    assert bulk_import.rows_draft == 2 and bulk_import.rows_error == 0

    page = signed_in(staff).get(f"/applications/bulk/{bulk_import.public_id}/").content.decode()
    assert 'data-warning-row="7" data-warning-code="extension_too_early"' in page
    assert "data-row-warned" in page and message in page

    email = OutboundEmail.objects.get(kind="bulk_import_result", to=staff.email)
    assert "7:" in email.body and early.stay_expires_on.isoformat() in email.body


def test_the_annotated_files_note_the_warning_on_its_row(staff, students, early):
    bulk_import = upload(staff, make_file([students[0], early]))
    client = signed_in(staff)
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/applications/bulk/{bulk_import.public_id}/annotated.xlsx").content)
    )
    sheet = workbook["申請人 Applicants"]
    note = sheet["A7"]  # a warning of the whole row marks its first cell, in yellow
    assert note.fill.fgColor.rgb.endswith("FFF2CC") and sheet["A6"].comment is None
    assert "Note: An extension is normally filed" in note.comment.text and "注意: " in note.comment.text
    summary = [[c.value for c in row] for row in workbook["結果 Result"].iter_rows(min_row=3)]
    assert summary and summary[0][0] == 7 and summary[0][5].startswith("Note: ")
    text = client.get(f"/applications/bulk/{bulk_import.public_id}/annotated.csv").content.decode("utf-8-sig")
    (line,) = [line for line in text.splitlines() if early.card_number in line]
    assert "-: Note: An extension is normally filed" in line  # the last column, in the page's language


def test_a_refused_row_keeps_no_warning(staff, school):
    """An early extension of someone outside the scope is refused: its refusal, no warning."""
    from zairyu.registry.tests.factories import ReceivingOrganizationFactory

    expires = clock.today() + dt.timedelta(days=480)
    outside = student_of(
        ReceivingOrganizationFactory(kind="school"),
        period_of_stay="3Y",
        stay_expires_on=expires,
        card_expires_on=expires,
    )
    (row,) = upload(staff, make_file([outside])).rows.all()
    assert row.state == RowState.REFUSED and row.warnings == []
