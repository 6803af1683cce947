"""Reading a bulk file — CSV or Excel — into rows of cells, refusing what is not one.

Nothing in the file is trusted. The bytes are read with a size cap; a CSV is UTF-8 (with or
without BOM) or Shift_JIS/CP932 and nothing else; an XLSX is a ZIP whose entries are inspected
(count, uncompressed size, DTDs and entities) before openpyxl opens it in read-only mode, with
defusedxml in place, and its rows and columns are read up to fixed bounds. A formula is never
evaluated: the cell is reported. What is refused is refused at once, with a message that says
what to do; what is wrong in one cell is reported for that cell when the row is processed, and
what the user typed there is kept (:attr:`ParsedRow.refused`) to be written back, made inert, in
the annotated file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from zairyu.bulk.constants import ERRORS_COLUMN, KEY_ROW_SEARCH, FileKind, limit
from zairyu.core.errors import Refused
from zairyu.documents.errors import lazy_format

_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
# A value that a spreadsheet would run as a formula. "+" and "-" are also how numbers and
# international phone numbers start; those are let through.
_FORMULA_START = ("=", "@")
_SIGNED_NUMBER_RE = re.compile(r"[+-][0-9][0-9 ().-]*")
ZIP_MAGIC = b"PK\x03\x04"
APPLICANTS_SHEET = "申請人 Applicants"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # old binary Excel (.xls)
_XML_DANGER = (b"<!doctype", b"<!entity")


class FileRefused(Refused):
    """The whole file is refused; ``message`` says why and what to do."""


@dataclass
class ParsedRow:
    number: int  # the row number a spreadsheet shows
    cells: dict[str, str]  # column key → text; blank cells left out
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (key, code, detail)
    # column key → what the user typed in a refused cell (a formula, an Excel error), never read
    # as an answer: kept to be written back, made inert, in the annotated file. A cell refused
    # as too long is not kept (no cell is kept beyond the limit read).
    refused: dict[str, str] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        data = {"n": self.number, "c": self.cells, "p": [list(p) for p in self.problems]}
        return {**data, "r": self.refused} if self.refused else data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ParsedRow:
        return cls(
            number=data["n"],
            cells=data["c"],
            problems=[tuple(p) for p in data.get("p", [])],
            refused=dict(data.get("r", {})),
        )


@dataclass
class ParsedFile:
    kind: str
    columns: list[tuple[int, str]]  # (position, key), in the file's order
    rows: list[ParsedRow]
    key_row: int = 5


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet names it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def escape_cell(value: Any) -> Any:
    """A value written into a CSV or a workbook, made inert: text that a spreadsheet would run as a
    formula gets a leading apostrophe."""
    if (
        isinstance(value, str)
        and value
        and (value[0] in ("=", "+", "-", "@", "\t", "\r") or _cell_problem(value))
    ):
        return "'" + value
    return value


_RISKY_FIRST = frozenset("=+-@\t\r\n ")


def _cell_problem(text: str) -> str | None:
    """``formula`` when a spreadsheet would run the text; None for an ordinary value."""
    if not text or text[0] not in _RISKY_FIRST:
        return None
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return None
    if stripped.startswith(_FORMULA_START) or text[:1] in ("\t", "\r"):
        return "formula"
    if stripped[0] in "+-" and not _SIGNED_NUMBER_RE.fullmatch(stripped.rstrip()):
        return "formula"
    return None


def _unescape(text: str) -> str:
    """Our own escape undone: ``'=…`` written by :func:`escape_cell` reads back as ``=…``."""
    if len(text) > 1 and text[0] == "'" and text[1] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text


def parse_upload(*, data: bytes, expected: list[str], required: set[str]) -> ParsedFile:
    """Read ``data`` (the whole upload, already capped) as a bulk file whose columns must be
    among ``expected`` (keys), with every key of ``required`` present."""
    if not data.strip():
        raise FileRefused("empty", _("The file is empty. Fill in the template and upload it again."))
    if data.startswith(OLE_MAGIC):
        raise FileRefused(
            "xls",
            _(
                "This is an old Excel file (.xls). Save it as “Excel Workbook (.xlsx)” or as CSV, and upload that."
            ),
        )
    if data.startswith(ZIP_MAGIC):
        return _parse_xlsx(data, expected, required)
    return _parse_csv(data, expected, required)


