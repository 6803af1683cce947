"""The printed application form and the proof of pending application (PDF), and their views."""

from __future__ import annotations

import io
import re

import pikepdf
import pytest
from django.db import transaction
from django.urls import path
from reportlab.pdfbase import pdfmetrics

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import EnglishClient, active_user
from zairyu.applications import pdf, receipts, services
from zairyu.applications.constants import ApplicationState
from zairyu.applications.disclosure import registry_answers
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.applications.tests.helpers import signed_in_client, today_plus
from zairyu.applications.views import pdfs as views
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import normalize_and_validate
from zairyu.config.urls import urlpatterns as project_urlpatterns
from zairyu.core import clock
from zairyu.registry.tests.factories import ResidentFactory

# The lead wires these two paths into applications/urls.py; until then the tests bring their own.
urlpatterns = [
    path(
        "applications/<uuid:public_id>/application.pdf",
        views.application_form_pdf_view,
        name="test-form-pdf",
    ),
    path("applications/<uuid:public_id>/proof.pdf", views.pending_proof_pdf_view, name="test-proof-pdf"),
    *project_urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

A4 = (595, 842)
LONG_REASON = (
    "勤務先での業務を継続するため、在留期間の更新を申請します。" * 18
    + " I continue to work as a software engineer for the same employer in Tokyo." * 6
)


# --- reading PDFs back ---------------------------------------------------------------------------


def _page_strings(page: pikepdf.Page) -> list[tuple[str, str, float]]:
    """Every string the page shows, as (text, font name, font size), in drawing order.

    reportlab writes CID (Type0) fonts as UTF-16BE and the standard fonts in WinAnsi."""
    fonts = page.Resources.get("/Font", {})
    shown = []
    font, size = None, 0.0
    for operands, operator in pikepdf.parse_content_stream(page):
        op = str(operator)
        if op == "Tf":
            font, size = fonts[operands[0]], float(operands[1])
        elif op in ("Tj", "TJ", "'", '"'):
            strings = operands[0] if op == "TJ" else [operands[-1]]
            for item in strings:
                if isinstance(item, pikepdf.String):
                    raw = bytes(item)
                    cid = font.Subtype == "/Type0"
                    text = raw.decode("utf-16-be") if cid else raw.decode("cp1252")
                    shown.append((text, str(font.BaseFont)[1:], size))
    return shown


def _pages(content: bytes) -> list[str]:
    pdf_file = pikepdf.open(io.BytesIO(content))
    return ["".join(text for text, _, _ in _page_strings(page)) for page in pdf_file.pages]


def _compact(text: str) -> str:
    """Text without white space: lines wrap wherever the box ends."""
    return re.sub(r"\s+", "", text)


def _contains(text: str, needle: str) -> bool:
    return _compact(needle) in _compact(text)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="scrivener@example.com", full_name="YAMADA HANAKO")


@pytest.fixture
def engineer():
    return ResidentFactory(
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=today_plus(60),
        card_expires_on=today_plus(60),
        nationality="VNM",
    )


FAMILY = [
    {
        "family_relation": "spouse",
        "family_name": "NGUYEN THI BINH",
        "family_date_of_birth": "1996-05-02",
        "family_nationality": "VNM",
        "family_lives_together": True,
        "family_workplace": "株式会社サンプル",
        "family_card_number": "AB12345679CD",
    }
]


@pytest.fixture
def draft(scrivener, engineer) -> Application:
    """An extension with re-entry and activity permission, every step filed through the services."""
    application = services.application_create(
        user=scrivener,
        start=services.Start(
            procedure="P3",
            status="engineer_humanities",
            add_ons=("P6", "P7"),
            card_number=engineer.card_number,
        ),
    )
    form = services.application_form(application)
    for step in form.step_ids:
        application.refresh_from_db()
        answers = sample_answers(
            form,
            today=clock.today(),
            overrides={
                **registry_answers(engineer),  # the scrivener types what the card shows
                **application.answers,
                "has_family_in_japan": True,
                "application_reason": LONG_REASON,
            },
        )
        if step == "2-2":
            answers["family_members"] = FAMILY
        result = services.application_save_step(
            application=application, user=scrivener, step=step, answers=answers
        )
        assert not result.errors, (step, [(e.field_id, str(e.message)) for e in result.errors])
    services.application_set_receipt_method(application=application, user=scrivener, method="post")
    application.refresh_from_db()
    return application


