"""The application as a printed form (申請書) and the proof of pending application (申請受付票).

Both are derived, never re-typed: the form walks the form catalogue (``FormSpec``: steps →
sections → fields, with their Japanese and English labels) over the stored answers, in the
layout of the official paper form — A4, a title block, numbered items in bordered boxes with
bilingual labels, the applicant's part ("申請人等作成用 1, 2 …") and then the organization's
part ("所属機関等作成用 1, 2 …"), and a footer with the page and the receipt number.

The layout — fonts, page frame, boxes, grids — is the one every printed document shares
(``zairyu.core.pdf_layout``).

Output is deterministic for the same application: reportlab's invariant mode, and a creation date
taken from the receipt date (a draft: the date it was last saved).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
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
    role_field_id,
)
from zairyu.catalogue.loader import Localized
from zairyu.catalogue.validators import period_of_stay_parts
from zairyu.core import clock
from zairyu.core.pdf_layout import (
    CONTENT_WIDTH,
    FOOTER_Y,
    LABEL_BACKGROUND,
    LABEL_WIDTH,
    LATIN,
    LINE,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MINCHO,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Item,
    NumberedCanvas,
    band,
    draw_mixed,
    footer_rule,
    grid_style,
    heading,
    item_grid,
    japanese_date,
    label_cell,
    mixed_width,
    para,
    register_fonts,
    set_creation_date,
    statements,
    styles,
    text_width,
    titled,
)

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
            set_creation_date(canvas, day)
        footer(canvas, number, total)

    document.build(story, canvasmaker=partial(NumberedCanvas, footer=dated_footer))
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
    style = styles()
    shown = [spec for spec in section.fields if any(not _blank(row.get(spec.id)) for row in rows)]
    shown = shown or list(section.fields)
    number_width = 6 * mm
    # Columns share the width by how much they hold (a card number should not wrap).
    weights = [
        min(max([mixed_width(values.display(spec, row.get(spec.id)), 7.5) for row in rows] + [40]), 130) + 6
        for spec in shown
    ]
    widths = [(CONTENT_WIDTH - LABEL_WIDTH - number_width) * w / sum(weights) for w in weights]
    header = [label_cell(number, section.row_label or section.title), ""] + [
        [para(heading.ja, style["head_ja"]), para(heading.en, style["head_en"])]
        for heading in (_column_heading(section, spec) for spec in shown)
    ]
    body = [
        ["", Paragraph(f'<font name="{LATIN}">{n}</font>', style["value_small"])]
        + [para(values.display(spec, row.get(spec.id)), style["value_small"]) for spec in shown]
        for n, row in enumerate(rows, start=1)
    ]
    if not body:
        body = [
            ["", "", para(f"{NONE_TEXT.ja}  {NONE_TEXT.en}", style["value_small"])] + [""] * (len(shown) - 1)
        ]
    table = Table(
        [header, *body],
        colWidths=[LABEL_WIDTH, number_width, *widths],
        repeatRows=1,
        splitInRow=1,
    )
    table.setStyle(
        grid_style(
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
        return titled(section.title, [_rows_table(counter.next(), section, rows, values)])
    items: list[Item] = []
    for spec in section.fields:
        asked, value = shown.field(spec)
        if not asked:
            continue
        text = values.display(spec, value)
        wide = spec.type == "textarea" or text_width(text) > 34 or text_width(spec.label.en) > 70
        items.append((counter.next(), spec.label, text, wide))
    if not items:
        return []
    return titled(section.title, item_grid(items))


def _photo_box(photo: bool) -> Table:
    """The dashed box where the paper form takes the photo (or says none is needed)."""
    style = styles()
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
        [[[para(line, style["center"]) for line in photo_text]]],
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
    return photo_box


def _title_block(application: Application, form: FormSpec, photo: bool) -> list[Flowable]:
    style = styles()
    title = _official_title(application.procedure)
    basis_ja, basis_en = LEGAL_BASIS.get(application.procedure, ("", ""))
    name = get_catalogue().procedures[application.procedure].name
    left: list[Flowable] = [
        para("日本国政府法務省  Ministry of Justice, Government of Japan", style["small"]),
        Spacer(1, 5 * mm),
        Paragraph(escape(title.ja), style["title"]),
        para(title.en, style["title_en"]),
        Spacer(1, 3 * mm),
    ]
    if application.add_ons:
        together = "、".join(_official_title(code).ja for code in application.add_ons)
        together_en = "; ".join(get_catalogue().procedures[code].name.en for code in application.add_ons)
        left.append(
            para(
                f"同時に申請する手続  {together}",
                ParagraphStyle("t", parent=style["small"], alignment=TA_CENTER),
            )
        )
        left.append(
            para(
                f"Filed together with: {together_en}",
                ParagraphStyle("te", parent=style["small_en"], alignment=TA_CENTER),
            )
        )
        left.append(Spacer(1, 2 * mm))
    left += [
        para("法 務 大 臣 殿", ParagraphStyle("m", parent=style["body"], fontSize=10.5, leading=14)),
        para("To the Minister of Justice", style["body_en"]),
        Spacer(1, 2 * mm),
    ]
    if basis_ja:
        left.append(
            para(
                f"出入国管理及び難民認定法{basis_ja}の規定に基づき、次のとおり{name.ja}をします。",
                style["small"],
            )
        )
        left.append(
            para(
                f"Pursuant to the provisions of {basis_en} of the Immigration Control and Refugee "
                f"Recognition Act, I hereby apply for {name.en[0].lower() + name.en[1:]} as follows.",
                style["small_en"],
            )
        )
    photo_box = _photo_box(photo)
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
    receipt_items: list[Item] = []
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
        story += titled(
            Localized(ja="受領方法", en="How the result is received"), item_grid(receipt_items), whole=True
        )
    story += _sign_off()

    filer = application.filer
    category = catalogue.user_categories.get(application.user_category)
    filer_items: list[Item] = [
        (counter.next(), Localized(ja="氏名", en="Name"), filer.full_name or filer.get_username(), False),
        (counter.next(), Localized(ja="認証ID", en="Authentication ID"), filer.auth_id_display, False),
        (
            counter.next(),
            Localized(ja="利用者区分", en="User category"),
            f"{category.name.ja}  {category.name.en}" if category else application.user_category,
            True,
        ),
    ]
    story += titled(
        Localized(ja="申請を行う者（取次者等）", en="Person filing the application (agent etc.)"),
        item_grid(filer_items),
        whole=True,
    )

    if application.receipt_number or application.provisional_number:
        office = catalogue.offices.get(application.office)
        receipt_date = application.receipt_date.isoformat() if application.receipt_date else ""
        received: list[Item] = [
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
        story += titled(Localized(ja="受付", en="Receipt (online)"), item_grid(received), whole=True)
    return story


def _sign_off() -> list[Flowable]:
    style = styles()
    return [
        Spacer(1, 2 * mm),
        para("以上の記載内容は事実と相違ありません。", style["small"]),
        para("I hereby declare that the statement given above is true and correct.", style["small_en"]),
        para(
            "電子申請のため署名に代えて、申請を行う者の利用者認証により申請しています。",
            style["small"],
        ),
        para(
            "Filed online: the authentication of the person filing takes the place of a signature.",
            style["small_en"],
        ),
        Spacer(1, 3 * mm),
    ]


def application_form_pdf(application: Application, *, language: str = "ja") -> bytes:
    """The application as the official paper form shows it: A4, bilingual labels, numbered boxes.

    The applicant's part holds the catalogue's applicant steps, then — as on the paper form,
    where the declaration and the agent's box close the applicant's part — the declarations, the
    receipt method, the person filing and the receipt; the organization's part follows on its
    own pages. ``language`` picks the language of coded answers; labels are always bilingual."""
    register_fonts()
    form = application_form(application)
    values = _Values(language)
    shown = _Shown(form, dict(application.answers or {}), application.receipt_date or clock.today())
    title = _official_title(application.procedure)
    reference_label, reference = _reference_number(application)
    return _build(
        _form_story(application, form, shown, values),
        application=application,
        title=title.ja,
        subject=f"{title.en} ({reference})",
        on_page=partial(_form_header, draft=application.state in EDITABLE_STATES),
        footer=partial(
            _form_footer, title=title, reference=f"{reference_label.ja} {reference_label.en} {reference}"
        ),
    )


def _form_story(application: Application, form: FormSpec, shown: _Shown, values: _Values) -> list[Flowable]:
    """The form's content: the title block, the applicant's part, the organization's part."""
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
            story.append(band(step.title, CONTENT_WIDTH))
            story.append(Spacer(1, 1.5 * mm))
            for section in step.sections:
                story += _section_flowables(section, shown, values, organization)
    return story


