"""Browser journeys of the applicant's side (Playwright on Debian's Chromium), desktop and phone:
a scrivener files an extension with re-entry and activity permission, three PDFs and a photo;
a self-applicant changes status from Student, saves half-way, signs out, resumes in another
browser and submits."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import PASSWORD, active_user
from zairyu.applications.disclosure import registry_answers
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.applications.services import application_form
from zairyu.core import clock
from zairyu.documents.tests.factories import jpeg_bytes, pdf_bytes
from zairyu.registry.tests.factories import ResidentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_step(page, application, step: str, *, stop_after: int | None = None) -> None:
    """Type the step's answers as a person would: text, selects, yes/no radios, checkboxes."""
    application.refresh_from_db()
    form = application_form(application)
    saved = {k: v for k, v in application.answers.items() if v not in (None, "", [])}
    # The person holds the applicant's card: what the registry did not fill in, they type from it.
    card = registry_answers(application.applicant_resident) if application.applicant_resident else {}
    answers = sample_answers(form, today=clock.today(), overrides={**card, **saved})
    typed = 0
    for section in form.step(step).sections:
        if section.repeatable:
            continue
        for spec in section.fields:
            if spec.fixed_value is not None or answers.get(spec.id) in (None, ""):
                continue
            if stop_after is not None and typed >= stop_after:
                return
            value = answers[spec.id]
            selector = f"#id_{spec.id}"
            if spec.type == "boolean" and spec.must_be:
                if value:
                    page.check(selector)
            elif spec.type == "boolean":
                page.check(f"input[name={spec.id}][value={'true' if value else 'false'}]")
            elif spec.type == "multi_choice":
                for code in value:
                    page.check(f"input[name={spec.id}][value='{code}']")
            elif page.locator(f"select{selector}").count():
                page.select_option(selector, str(value))
            else:
                page.fill(selector, str(value))
            typed += 1


def upload(page, *, kind: str, name: str, data: bytes, mime: str, document_type: str | None = None):
    form = page.locator(f"form:has(input[name=upload][value={kind}])")
    if document_type:
        form.locator("select[name=document_type]").select_option(document_type)
    form.locator("input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    if kind == "photo":
        form.locator("input[name=taken_within_6_months]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-message=success]")).to_be_visible()


def go_through_steps(page, application):
    for step in application_form(application).step_ids:
        try:
            page.wait_for_url(re.compile(rf"/step/{step}/$"), timeout=10_000)
        except Exception:
            raise AssertionError(
                f"not on step {step}: {page.url}\n{page.inner_text('main')[:1500]}"
            ) from None
        fill_step(page, application, step)
        page.click("button[name=next]")


def test_a_scrivener_files_an_extension_with_p6_p7_three_pdfs_and_a_photo(page, live_server):
    site = live_server.url
    resident = ResidentFactory(
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=60),
        card_expires_on=clock.today() + dt.timedelta(days=60),
        prefecture="13",
        municipality="新宿区",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )
    scrivener = active_user(UserKind.U4)
    from zairyu.accounts.models import User

    User.objects.filter(pk=scrivener.pk).update(totp_secret="", totp_confirmed_at=None)
    import pyotp

    page.goto(f"{site}/accounts/sign-in/")
    page.fill("#id_auth_id", scrivener.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))
    secret = page.get_attribute("[data-totp-secret]", "data-totp-secret")
    page.fill("#id_code", pyotp.TOTP(secret).at(clock.now().timestamp()))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/$"))

    page.goto(f"{site}/applications/")
    page.click("[data-action=new-application]")
    page.check("input[name=procedure][value=P3]")
    page.select_option("#id_status", "engineer_humanities")
    page.check("input[name=add_ons][value=P6]")
    page.check("input[name=add_ons][value=P7]")
    page.fill("#id_card_number", resident.card_number)
    page.click("main form button[type=submit]")
    application = Application.objects.get(filer=scrivener)
    go_through_steps(page, application)

    page.wait_for_url(re.compile(r"/documents/$"))
    assert resident.roman_name in page.text_content("[data-applicant-name]")
    for document_type, name in [
        ("passport_copy", "passport.pdf"),
        ("employment_contract", "contract.pdf"),
        ("tax_certificate", "tax.pdf"),
    ]:
        upload(
            page,
            kind="document",
            name=name,
            data=pdf_bytes(),
            mime="application/pdf",
            document_type=document_type,
        )
    upload(page, kind="photo", name="photo.jpg", data=jpeg_bytes(), mime="image/jpeg")
    assert page.locator("#attachments li").count() == 4
    page.click("main a.button--primary")  # continue
    page.wait_for_url(re.compile(r"/receipt/$"))
    page.check("input[name=method][value=post]")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/confirm/$"))
    assert page.locator("#problems").count() == 0
    page.check("#confirm-submit")
    page.click("[data-action=submit]")
    page.wait_for_url(re.compile(rf"/applications/{application.public_id}/$"))
    number = page.get_attribute("[data-receipt-number]", "data-receipt-number")
    assert re.fullmatch(r"東オン-KN-\d{4}-\d{6}", number)
    page.goto(f"{site}/applications/")
    assert page.locator(f"[data-receipt-number='{number}']").count() == 1


