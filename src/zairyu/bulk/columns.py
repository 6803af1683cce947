"""The columns of a bulk file, derived from the form catalogue (``flat_columns``): one column per
field of the form that applies, nothing more, in the form's order — with the applicant's
residence card number first (P2, P3, P5), the card number of a parent living in Japan first for an
acquisition of status (P4, a child born in Japan), or the receiving organization's corporate number
first for a certificate of eligibility filed by organization staff — and the mapping from a row's
cells to the answers the application services take."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.bulk.constants import ORGANIZATION_COLUMN, PARENT_COLUMN
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import Choice, Column, FormSpec, flat_columns, form_for, role_field_id
from zairyu.catalogue.loader import Localized

_CODED = frozenset({"choice", "multi_choice", "country", "prefecture", "status_of_residence", "boolean"})


@dataclass(frozen=True)
class BulkColumn:
    key: str
    field_id: str  # the catalogue field; ORGANIZATION_COLUMN for the organization column
    section_id: str
    step_id: str
    row: int | None
    header: Localized
    type: str
    required: str  # "always", "conditional" or "never"
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    fixed_value: str | None = None
    example: str | None = None
    # A column of the start (the organization, an acquisition's parent or card), not an answer of
    # the form: the start checks read it, the answers never hold it.
    start: bool = False

    @property
    def coded(self) -> bool:
        return bool(self.choices) and self.type in _CODED

    def help(self) -> Localized:
        """What the cell takes, in both languages, for the template's help row."""
        need_ja, need_en = {
            "always": ("必須", "Required"),
            "conditional": ("条件により必須", "Required in some cases"),
            "never": ("任意", "Optional"),
        }[self.required]
        ja, en = _FORMAT_HELP.get(self.type, ("", ""))
        if self.type in ("text", "textarea", "kanji_name", "email") and self.max_length:
            ja, en = f"{self.max_length}文字以内", f"At most {self.max_length} characters"
        if self.coded and self.type == "multi_choice":
            ja, en = "一覧の値をカンマ区切り", "Values from the list, separated by commas"
        elif self.coded:
            ja, en = "一覧から選択", "Choose from the list"
        if self.fixed_value:
            ja, en = "空欄可（申請する在留資格）", "May be left blank (the status applied for)"
        parts_ja = [need_ja] + ([ja] if ja else [])
        parts_en = [need_en] + ([en] if en else [])
        return Localized(ja="・".join(parts_ja), en="; ".join(parts_en))


_FORMAT_HELP = {
    "date": ("日付 例 2025-04-01", "Date, e.g. 2025-04-01"),
    "year_month": ("年月 例 2020-03", "Year and month, e.g. 2020-03"),
    "integer": ("数字", "Digits"),
    "money_yen": ("金額（円）数字", "Amount in yen, digits"),
    "phone": ("電話番号 例 03-1234-5678", "Telephone, e.g. 03-1234-5678"),
    "email": ("メールアドレス", "E-mail address"),
    "postal_code": ("郵便番号 例 160-0023", "Postal code, e.g. 160-0023"),
    "roman_name": ("ローマ字（大文字）", "Latin capitals"),
    "card_number": (
        "英字2・数字8・英字2 例 AB12345678CD",
        "2 letters, 8 digits, 2 letters, e.g. AB12345678CD",
    ),
    "passport_number": ("旅券番号", "Passport number"),
    "period_of_stay": ("例 1年、6月", "e.g. 1Y, 6M"),
    "corporate_number": ("13桁", "13 digits"),
}


def bulk_form(*, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...] = ()) -> FormSpec:
    """The form of a bulk file: the same form a single application of this kind has."""
    return form_for(procedure=procedure, status=status, user_category=user_category, add_ons=add_ons)


