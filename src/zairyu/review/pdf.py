"""The documents the bureau issues, as PDFs: the certificate of eligibility (electronic — no
photo, with its verification code and QR code — or for printing on paper) and the certificate
of authorized employment.

The layout is the one every printed document shares (``zairyu.core.pdf_layout``): A4, bilingual
labels in bordered boxes, reportlab's Japanese CID fonts. Output is deterministic for
the same inputs (reportlab's invariant mode, a creation date taken from the issue date), so the
hash of an e-COE depends only on what it says.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from zairyu.applications.models import Application
from zairyu.applications.pdf import applicant_facts
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import role_field_id
from zairyu.catalogue.loader import Localized
from zairyu.core.pdf_layout import (
    CONTENT_WIDTH,
    FOOTER_Y,
    LABEL_BACKGROUND,
    LINE,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    MINCHO,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Item,
    draw_mixed,
    footer_rule,
    heading,
    item_grid,
    japanese_date,
    para,
    register_fonts,
    set_creation_date,
    statements,
    styles,
)
from zairyu.review.models import Decision

SEX = {"male": ("男", "Male"), "female": ("女", "Female"), "M": ("男", "Male"), "F": ("女", "Female")}


def _status_name(key: str) -> str:
    entry = get_catalogue().entries.get(key)
    return f"{entry.name.ja}  {entry.name.en}" if entry else key


def _office_head(code: str) -> str:
    office = get_catalogue().offices.get(code)
    if office is None:
        return code
    return f"{office.name.ja}長\nDirector, {office.name.en}"


def _sex(application: Application) -> str:
    value = application.answers.get(role_field_id("identity.sex")) or (
        application.applicant_resident.sex if application.applicant_resident else ""
    )
    ja, en = SEX.get(str(value), ("", ""))
    return f"{ja}  {en}".strip()


def _organization(application: Application) -> str:
    if application.receiving_organization is not None:
        return application.receiving_organization.name
    for field in ("org_name", "school_name", "sup_org_name", "anchor_name", "supporter_name"):
        if application.answers.get(field):
            return str(application.answers[field])
    return ""


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _build(story: list[Flowable], *, title: str, subject: str, day: dt.date, footer: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        invariant=1,
        title=title,
        author="出入国在留管理庁 (Zairyu)",
        subject=subject,
        creator="Zairyu",
    )

    def on_page(canvas: Canvas, _document: Any) -> None:
        set_creation_date(canvas, day)
        canvas.saveState()
        footer_rule(canvas)
        draw_mixed(canvas, MARGIN_X, FOOTER_Y, footer, size=7, font=MINCHO)
        canvas.restoreState()

    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()


def _certificate_heading(ja: str, en: str, note: str) -> list[Flowable]:
    return heading(ja, en, note, title_size=19, title_leading=25, space_above=5 * mm, space_below=6 * mm)


def _boxed(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1, LINE),
                ("BACKGROUND", (0, 0), (-1, -1), LABEL_BACKGROUND),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


COE_STATEMENTS = [
    (
        "上記の外国人は、出入国管理及び難民認定法第7条第1項第2号に掲げる上陸のための条件"
        "（在留資格に係るもの）に適合していることを証明します。",
        "This certifies that the foreign national above meets the condition for landing of "
        "Article 7, Paragraph 1, Item 2 of the Immigration Control and Refugee Recognition Act "
        "as regards the status of residence shown.",
    ),
    (
        "この証明書は、交付の日から3か月以内に上陸の申請をしないときは効力を失います。"
        "査証の発給や上陸の許可を保証するものではありません。",
        "This certificate becomes void unless landing is applied for within three months of "
        "its issue. It does not guarantee that a visa will be issued or landing permitted.",
    ),
]


def coe_pdf(
    *,
    application: Application,
    decision: Decision,
    coe_number: str,
    issued_on: dt.date,
    valid_until: dt.date,
    verification: tuple[str, str] | None = None,
    photo: bytes | None = None,
) -> bytes:
    """A certificate of eligibility. ``verification`` = (code, URL) makes the electronic one
    (no photo, a verification box with the QR code); without it, the one printed on paper,
    with the face photo when there is one."""
    register_fonts()
    style = styles()
    electronic = verification is not None
    story: list[Flowable] = _certificate_heading(
        "在留資格認定証明書",
        "CERTIFICATE OF ELIGIBILITY",
        "電子交付（写真なし）  Issued electronically (without photo)"
        if electronic
        else "紙交付用  For printing on paper",
    )
    if not electronic:
        story += [_photo_box(photo), Spacer(1, 3 * mm)]
    story += item_grid(
        _coe_items(application, decision, coe_number=coe_number, issued_on=issued_on, valid_until=valid_until)
    )
    story += [Spacer(1, 5 * mm), *statements(COE_STATEMENTS), Spacer(1, 2 * mm)]
    story.append(para(_office_head(application.office), style["body"]))
    story.append(Spacer(1, 6 * mm))
    if verification is not None:
        story.append(KeepTogether([_verification_box(*verification)]))
    return _build(
        story,
        title="在留資格認定証明書 / Certificate of Eligibility",
        subject=f"COE No. {coe_number}",
        day=issued_on,
        footer=f"在留資格認定証明書  Certificate of Eligibility  No. {coe_number}",
    )


def _coe_items(
    application: Application, decision: Decision, *, coe_number: str, issued_on: dt.date, valid_until: dt.date
) -> list[Item]:
    """The boxes of a COE: the number, who, the status of residence, the dates."""
    facts = applicant_facts(application)
    passport = str(application.answers.get(role_field_id("applicant.passport_number")) or "")
    items: list[Item] = [
        (None, Localized(ja="番号", en="Certificate No."), coe_number, True),
        (None, Localized(ja="氏名", en="Name"), facts["name"], True),
        (None, Localized(ja="国籍・地域", en="Nationality/Region"), facts["nationality"], False),
        (None, Localized(ja="生年月日", en="Date of birth"), facts["date_of_birth"], False),
        (None, Localized(ja="性別", en="Sex"), _sex(application), False),
        (None, Localized(ja="旅券番号", en="Passport No."), passport, False),
        (None, Localized(ja="在留資格", en="Status of residence"), _status_name(decision.status), True),
    ]
    organization = _organization(application)
    if organization:
        items.append((None, Localized(ja="所属機関等", en="Organization"), organization, True))
    items += [
        (None, Localized(ja="交付年月日", en="Date of issue"), japanese_date(issued_on), False),
        (None, Localized(ja="有効期限", en="Valid until"), japanese_date(valid_until), False),
    ]
    return items


def _photo_box(photo: bytes | None) -> Table:
    """The face photo of a paper COE (or the empty frame for it), at the right."""
    photo_cell: Flowable | str = (
        Image(io.BytesIO(photo), width=30 * mm, height=40 * mm) if photo else "写真 Photo\n40 mm × 30 mm"
    )
    photo_box = Table(
        [[photo_cell]],
        colWidths=[32 * mm],
        rowHeights=[42 * mm],
        style=[("BOX", (0, 0), (-1, -1), 0.8, LINE)],
    )
    photo_box.hAlign = "RIGHT"
    return photo_box


def _verification_box(code: str, url: str) -> Table:
    """The e-COE's verification box: the QR code of ``url``, the code, what anyone can check."""
    style = styles()
    text = [
        para("真正性の確認  Verification", style["value"]),
        para(f"確認コード Verification code:  {code}", style["value"]),
        para(url, style["value_small"]),
        para(
            "このPDFが本物で改変されていないことは、上記のページでこのPDFを照合して確認できます"
            "（航空会社・在外公館の方もご利用いただけます）。  Anyone — an airline, an embassy — can "
            "check on that page that this PDF is genuine and unchanged by giving it the PDF.",
            style["value_small"],
        ),
    ]
    return _boxed([[_qr(url, 30 * mm), text]], [34 * mm, CONTENT_WIDTH - 34 * mm])


