"""The application as a printed form (申請書) and the proof of pending application (申請受付票).

Both are derived, never re-typed: the form walks the form catalogue (``FormSpec``: steps →
sections → fields, with their Japanese and English labels) over the stored answers, in the
layout of the official paper form — A4, a title block, numbered items in bordered boxes with
bilingual labels, the applicant's part ("申請人等作成用 1, 2 …") and then the organization's
part ("所属機関等作成用 1, 2 …"), and a footer with the page and the receipt number.

Fonts are reportlab's built-in Japanese CID fonts (HeiseiMin-W3 for the printed labels,
HeiseiKakuGo-W5 for the entries): no font file ships with the project; a PDF viewer substitutes
its own Japanese font. Every run of Latin-1 text is set in Helvetica, so names and numbers stay
searchable and copyable as plain text.

Output is deterministic for the same application: reportlab's invariant mode, and a creation date
taken from the receipt date (a draft: the date it was last saved).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from zairyu.applications.constants import EDITABLE_STATES, ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.services import application_form, photo_required
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import (
    UNSET,
    FieldSpec,
    FormSpec,
    SectionSpec,
    choices_for,
    normalize_and_validate,
)
from zairyu.catalogue.loader import Localized
from zairyu.core import clock
from zairyu.registry.validators import period_of_stay_parts

MINCHO = "HeiseiMin-W3"  # the printed form's labels and title
GOTHIC = "HeiseiKakuGo-W5"  # what was entered
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 14 * mm
MARGIN_TOP = 17 * mm
MARGIN_BOTTOM = 16 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

LINE = colors.HexColor("#333333")
BAND = colors.HexColor("#e4e4e4")
LABEL_BACKGROUND = colors.HexColor("#f5f5f5")
MUTED = colors.HexColor("#555555")

# The states in which an application has been received and has a receipt number to show.
PROOF_STATES = frozenset(
    {
        ApplicationState.SUBMITTED,
        ApplicationState.UNDER_REVIEW,
        ApplicationState.AWAITING_ISSUE,
        ApplicationState.COMPLETE,
    }
)

# The provision of the Immigration Control and Refugee Recognition Act each procedure is filed
# under, as the paper forms cite it (only the printed form needs it).
LEGAL_BASIS = {
    "P1": ("第7条の2", "Article 7-2"),
    "P2": ("第20条第2項", "Article 20, Paragraph 2"),
    "P3": ("第21条第2項", "Article 21, Paragraph 2"),
    "P4": ("第22条の2第2項", "Article 22-2, Paragraph 2"),
    "P5": ("第19条の2第1項", "Article 19-2, Paragraph 1"),
    "P6": ("第26条第1項", "Article 26, Paragraph 1"),
    "P7": ("第19条第2項", "Article 19, Paragraph 2"),
}
PARTS = {
    "applicant": Localized(ja="申請人等作成用", en="For applicant, part"),
    "organization": Localized(ja="所属機関等作成用", en="For organization, part"),
}
RECEIPT_DOCUMENTS = {
    "coe": Localized(ja="在留資格認定証明書", en="Certificate of Eligibility"),
    "residence_card": Localized(ja="在留カード", en="Residence card"),
    "employment_certificate": Localized(ja="就労資格証明書", en="Certificate of authorized employment"),
    "passport_stamp": Localized(ja="旅券への証印", en="Stamp in the passport"),
}
RECEIPT_METHODS = {
    "email": Localized(ja="電子メール（電子交付）", en="By e-mail (electronic issue)"),
    "post": Localized(ja="郵送", en="By post"),
    "window": Localized(ja="地方出入国在留管理官署の窓口", en="At the bureau window"),
}
YES = Localized(ja="はい", en="Yes")
NO = Localized(ja="いいえ", en="No")


class NotReceived(ValueError):
    """The application has not been received (or no longer is): there is nothing to prove."""


# --- fonts and text ------------------------------------------------------------------------------


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
    pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))


def _is_latin(char: str) -> bool:
    if char in "\n\t":
        return True
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return char.isprintable()


def _runs(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is_latin, run) pieces; a space stays in the run it is in."""
    runs: list[tuple[bool, str]] = []
    for char in text:
        latin = runs[-1][0] if char == " " and runs else _is_latin(char)
        if runs and runs[-1][0] == latin:
            runs[-1] = (latin, runs[-1][1] + char)
        else:
            runs.append((latin, char))
    return runs


def _markup(text: str, *, latin_font: str = LATIN) -> str:
    """Paragraph markup for mixed Japanese and Latin text: Latin runs in Helvetica."""
    parts = []
    for latin, run in _runs(text):
        body = escape(run).replace("\n", "<br/>")
        parts.append(f'<font name="{latin_font}">{body}</font>' if latin else body)
    return "".join(parts)