def _from_catalogue(column: Column, form: FormSpec) -> BulkColumn:
    spec = form.field(column.field_id)
    return BulkColumn(
        key=column.key,
        field_id=column.field_id,
        section_id=column.section_id,
        step_id=column.step_id,
        row=column.row,
        header=column.header,
        type=column.type,
        required=column.required,
        choices=column.choices,
        max_length=column.max_length,
        fixed_value=column.fixed_value,
        example=spec.example,
    )


def organization_column() -> BulkColumn:
    return BulkColumn(
        key=ORGANIZATION_COLUMN,
        field_id=ORGANIZATION_COLUMN,
        section_id="",
        step_id="",
        row=None,
        header=Localized(ja="受入れ機関の法人番号", en="Corporate number of the receiving organization"),
        type="corporate_number",
        required="always",
        start=True,
    )


def parent_column() -> BulkColumn:
    """An acquisition's (P4) parent: a child born in Japan starts from the card of a parent living
    in Japan, as the single start does (ADR 0017); blank for another event."""
    return BulkColumn(
        key=PARENT_COLUMN,
        field_id=PARENT_COLUMN,
        section_id="",
        step_id="",
        row=None,
        header=Localized(
            ja="日本に住む親の在留カード番号（日本で出生した子）",
            en="Card number of a parent living in Japan (child born in Japan)",
        ),
        type="card_number",
        required="conditional",
        start=True,
    )


def acquisition_card_column() -> BulkColumn:
    """The applicant's card number in an acquisition's (P4) file: not in its template (the
    applicant has no card), but read when a file has it (rows copied from another procedure's
    file), so that a row with a number is refused as the single start refuses it."""
    return BulkColumn(
        key=role_field_id("identity.card_number"),
        field_id=role_field_id("identity.card_number"),
        section_id="",
        step_id="",
        row=None,
        header=Localized(
            ja="申請人の在留カード番号（在留資格取得では空欄）",
            en="Residence card number of the applicant (blank for an acquisition of status)",
        ),
        type="card_number",
        required="never",
        start=True,
    )


def needs_organization_column(form: FormSpec) -> bool:
    return form.procedure == "P1" and form.user_category in ORGANIZATION_STAFF_KINDS


def bulk_columns(form: FormSpec, *, today: dt.date | None = None) -> list[BulkColumn]:
    """The template's columns, in order."""
    columns = [_from_catalogue(column, form) for column in flat_columns(form, today=today)]
    card_field = role_field_id("identity.card_number")
    first = [c for c in columns if c.key == card_field] if form.procedure != "P1" else []
    rest = [c for c in columns if c not in first]
    if needs_organization_column(form):
        first = [organization_column()]
    if form.procedure == "P4":
        first = [parent_column()]
    return first + rest


def file_columns(form: FormSpec, *, today: dt.date | None = None) -> list[BulkColumn]:
    """The columns an uploaded file may have: the template's, and for an acquisition (P4) the
    applicant's card number, read to be refused (:func:`acquisition_card_column`)."""
    columns = bulk_columns(form, today=today)
    if form.procedure == "P4" and all(c.key != role_field_id("identity.card_number") for c in columns):
        columns.append(acquisition_card_column())
    return columns


def template_name(form: FormSpec, extension: str) -> str:
    """``zairyu-bulk-P3-P-student.xlsx``: procedure (with add-ons), input-screen group, status."""
    procedure = "+".join((form.procedure, *form.add_ons))
    status = form.status.replace("/", "-")
    return f"zairyu-bulk-{procedure}-{form.group}-{status}.{extension}"


def template_title(form: FormSpec) -> Localized:
    catalogue = get_catalogue()
    procedures = [catalogue.procedures[code].name for code in (form.procedure, *form.add_ons)]
    entry = catalogue.entries[form.status]
    return Localized(
        ja="・".join(p.ja for p in procedures) + f"（{entry.name.ja}）",
        en=" + ".join(p.en for p in procedures) + f" ({entry.name.en})",
    )


# --- from cells to answers ----------------------------------------------------------------------


