"""Browser journeys (Playwright on Debian's Chromium), desktop and phone-sized: a company files a
usage application and an officer approves it, the staff member sets a password and a second
factor, signs in and files an additional application; a support organization files with two
mandates; a periodic report is filed and approved."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest

from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import PASSWORD, active_user
from zairyu.core import clock
from zairyu.documents.tests.factories import pdf_bytes
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations.models import Enrolment, UsageApplication
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(settings, live_server):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def pdf_file(tmp_path):
    path = tmp_path / "documents.pdf"
    path.write_bytes(pdf_bytes(2))
    return str(path)


def last_link(kind: str, to: str) -> str:
    body = OutboundEmail.objects.filter(kind=kind, to=to).latest("id").body
    return re.search(r"https?://\S+", body).group(0)


def code_for(secret: str, *, step: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(clock.now().timestamp() + step * totp.interval)


def officer_page(chromium, site: str, office: str = "tokyo"):
    """A separate browser of an officer of ``office``, signed in with ID, password and code."""
    officer = active_user(
        "officer",
        office=office,
        role="reviewer",
        totp_secret=pyotp.random_base32(),
        totp_confirmed_at=clock.now(),
    )
    page = chromium.new_context(locale="en-US").new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site}/staff/sign-in/")
    page.fill("#id_auth_id", officer.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/sign-in/code/$"))
    page.fill("#id_code", code_for(officer.totp_secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/staff/$"))
    return page


def approve_first_in_queue(page, site: str, queue: str) -> None:
    page.goto(f"{site}/staff/organizations/")
    page.click(f"[data-queue={queue}] tbody a")
    page.wait_for_selector("[data-checklist]")
    for box in page.locator("[data-checklist] input[type=checkbox]").all():
        box.check()
    page.click("[data-action=approve]")
    page.wait_for_url(re.compile(r"/staff/organizations/$"))
    assert page.locator("[data-message=success]").count() == 1


def file_usage_application(page, site: str, *, email: str, organization, pdf_file: str, mandates=()) -> None:
    page.goto(f"{site}/accounts/register/")
    page.click("[data-register=organization]")
    page.fill("#id_email", email)
    page.fill("#id_email_again", email)
    page.select_option("#id_language", "en")
    page.click("main form button[type=submit]")
    page.wait_for_selector("[data-sent=usage-application]")
    page.goto(last_link("org_email_verification", email))
    page.fill("#id_corporate_number", organization.corporate_number)
    page.select_option("#id_kind", organization.kind)
    page.check(f"input[name=category][value='{organization.category}']")
    if mandates:
        page.select_option("#id_mandate_count", str(len(mandates)))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/details/$"))
    assert page.text_content("[data-item=organization-name]") == organization.name
    page.fill("#id_full_name", "SATO KENJI")
    page.fill("#id_department", "Human resources")
    page.check("input[name=basis][value=qualifies]")
    page.fill("#id_qualification_facts", "Completed the agent training course in 2025.")
    if page.locator("#id_notifications_filed").count():
        page.check("#id_notifications_filed")
    page.set_input_files("#id_supporting_document", pdf_file)
    for index, principal in enumerate(mandates):
        page.fill(f"#id_mandate-{index}-corporate_number", principal.corporate_number)
        page.set_input_files(f"#id_mandate-{index}-mandate_document", pdf_file)
        page.set_input_files(f"#id_mandate-{index}-pledge_document", pdf_file)
    page.check("#id_pledge")
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r"/organizations/status/"))
    assert page.get_attribute("[data-state]", "data-state") == "submitted"


def test_a_company_is_approved_and_its_staff_member_signs_in_and_adds_a_colleague(
    page, site, chromium, pdf_file
):
    organization = ReceivingOrganizationFactory(category=3)
    file_usage_application(
        page, site, email="kenji@example.com", organization=organization, pdf_file=pdf_file
    )
    status_url = page.url

    officer = officer_page(chromium, site)
    assert officer.locator("[data-organization-queue]").count() == 1
    officer.goto(f"{site}/staff/organizations/")
    officer.click("[data-queue=new] tbody a")
    assert officer.locator("[data-attachments] [data-action=view-document]").count() == 1
    approve_first_in_queue(officer, site, "new")

    page.goto(status_url)
    assert page.get_attribute("[data-state]", "data-state") == "approved"
    page.goto(last_link("org_application_approved", "kenji@example.com"))
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/sign-in/$"))
    user = User.objects.get(email="kenji@example.com")
    assert user.kind == "U5" and user.valid_until == Enrolment.objects.get().valid_until is not None
    page.fill("#id_auth_id", user.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))
    secret = page.get_attribute("[data-totp-secret]", "data-totp-secret")
    page.fill("#id_code", code_for(secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/$"))
    assert page.get_attribute("[data-user-kind]", "data-user-kind") == "U5"

    page.click("[data-link=organization]")
    page.wait_for_url(re.compile(r"/organizations/$"))
    assert page.get_attribute("[data-may-file]", "data-may-file") == "yes"
    page.click("[data-action=additional]")
    page.fill("#id_full_name", "ITO AIKO")
    page.fill("#id_email", "aiko@example.com")
    page.fill("#id_email_again", "aiko@example.com")
    page.check("input[name=basis][value=qualifies]")
    page.fill("#id_qualification_facts", "Attended the agent course.")
    page.set_input_files("#id_supporting_document", pdf_file)
    page.check("#id_pledge")
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r"/organizations/$"))
    assert page.locator("[data-message=success]").count() == 1

    approve_first_in_queue(officer, site, "additional")
    colleague = User.objects.get(email="aiko@example.com")
    assert colleague.kind == "U5" and colleague.valid_until == user.valid_until
    page.reload()
    assert page.locator(f"[data-staff='{colleague.auth_id}']").count() == 1
    officer.context.close()


def test_a_support_organization_files_with_the_mandates_of_two_receiving_organizations(
    page, site, chromium, pdf_file
):
    support = ReceivingOrganizationFactory(kind="registered_support_organization", category=2)
    first, second = ReceivingOrganizationFactory(), ReceivingOrganizationFactory(kind="school")
    file_usage_application(
        page,
        site,
        email="support@example.com",
        organization=support,
        pdf_file=pdf_file,
        mandates=[first, second],
    )
    officer = officer_page(chromium, site)
    officer.goto(f"{site}/staff/organizations/")
    officer.click("[data-queue=new] tbody a")
    assert officer.locator("[data-mandate]").count() == 2
    assert officer.locator("[data-attachments] li").count() == 5  # supporting + 2 × (mandate, pledge)
    approve_first_in_queue(officer, site, "new")
    application = UsageApplication.objects.get()
    assert set(application.new_mandates.values_list("state", flat=True)) == {"active"}
    assert User.objects.get(email="support@example.com").kind == "U7"
    officer.context.close()


def test_a_periodic_report_is_filed_and_approved_and_every_users_validity_moves(page, site, chromium):
    expiry = clock.today() + dt.timedelta(days=40)
    enrolment = EnrolmentFactory(valid_until=expiry)
    user = staff_member(enrolment, email="kenji@example.com")
    colleague = staff_member(enrolment, full_name="ITO AIKO", email="aiko@example.com")

    page.goto(f"{site}/accounts/sign-in/")
    page.fill("#id_auth_id", user.auth_id)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/sign-in/code/$"))
    page.fill("#id_code", code_for(user.totp_secret))
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/$"))
    page.goto(f"{site}/organizations/")
    assert page.locator("[data-report=due]").count() == 1
    page.click("[data-action=report]")
    assert page.is_checked(f"#id_staff_{colleague.staff_membership.pk}")
    page.click("main form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r"/organizations/$"))
    assert page.locator("[data-report=open]").count() == 1

    officer = officer_page(chromium, site)
    officer.goto(f"{site}/staff/organizations/")
    officer.click("[data-queue=reports] tbody a")
    from zairyu.organizations.services import validity_end

    new_until = validity_end(expiry)
    assert officer.get_attribute("[data-new-validity]", "data-new-validity") == new_until.isoformat()
    approve_first_in_queue(officer, site, "reports")

    page.reload()
    assert page.text_content("[data-item=valid_until]") == new_until.isoformat()
    for staff in (user, colleague):
        staff.refresh_from_db()
        assert staff.valid_until == new_until
    assert OutboundEmail.objects.filter(kind="org_report_approved").count() == 2
    officer.context.close()