@pytest.fixture
def submitted(draft) -> Application:
    """The same application as received: numbers from the receipt-number service itself."""
    today = clock.today()
    with transaction.atomic():
        draft.office = "tokyo"
        draft.receipt_date = today
        draft.submitted_at = clock.now()
        draft.provisional_number = receipts.provisional_number(today)
        draft.receipt_number = receipts.receipt_number(
            office="tokyo", procedure=draft.procedure, group=draft.group, receipt_date=today
        )
        draft.state = ApplicationState.SUBMITTED
        draft.save()
    return draft


# --- the application form ------------------------------------------------------------------------


def test_the_form_is_a4_in_the_official_layout_and_follows_the_catalogue(submitted, scrivener, engineer):
    content = pdf.application_form_pdf(submitted)
    document = pikepdf.open(io.BytesIO(content))
    assert len(document.pages) >= 3
    for page in document.pages:
        assert [round(float(v)) for v in page.MediaBox] == [0, 0, *A4]
    pages = _pages(content)
    whole = "".join(pages)

    first = pages[0]
    for text in (
        "在留期間更新許可申請書",
        "APPLICATION FOR EXTENSION OF PERIOD OF STAY",
        "法 務 大 臣 殿",
        "To the Minister of Justice",
        "第21条第2項",
        "再入国許可申請書",
        "申請人等作成用 1",
        "For applicant, part 1",
    ):
        assert _contains(first, text), text
    assert _contains(pages[-1], "所属機関等作成用 1") and _contains(pages[-1], "For organization, part 1")
    assert not any(_contains(page, "所属機関等作成用") for page in pages[:-1])

    form = services.application_form(submitted)
    asked = normalize_and_validate(form, submitted.answers, today=clock.today()).cleaned
    for section in form.sections:
        if section.id in asked or any(f.id in asked for f in section.fields):
            assert _contains(whole, section.title.ja) and _contains(whole, section.title.en), section.id
    # Answers to a question no longer asked (not dispatched, so no dispatch destination) are kept
    # in the draft's store but are not printed.
    assert submitted.answers["is_dispatched"] is False and submitted.answers.get("dispatch_name")
    assert not _contains(whole, form.section("dispatch").title.en)
    for field_id in ("roman_name", "date_of_birth", "passport_number", "reentry_kind", "p7_kind"):
        label = form.field(field_id).label
        assert _contains(whole, label.ja) and _contains(whole, label.en), field_id
    assert _contains(whole, engineer.roman_name)
    assert _contains(whole, "ベトナム")  # a coded answer printed with its label, not its code
    assert _contains(whole, "NGUYEN THI BINH") and _contains(whole, "AB12345679CD")  # family table
    # A long answer is printed whole, across the page break (answers are set in 9 pt, the page
    # furniture is smaller).
    answers_text = "".join(
        text for page in document.pages for text, _, size in _page_strings(page) if size == 9
    )
    assert _contains(answers_text, LONG_REASON)
    assert _contains(whole, "郵送 By post")
    assert _contains(whole, "YAMADA HANAKO") and _contains(whole, scrivener.auth_id_display)
    assert _contains(whole, "弁護士・行政書士")
    assert _contains(whole, get_catalogue().offices["tokyo"].name.ja)
    for number, page in enumerate(pages, start=1):
        assert f"{number}/{len(pages)}" in page
        assert _contains(page, submitted.receipt_number)  # the footer of every page
    assert "DRAFT" not in whole and "下書き" not in whole


def test_the_form_uses_the_builtin_japanese_cid_fonts_and_searchable_latin(submitted):
    document = pikepdf.open(io.BytesIO(pdf.application_form_pdf(submitted)))
    fonts = {
        str(font.BaseFont): str(font.Subtype)
        for page in document.pages
        for font in page.Resources.Font.values()
    }
    assert fonts["/HeiseiKakuGo-W5"] == fonts["/HeiseiMin-W3"] == "/Type0"
    assert fonts["/Helvetica"] == "/Type1"
    # The ASCII part of the receipt number is set in Helvetica: plain text in the content stream.
    ascii_part = submitted.receipt_number.split("-", 1)[1]
    assert ascii_part.encode() in document.pages[0].Contents.read_bytes()


