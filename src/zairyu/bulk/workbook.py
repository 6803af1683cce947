"""Writing bulk files: the templates (Excel and CSV) and the uploaded rows annotated with their errors.

Every value written is made inert first (:func:`zairyu.bulk.parsing.escape_cell`): a value that a
spreadsheet would run as a formula gets a leading apostrophe, and characters a workbook cannot
hold are dropped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from zairyu.bulk.columns import (
    BulkColumn,
    bulk_columns,
    cell_value,
    drop_down_values,
    file_columns,
    template_title,
)
from zairyu.bulk.constants import (
    ERRORS_COLUMN,
    EXAMPLE_ROW,
    HEADER_EN_ROW,
    HEADER_JA_ROW,
    HELP_ROW,
    KEY_ROW,
    PARENT_COLUMN,
    limit,
)
from zairyu.bulk.parsing import APPLICANTS_SHEET, column_letter, escape_cell
from zairyu.catalogue.formspec import FormSpec
from zairyu.core import clock

SHEET_TITLE = APPLICANTS_SHEET
CHOICES_TITLE = "選択肢 Choices"
HELP_TITLE = "説明 Help"
SUMMARY_TITLE = "結果 Result"
ERROR_FILL = "FFC7CE"
NOTE_FILL = "FFF2CC"  # a warning: registered all the same, nothing to correct
NOTE_PREFIX = {"ja": "注意: ", "en": "Note: "}
HEADER_FILL = "D9E1F2"
EXAMPLE_FILL = "EDF3E4"


@dataclass
class SheetData:
    form: FormSpec
    columns: list[tuple[int, BulkColumn]]  # (position, column)
    language: str = "ja"
    example: dict[str, str] | None = None
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    marks: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # (row, key or "") → messages
    notes: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # the same, for warnings
    key_row: int = KEY_ROW
    summary: list[list[Any]] | None = None

    def header_row(self, row: int) -> int:
        """Where a row of the header block goes: the same distance above the key row as in the
        template (a file whose key row moved keeps its row numbers; what does not fit is left out)."""
        return self.key_row - (KEY_ROW - row)


def _clean(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return escape_cell(value)


def example_cells(form: FormSpec, columns: list[BulkColumn], *, language: str) -> dict[str, str]:
    """A filled example row, from the catalogue's own valid samples."""
    from zairyu.applications.samples import sample_answers

    answers = sample_answers(form, today=clock.today())
    cells: dict[str, str] = {}
    for column in columns:
        if column.row is not None:
            continue
        if column.fixed_value:
            value: Any = column.fixed_value
        elif column.type == "corporate_number":
            value = "7000012050002"
        elif column.key == PARENT_COLUMN:
            value = "AB12345678CD"
        else:
            value = answers.get(column.field_id)
        text = cell_value(column, value, language=language)
        if text:
            cells[column.key] = text
    return cells


def template_sheet(form: FormSpec, *, language: str) -> SheetData:
    columns = bulk_columns(form)
    return SheetData(
        form=form,
        columns=list(enumerate(columns)),
        language=language,
        example=example_cells(form, columns, language=language),
    )


# --- Excel --------------------------------------------------------------------------------------


def workbook_bytes(sheet: SheetData) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    applicants = workbook.active
    applicants.title = SHEET_TITLE
    choices = workbook.create_sheet(CHOICES_TITLE)
    styles = _Styles.make()
    title = template_title(sheet.form)
    last_row = max(sheet.key_row + limit("MAX_ROWS"), max((n for n, _c in sheet.rows), default=0))
    choice_column = 0
    for position, column in sheet.columns:
        _template_column(applicants, sheet, position, column, styles)
        values = drop_down_values(column, sheet.language)
        if values:
            choice_column += 1
            _choices_column(
                applicants, choices, sheet, position, column, values, choice_column, last_row, styles
            )
    _template_notes(applicants, sheet)
    _write_rows(applicants, sheet, styles)
    _help_sheet(workbook.create_sheet(HELP_TITLE), title)
    if sheet.summary is not None:
        _summary_sheet(workbook.create_sheet(SUMMARY_TITLE, 1), sheet.summary)
    workbook.properties.title = f"Zairyu bulk: {title.en}"
    workbook.properties.keywords = f"zairyu-bulk {sheet.form.procedure} {sheet.form.status}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@dataclass
