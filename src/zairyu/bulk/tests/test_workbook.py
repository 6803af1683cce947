"""The templates come from the form catalogue (one column per field, card number first, dates in
one cell, drop-downs, bilingual headers, an example), and the annotated workbook marks each wrong
cell with its message."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from zairyu.bulk.columns import bulk_columns, bulk_form, template_name
from zairyu.bulk.constants import ORGANIZATION_COLUMN
from zairyu.bulk.parsing import FileRefused
from zairyu.bulk.tests.conftest import make_file, signed_in, student_form, upload
from zairyu.catalogue.formspec import flat_columns

pytestmark = pytest.mark.django_db


def test_the_columns_are_the_catalogues_with_the_card_number_first():
    form = student_form()
    columns = bulk_columns(form)
    catalogue = [c.key for c in flat_columns(form)]
    assert columns[0].key == "card_number"
    assert sorted(c.key for c in columns) == sorted(catalogue)  # one per field, nothing more
    assert [c.key for c in columns[1:]] == [k for k in catalogue if k != "card_number"]


def test_a_certificate_of_eligibility_by_staff_starts_with_the_receiving_organization():
    staff_form = bulk_form(procedure="P1", status="engineer_humanities", user_category="U5")
    assert bulk_columns(staff_form)[0].key == ORGANIZATION_COLUMN
    scrivener_form = bulk_form(procedure="P1", status="engineer_humanities", user_category="U4")
    assert ORGANIZATION_COLUMN not in [c.key for c in bulk_columns(scrivener_form)]


def test_the_excel_template(staff):
    response = signed_in(staff).get(
        "/applications/bulk/template/", {"procedure": "P3", "status": "student", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert 'filename="zairyu-bulk-P3-P-student.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["申請人 Applicants"]
    columns = bulk_columns(student_form())
    keys = [cell.value for cell in sheet[5]][: len(columns)]
    assert keys == [c.key for c in columns]
    by_key = {c.key: index + 1 for index, c in enumerate(columns)}
    birth = by_key["date_of_birth"]
    assert sheet.cell(row=1, column=birth).value == "※生年月日"
    assert sheet.cell(row=2, column=birth).value == "Date of birth *"
    assert "2025-04-01" in sheet.cell(row=3, column=birth).value  # the date goes in one cell
    assert sheet.cell(row=4, column=by_key["card_number"]).value == "AB12345678CD"  # the example
    # Drop-downs for coded values, from the "Choices" sheet.
    ranges = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    sex = openpyxl.utils.get_column_letter(by_key["sex"])
    assert any(r.startswith(f"{sex}6:") for r in ranges)
    assert "選択肢 Choices" in workbook.sheetnames and "説明 Help" in workbook.sheetnames


def test_the_csv_template_is_utf8_with_bom_and_its_example_row_is_not_read(staff):
    response = signed_in(staff).get(
        "/applications/bulk/template/", {"procedure": "P3", "status": "student", "format": "csv"}
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    records = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert records[4][0] == "card_number" and records[0][0] == "※在留カード番号"
    with pytest.raises(FileRefused) as refused:
        upload(staff, response.content)
    assert refused.value.code == "no_rows"


def test_template_names_say_procedure_group_and_status():
    form = bulk_form(
        procedure="P3", status="highly_skilled_professional/1b", user_category="U4", add_ons=("P6",)
    )
    assert template_name(form, "csv") == "zairyu-bulk-P3+P6-N-highly_skilled_professional-1b.csv"


def test_the_annotated_workbook_marks_each_wrong_cell_and_sums_up(staff, students):
    bulk_import = upload(staff, make_file(students[:3], errors=1))
    response = signed_in(staff).get(f"/applications/bulk/{bulk_import.public_id}/annotated.xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook["申請人 Applicants"]
    cell = sheet["G6"]  # place of birth, too long, in the first applicant's row
    assert cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert "出生地" in cell.comment.text and "Place of birth" in cell.comment.text
    assert sheet["G7"].comment is None
    assert sheet["A7"].value == students[1].card_number  # every row, as uploaded
    summary = workbook["結果 Result"]
    assert [summary.cell(row=3, column=1).value, summary.cell(row=3, column=2).value] == [6, "G"]
    # Only the rows in error, on request.
    only = openpyxl.load_workbook(
        io.BytesIO(
            signed_in(staff)
            .get(f"/applications/bulk/{bulk_import.public_id}/annotated.xlsx?rows=errors")
            .content
        )
    )["申請人 Applicants"]
    assert only["A6"].value == students[0].card_number and only["A7"].value is None