# --- CSV ----------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileRefused(
            "encoding",
            _(
                "This CSV file is saved as UTF-16 (“Unicode text”). Save it as “CSV UTF-8 (comma delimited)” or as CSV (Shift_JIS) and upload it again."
            ),
        )
    if b"\x00" in data:
        raise FileRefused(
            "binary",
            _("This is not a CSV or Excel file. Download the template, fill it in and upload that."),
        )
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(
        "encoding",
        _(
            "The characters of this file cannot be read: a CSV file must be saved as UTF-8 or Shift_JIS. In Excel, choose “CSV UTF-8 (comma delimited)” when saving."
        ),
    )


def _parse_csv(data: bytes, expected: list[str], required: set[str]) -> ParsedFile:
    text = _decode(data)
    # A cell may be as long as the file itself: it is read, then reported as too long.
    csv.field_size_limit(max(csv.field_size_limit(), len(data) + 1))
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileRefused(
            "csv",
            lazy_format(
                _("The CSV file cannot be read (%(problem)s). Save it again from Excel as CSV."),
                {"problem": str(exc)[:200]},
            ),
        ) from None
    return _rows_to_file(FileKind.CSV, enumerate(records, start=1), expected, required)


# --- XLSX ---------------------------------------------------------------------------------------


def _inspect_xlsx(data: bytes) -> None:
    """Refuse a workbook that unpacks to too much, has too many parts, or carries a DTD."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _damaged() from None
    if len(infos) > limit("XLSX_MAX_PARTS"):
        raise FileRefused(
            "xlsx_parts",
            _(
                "This workbook has far more parts than the template. Use the template downloaded from this site."
            ),
        )
    total = sum(info.file_size for info in infos)
    cap = limit("XLSX_MAX_UNPACKED_BYTES")
    if total > cap:
        raise FileRefused(
            "xlsx_too_large",
            lazy_format(
                _(
                    "This workbook unpacks to %(size)s MB; a bulk file may unpack to at most %(limit)s MB. Keep only the template's sheets and at most 300 applicants."
                ),
                {"size": f"{total / 1024 / 1024:.0f}", "limit": f"{cap / 1024 / 1024:.0f}"},
            ),
        )
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise _damaged()
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRefused(
                "xlsx_encrypted",
                _(
                    "This workbook is protected with a password. Remove the password, save and upload it again."
                ),
            )
        if not info.filename.endswith((".xml", ".rels", ".vml")):
            continue
        try:
            with archive.open(info) as part:
                content = part.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError):
            raise _damaged() from None
        if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
            content = content.replace(b"\x00", b"")
        lowered = content.lower()
        if any(marker in lowered for marker in _XML_DANGER):
            raise _entities()


def _entities() -> FileRefused:
    return FileRefused(
        "xml_entities",
        _(
            "This workbook contains XML declarations (a DTD or entities) that Excel never writes; it is refused for safety. Open it in Excel, save it again as .xlsx and upload that."
        ),
    )


def _damaged() -> FileRefused:
    return FileRefused(
        "xlsx_damaged",
        _(
            "This workbook is damaged or is not an Excel workbook. Save it again in Excel as .xlsx and upload that."
        ),
    )


def _xlsx_text(cell: Any) -> tuple[str, str | None]:
    """A cell as text and its problem (``formula``, ``excel_error``) if any; the text of a
    formula is the formula as written (never evaluated), of an Excel error the error (``#N/A``)."""
    value = cell.value
    data_type = getattr(cell, "data_type", None)
    if value is None:
        return "", None
    if data_type == "f" or (isinstance(value, str) and data_type != "s" and value.startswith("=")):
        # An array formula is an object holding its text; a data table's has none.
        text = getattr(value, "text", value)
        return (text if isinstance(text, str) else "="), "formula"
    if data_type == "e":
        return str(value), "excel_error"
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), None
        return value.isoformat(sep=" "), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if isinstance(value, float):
        return (str(int(value)) if value.is_integer() else repr(value)), None
    if isinstance(value, int):
        return str(value), None
    return str(value), None