def _form_header(canvas: Canvas, document: _FormDocument, *, part: str, draft: bool) -> None:
    """The top of each page of the form: the system's name and whose part the page belongs to
    (with the draft watermark while the application is still a draft)."""
    document.part_pages[part] = document.part_pages.get(part, 0) + 1
    canvas.saveState()
    label = PARTS[part]
    top = PAGE_HEIGHT - 10 * mm
    draw_mixed(
        canvas,
        MARGIN_X,
        top,
        "在留申請オンラインシステム  Online Residence Application System",
        size=7,
        font=MINCHO,
    )
    text = f"{label.ja} {document.part_pages[part]}   {label.en} {document.part_pages[part]}"
    width = mixed_width(text, 8, font=MINCHO)
    canvas.setStrokeColor(LINE)
    canvas.setLineWidth(0.6)
    canvas.rect(PAGE_WIDTH - MARGIN_X - width - 6, top - 3, width + 6, 12, stroke=1, fill=0)
    draw_mixed(canvas, PAGE_WIDTH - MARGIN_X - 3, top, text, size=8, font=MINCHO, align="right")
    if draft:
        _watermark(canvas)
    canvas.restoreState()


def _form_footer(canvas: Canvas, number: int, total: int, *, title: Localized, reference: str) -> None:
    """The bottom of each page of the form: its title, "page/pages" and the reference number."""
    canvas.saveState()
    footer_rule(canvas)
    draw_mixed(canvas, MARGIN_X, FOOTER_Y, title.ja, size=7, font=MINCHO)
    canvas.setFont(LATIN, 8)
    canvas.drawCentredString(PAGE_WIDTH / 2, FOOTER_Y, f"{number}/{total}")
    draw_mixed(canvas, PAGE_WIDTH - MARGIN_X, FOOTER_Y, reference, size=7.5, align="right")
    canvas.restoreState()