def employment_certificate_pdf(
    *, application: Application, decision: Decision, certificate_number: str, issued_on: dt.date
) -> bytes:
    """The certificate of authorized employment (就労資格証明書)."""
    register_fonts()
    style = styles()
    facts = applicant_facts(application)
    resident = application.applicant_resident
    status = resident.status if resident is not None else application.status
    answers = application.answers
    activity = str(
        answers.get(role_field_id("applicant.activity"))
        or answers.get(role_field_id("applicant.occupation"))
        or ""
    )
    items: list[Item] = [
        (None, Localized(ja="番号", en="Certificate No."), certificate_number, True),
        (None, Localized(ja="氏名", en="Name"), facts["name"], True),
        (None, Localized(ja="国籍・地域", en="Nationality/Region"), facts["nationality"], False),
        (None, Localized(ja="生年月日", en="Date of birth"), facts["date_of_birth"], False),
        (None, Localized(ja="在留カード番号", en="Residence card No."), facts["card_number"], False),
        (None, Localized(ja="在留期間の満了日", en="Period of stay ends on"), facts["period_expiry"], False),
        (None, Localized(ja="在留資格", en="Status of residence"), _status_name(status), True),
    ]
    if activity:
        items.append((None, Localized(ja="就労できる活動", en="Activities authorized"), activity, True))
    items.append((None, Localized(ja="交付年月日", en="Date of issue"), japanese_date(issued_on), True))
    story: list[Flowable] = _certificate_heading(
        "就 労 資 格 証 明 書", "CERTIFICATE OF AUTHORIZED EMPLOYMENT", ""
    )
    story += item_grid(items)
    story += [
        Spacer(1, 5 * mm),
        *statements(
            [
                (
                    "上記の者が、出入国管理及び難民認定法第19条の2第1項の規定に基づき、上記の収入を伴う"
                    "事業を運営する活動又は報酬を受ける活動を行うことができることを証明します。",
                    "This certifies, under Article 19-2, Paragraph 1 of the Immigration Control and "
                    "Refugee Recognition Act, that the person above may engage in the activities shown.",
                )
            ]
        ),
        para(_office_head(application.office), style["body"]),
    ]
    return _build(
        story,
        title="就労資格証明書 / Certificate of authorized employment",
        subject=f"No. {certificate_number}",
        day=issued_on,
        footer=f"就労資格証明書  Certificate of authorized employment  No. {certificate_number}",
    )
