"""The layout every PDF the system prints shares: the printed application form and the proof of
pending application (``applications.pdf``), the certificates the bureau issues (``review.pdf``).

A4 with the official form's margins; bilingual labels in bordered boxes; reportlab's built-in
Japanese CID fonts (HeiseiMin-W3 for printed labels, HeiseiKakuGo-W5 for entries) — no font file
ships with the project, a PDF viewer substitutes its own Japanese font — with every run of
Latin-1 text set in Helvetica, so names and numbers stay searchable and copyable as plain text.

Only layout lives here (fonts, text runs and wrapping, the page frame, boxes, grids, headings,
footers, fixed creation dates); what a document says is its app's business. Labels are anything
with ``ja`` and ``en`` (the catalogue's ``Localized``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, Protocol
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

MINCHO = "HeiseiMin-W3"  # the printed form's labels and titles
GOTHIC = "HeiseiKakuGo-W5"  # what was entered
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 14 * mm
MARGIN_TOP = 17 * mm
MARGIN_BOTTOM = 16 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
FOOTER_Y = 9 * mm  # the baseline of the footer text; a rule is drawn just above it

LINE = colors.HexColor("#333333")
BAND = colors.HexColor("#e4e4e4")
LABEL_BACKGROUND = colors.HexColor("#f5f5f5")
MUTED = colors.HexColor("#555555")

LABEL_WIDTH = 33 * mm
HALF_VALUE_WIDTH = CONTENT_WIDTH / 2 - LABEL_WIDTH

AGENCY = "日本国政府法務省 出入国在留管理庁  Immigration Services Agency of Japan"


class Bilingual(Protocol):
    """A label in Japanese and English (the catalogue's ``Localized`` is one)."""

    @property
    def ja(self) -> str: ...

    @property
    def en(self) -> str: ...


# One box of a grid: (item number or None, label, value, wide — a row of its own).
Item = tuple[int | None, Bilingual, Flowable | str, bool]


# --- fonts and text ------------------------------------------------------------------------------


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
    pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))


def is_latin(char: str) -> bool:
    if char in "\n\t":
        return True
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return char.isprintable()


def text_runs(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is_latin, run) pieces; a space stays in the run it is in."""
    runs: list[tuple[bool, str]] = []
    for char in text:
        latin = runs[-1][0] if char == " " and runs else is_latin(char)
        if runs and runs[-1][0] == latin:
            runs[-1] = (latin, runs[-1][1] + char)
        else:
            runs.append((latin, char))
    return runs


def markup(text: str, *, latin_font: str = LATIN) -> str:
    """Paragraph markup for mixed Japanese and Latin text: Latin runs in Helvetica."""
    parts = []
    for latin, run in text_runs(text):
        body = escape(run).replace("\n", "<br/>")
        parts.append(f'<font name="{latin_font}">{body}</font>' if latin else body)
    return "".join(parts)


def has_cjk(text: str) -> bool:
    return any(not is_latin(char) for char in text)


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of mixed text. Japanese wraps between any two characters; Latin-only text
    between words (long words are still split, so nothing overflows its box). A Latin style
    keeps its own face (bold titles)."""
    latin_font = style.fontName if style.fontName.startswith("Helvetica") else LATIN
    if has_cjk(text):
        style = ParagraphStyle(f"{style.name}-cjk", parent=style, wordWrap="CJK")
    return Paragraph(markup(text, latin_font=latin_font), style)


def draw_mixed(
    canvas: Canvas, x: float, y: float, text: str, *, size: float, font: str = GOTHIC, align: str = "left"
) -> None:
    """Draw one line of mixed text on the canvas (headers, footers, watermark)."""
    runs = [(LATIN if latin else font, run) for latin, run in text_runs(text)]
    width = sum(pdfmetrics.stringWidth(run, name, size) for name, run in runs)
    if align == "right":
        x -= width
    elif align == "center":
        x -= width / 2
    for name, run in runs:
        canvas.setFont(name, size)
        canvas.drawString(x, y, run)
        x += pdfmetrics.stringWidth(run, name, size)


def mixed_width(text: str, size: float, *, font: str = GOTHIC) -> float:
    """The width of ``text`` set on one line, its Japanese in ``font`` and its Latin in Helvetica."""
    return sum(pdfmetrics.stringWidth(run, LATIN if latin else font, size) for latin, run in text_runs(text))


def text_width(text: str) -> float:
    """A rough width in half-width characters (a Japanese character counts two)."""
    return sum(2 if not is_latin(char) else 1 for char in text)


@cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
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