def _watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(colors.HexColor("#c0392b"))
    canvas.setFillAlpha(0.16)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(45)
    draw_mixed(canvas, 0, 28, "下書き", size=64, align="center")
    draw_mixed(canvas, 0, -28, "DRAFT — not submitted", size=40, align="center")
    canvas.restoreState()


# --- the proof of pending application ----------------------------------------------------------


def applicant_facts(application: Application) -> dict[str, str]:
    """Who the applicant is, as the proof and the certificates (``review.pdf``) print it: name,
    nationality, date of birth, residence card number, end of the period of stay."""
    from zairyu.applications.disclosure import registry_disclosure
    from zairyu.catalogue.reference import nationalities

    answers = application.answers or {}
    resident = application.applicant_resident
    # The record fills what the answers lack only as the disclosure policy allows: a submitted
    # application passed the identity cross-check.
    if not registry_disclosure(
        application.filer, resident, identity_matched=bool(application.receipt_number)
    ).facts:
        resident = None

    def answer(role: str) -> Any:
        return answers.get(role_field_id(role))

    name = str(
        answer("identity.roman_name")
        or application.applicant_name
        or (resident.roman_name if resident else "")
    )
    kanji = str(answer("applicant.kanji_name") or (resident.kanji_name if resident else "") or "")
    code = str(answer("identity.nationality") or (resident.nationality if resident else "") or "")
    nationality = nationalities().get(code)
    birth = answer("identity.date_of_birth") or (resident.date_of_birth.isoformat() if resident else "")
    card = str(answer("identity.card_number") or (resident.card_number if resident else "") or "")
    expiry = answer("stay.expires_on") or (
        resident.stay_expires_on.isoformat() if resident and resident.stay_expires_on else ""
    )
    return {
        "name": f"{name}  {kanji}".strip() if kanji else name,
        "nationality": f"{nationality.name.ja}  {nationality.name.en}" if nationality else code,
        "date_of_birth": japanese_date(birth),
        "card_number": card,
        "period_expiry": japanese_date(expiry),
    }