def _has_cjk(text: str) -> bool:
    return any(not _is_latin(char) for char in text)


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    # Japanese wraps between any two characters; Latin-only text between words (long words are
    # still split, so nothing overflows its box). A Latin style keeps its own face (bold titles).
    latin_font = style.fontName if style.fontName.startswith("Helvetica") else LATIN
    if _has_cjk(text):
        style = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
    return Paragraph(_markup(text, latin_font=latin_font), style)


def _draw_mixed(
    canvas: Canvas, x: float, y: float, text: str, *, size: float, font: str = GOTHIC, align: str = "left"
) -> None:
    """Draw one line of mixed text on the canvas (headers, footers, watermark)."""
    runs = [(LATIN if latin else font, run) for latin, run in _runs(text)]
    width = sum(pdfmetrics.stringWidth(run, name, size) for name, run in runs)
    if align == "right":
        x -= width
    elif align == "center":
        x -= width / 2
    for name, run in runs:
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _register_fonts()
    base = ParagraphStyle("base", fontName=GOTHIC, fontSize=9, leading=11.5)
    return {
        "value": base,
        "value_small": ParagraphStyle("value_small", parent=base, fontSize=7.5, leading=9.5),
        "label_ja": ParagraphStyle("label_ja", parent=base, fontName=MINCHO, fontSize=7.5, leading=9.5),
        "label_en": ParagraphStyle(
            "label_en", parent=base, fontName=LATIN, fontSize=6, leading=7.5, textColor=MUTED
        ),
        "head_ja": ParagraphStyle("head_ja", parent=base, fontName=MINCHO, fontSize=6.8, leading=8.5),
        "head_en": ParagraphStyle(
            "head_en", parent=base, fontName=LATIN, fontSize=5.5, leading=6.8, textColor=MUTED
        ),
        "band": ParagraphStyle("band", parent=base, fontSize=8.5, leading=10.5),
        "title": ParagraphStyle(
            "title", parent=base, fontName=MINCHO, fontSize=17, leading=22, alignment=TA_CENTER
        ),
        "title_en": ParagraphStyle(
            "title_en", parent=base, fontName=LATIN_BOLD, fontSize=10, leading=13, alignment=TA_CENTER
        ),
        "small": ParagraphStyle("small", parent=base, fontName=MINCHO, fontSize=7.5, leading=10),
        "small_en": ParagraphStyle(
            "small_en", parent=base, fontName=LATIN, fontSize=7, leading=9, textColor=MUTED
        ),
        "body": ParagraphStyle("body", parent=base, fontName=MINCHO, fontSize=9, leading=14),
        "body_en": ParagraphStyle("body_en", parent=base, fontName=LATIN, fontSize=8.5, leading=11.5),
        "center": ParagraphStyle(
            "center", parent=base, fontName=MINCHO, fontSize=7, leading=9, alignment=TA_CENTER
        ),
    }


# --- values ----------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or value is UNSET or value == "" or value == []


def _format_period(value: str, language: str) -> str:
    try:
        years, months, days = period_of_stay_parts(value)
    except ValueError:
        return value
    if language.startswith("en"):
        parts = [
            f"{n} {unit}{'s' if n != 1 else ''}"
            for n, unit in ((years, "year"), (months, "month"), (days, "day"))
            if n
        ]
        return " ".join(parts) or value
    return "".join(f"{n}{unit}" for n, unit in ((years, "年"), (months, "月"), (days, "日")) if n) or value