class _Styles:
    """The fills and fonts of one workbook."""

    header_fill: Any
    example_fill: Any
    error_fill: Any
    note_fill: Any
    bold: Any
    small: Any
    wrap: Any

    @classmethod
    def make(cls) -> _Styles:
        from openpyxl.styles import Alignment, Font, PatternFill

        return cls(
            header_fill=PatternFill(fill_type="solid", fgColor=HEADER_FILL),
            example_fill=PatternFill(fill_type="solid", fgColor=EXAMPLE_FILL),
            error_fill=PatternFill(fill_type="solid", fgColor=ERROR_FILL),
            note_fill=PatternFill(fill_type="solid", fgColor=NOTE_FILL),
            bold=Font(bold=True),
            small=Font(size=8, color="808080"),
            wrap=Alignment(wrap_text=True, vertical="top"),
        )


def _template_column(
    applicants: Any, sheet: SheetData, position: int, column: BulkColumn, styles: _Styles
) -> None:
    """One column of the applicants' sheet: its header block, example, key, width and cell format."""
    letter = column_letter(position)
    index = position + 1
    mark_ja = "※" if column.required == "always" else ""
    mark_en = " *" if column.required == "always" else ""
    help_text = column.help()
    for row, value, font in (
        (HEADER_JA_ROW, f"{mark_ja}{column.header.ja}", styles.bold),
        (HEADER_EN_ROW, f"{column.header.en}{mark_en}", styles.bold),
        (HELP_ROW, f"{help_text.ja}\n{help_text.en}", None),
    ):
        row = sheet.header_row(row)
        if row < 1:
            continue
        cell = applicants.cell(row=row, column=index, value=_clean(value))
        cell.fill = styles.header_fill
        cell.alignment = styles.wrap
        if font is not None:
            cell.font = font
    if sheet.example is not None and sheet.header_row(EXAMPLE_ROW) >= 1:
        cell = applicants.cell(
            row=sheet.header_row(EXAMPLE_ROW),
            column=index,
            value=_clean(sheet.example.get(column.key, "")),
        )
        cell.fill = styles.example_fill
    applicants.cell(row=sheet.key_row, column=index, value=column.key).font = styles.small
    applicants.column_dimensions[letter].width = 22 if column.type not in ("textarea",) else 40
    if column.type not in ("integer", "money_yen"):
        for row in range(sheet.key_row + 1, sheet.key_row + 1 + limit("MAX_ROWS")):
            applicants.cell(row=row, column=index).number_format = "@"  # keep leading zeros


def _choices_column(
    applicants: Any,
    choices: Any,
    sheet: SheetData,
    position: int,
    column: BulkColumn,
    values: list[str],
    choice_column: int,
    last_row: int,
    styles: _Styles,
) -> None:
    """A column's choices on the choices sheet, and a drop-down of them on its cells."""
    from openpyxl.worksheet.datavalidation import DataValidation

    letter = column_letter(position)
    data_range = f"{letter}{sheet.key_row + 1}:{letter}{last_row}"
    choice_letter = column_letter(choice_column - 1)
    choices.cell(row=1, column=choice_column, value=column.key).font = styles.small
    choices.cell(
        row=2, column=choice_column, value=_clean(getattr(column.header, sheet.language))
    ).font = styles.bold
    for offset, value in enumerate(values, start=3):
        choices.cell(row=offset, column=choice_column, value=_clean(value))
    choices.column_dimensions[choice_letter].width = 24
    if column.type != "multi_choice":
        validation = DataValidation(
            type="list",
            formula1=f"='{CHOICES_TITLE}'!${choice_letter}$3:${choice_letter}${len(values) + 2}",
            allow_blank=True,
            errorStyle="warning",  # codes are accepted too: warn, do not block
            showErrorMessage=True,
        )
        validation.add(data_range)
        applicants.add_data_validation(validation)


def _template_notes(applicants: Any, sheet: SheetData) -> None:
    """The notes on the example and key rows, the help row's height, the frozen header."""
    from openpyxl.comments import Comment

    if sheet.example is not None and sheet.header_row(EXAMPLE_ROW) >= 1:
        applicants.cell(row=sheet.header_row(EXAMPLE_ROW), column=1).comment = Comment(
            "記入例（この行は読み込まれません）\nExample (this row is not read)", "Zairyu"
        )
    applicants.cell(row=sheet.key_row, column=1).comment = Comment(
        "この行は変更しないでください。申請人は6行目から1行に1人。\n"
        "Do not change this row. One applicant per row, from row 6.",
        "Zairyu",
    )
    if sheet.header_row(HELP_ROW) >= 1:
        applicants.row_dimensions[sheet.header_row(HELP_ROW)].height = 45
    applicants.freeze_panes = applicants.cell(row=sheet.key_row + 1, column=2)