def _parse_xlsx(data: bytes, expected: list[str], required: set[str]) -> ParsedFile:
    _inspect_xlsx(data)
    import openpyxl  # imported here: only bulk files need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken or hostile file
        name = type(exc).__name__
        if "Entities" in name or "DTD" in name or "Forbidden" in name:
            raise _entities() from None
        raise _damaged() from None
    try:
        if not workbook.worksheets:
            raise _damaged()
        # The applicants' sheet of the template, wherever it is; else the first sheet.
        named = [s for s in workbook.worksheets if s.title == APPLICANTS_SHEET]
        sheet = named[0] if named else workbook.worksheets[0]
        sheet.reset_dimensions()  # the size the file claims is not trusted: read what is there
        # Columns beyond the template's (and a few added by hand) are not read at all.
        max_col = min(limit("MAX_COLUMNS"), len(expected) + 10)

        def rows():
            for number, row in enumerate(sheet.iter_rows(max_col=max_col), start=1):
                texts: list[str] = []
                problems: dict[int, tuple[str, str]] = {}
                for index, cell in enumerate(row):
                    text, problem = _xlsx_text(cell)
                    # A refused cell counts as blank for finding the key row and the width.
                    texts.append("" if problem else text)
                    if problem:
                        problems[index] = (problem, text)
                yield number, (texts, problems)

        try:
            return _rows_to_file(FileKind.XLSX, rows(), expected, required)
        except FileRefused:
            raise
        except Exception as exc:
            name = type(exc).__name__
            if "Entities" in name or "DTD" in name or "Forbidden" in name:
                raise _entities() from None
            raise _damaged() from None
    finally:
        workbook.close()


# --- both ---------------------------------------------------------------------------------------


