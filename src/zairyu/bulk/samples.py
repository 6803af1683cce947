"""Bulk files made from the registry: ``n`` applicants with ``k`` deliberate errors, and a ZIP of
their photos and PDFs. Used by the demo, ``scripts/bulk_file.py``, the benchmarks and the tests.

Valid values come from ``zairyu.applications.samples.sample_answers`` (the catalogue's own
samples) over what the registry knows of each applicant, so the rows pass exactly the checks a
single application passes; each deliberate error breaks one cell in a way the catalogue names.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from zairyu.applications.disclosure import registry_answers, registry_field_ids
from zairyu.applications.samples import sample_answers
from zairyu.bulk.columns import BulkColumn, bulk_columns, cell_value
from zairyu.bulk.constants import FIRST_DATA_ROW, ORGANIZATION_COLUMN
from zairyu.bulk.workbook import SheetData, csv_bytes, example_cells, workbook_bytes
from zairyu.catalogue.formspec import FormSpec, role_field_id
from zairyu.core import clock


@dataclass(frozen=True)
class Injected:
    row: int  # the spreadsheet row
    key: str
    value: str
    code: str  # the code the catalogue reports


def _registry_answers(resident) -> dict[str, Any]:
    return {**registry_answers(resident), role_field_id("identity.card_number"): resident.card_number}


def _error_candidates(columns: list[BulkColumn]) -> list[tuple[BulkColumn, str, str]]:
    """(column, bad value, expected code) for the columns a deliberate error may go into."""
    # What the registry fills in: a deliberate error never goes there (it would be a cross-check
    # mismatch, which is throttled, not a cell error).
    from_registry = registry_field_ids()
    found: list[tuple[BulkColumn, str, str]] = []
    for column in columns:
        if column.row is not None or column.fixed_value or column.key in from_registry:
            continue
        if column.required != "always":
            continue
        if column.type == "date":
            found.append((column, "2024-02-30", "date_nonexistent"))
        elif column.type == "email":
            found.append((column, "student@", "invalid_email"))
        elif column.type == "choice":
            found.append((column, "???", "invalid_choice"))
        elif column.type in ("integer", "money_yen"):
            found.append((column, "many", "invalid_integer" if column.type == "integer" else "invalid_money"))
        elif column.type in ("text", "textarea") and column.max_length:
            found.append((column, "x" * (column.max_length + 5), "too_long"))
        elif column.type in ("text", "textarea"):
            found.append((column, "", "required"))
    return found


def bulk_rows(
    form: FormSpec,
    residents: Iterable[Any],
    *,
    errors: int = 0,
    language: str = "ja",
    today: dt.date | None = None,
    corporate_number: str = "",
) -> tuple[list[dict[str, str]], list[Injected]]:
    """One row of cells per resident (in order), ``errors`` of them with one wrong cell each."""
    today = today or clock.today()
    columns = bulk_columns(form, today=today)
    residents = list(residents)
    base = sample_answers(form, today=today)
    rows: list[dict[str, str]] = []
    for resident in residents:
        overrides = _registry_answers(resident) if resident is not None else {}
        answers = {**base, **overrides} if resident is not None else dict(base)
        cells: dict[str, str] = {}
        for column in columns:
            if column.row is not None or column.fixed_value:
                continue
            if column.key == ORGANIZATION_COLUMN:
                value: Any = corporate_number
            else:
                value = answers.get(column.field_id)
            text = cell_value(column, value, language=language)
            if text:
                cells[column.key] = text
        rows.append(cells)
    injected: list[Injected] = []
    candidates = _error_candidates(columns)
    if errors and candidates and rows:
        step = max(1, len(rows) // errors)
        for number in range(min(errors, len(rows))):
            index = (number * step) % len(rows)
            column, value, code = candidates[number % len(candidates)]
            if value:
                rows[index][column.key] = value
            else:
                rows[index].pop(column.key, None)
            injected.append(Injected(row=FIRST_DATA_ROW + index, key=column.key, value=value, code=code))
    return rows, injected


def bulk_file(
    form: FormSpec,
    rows: list[dict[str, str]],
    *,
    kind: str,
    language: str = "ja",
    columns: list[BulkColumn] | None = None,
) -> bytes:
    """The template of ``form`` with ``rows`` filled in from row 6, as CSV or XLSX bytes;
    ``columns``: others than the template's (``file_columns``: those a file may have)."""
    columns = columns if columns is not None else bulk_columns(form)
    sheet = SheetData(
        form=form,
        columns=list(enumerate(columns)),
        language=language,
        example=example_cells(form, columns, language=language),
        rows=[(FIRST_DATA_ROW + index, cells) for index, cells in enumerate(rows)],
    )
    return csv_bytes(sheet) if kind == "csv" else workbook_bytes(sheet)


def photo_jpeg(seed: int = 0) -> bytes:
    """A face-photo-shaped JPEG (300 × 400, a few KB) that passes the photo checks."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (200 + seed % 40, 210, 225))
    draw = ImageDraw.Draw(image)
    draw.ellipse((90, 80, 210, 220), fill=(225, 190, 160))
    draw.rectangle((60, 250, 240, 400), fill=(40 + seed % 80, 60, 110))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def attachments_zip(
    keys: Iterable[str], *, photos: bool = True, documents: Iterable[str] = ("passport_copy",)
) -> bytes:
    """A ZIP with, for each key (a residence card number or ``row<N>``), ``<key>_photo.jpg`` and
    ``<key>_<document type>.pdf``: the naming the ZIP upload reads."""
    from zairyu.organizations.demo import sample_pdf_bytes

    pdf = sample_pdf_bytes()
    documents = tuple(documents)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, key in enumerate(keys):
            if photos:
                archive.writestr(f"{key}_photo.jpg", photo_jpeg(index))
            for document_type in documents:
                archive.writestr(f"{key}_{document_type}.pdf", pdf)
    return out.getvalue()