def test_no_line_is_wider_than_its_page(submitted):
    """Long answers wrap inside their boxes: no string is drawn wider than the text area."""
    document = pikepdf.open(io.BytesIO(pdf.application_form_pdf(submitted)))
    widest = max(
        pdfmetrics.stringWidth(text, font, size)
        for page in document.pages
        for text, font, size in _page_strings(page)
    )
    assert widest <= pdf.CONTENT_WIDTH


def test_a_draft_carries_the_watermark_on_every_page(draft):
    pages = _pages(pdf.application_form_pdf(draft))
    for page in pages:
        assert "下書き" in page and "DRAFT — not submitted" in page
    assert all(_contains(page, "下書き Draft not submitted") for page in pages)  # the footer
    assert not any(_contains(page, "受付番号") for page in pages)  # nothing received yet


def test_the_form_is_the_same_bytes_each_time_and_dated_by_its_receipt(submitted):
    first = pdf.application_form_pdf(submitted)
    assert pdf.application_form_pdf(submitted) == first
    document = pikepdf.open(io.BytesIO(first))
    info = document.docinfo
    assert str(info["/CreationDate"]).startswith(f"D:{submitted.receipt_date:%Y%m%d}")
    assert str(info["/Title"]) == "在留期間更新許可申請書"


def test_coded_answers_follow_the_language_asked(submitted):
    english = "".join(_pages(pdf.application_form_pdf(submitted, language="en")))
    assert _contains(english, "Viet Nam") and not _contains(english, "ベトナム")
    assert _contains(english, "在留期間更新許可申請書")  # the labels stay bilingual


# --- the proof of pending application ------------------------------------------------------------


def test_the_proof_is_one_page_with_the_receipt(submitted, engineer):
    content = pdf.pending_proof_pdf(submitted)
    document = pikepdf.open(io.BytesIO(content))
    assert len(document.pages) == 1
    assert [round(float(v)) for v in document.pages[0].MediaBox] == [0, 0, *A4]
    (text,) = _pages(content)
    for needle in (
        "申 請 受 付 票",
        "PROOF OF PENDING APPLICATION",
        engineer.roman_name,
        "ベトナム",
        "Viet Nam",
        "1995-04-01",
        engineer.card_number,
        "在留期間更新許可申請書",
        "再入国許可申請書",
        "資格外活動許可申請書",
        submitted.receipt_number,
        submitted.provisional_number,
        submitted.receipt_date.isoformat(),
        get_catalogue().offices["tokyo"].name.ja,
        get_catalogue().offices["tokyo"].name.en,
        "現在審査中です",
        "is pending",
        "特例期間",
        "special period",
        "確認用",
    ):
        assert _contains(text, needle), needle
    assert pdf.pending_proof_pdf(submitted) == content


@pytest.mark.parametrize(
    "state", [ApplicationState.DRAFT, ApplicationState.ERROR_RECEIPT, ApplicationState.WITHDRAWN]
)
def test_there_is_no_proof_of_an_application_not_received(draft, state):
    draft.state = state
    with pytest.raises(ValueError, match="has not been received"):
        pdf.pending_proof_pdf(draft)


# --- the views -----------------------------------------------------------------------------------


def test_the_filer_gets_both_pdfs_inline_and_uncached(submitted, scrivener):
    client = signed_in_client(scrivener)
    base = f"/applications/{submitted.public_id}"
    for url, prefix in ((f"{base}/application.pdf", "application"), (f"{base}/proof.pdf", "proof")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        serial = submitted.receipt_number.split("-", 1)[1]
        assert response["Content-Disposition"] == f'inline; filename="{prefix}-tokyo-{serial}.pdf"'
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_a_draft_has_a_form_but_no_proof(draft, scrivener):
    client = signed_in_client(scrivener)
    base = f"/applications/{draft.public_id}"
    response = client.get(f"{base}/application.pdf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'inline; filename="application-draft.pdf"'
    assert client.get(f"{base}/proof.pdf").status_code == 404


def test_nobody_else_gets_either_pdf(submitted):
    base = f"/applications/{submitted.public_id}"
    intruder = signed_in_client(active_user(UserKind.U4, email="other@example.com"))
    for url in (f"{base}/application.pdf", f"{base}/proof.pdf"):
        assert intruder.get(url).status_code == 404, url
        anonymous = EnglishClient().get(url)
        assert anonymous.status_code == 302 and "/accounts/" in anonymous["Location"], url