def _is_key_row(cells: list[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) < 2:
        return False
    keys = sum(1 for c in filled if _KEY_RE.fullmatch(c))
    return keys >= 0.8 * len(filled)


def _rows_to_file(kind: str, records, expected: list[str], required: set[str]) -> ParsedFile:
    """From (row number, cells) — cells a list of texts, or (texts, {index: (problem, what the
    cell holds)}) — to a parsed file: find the key row, check the columns, read the applicants' rows."""
    max_rows = limit("MAX_ROWS")
    scan_max = limit("SCAN_MAX_ROWS")
    max_columns = limit("MAX_COLUMNS")
    cell_max = limit("CELL_MAX_CHARS")
    keys: list[str] | None = None
    key_row = 0
    positions: list[tuple[int, str]] = []
    rows: list[ParsedRow] = []
    count = 0
    number = 0
    for number, record in records:
        if number > scan_max:
            break
        texts, problems = record if isinstance(record, tuple) else (record, {})
        _check_width(number, texts, max_columns)
        if keys is None:
            if number > KEY_ROW_SEARCH:
                break
            if _is_key_row(texts):
                keys = [t.strip() for t in texts]
                key_row = number
                positions = _check_columns(keys, expected, required)
            continue
        if not any(t.strip() for t in texts) and not problems:
            continue
        count += 1
        if count > max_rows:
            continue  # counted, so the message can say how many there are
        row = _read_row(number, texts, problems, positions, cell_max)
        if row is None:
            count -= 1
            continue
        rows.append(row)
    _check_read(
        found_keys=keys is not None, rows=rows, count=count, more=number > scan_max, max_rows=max_rows
    )
    return ParsedFile(kind=kind, columns=positions, rows=rows, key_row=key_row)


def _check_width(number: int, texts: list[str], max_columns: int) -> None:
    """Refuse a row with text beyond the columns that are read."""
    if len(texts) > max_columns and any(t.strip() for t in texts[max_columns:]):
        raise FileRefused(
            "too_many_columns",
            lazy_format(
                _("Row %(row)s has more than %(limit)s columns. Use the template downloaded from this site."),
                {"row": number, "limit": max_columns},
            ),
        )


def _read_row(
    number: int,
    texts: list[str],
    problems: dict[int, tuple[str, str]],
    positions: list[tuple[int, str]],
    cell_max: int,
) -> ParsedRow | None:
    """One applicant's row: its cells by key, the problems of its cells and what the refused
    ones hold; None when it holds neither (only blanks in the columns that are read)."""
    cells: dict[str, str] = {}
    row_problems: list[tuple[str, str, str]] = []
    refused: dict[str, str] = {}
    for index, key in positions:
        text = texts[index] if index < len(texts) else ""
        problem: str | None = None
        if index in problems:
            problem, text = problems[index]
        elif len(text) > cell_max:
            row_problems.append((key, "too_long", str(len(text))))
            continue
        else:
            if text[:1] == "'":
                text = _unescape(text)
            problem = _cell_problem(text)
        if problem:
            row_problems.append((key, problem, text.strip()[:12] if problem == "formula" else ""))
            if text and len(text) <= cell_max:
                refused[key] = text
            continue
        if text.strip():
            cells[key] = text
    if not cells and not row_problems:
        return None
    return ParsedRow(number=number, cells=cells, problems=row_problems, refused=refused)


def _check_read(*, found_keys: bool, rows: list[ParsedRow], count: int, more: bool, max_rows: int) -> None:
    """Refuse a file without the key row, with too many applicants (``more``: some rows were not
    even counted) or with none."""
    if not found_keys:
        raise FileRefused(
            "no_key_row",
            _(
                "The row of column keys (row 5 of the template, under the example) was not found. Use the template downloaded from this site and keep its first five rows as they are."
            ),
        )
    if count > max_rows:
        raise FileRefused(
            "too_many_rows",
            lazy_format(
                _(
                    "This file holds %(count)s applicants; one file may hold at most %(limit)s. Split it into files of at most %(limit)s applicants and upload each."
                ),
                {"count": f"{count}{'+' if more else ''}", "limit": max_rows},
            ),
        )
    if not rows:
        raise FileRefused(
            "no_rows",
            _(
                "The file holds no applicants. Fill in one row per applicant, from row 6 on, and upload it again."
            ),
        )


def _check_columns(keys: list[str], expected: list[str], required: set[str]) -> list[tuple[int, str]]:
    known = set(expected)
    positions: list[tuple[int, str]] = []
    seen: set[str] = set()
    unknown: list[str] = []
    for index, key in enumerate(keys):
        if not key or key == ERRORS_COLUMN:
            continue
        if key in seen:
            raise FileRefused(
                "duplicate_column",
                lazy_format(
                    _("The column “%(key)s” appears twice (column %(column)s). Remove one of them."),
                    {"key": key[:60], "column": column_letter(index)},
                ),
            )
        seen.add(key)
        if key not in known:
            unknown.append(f"{column_letter(index)} ({key[:60]})")
            continue
        positions.append((index, key))
    if unknown:
        raise FileRefused(
            "unknown_columns",
            lazy_format(
                _(
                    "Columns %(columns)s are not part of the template for the procedure and status you chose. Check your choice, or download the template for it."
                ),
                {"columns": ", ".join(unknown[:6]) + (" …" if len(unknown) > 6 else "")},
            ),
        )
    missing = [key for key in expected if key in required and key not in seen]
    if missing:
        raise FileRefused(
            "missing_columns",
            lazy_format(
                _(
                    "Required columns are missing: %(columns)s. Use the template for the procedure and status you chose, without deleting columns."
                ),
                {"columns": ", ".join(missing[:6]) + (" …" if len(missing) > 6 else "")},
            ),
        )
    return positions