def pending_proof_pdf(application: Application, *, language: str = "ja") -> bytes:
    """One page the applicant carries: the application was filed online and is pending.

    Only for an application that has been received (``PROOF_STATES``); raises
    :class:`NotReceived` (a ``ValueError``) otherwise."""
    if application.state not in PROOF_STATES or not application.receipt_number:
        raise NotReceived(f"application {application.public_id} has not been received ({application.state})")
    register_fonts()
    style = styles()
    story: list[Flowable] = [
        *heading(
            "申 請 受 付 票",
            "PROOF OF PENDING APPLICATION",
            "在留申請オンラインシステム  Online Residence Application System",
            title_size=20,
            title_leading=26,
            space_above=6 * mm,
            space_below=7 * mm,
        ),
        *item_grid(_proof_items(application)),
        Spacer(1, 6 * mm),
        *statements(_proof_statements(application), english_first=language.startswith("en")),
        Spacer(1, 2 * mm),
        KeepTogether([_proof_verification(application)]),
        Spacer(1, 4 * mm),
        para(f"作成日 Printed on {japanese_date(clock.today())}", style["small"]),
    ]
    return _build(
        story,
        application=application,
        title="申請受付票 / Proof of pending application",
        subject=f"Receipt No. {application.receipt_number}",
        on_page=None,
        footer=partial(_proof_footer, receipt_number=application.receipt_number),
    )


def _proof_items(application: Application) -> list[Item]:
    """The boxes of the proof: who applied, for what, and how it was received."""
    catalogue = get_catalogue()
    facts = applicant_facts(application)
    office = catalogue.offices.get(application.office)
    procedures = [catalogue.procedures[code] for code in (application.procedure, *application.add_ons)]
    items: list[Item] = [
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
            japanese_date(application.receipt_date),
            True,
        ),
        (
            None,
            Localized(ja="受付官署", en="Receiving office"),
            f"{office.name.ja}\n{office.name.en}" if office else application.office,
            True,
        ),
    ]
    return items


def _proof_statements(application: Application) -> list[tuple[str, str]]:
    """What the proof states, (ja, en): the application is pending (with the special period for
    an extension or a change), and how to show it with the residence card."""
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
    return [(statement_ja, statement_en), (card_ja, card_en)]


def _proof_verification(application: Application) -> Table:
    """The box with the receipt number and date, and where they can be confirmed."""
    style = styles()
    verification = Table(
        [
            [
                para(
                    f"確認用  Verification:  受付番号 Receipt No. {application.receipt_number}  /  "
                    f"受付日 {application.receipt_date.isoformat() if application.receipt_date else ''}",
                    style["value"],
                )
            ],
            [
                para(
                    "この受付番号は、受付官署又は在留申請オンラインシステムの申請一覧で確認できます。  "
                    "The receiving office, or the applicant's list in the Online Residence Application "
                    "System, can confirm this receipt number.",
                    style["value_small"],
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
    return verification


def _proof_footer(canvas: Canvas, number: int, total: int, *, receipt_number: str) -> None:
    """The bottom of the proof: its name and the receipt number."""
    canvas.saveState()
    footer_rule(canvas)
    draw_mixed(canvas, MARGIN_X, FOOTER_Y, "申請受付票  Proof of pending application", size=7, font=MINCHO)
    draw_mixed(
        canvas,
        PAGE_WIDTH - MARGIN_X,
        FOOTER_Y,
        f"受付番号 Receipt No. {receipt_number}",
        size=7.5,
        align="right",
    )
    canvas.restoreState()
