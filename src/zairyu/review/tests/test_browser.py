"""Browser journeys of the officers' portal (Playwright on Debian's Chromium), desktop and phone:
an officer of the Tokyo office takes up a scrivener's extension, asks for a document, the
scrivener uploads it, the officer permits, the card is posted, the scrivener sees complete; a
COE filed for receipt by e-mail becomes an e-COE that the public page confirms, and a tampered
copy fails there."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from playwright.sync_api import expect

from zairyu.accounts.tests.conftest import PASSWORD
from zairyu.applications.tests.test_browser import _card_session
from zairyu.core import clock
from zairyu.documents.services import document_open
from zairyu.documents.tests.factories import pdf_bytes
from zairyu.registry.models import Resident
from zairyu.review import services
from zairyu.review.models import EcoeRecord
from zairyu.review.tests.factories import filer, officer, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_sign_in(page, site: str, user) -> None:
    """The officers' own sign-in: ID, password, then the authenticator code."""
    page.goto(f"{site}/staff/sign-in/")
    page.fill("#id_auth_id", user.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/sign-in/code/$"))
    page.fill("#id_code", pyotp.TOTP(user.totp_secret).at(clock.now().timestamp()))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/$"))


def test_an_officer_takes_an_extension_to_a_card_posted_and_the_scrivener_sees_each_step(
    page, live_server, chromium
):
    site = live_server.url
    scrivener = filer(email="scrivener@example.com")
    application = submitted(procedure="P3", add_ons=("P6", "P7"), by=scrivener, method="post")
    old_card = application.applicant_resident.card_number
    desk = officer("tokyo", totp_secret=pyotp.random_base32(), totp_confirmed_at=clock.now())
    staff_sign_in(page, site, desk)

    # The officer home counts it; the queue lists it; the officer takes it up.
    expect(page.locator("[data-application-queue]")).to_contain_text("1 submitted application to take up")
    page.click("[data-queue-link=applications]")
    page.click(f"[data-open='{application.pk}']")
    page.click("[data-action=take-up]")
    expect(page.locator("[data-message=success]")).to_be_visible()
    expect(page.locator("#status [data-state]")).to_have_attribute("data-state", "under_review")

    # Ask for a document.
    page.fill("#id_message", "Please add last year's tax certificate.")
    page.fill("#id_deadline", (clock.today() + dt.timedelta(days=10)).isoformat())
    page.click("[data-action=request-documents]")
    expect(page.locator("[data-waiting-documents]")).to_be_visible()

    # The scrivener sees the request, and answers it online.
    other = chromium.new_context(viewport=page.viewport_size, locale="en-US")
    other.add_cookies([{"name": "zairyu_session", "value": _card_session(scrivener), "url": site}])
    mine = other.new_page()
    mine.goto(f"{site}/applications/{application.public_id}/")
    expect(mine.locator("#status [data-state]")).to_have_attribute("data-state", "under_review")
    expect(mine.locator("[data-document-request]")).to_contain_text("last year's tax certificate")
    mine.click("[data-action=answer-request]")
    form = mine.locator("form:has(input[name=action][value=document])")
    form.locator("select[name=document_type]").select_option("tax_certificate")
    form.locator("input[type=file]").set_input_files(
        {"name": "tax-2025.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    form.locator("input[name=declared]").check()
    form.locator("button[type=submit]").click()
    expect(mine.locator("[data-message=success]")).to_be_visible()
    expect(mine.locator("[data-document-request]")).to_have_count(0)

    # The officer sees it, permits (re-entry too, activity denied), and the card goes by post.
    page.reload()
    expect(page.locator("[data-waiting-documents]")).to_have_count(0)
    expect(page.locator("#attachments")).to_contain_text("tax-2025.pdf")
    page.check("input[name=outcome][value=permit]")
    page.fill("#id_period_of_stay", "3Y")
    page.fill("#id_stay_expires_on", (clock.today() + dt.timedelta(days=3 * 365)).isoformat())
    page.check("input[name=P6_outcome][value=permit]")
    page.check("input[name=P7_outcome][value=deny]")
    page.fill("#id_P7_reason", "Full-time work is not a side activity.")
    page.click("[data-action=decide]")
    expect(page.locator("[data-message=success]")).to_contain_text("Permitted")
    expect(page.locator("#status [data-state]")).to_have_attribute("data-state", "awaiting_issue")

    mine.reload()
    expect(mine.locator("#status [data-state]")).to_have_attribute("data-state", "awaiting_issue")
    expect(mine.locator("[data-result=permit]")).to_contain_text("current residence card")

    page.check("#id_envelope")
    page.check("#id_fee_form")
    page.check("#id_card")
    page.click("[data-action=record-items]")
    page.fill("#id_tracking_number", "JP-REG-0042")
    page.click("[data-action=issue-post]")
    expect(page.locator("[data-message=success]")).to_be_visible()
    expect(page.locator("#status [data-state]")).to_have_attribute("data-state", "complete")
    new_card = page.get_attribute("[data-new-card]", "data-new-card")
    assert new_card and new_card != old_card
    assert Resident.objects.get(pk=application.applicant_resident_id).card_number == new_card

    mine.reload()
    expect(mine.locator("#status [data-state]")).to_have_attribute("data-state", "complete")
    expect(mine.locator("[data-tracking]")).to_have_text("JP-REG-0042")
    other.close()


def test_a_coe_by_email_is_confirmed_on_the_public_page_and_a_tampered_copy_fails(
    page, live_server, tmp_path
):
    site = live_server.url
    application = submitted(procedure="P1", method="email")
    desk = officer("tokyo")
    page.context.add_cookies([{"name": "zairyu_session", "value": _card_session(desk), "url": site}])
    page.goto(f"{site}/staff/review/applications/{application.pk}/")
    page.click("[data-action=take-up]")
    page.check("input[name=outcome][value=permit]")
    page.click("[data-action=decide]")
    expect(page.locator("[data-message=success]")).to_contain_text("electronic certificate")
    expect(page.locator("#status [data-state]")).to_have_attribute("data-state", "complete")
    record = EcoeRecord.objects.get()
    with document_open(record.issue.document) as handle:
        genuine = handle.read()
    tampered = bytearray(genuine)
    tampered[len(tampered) // 3] ^= 0x20
    (tmp_path / "coe.pdf").write_bytes(genuine)
    (tmp_path / "coe-edited.pdf").write_bytes(bytes(tampered))

    # An airline clerk, not signed in, types the code printed on the certificate.
    public = page.context.browser.new_context(viewport=page.viewport_size, locale="en-US")
    clerk = public.new_page()
    clerk.goto(f"{site}/public/ecoe/")
    clerk.fill("#id_code", services.display_code(record.code).lower())
    clerk.click("[data-action=lookup]")
    expect(clerk.locator("[data-record]")).to_have_attribute("data-record", "valid")
    expect(clerk.locator("[data-coe-number]")).to_have_text(record.coe_number)
    clerk.set_input_files("#id_file", str(tmp_path / "coe.pdf"))
    clerk.click("[data-action=verify]")
    expect(clerk.locator("[data-verdict]")).to_have_attribute("data-verdict", "genuine")
    clerk.set_input_files("#id_file", str(tmp_path / "coe-edited.pdf"))
    clerk.click("[data-action=verify]")
    expect(clerk.locator("[data-verdict]")).to_have_attribute("data-verdict", "changed")
    public.close()