def _write_rows(applicants: Any, sheet: SheetData, styles: _Styles) -> None:
    """The uploaded rows, their errors marked on the cells (red) and their warnings (yellow,
    where the cell has no error; a cell with both holds both in its comment)."""
    from openpyxl.comments import Comment

    positions = {column.key: position for position, column in sheet.columns}
    for number, cells in sheet.rows:
        for key, value in cells.items():
            if key in positions:
                applicants.cell(row=number, column=positions[key] + 1, value=_clean(value))
    for place in {**sheet.notes, **sheet.marks}:
        number, key = place
        cell = applicants.cell(row=number, column=positions.get(key, 0) + 1)
        cell.fill = styles.error_fill if place in sheet.marks else styles.note_fill
        messages = sheet.marks.get(place, []) + sheet.notes.get(place, [])
        cell.comment = Comment(_clean("\n\n".join(messages))[:30000], "Zairyu", width=320, height=160)


def _summary_sheet(summary: Any, lines: list[list[Any]]) -> None:
    for line in lines:
        summary.append([_clean(v) for v in line])
    for letter, width in zip("ABCDEF", (8, 8, 30, 30, 60, 60), strict=False):
        summary.column_dimensions[letter].width = width


HELP_LINES = [
    ("使い方", "How to fill in this file"),
    (
        "1行に申請人1人。6行目から記入します（最大300人）。1〜4行目は説明と記入例、5行目は項目キーで、読み込まれません。",
        "One applicant per row, from row 6 (at most 300). Rows 1–4 explain the columns and show an example; row 5 holds the column keys. None of them is read.",
    ),
    (
        "※の項目は必須です。日付は 2025-04-01 のように1つのセルに記入します。",
        "Columns marked * are required. A date goes in one cell, e.g. 2025-04-01.",
    ),
    (
        "選択肢は一覧から選びます（「選択肢」シート。コードでも可）。複数選択はカンマで区切ります。",
        "Coded values are chosen from the list (sheet “Choices”; the codes are accepted too). Several values: separate them with commas.",
    ),
    (
        "在留カードに記載の事項（氏名、生年月日など）は空欄にすると登録済みの内容が使われます。",
        "Items printed on the residence card (name, date of birth …) may be left blank: the registered record is used.",
    ),
    (
        "数式は読み込まれません。値を直接入力してください。列の削除・並べ替えはしないでください。",
        "Formulas are not read: type the values. Do not delete or reorder columns.",
    ),
    (
        "Excel形式（.xlsx）のまま、又はCSV（UTF-8又はShift_JIS）で保存してアップロードします。",
        "Upload the file as an Excel workbook (.xlsx), or saved as CSV (UTF-8 or Shift_JIS).",
    ),
    (
        "エラーがあった行は、結果画面から誤りのセルに印を付けたファイルをダウンロードし、修正して再度アップロードできます。登録済みの行は重複しません。",
        "Rows in error: download the file with the wrong cells marked from the result page, correct it and upload it again. Rows already registered are not registered twice.",
    ),
    (
        "写真とPDFは、ZIPファイルにまとめて添付できます。ファイル名は「在留カード番号_種類.拡張子」（例 AB12345678CD_photo.jpg、AB12345678CD_passport_copy.pdf）又は「row行番号_種類」（例 row6_photo.jpg）。",
        "Photos and PDFs can be attached together in one ZIP file, each named “<residence card number>_<kind>.<ext>” (e.g. AB12345678CD_photo.jpg, AB12345678CD_passport_copy.pdf) or “row<row number>_<kind>” (e.g. row6_photo.jpg).",
    ),
]


def _help_sheet(sheet: Any, title: Any) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.column_dimensions["A"].width = 100
    sheet.append([title.ja])
    sheet.append([title.en])
    sheet["A1"].font = sheet["A2"].font = Font(bold=True, size=13)
    sheet.append([])
    for ja, en in HELP_LINES:
        sheet.append([ja])
        sheet.append([en])
        sheet.append([])
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# --- CSV ----------------------------------------------------------------------------------------