def row_answers(columns: list[BulkColumn], cells: dict[str, str]) -> tuple[dict[str, Any], str]:
    """The answers of one row, keyed by field id as the application services take them, and the
    organization's corporate number (P1 by staff). A blank cell is not an answer: what the
    registry knows (name, date of birth, address …) stands, as the single form shows it filled.
    A repeatable section's columns ``<field>_<n>`` become its rows, numbered as in the file."""
    answers: dict[str, Any] = {}
    organization = ""
    sections: dict[str, dict[int, dict[str, str]]] = {}
    for column in columns:
        value = cells.get(column.key, "")
        if not value.strip():
            continue
        if column.key == ORGANIZATION_COLUMN:
            organization = value
        elif column.start:
            continue  # read by the start checks (the parent's card …), not an answer
        elif column.row is None:
            answers[column.field_id] = value
        else:
            sections.setdefault(column.section_id, {}).setdefault(column.row, {})[column.field_id] = value
    for section_id, rows in sections.items():
        answers[section_id] = [rows.get(number, {}) for number in range(1, max(rows) + 1)]
    return answers, organization


def column_for_error(
    columns_by_field: dict[tuple[str, int | None], BulkColumn], field_id: str, row: int | None
) -> BulkColumn | None:
    """The column an error of the catalogue names (a field, or a field in a numbered row)."""
    column = columns_by_field.get((field_id, row)) or columns_by_field.get((field_id, None))
    if column is None and row is None:
        # A section's error (too few rows …) names the section: point at its first column.
        column = columns_by_field.get(("section:" + field_id, None))
    return column


def columns_by_field(columns: list[BulkColumn]) -> dict[tuple[str, int | None], BulkColumn]:
    index: dict[tuple[str, int | None], BulkColumn] = {}
    for column in columns:
        index.setdefault((column.field_id, column.row), column)
        if column.row is not None:
            index.setdefault(("section:" + column.section_id, None), column)
    return index


# --- from answers to cells (examples, generated files) ------------------------------------------


_SEPARATORS = frozenset(",、;；/\n")


def _label_usable(label: str, language: str, *, multiple: bool) -> bool:
    # Offered only when NFKC (and, for a Japanese label, case folding) leave it as it is; for the
    # others (full-width brackets, "N1" …) the code is offered. The catalogue reads those labels
    # too (it normalises a label as it normalises what is typed); the templates keep the codes.
    # In a multiple choice, a label must not hold the separators either.
    if unicodedata.normalize("NFKC", label) != label:
        return False
    if language != "en" and label.casefold() != label:
        return False
    return not (multiple and any(ch in _SEPARATORS for ch in label))


def choice_texts(column: BulkColumn, language: str) -> dict[str, str]:
    """code → what the template offers for it: the label in ``language`` when the catalogue
    reads it back as that code, else the code."""
    labels = [getattr(c.label, language) for c in column.choices]
    duplicated = {label for label in labels if labels.count(label) > 1}
    texts = {}
    for choice, label in zip(column.choices, labels, strict=True):
        usable = label not in duplicated and _label_usable(
            label, language, multiple=column.type == "multi_choice"
        )
        texts[choice.code] = label if usable else choice.code
    return texts


def cell_value(column: BulkColumn, value: Any, *, language: str = "ja") -> str:
    """An answer as a person would type it in the template: choices by their label in
    ``language`` (the drop-down's values), yes/no, dates as YYYY-MM-DD."""
    if value is None or value == "" or value == []:
        return ""
    texts = choice_texts(column, language) if column.coded else {}

    def one(code: Any) -> str:
        if isinstance(code, bool):
            code = "true" if code else "false"
        return texts.get(str(code), str(code))

    if isinstance(value, list | tuple):
        return ", ".join(one(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return one(value)


def drop_down_values(column: BulkColumn, language: str) -> list[str]:
    if not column.coded:
        return []
    return list(choice_texts(column, language).values())