def test_a_student_changes_status_saves_half_way_and_resumes_in_another_browser(page, live_server, chromium):
    site = live_server.url
    resident = ResidentFactory(
        status="student",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=120),
        card_expires_on=clock.today() + dt.timedelta(days=120),
        prefecture="27",
        municipality="大阪市北区",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )
    student = active_user(
        UserKind.U1, card_id="CARD-STUDENT", valid_until=clock.today() + dt.timedelta(days=900)
    )
    # Signing in with the card is covered by the accounts journeys (test_browser there); this
    # browser starts from the session such a sign-in leaves.
    page.context.add_cookies([{"name": "zairyu_session", "value": _card_session(student), "url": site}])

    page.goto(f"{site}/applications/new/")
    page.check("input[name=procedure][value=P2]")
    page.select_option("#id_status", "engineer_humanities")
    page.fill("#id_card_number", resident.card_number)
    page.click("main form button[type=submit]")
    application = Application.objects.get(filer=student)
    page.wait_for_url(re.compile(r"/step/2-1/$"))
    fill_step(page, application, "2-1")
    page.click("button[name=next]")
    page.wait_for_url(re.compile(r"/step/2-2/$"))
    fill_step(page, application, "2-2", stop_after=3)
    page.click("button[name=draft]")  # half-way: save and finish later
    page.wait_for_url(re.compile(r"/applications/$"))
    page.click("[data-action=sign-out]")

    other = chromium.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    other_page = other.new_page()
    other.add_cookies([{"name": "zairyu_session", "value": _card_session(student), "url": site}])
    other_page.goto(f"{site}/applications/")
    other_page.click(f"[data-application='{application.public_id}'] a")
    other_page.click("main a.button--primary")  # continue this application
    other_page.wait_for_url(re.compile(r"/step/2-1/$"))
    go_through_steps(other_page, application)
    other_page.wait_for_url(re.compile(r"/documents/$"))
    upload(
        other_page,
        kind="document",
        name="passport.pdf",
        data=pdf_bytes(),
        mime="application/pdf",
        document_type="passport_copy",
    )
    upload(other_page, kind="photo", name="photo.jpg", data=jpeg_bytes(), mime="image/jpeg")
    upload(
        other_page,
        kind="organization_part",
        name="employer-part.pdf",
        data=pdf_bytes(),
        mime="application/pdf",
    )
    other_page.click("main a.button--primary")
    other_page.wait_for_url(re.compile(r"/receipt/$"))
    other_page.check("input[name=method][value=window]")
    other_page.click("main form button[type=submit]")
    other_page.wait_for_url(re.compile(r"/confirm/$"))
    other_page.check("#confirm-submit")
    other_page.click("[data-action=submit]")
    other_page.wait_for_url(re.compile(rf"/applications/{application.public_id}/$"))
    assert re.fullmatch(
        r"阪オン-HN-\d{4}-\d{6}", other_page.get_attribute("[data-receipt-number]", "data-receipt-number")
    )
    other.close()


def _card_session(user) -> str:
    """A signed-in session as after a card sign-in (the card journey itself is tested elsewhere)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = clock.now().timestamp()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store["signed_in_at"] = store["last_activity"] = now
    store["auth_method"] = "card"
    store.save()
    return store.session_key


def test_a_company_staff_member_files_a_coe_for_a_new_hire(page, live_server):
    from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
    from zairyu.registry.tests.factories import ReceivingOrganizationFactory

    site = live_server.url
    company = ReceivingOrganizationFactory(kind="employer", prefecture="13")
    hr = staff_member(EnrolmentFactory(organization=company, office="tokyo"))
    page.context.add_cookies([{"name": "zairyu_session", "value": _card_session(hr), "url": site}])
    page.goto(f"{site}/applications/new/")
    page.check("input[name=procedure][value=P1]")
    page.select_option("#id_status", "engineer_humanities")
    page.fill("#id_organization", company.corporate_number)
    page.click("main form button[type=submit]")
    application = Application.objects.get(filer=hr)
    go_through_steps(page, application)
    page.wait_for_url(re.compile(r"/documents/$"))
    upload(
        page,
        kind="document",
        name="passport.pdf",
        data=pdf_bytes(),
        mime="application/pdf",
        document_type="passport_copy",
    )
    upload(
        page,
        kind="document",
        name="offer.pdf",
        data=pdf_bytes(),
        mime="application/pdf",
        document_type="employment_contract",
    )
    page.click("main a.button--primary")
    page.wait_for_url(re.compile(r"/receipt/$"))
    page.check("input[name=method][value=email]")  # the electronic COE: no photo needed
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/confirm/$"))
    assert page.locator("#problems").count() == 0
    page.check("#confirm-submit")
    page.click("[data-action=submit]")
    page.wait_for_url(re.compile(rf"/applications/{application.public_id}/$"))
    assert re.fullmatch(
        r"東オン-NN-\d{4}-\d{6}", page.get_attribute("[data-receipt-number]", "data-receipt-number")
    )