def csv_bytes(sheet: SheetData, *, errors_column: dict[int, str] | None = None) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8), CRLF line ends."""
    width = max((p for p, _c in sheet.columns), default=-1) + 1
    extra = errors_column is not None

    def line(values: dict[int, Any], tail: str = "") -> list[str]:
        out = [str(_clean(values.get(i, "")) if values.get(i, "") != "" else "") for i in range(width)]
        return out + ([str(escape_cell(tail))] if extra else [])

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    by_position = dict(sheet.columns)
    helps = {p: c.help() for p, c in sheet.columns}
    header_rows: dict[int, list[str]] = {
        HEADER_JA_ROW: line(
            {p: ("※" if c.required == "always" else "") + c.header.ja for p, c in sheet.columns}, "エラー"
        ),
        HEADER_EN_ROW: line(
            {p: c.header.en + (" *" if c.required == "always" else "") for p, c in sheet.columns}, "Errors"
        ),
        HELP_ROW: line({p: f"{h.ja} / {h.en}" for p, h in helps.items()}),
        EXAMPLE_ROW: line({p: (sheet.example or {}).get(c.key, "") for p, c in by_position.items()}),
    }
    header_rows = {
        sheet.header_row(row): values for row, values in header_rows.items() if sheet.header_row(row) >= 1
    }
    header_rows[sheet.key_row] = line({p: c.key for p, c in sheet.columns}, ERRORS_COLUMN)
    rows = dict(sheet.rows)
    last = max([sheet.key_row, *rows])
    positions = {c.key: p for p, c in sheet.columns}
    for number in range(1, last + 1):
        if number in header_rows:
            writer.writerow(header_rows[number])
        elif number in rows:
            values = {positions[k]: v for k, v in rows[number].items() if k in positions}
            writer.writerow(line(values, (errors_column or {}).get(number, "")))
        else:
            writer.writerow(line({}))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- the annotated file -------------------------------------------------------------------------


def annotated_sheet(
    bulk_import: Any, *, language: str, errors_only: bool = False
) -> tuple[SheetData, dict[int, str]]:
    """The uploaded rows as read, with each error marked on its cell (or the row's first cell) and
    each warning noted there, and a summary; plus each row's errors and warnings as one text (for
    the CSV)."""
    from zairyu.bulk.columns import bulk_form
    from zairyu.bulk.constants import RowState

    form = bulk_form(
        procedure=bulk_import.procedure,
        status=bulk_import.status,
        user_category=bulk_import.user_category,
        add_ons=tuple(bulk_import.add_ons),
    )
    by_key = {c.key: c for c in file_columns(form)}
    columns = [(index, by_key[key]) for index, key in bulk_import.columns if key in by_key]
    first_key = columns[0][1].key if columns else ""
    present = {c.key for _p, c in columns}
    rows: list[tuple[int, dict[str, str]]] = []
    marks: dict[tuple[int, str], list[str]] = {}
    texts: dict[int, str] = {}
    states = dict(RowState.choices)
    summary: list[list[Any]] = [
        [bulk_import.original_name],
        ["行 Row", "列 Column", "項目 Item", "Item", "エラー", "Error"],
    ]
    notes: dict[tuple[int, str], list[str]] = {}
    for row in bulk_import.rows.order_by("row_number"):
        if errors_only and row.state not in (RowState.ERROR, RowState.REFUSED):
            continue
        rows.append((row.row_number, dict(row.raw)))
        warnings = row.warnings if row.state in (RowState.DRAFT, RowState.ERROR) else []
        parts = []
        for problem, prefix in [(e, None) for e in row.errors] + [(w, NOTE_PREFIX) for w in warnings]:
            key = problem.get("key") or ""
            target = (row.row_number, key if key in present else first_key)
            ja, en = problem["message_ja"], problem["message_en"]
            if prefix is not None:
                ja, en = prefix["ja"] + ja, prefix["en"] + en
            (marks if prefix is None else notes).setdefault(target, []).append(f"{ja}\n{en}")
            parts.append(f"{problem.get('column') or '-'}: {en if language == 'en' else ja}")
            summary.append(
                [
                    problem["row"],
                    problem.get("column") or "",
                    problem.get("header_ja") or "",
                    problem.get("header_en") or "",
                    ja,
                    en,
                ]
            )
        if not row.errors and row.state not in (RowState.DRAFT,):
            parts.append(str(states.get(row.state, row.state)))
        texts[row.row_number] = " / ".join(parts)
    sheet = SheetData(
        form=form,
        columns=columns,
        language=language,
        rows=rows,
        marks=marks,
        notes=notes,
        key_row=bulk_import.key_row,
        summary=summary,
    )
    return sheet, texts