def japanese_date(value: Any) -> str:
    """A date as printed: "2026年4月1日 (2026-04-01)"; a blank stays blank, a non-date as it is."""
    if value is None or value == "" or value == []:
        return ""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.year}年{day.month}月{day.day}日 ({day.isoformat()})"


# --- headings, boxes and grids -------------------------------------------------------------------


def heading(
    ja: str,
    en: str,
    note: str,
    *,
    title_size: float,
    title_leading: float,
    space_above: float,
    space_below: float,
) -> list[Flowable]:
    """A document's title block: the agency, the Japanese title, the English title, a note."""
    style = styles()
    return [
        para(AGENCY, style["small"]),
        Spacer(1, space_above),
        Paragraph(ja, ParagraphStyle("t", parent=style["title"], fontSize=title_size, leading=title_leading)),
        para(en, style["title_en"]),
        para(note, ParagraphStyle("n", parent=style["small"], alignment=TA_CENTER)),
        Spacer(1, space_below),
    ]


def statements(pairs: Iterable[tuple[str, str]], *, english_first: bool = False) -> list[Flowable]:
    """Bilingual statements: each (ja, en) pair as two paragraphs, then a small space."""
    style = styles()
    out: list[Flowable] = []
    for ja, en in pairs:
        if english_first:
            out += [para(en, style["body_en"]), para(ja, style["body"])]
        else:
            out += [para(ja, style["body"]), para(en, style["body_en"])]
        out.append(Spacer(1, 3 * mm))
    return out


def label_cell(number: int | None, label: Bilingual) -> list[Flowable]:
    """A box's label: the item number (if any) and the Japanese label, the English one under it."""
    style = styles()
    prefix = f'<font name="{LATIN_BOLD}">{number}&nbsp;&nbsp;</font>' if number is not None else ""
    return [
        Paragraph(prefix + markup(label.ja), ParagraphStyle("l", parent=style["label_ja"], wordWrap="CJK")),
        para(label.en, style["label_en"]),
    ]


def band(title: Bilingual, width: float) -> Table:
    """A section's title on a grey band."""
    style = styles()
    table = Table(
        [
            [
                Paragraph(
                    f'{markup(title.ja)}<font name="{LATIN}" size="7.5">&nbsp;&nbsp;{escape(title.en)}</font>',
                    ParagraphStyle("b", parent=style["band"], wordWrap="CJK"),
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


def titled(title: Bilingual, flowables: list[Flowable], *, whole: bool = False) -> list[Flowable]:
    """A section band kept on the same page as the first box under it (``whole``: as all of them,
    for short blocks)."""
    if whole:
        return [KeepTogether([band(title, CONTENT_WIDTH), *flowables])]
    return [KeepTogether([band(title, CONTENT_WIDTH), flowables[0]]), *flowables[1:]]


def grid_style(extra: Iterable[tuple[Any, ...]] = ()) -> TableStyle:
    """The ruled boxes of the form's grids."""
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


def item_grid(items: list[Item]) -> list[Flowable]:
    """Numbered boxes, two to a row, or one to a row when the value is long.

    ``items`` are (number, label, value, wide). A run of two-box rows is one table, a wide box a
    table of its own: reportlab wraps a spanned cell at the width of its first column."""
    style = styles()
    tables: list[Flowable] = []
    pairs: list[list[Any]] = []
    pending: list[Any] = []

    def cell(value: Flowable | str) -> Any:
        return para(value, style["value"]) if isinstance(value, str) else value

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
                grid_style(
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
                [[label_cell(number, label), cell(value)]],
                colWidths=[LABEL_WIDTH, CONTENT_WIDTH - LABEL_WIDTH],
                splitInRow=1,
            )
            table.setStyle(grid_style([("BACKGROUND", (0, 0), (0, -1), LABEL_BACKGROUND)]))
            tables.append(table)
        else:
            pending.extend([label_cell(number, label), cell(value)])
            if len(pending) == 4:
                flush_pending()
    flush_pairs()
    return tables


# --- the page ------------------------------------------------------------------------------------


def set_creation_date(canvas: Canvas, day: dt.date) -> None:
    """Date the document by ``day`` (midnight JST), not by when it was rendered: with reportlab's
    invariant mode, the same inputs give the same bytes."""
    canvas.setDateFormatter(lambda *_: f"D:{day:%Y%m%d}000000+09'00'")


def footer_rule(canvas: Canvas) -> None:
    """The thin rule above the footer line."""
    canvas.setStrokeColor(LINE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN_X, FOOTER_Y + 9, PAGE_WIDTH - MARGIN_X, FOOTER_Y + 9)


class NumberedCanvas(Canvas):
    """A canvas that holds its pages until the end, so that ``footer(canvas, number, total)`` can
    print "page/pages" on each."""

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