class _Values:
    """How stored answers read on paper, in ``language`` (choice labels looked up once)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._labels: dict[str, dict[str, str]] = {}

    def _choice_label(self, spec: FieldSpec, code: str) -> str:
        if spec.type == "status_of_residence":
            entry = get_catalogue().entries.get(code)
            return entry.name.get(self.language) if entry else code
        if spec.id not in self._labels:
            self._labels[spec.id] = {c.code: c.label.get(self.language) for c in choices_for(spec)}
        return self._labels[spec.id].get(code, code)

    def display(self, spec: FieldSpec, value: Any) -> str:
        if _blank(value):
            return ""
        if isinstance(value, bool):
            word = YES if value else NO
            return f"{word.ja} {word.en}"
        if (
            spec.choices
            or spec.choice_source
            or spec.type in ("choice", "multi_choice", "status_of_residence")
        ):
            if isinstance(value, list):
                separator = ", " if self.language.startswith("en") else "、"
                return separator.join(self._choice_label(spec, str(v)) for v in value)
            return self._choice_label(spec, str(value))
        if spec.type == "money_yen" and isinstance(value, int):
            return f"JPY {value:,}" if self.language.startswith("en") else f"{value:,}円"
        if spec.type == "period_of_stay":
            return _format_period(str(value), self.language)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


class _Shown:
    """What the form shows, by the catalogue's own rules (``normalize_and_validate``): a field is
    a box when it is asked given the other answers — with its canonical value, or, in a draft,
    with what is stored when it is still missing or invalid. Stale answers to questions that are
    no longer asked (the user changed an earlier answer) are not printed."""

    def __init__(self, form: FormSpec, answers: dict[str, Any], today: dt.date) -> None:
        result = normalize_and_validate(form, answers, today=today)
        self.answers = answers
        self.cleaned = result.cleaned
        self.flagged = {(error.field_id, error.row) for error in result.errors}

    def field(self, spec: FieldSpec) -> tuple[bool, Any]:
        if spec.id in self.cleaned:
            return True, self.cleaned[spec.id]
        if (spec.id, None) in self.flagged:
            return True, self.answers.get(spec.id)
        return False, None

    def rows(self, section: SectionSpec) -> list[dict[str, Any]] | None:
        """The rows of a repeatable section (``None`` when the section is not asked)."""
        if section.id not in self.cleaned and (section.id, None) not in self.flagged:
            return None
        raw = [
            (number, row)
            for number, row in enumerate(self.answers.get(section.id) or [], start=1)
            if isinstance(row, dict) and not all(_blank(v) for v in row.values())
        ]
        cleaned = self.cleaned.get(section.id)
        if cleaned is None or len(cleaned) != len(raw):
            return [row for _, row in raw]
        rows = []
        for (number, raw_row), clean_row in zip(raw, cleaned, strict=True):
            rows.append(
                {
                    spec.id: clean_row.get(
                        spec.id, raw_row.get(spec.id) if (spec.id, number) in self.flagged else None
                    )
                    for spec in section.fields
                }
            )
        return rows


# --- the printed form -------------------------------------------------------------------------------


class _Numbered(Canvas):
    """A canvas that holds its pages until the end, to print "page/pages" and the number on each."""

    def __init__(self, *args: Any, footer: Callable[[Canvas, int, int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


def _nothing(canvas: Canvas, document: Any) -> None:
    return None


class _FormDocument(BaseDocTemplate):
    """Two page templates, one per part, so that each page knows whose part it belongs to."""

    def __init__(self, buffer: io.BytesIO, *, on_page: Callable[..., None] | None, **kwargs: Any) -> None:
        super().__init__(
            buffer,
            pagesize=A4,
            leftMargin=MARGIN_X,
            rightMargin=MARGIN_X,
            topMargin=MARGIN_TOP,
            bottomMargin=MARGIN_BOTTOM,
            invariant=1,
            **kwargs,
        )
        self.part_pages: dict[str, int] = {}
        frame = Frame(
            MARGIN_X, MARGIN_BOTTOM, CONTENT_WIDTH, PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM, 0, 0, 0, 0
        )
        self.addPageTemplates(
            [
                PageTemplate(
                    id=part,
                    frames=[frame],
                    onPageEnd=partial(on_page, part=part) if on_page else _nothing,
                )
                for part in PARTS
            ]
        )


def _creation_date(application: Application) -> dt.date:
    if application.receipt_date:
        return application.receipt_date
    return (application.updated_at or application.created_at).astimezone(clock.JST).date()


def _build(
    story: list[Flowable],
    *,
    application: Application,
    title: str,
    subject: str,
    on_page: Callable[..., None] | None,
    footer: Callable[[Canvas, int, int], None],
) -> bytes:
    buffer = io.BytesIO()
    day = _creation_date(application)
    document = _FormDocument(
        buffer,
        on_page=on_page,
        title=title,
        author="在留申請オンラインシステム (Zairyu)",
        subject=subject,
        creator="Zairyu",
    )

    def dated_footer(canvas: Canvas, number: int, total: int) -> None:
        if number == 1:
            canvas.setDateFormatter(lambda *_: f"D:{day:%Y%m%d}000000+09'00'")
        footer(canvas, number, total)

    document.build(story, canvasmaker=partial(_Numbered, footer=dated_footer))
    return buffer.getvalue()


def _official_title(code: str) -> Localized:
    name = get_catalogue().procedures[code].name
    return Localized(ja=f"{name.ja}書", en=f"APPLICATION FOR {name.en.upper()}")


def _reference_number(application: Application) -> tuple[Localized, str]:
    if application.receipt_number:
        return Localized(ja="受付番号", en="Receipt No."), application.receipt_number
    if application.provisional_number:
        return Localized(ja="仮受付番号", en="Provisional No."), application.provisional_number
    return Localized(ja="下書き", en="Draft"), "not submitted"


def _label_cell(number: int | None, label: Localized) -> list[Flowable]:
    styles = _styles()
    prefix = f'<font name="{LATIN_BOLD}">{number}&nbsp;&nbsp;</font>' if number is not None else ""
    return [
        Paragraph(prefix + _markup(label.ja), ParagraphStyle("l", parent=styles["label_ja"], wordWrap="CJK")),
        _para(label.en, styles["label_en"]),
    ]


def _band(title: Localized, width: float) -> Table:
    styles = _styles()
    table = Table(
        [
            [
                Paragraph(
                    f'{_markup(title.ja)}<font name="{LATIN}" size="7.5">&nbsp;&nbsp;{escape(title.en)}</font>',
                    ParagraphStyle("b", parent=styles["band"], wordWrap="CJK"),
                )
            ]
        ],
        colWidths=[width],
    )
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BAND),
                ("BOX", (0, 0), (-1, -1), 0.8, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
    )
    return table


def _titled(title: Localized, flowables: list[Flowable], *, whole: bool = False) -> list[Flowable]:
    """A section band kept on the same page as the first box under it (``whole``: as all of them,
    for the short blocks at the end)."""
    if whole:
        return [KeepTogether([_band(title, CONTENT_WIDTH), *flowables])]
    return [KeepTogether([_band(title, CONTENT_WIDTH), flowables[0]]), *flowables[1:]]


def _grid_style(extra: Iterable[tuple[Any, ...]] = ()) -> TableStyle:
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, LINE),
            ("BOX", (0, 0), (-1, -1), 0.8, LINE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 3.5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3.5),
            *extra,
        ]
    )


LABEL_WIDTH = 33 * mm
HALF_VALUE_WIDTH = CONTENT_WIDTH / 2 - LABEL_WIDTH


def _line_width(text: str, size: float) -> float:
    """The width of ``text`` set on one line in the value fonts."""
    return sum(pdfmetrics.stringWidth(run, LATIN if latin else GOTHIC, size) for latin, run in _runs(text))


def _text_width(text: str) -> float:
    return sum(2 if not _is_latin(char) else 1 for char in text)


def _item_grid(items: list[tuple[int | None, Localized, Flowable | str, bool]]) -> list[Flowable]:
    """Numbered boxes, two to a row, or one to a row when the value is long.

    ``items`` are (number, label, value, wide). A run of two-box rows is one table, a wide box a
    table of its own: reportlab wraps a spanned cell at the width of its first column."""
    styles = _styles()
    tables: list[Flowable] = []
    pairs: list[list[Any]] = []
    pending: list[Any] = []

    def cell(value: Flowable | str) -> Any:
        return _para(value, styles["value"]) if isinstance(value, str) else value

    def flush_pending() -> None:
        if pending:
            pairs.append(pending + ["", ""] if len(pending) == 2 else list(pending))
            pending.clear()

    def flush_pairs() -> None:
        flush_pending()
        if pairs:
            table = Table(
                list(pairs),
                colWidths=[LABEL_WIDTH, HALF_VALUE_WIDTH, LABEL_WIDTH, HALF_VALUE_WIDTH],
                splitInRow=1,
            )
            table.setStyle(
                _grid_style(
                    [
                        ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
                        ("BACKGROUND", (2, 0), (2, -1), LABEL_BACKGROUND),
                    ]
                )
            )
            tables.append(table)
            pairs.clear()

    for number, label, value, wide in items:
        if wide:
            flush_pairs()
            table = Table(
                [[_label_cell(number, label), cell(value)]],
                colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH],
                splitInRow=1,
            )
            table.setStyle(_grid_style([("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND)]))
            tables.append(table)
        else:
            pending.extend([_label_cell(number, label), cell(value)])
            if len(pending) == 4:
                flush_pending()
    flush_pairs()
    return tables


def _column_heading(section: SectionSpec, spec: FieldSpec) -> Localized:
    """A row field's label without the row's name ("在日親族の続柄" under "在日親族" → "続柄")."""
    ja, en = spec.label.ja, spec.label.en
    if section.row_label and ja.startswith(f"{section.row_label.ja}の"):
        ja = ja[len(section.row_label.ja) + 1 :]
    if ": " in en:
        en = en.split(": ", 1)[1]
        en = en[:1].upper() + en[1:]
    return Localized(ja=ja, en=en)


def _rows_table(number: int, section: SectionSpec, rows: list[dict[str, Any]], values: _Values) -> Table:
    """A repeatable section as a small table: one column per field, one line per row."""
    styles = _styles()
    shown = [spec for spec in section.fields if any(not _blank(row.get(spec.id)) for row in rows)]
    shown = shown or list(section.fields)
    number_width = 6 * mm
    # Columns share the width by how much they hold (a card number should not wrap).
    weights = [
        min(max([_line_width(values.display(spec, row.get(spec.id)), 7.5) for row in rows] + [40]), 130) + 6
        for spec in shown
    ]
    widths = [(CONTENT_WIDTH - LABEL_WIDTH - number_width) * w / sum(weights) for w in weights]
    header = [_label_cell(number, section.row_label or section.title), ""] + [
        [_para(heading.ja, styles["head_ja"]), _para(heading.en, styles["head_en"])]
        for heading in (_column_heading(section, spec) for spec in shown)
    ]
    body = [
        ["", Paragraph(f'<font name="{LATIN}">{n}</font>', styles["value_small"])]
        + [_para(values.display(spec, row.get(spec.id)), styles["value_small"]) for spec in shown]
        for n, row in enumerate(rows, start=1)
    ]
    if not body:
        body = [
            ["", "", _para(f"{NONE_TEXT.ja}  {NONE_TEXT.en}", styles["value_small"])]
            + [""] * (len(shown) - 1)
        ]
    table = Table(
        [header, *body],
        colWidths=[LABEL_WIDTH, number_width, *widths],
        repeatRows=1,
        splitInRow=1,
    )
    table.setStyle(
        _grid_style(
            [
                ("SPAN", (0, 0), (0, -1)),
                ("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND),
                ("BACKGROUND", (1, 0), (-1, 0), LABEL_BACKGROUND),
                ("LEFTPADDING", (1, 0), (-1, -1), 2),
                ("RIGHTPADDING", (1, 0), (-1, -1), 2),
            ]
        )
    )
    return table


NONE_TEXT = Localized(ja="なし", en="None")


class _Counter:
    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


def _section_flowables(
    section: SectionSpec, shown: _Shown, values: _Values, counter: _Counter
) -> list[Flowable]:
    if section.repeatable:
        rows = shown.rows(section)
        if rows is None:
            return []
        return _titled(section.title, [_rows_table(counter.next(), section, rows, values)])
    items: list[tuple[int | None, Localized, Flowable | str, bool]] = []
    for spec in section.fields:
        asked, value = shown.field(spec)
        if not asked:
            continue
        text = values.display(spec, value)
        wide = spec.type == "textarea" or _text_width(text) > 34 or _text_width(spec.label.en) > 70
        items.append((counter.next(), spec.label, text, wide))
    if not items:
        return []
    return _titled(section.title, _item_grid(items))


def _title_block(application: Application, form: FormSpec, photo: bool) -> list[Flowable]:
    styles = _styles()
    title = _official_title(application.procedure)
    basis_ja, basis_en = LEGAL_BASIS.get(application.procedure, ("", ""))
    name = get_catalogue().procedures[application.procedure].name
    left: list[Flowable] = [
        _para("日本国政府法務省  Ministry of Justice, Government of Japan", styles["small"]),
        Spacer(1, 5 * mm),
        Paragraph(escape(title.ja), styles["title"]),
        _para(title.en, styles["title_en"]),
        Spacer(1, 3 * mm),
    ]
    if application.add_ons:
        together = "、".join(_official_title(code).ja for code in application.add_ons)
        together_en = "; ".join(get_catalogue().procedures[code].name.en for code in application.add_ons)
        left.append(
            _para(
                f"同時に申請する手続  {together}",
                ParagraphStyle("t", parent=styles["small"], alignment=TA_CENTER),
            )
        )
        left.append(
            _para(
                f"Filed together with: {together_en}",
                ParagraphStyle("te", parent=styles["small_en"], alignment=TA_CENTER),
            )
        )
        left.append(Spacer(1, 2 * mm))
    left += [
        _para("法 務 大 臣 殿", ParagraphStyle("m", parent=styles["body"], fontSize=10.5, leading=14)),
        _para("To the Minister of Justice", styles["body_en"]),
        Spacer(1, 2 * mm),
    ]
    if basis_ja:
        left.append(
            _para(
                f"出入国管理及び難民認定法{basis_ja}の規定に基づき、次のとおり{name.ja}をします。",
                styles["small"],
            )
        )
        left.append(
            _para(
                f"Pursuant to the provisions of {basis_en} of the Immigration Control and Refugee "
                f"Recognition Act, I hereby apply for {name.en[0].lower() + name.en[1:]} as follows.",
                styles["small_en"],
            )
        )
    if photo:
        photo_text = [
            "写真",
            "Photo",
            "縦40mm×横30mm",
            "画像ファイルで提出",
            "Submitted online as an image file",
        ]
    else:
        photo_text = ["写真不要", "No photo required"]
    photo_box = Table(
        [[[_para(line, styles["center"]) for line in photo_text]]],
        colWidths=[30 * mm],
        rowHeights=[40 * mm],
    )
    photo_box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 0.6, LINE, None, (2, 2)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    block = Table([[left, photo_box]], colWidths=[CONTENT_WIDTH - 34 * mm, 34 * mm])
    block.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [block, Spacer(1, 3 * mm)]


def _closing_items(application: Application, form: FormSpec, counter: _Counter) -> list[Flowable]:
    """The receipt method, the person filing and the receipt: what the paper form asks at the end
    of the applicant's part (the agent's box) and the bureau fills in (受付欄)."""
    catalogue = get_catalogue()
    story: list[Flowable] = []
    receipt_items: list[tuple[int | None, Localized, Flowable | str, bool]] = []
    for document, method in application.receipt_methods.items():
        what = RECEIPT_DOCUMENTS.get(document, Localized(ja=document, en=document))
        how = RECEIPT_METHODS.get(method, Localized(ja=method, en=method))
        receipt_items.append(
            (
                counter.next(),
                Localized(ja=f"{what.ja}の受領方法", en=f"How the {what.en.lower()} is received"),
                f"{how.ja}  {how.en}",
                True,
            )
        )
    if form.organization_part_as_pdf:
        receipt_items.append(
            (
                None,
                Localized(ja="所属機関等作成用", en="Organization's part"),
                "所属機関等が作成したものをPDFで添付  Attached as a PDF prepared by the organization",
                True,
            )
        )
    if receipt_items:
        story += _titled(
            Localized(ja="受領方法", en="How the result is received"), _item_grid(receipt_items), whole=True
        )
    story += _sign_off()

    filer = application.filer
    category = catalogue.user_categories.get(application.user_category)
    filer_items: list[tuple[int | None, Localized, Flowable | str, bool]] = [
        (counter.next(), Localized(ja="氏名", en="Name"), filer.full_name or filer.get_username(), False),
        (counter.next(), Localized(ja="認証ID", en="Authentication ID"), filer.auth_id_display, False),
        (
            counter.next(),
            Localized(ja="利用者区分", en="User category"),
            f"{category.name.ja}  {category.name.en}" if category else application.user_category,
            True,
        ),
    ]
    story += _titled(
        Localized(ja="申請を行う者（取次者等）", en="Person filing the application (agent etc.)"),
        _item_grid(filer_items),
        whole=True,
    )

    if application.receipt_number or application.provisional_number:
        office = catalogue.offices.get(application.office)
        receipt_date = application.receipt_date.isoformat() if application.receipt_date else ""
        received: list[tuple[int | None, Localized, Flowable | str, bool]] = [
            (None, Localized(ja="受付番号", en="Receipt No."), application.receipt_number, False),
            (None, Localized(ja="受付日", en="Receipt date"), receipt_date, False),
            (None, Localized(ja="仮受付番号", en="Provisional No."), application.provisional_number, False),
            (
                None,
                Localized(ja="受付官署", en="Receiving office"),
                f"{office.name.ja}  {office.name.en}" if office else application.office,
                False,
            ),
        ]
        story += _titled(Localized(ja="受付", en="Receipt (online)"), _item_grid(received), whole=True)
    return story


def _sign_off() -> list[Flowable]:
    styles = _styles()
    return [
        Spacer(1, 2 * mm),
        _para("以上の記載内容は事実と相違ありません。", styles["small"]),
        _para("I hereby declare that the statement given above is true and correct.", styles["small_en"]),
        _para(
            "電子申請のため署名に代えて、申請を行う者の利用者認証により申請しています。",
            styles["small"],
        ),
        _para(
            "Filed online: the authentication of the person filing takes the place of a signature.",
            styles["small_en"],
        ),
        Spacer(1, 3 * mm),
    ]


def application_form_pdf(application: Application, *, language: str = "ja") -> bytes:
    """The application as the official paper form shows it: A4, bilingual labels, numbered boxes.

    The applicant's part holds the catalogue's applicant steps, then — as on the paper form,
    where the declaration and the agent's box close the applicant's part — the declarations, the
    receipt method, the person filing and the receipt; the organization's part follows on its
    own pages. ``language`` picks the language of coded answers; labels are always bilingual."""
    _register_fonts()
    form = application_form(application)
    values = _Values(language)
    shown = _Shown(form, dict(application.answers or {}), application.receipt_date or clock.today())
    title = _official_title(application.procedure)
    draft = application.state in EDITABLE_STATES
    reference_label, reference = _reference_number(application)

    story: list[Flowable] = [
        NextPageTemplate("applicant"),
        *_title_block(application, form, photo_required(application)),
    ]
    applicant = _Counter()
    for step in form.steps:
        if step.kind != "applicant":
            continue
        for section in step.sections:
            story += _section_flowables(section, shown, values, applicant)
    for step in form.steps:
        if step.kind == "confirmation":
            for section in step.sections:
                story += _section_flowables(section, shown, values, applicant)
    story += _closing_items(application, form, applicant)

    organization_steps = [step for step in form.steps if step.kind == "organization"]
    if organization_steps:
        story += [NextPageTemplate("organization"), PageBreak()]
        organization = _Counter()
        for step in organization_steps:
            story.append(_band(step.title, CONTENT_WIDTH))
            story.append(Spacer(1, 1.5 * mm))
            for section in step.sections:
                story += _section_flowables(section, shown, values, organization)

    def on_page(canvas: Canvas, document: _FormDocument, part: str) -> None:
        document.part_pages[part] = document.part_pages.get(part, 0) + 1
        canvas.saveState()
        label = PARTS[part]
        top = PAGE_HEIGHT - 10 * mm
        _draw_mixed(
            canvas,
            MARGIN_X,
            top,
            "在留申請オンラインシステム  Online Residence Application System",
            size=7,
            font=MINCHO,
        )
        text = f"{label.ja} {document.part_pages[part]}   {label.en} {document.part_pages[part]}"
        width = sum(pdfmetrics.stringWidth(run, LATIN if latin else MINCHO, 8) for latin, run in _runs(text))
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.6)
        canvas.rect(PAGE_WIDTH - MARGIN_X - width - 6, top - 3, width + 6, 12, stroke=1, fill=0)
        _draw_mixed(canvas, PAGE_WIDTH - MARGIN_X - 3, top, text, size=8, font=MINCHO, align="right")
        if draft:
            _watermark(canvas)
        canvas.restoreState()

    def footer(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        y = 9 * mm
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, y + 9, PAGE_WIDTH - MARGIN_X, y + 9)
        _draw_mixed(canvas, MARGIN_X, y, title.ja, size=7, font=MINCHO)
        canvas.setFont(LATIN, 8)
        canvas.drawCentredString(PAGE_WIDTH / 2, y, f"{number}/{total}")
        _draw_mixed(
            canvas,
            PAGE_WIDTH - MARGIN_X,
            y,
            f"{reference_label.ja} {reference_label.en} {reference}",
            size=7.5,
            align="right",
        )
        canvas.restoreState()

    return _build(
        story,
        application=application,
        title=title.ja,
        subject=f"{title.en} ({reference})",
        on_page=on_page,
        footer=footer,
    )


def _watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#c0392b"))
    canvas.setFillAlpha(0.16)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(45)
    _draw_mixed(canvas, 0, 28, "下書き", size=64, align="center")
    _draw_mixed(canvas, 0, -28, "DRAFT — not submitted", size=40, align="center")
    canvas.restoreState()


# --- the proof of pending application ----------------------------------------------------------


def _applicant_facts(application: Application) -> dict[str, str]:
    from zairyu.applications.disclosure import registry_disclosure
    from zairyu.registry.reference import nationalities

    answers = application.answers or {}
    resident = application.applicant_resident
    # The record fills what the answers lack only as the disclosure policy allows: a submitted
    # application passed the identity cross-check.
    if not registry_disclosure(
        application.filer, resident, identity_matched=bool(application.receipt_number)
    ).facts:
        resident = None
    name = str(
        answers.get("roman_name") or application.applicant_name or (resident.roman_name if resident else "")
    )
    kanji = str(answers.get("kanji_name") or (resident.kanji_name if resident else "") or "")
    code = str(answers.get("nationality") or (resident.nationality if resident else "") or "")
    nationality = nationalities().get(code)
    birth = answers.get("date_of_birth") or (resident.date_of_birth.isoformat() if resident else "")
    card = str(answers.get("card_number") or (resident.card_number if resident else "") or "")
    expiry = answers.get("current_period_expiry") or (
        resident.stay_expires_on.isoformat() if resident and resident.stay_expires_on else ""
    )
    return {
        "name": f"{name}  {kanji}".strip() if kanji else name,
        "nationality": f"{nationality.name.ja}  {nationality.name.en}" if nationality else code,
        "date_of_birth": _japanese_date(birth),
        "card_number": card,
        "period_expiry": _japanese_date(expiry),
    }


def _japanese_date(value: Any) -> str:
    if _blank(value):
        return ""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日 ({day.isoformat()})"


def pending_proof_pdf(application: Application, *, language: str = "ja") -> bytes:
    """One page the applicant carries: the application was filed online and is pending.

    Only for an application that has been received (``PROOF_STATES``); raises
    :class:`NotReceived` (a ``ValueError``) otherwise."""
    if application.state not in PROOF_STATES or not application.receipt_number:
        raise NotReceived(f"application {application.public_id} has not been received ({application.state})")
    _register_fonts()
    styles = _styles()
    catalogue = get_catalogue()
    facts = _applicant_facts(application)
    office = catalogue.offices.get(application.office)
    english_first = language.startswith("en")

    procedures = [catalogue.procedures[code] for code in (application.procedure, *application.add_ons)]
    items: list[tuple[int | None, Localized, Flowable | str, bool]] = [
        (None, Localized(ja="氏名", en="Name"), facts["name"], True),
        (None, Localized(ja="国籍・地域", en="Nationality/Region"), facts["nationality"], True),
        (None, Localized(ja="生年月日", en="Date of birth"), facts["date_of_birth"], True),
    ]
    if facts["card_number"]:
        items.append(
            (None, Localized(ja="在留カード番号", en="Residence card number"), facts["card_number"], True)
        )
    if facts["period_expiry"] and application.procedure in ("P2", "P3"):
        items.append(
            (
                None,
                Localized(ja="在留期間の満了日", en="Current period of stay ends on"),
                facts["period_expiry"],
                True,
            )
        )
    items += [
        (
            None,
            Localized(ja="申請の種類", en="Application(s)"),
            "\n".join(f"{p.name.ja}書  {p.name.en}" for p in procedures),
            True,
        ),
        (None, Localized(ja="受付番号", en="Receipt number"), application.receipt_number, True),
        (None, Localized(ja="仮受付番号", en="Provisional number"), application.provisional_number, True),
        (
            None,
            Localized(ja="受付日", en="Receipt date"),
            _japanese_date(application.receipt_date),
            True,
        ),
        (
            None,
            Localized(ja="受付官署", en="Receiving office"),
            f"{office.name.ja}\n{office.name.en}" if office else application.office,
            True,
        ),
    ]

    statement_ja = (
        "上記の申請人に係る申請は、在留申請オンラインシステムにより上記の受付日に提出され、"
        "出入国在留管理庁において上記の受付番号で受け付けられ、現在審査中です。"
    )
    statement_en = (
        "The application above was filed online through the Online Residence Application System "
        "on the receipt date shown, was received by the Immigration Services Agency of Japan under "
        "the receipt number shown, and is pending."
    )
    if application.procedure in ("P2", "P3"):
        statement_ja += (
            "在留期間の満了日までに申請した場合において、その満了日までに処分がされないときは、"
            "処分がされる時又は満了日から2か月を経過する日が終了する時のいずれか早い時まで、"
            "従前の在留資格をもって引き続き在留することができます（出入国管理及び難民認定法"
            "第20条第6項、第21条第4項：特例期間）。"
        )
        statement_en += (
            " As the application was filed before the period of stay ended, if no decision is made by "
            "the end of that period the applicant may stay with the current status of residence until "
            "the decision is made or until two months after the period ended, whichever comes first "
            "(special period, Immigration Control and Refugee Recognition Act, Articles 20(6) and 21(4))."
        )
    if application.state == ApplicationState.COMPLETE:
        statement_ja = statement_ja.replace("、現在審査中です。", "ました。この申請の処理は完了しています。")
        statement_en = statement_en.replace(
            ", and is pending.", ". Processing of this application is complete."
        )
    card_ja = (
        "オンラインによる申請では在留カードの裏面に申請中である旨の記載がされません。"
        "申請中であることを示す必要があるときは、本票を在留カード及び旅券とあわせて提示してください。"
    )
    card_en = (
        "Online applications are not noted on the back of the residence card. When asked to show that "
        "an application is pending, present this proof together with the residence card and passport."
    )
    statements: list[Flowable] = []
    pairs = [(statement_ja, statement_en), (card_ja, card_en)]
    for ja, en in pairs:
        first, second = (en, ja) if english_first else (ja, en)
        statements += [
            _para(first, styles["body_en"] if english_first else styles["body"]),
            _para(second, styles["body"] if english_first else styles["body_en"]),
            Spacer(1, 3 * mm),
        ]

    verification = Table(
        [
            [
                _para(
                    f"確認用  Verification:  受付番号 Receipt No. {application.receipt_number}  /  "
                    f"受付日 {application.receipt_date.isoformat() if application.receipt_date else ''}",
                    styles["value"],
                )
            ],
            [
                _para(
                    "この受付番号は、受付官署又は在留申請オンラインシステムの申請一覧で確認できます。  "
                    "The receiving office, or the applicant's list in the Online Residence Application "
                    "System, can confirm this receipt number.",
                    styles["value_small"],
                )
            ],
        ],
        colWidths=[CONTENT_WIDTH],
    )
    verification.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, LINE),
                ("BACKGROUND", (0, 0), (-1, 0), LABEL_BACKGROUND),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    issued = clock.today()
    story: list[Flowable] = [
        _para("日本国政府法務省 出入国在留管理庁  Immigration Services Agency of Japan", styles["small"]),
        Spacer(1, 6 * mm),
        Paragraph("申 請 受 付 票", ParagraphStyle("pt", parent=styles["title"], fontSize=20, leading=26)),
        _para("PROOF OF PENDING APPLICATION", styles["title_en"]),
        _para(
            "在留申請オンラインシステム  Online Residence Application System",
            ParagraphStyle("ps", parent=styles["small"], alignment=TA_CENTER),
        ),
        Spacer(1, 7 * mm),
        *_item_grid(items),
        Spacer(1, 6 * mm),
        *statements,
        Spacer(1, 2 * mm),
        KeepTogether([verification]),
        Spacer(1, 4 * mm),
        _para(f"作成日 Printed on {_japanese_date(issued)}", styles["small"]),
    ]

    def footer(canvas: Canvas, number: int, total: int) -> None:
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, 9 * mm + 9, PAGE_WIDTH - MARGIN_X, 9 * mm + 9)
        _draw_mixed(canvas, MARGIN_X, 9 * mm, "申請受付票  Proof of pending application", size=7, font=MINCHO)
        _draw_mixed(
            canvas,
            PAGE_WIDTH - MARGIN_X,
            9 * mm,
            f"受付番号 Receipt No. {application.receipt_number}",
            size=7.5,
            align="right",
        )
        canvas.restoreState()

    return _build(
        story,
        application=application,
        title="申請受付票 / Proof of pending application",
        subject=f"Receipt No. {application.receipt_number}",
        on_page=None,
        footer=footer,
    )
