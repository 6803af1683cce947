"""Acquisition of status (P4) in bulk for children born in Japan (ADR 0017): each row names the card
of a parent living in Japan in its own column, is judged as the single start judges it — refused
after 30 days with the day it ran out, an unknown parent's card said on that column, a card typed
for the child refused — and becomes a draft holding the parent, without going through the
single-application services row by row."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.bulk import services
from zairyu.bulk.columns import bulk_form, file_columns
from zairyu.bulk.constants import ImportState, RowState
from zairyu.bulk.models import BulkRow
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import signed_in, student_of, upload
from zairyu.catalogue.formspec import role_field_id
from zairyu.core import clock
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

pytestmark = pytest.mark.django_db

PARENT_HEADER = "Card number of a parent living in Japan (child born in Japan)"
CARD = role_field_id("identity.card_number")
EVENT = role_field_id("acquisition.event_date")
BORN = role_field_id("identity.date_of_birth")


def days_ago(days: int) -> dt.date:
    return clock.today() - dt.timedelta(days=days)


def newborn_rows(form, parents_and_births):
    """One row per (parent card number or "", birth date): a child not in the registry (its
    name, sex and nationality from a resident built, not saved), born on that day."""
    rows, _ = bulk_rows(form, [ResidentFactory.build() for _ in parents_and_births])
    for cells, (parent_card, born) in zip(rows, parents_and_births, strict=True):
        cells.pop(CARD, None)
        cells["parent_card_number"] = parent_card
        cells[EVENT] = cells[BORN] = born.isoformat()
        cells[role_field_id("acquisition.reason")] = "birth"
    return rows


@pytest.fixture
def newborn_form():
    return bulk_form(procedure="P4", status="dependent", user_category="U5")


@pytest.fixture
def parents(school):
    """Two parents studying at the staff member's school, one at another school."""
    return [student_of(school), student_of(school), student_of(ReceivingOrganizationFactory(kind="school"))]


@pytest.fixture
def single_services_unused(monkeypatch):
    """Fails the test if a row goes through the single-application services one by one."""

    def refuse(self, verdict):
        raise AssertionError(f"row {verdict.row.number} went through the single services")

    monkeypatch.setattr(services.RowChecker, "run_single", refuse)


def test_the_p4_templates_ask_for_a_parents_card_first(staff):
    client = signed_in(staff)
    query = "/applications/bulk/template/?procedure=P4&status=dependent&format="
    text = client.get(query + "csv").content.decode("utf-8-sig")
    headers_ja, headers_en, help_row, example, keys = list(csv.reader(io.StringIO(text)))[:5]
    assert keys[0] == "parent_card_number" and CARD not in keys
    assert headers_en[0] == PARENT_HEADER and "日本で出生した子" in headers_ja[0]
    assert "Required in some cases" in help_row[0] and example[0] == "AB12345678CD"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(query + "xlsx").content))["申請人 Applicants"]
    assert sheet["A5"].value == "parent_card_number" and sheet["A2"].value == PARENT_HEADER


def test_newborn_rows_get_the_single_starts_verdict_on_their_own_columns(
    staff, parents, newborn_form, single_services_unused
):
    rows = newborn_rows(
        newborn_form,
        [
            (parents[0].card_number, days_ago(10)),
            (parents[1].card_number, days_ago(31)),
            ("ZZ99999999ZZ", days_ago(5)),
            (parents[2].card_number, days_ago(5)),  # a parent outside the staff member's scope
        ],
    )
    bulk_import = upload(staff, bulk_file(newborn_form, rows, kind="csv"), procedure="P4", status="dependent")
    assert bulk_import.state == ImportState.DONE
    draft, late, unknown, outside = BulkRow.objects.filter(bulk_import=bulk_import).order_by("row_number")

    assert draft.state == RowState.DRAFT, draft.errors
    application = draft.application
    assert application.state == ApplicationState.DRAFT and application.procedure == "P4"
    assert application.parent_resident == parents[0] and application.applicant_resident is None
    assert application.answers[EVENT] == days_ago(10).isoformat()
    # The parent's record fills the address, as a single start by the school's staff does.
    assert application.answers[role_field_id("identity.municipality")] == parents[0].municipality

    assert late.state == RowState.REFUSED and late.application is None
    (deadline,) = late.errors
    assert deadline["code"] == "acquisition_deadline_passed" and deadline["key"] == EVENT
    assert (days_ago(31) + dt.timedelta(days=30)).isoformat() in deadline["message_en"]
    assert unknown.state == RowState.REFUSED
    # As in the single start: the card is not found (on its column), so nothing puts the child in scope.
    assert [(e["code"], e["key"], e["column"]) for e in unknown.errors] == [
        ("card_not_found", "parent_card_number", "A"),
        ("applicant_in_scope", "", ""),
    ]
    assert outside.state == RowState.REFUSED
    assert [e["code"] for e in outside.errors] == ["applicant_in_scope"]
    assert Application.objects.filter(filer=staff).count() == 1


def test_a_card_number_typed_for_the_child_refuses_the_row_as_a_single_start_does(
    staff, parents, newborn_form
):
    """A file with the applicant's card column (rows copied from another procedure's file) is read,
    and a row with a number in it is refused: an acquisition is for someone without a card."""
    rows = newborn_rows(newborn_form, [(parents[0].card_number, days_ago(3))] * 2)
    rows[0][CARD] = parents[1].card_number
    columns = file_columns(newborn_form)
    data = bulk_file(newborn_form, rows, kind="csv", columns=columns)
    bulk_import = upload(staff, data, procedure="P4", status="dependent")
    with_card, without = BulkRow.objects.filter(bulk_import=bulk_import).order_by("row_number")
    assert with_card.state == RowState.REFUSED
    assert [(e["code"], e["key"]) for e in with_card.errors] == [("acquisition_has_card", CARD)]
    assert "no residence card yet" in with_card.errors[0]["message_en"]
    assert without.state == RowState.DRAFT, without.errors  # the same parent, another child
    assert CARD not in without.application.answers


def test_a_newborn_file_uploaded_again_is_recognised_not_duplicated(staff, parents, newborn_form):
    rows = newborn_rows(newborn_form, [(parents[0].card_number, days_ago(3))])
    data = bulk_file(newborn_form, rows, kind="csv")
    upload(staff, data, procedure="P4", status="dependent")
    again = upload(staff, data, procedure="P4", status="dependent")
    assert again.rows_unchanged == 1 and again.rows_draft == 0
    assert Application.objects.filter(filer=staff, procedure="P4").count() == 1


def test_a_scriveners_newborn_rows_without_a_parent_column_still_read(db):
    """An acquisition after another event (loss of nationality) names no parent; a file made
    from the template before the parent's column still reads (the column is not required)."""
    from zairyu.accounts.constants import UserKind
    from zairyu.accounts.tests.conftest import active_user

    scrivener = active_user(UserKind.U4, email="scrivener@example.com")
    form = bulk_form(procedure="P4", status="dependent", user_category="U4")
    rows = newborn_rows(form, [("", days_ago(4))])
    rows[0].pop("parent_card_number")
    columns = [c for c in file_columns(form) if c.key not in ("parent_card_number", CARD)]
    bulk_import = upload(
        scrivener, bulk_file(form, rows, kind="csv", columns=columns), procedure="P4", status="dependent"
    )
    (row,) = BulkRow.objects.filter(bulk_import=bulk_import)
    assert row.state == RowState.DRAFT, row.errors
    assert row.application.parent_resident is None
