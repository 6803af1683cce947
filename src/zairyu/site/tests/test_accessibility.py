"""axe-core on a page of each kind, as a visitor, a filer and an officer, on a desktop and on a
phone: no serious or critical violation of WCAG 2.1 A/AA or axe's best practices, and no page
wider than the phone. The walk (``scripts/walk.py``) follows every link of the demo; this keeps
the kinds of page checked in every run."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest

from zairyu.applications.tests.test_browser import _card_session
from zairyu.core import clock
from zairyu.review.tests.factories import filer, officer, submitted
from zairyu.review.tests.test_browser import staff_sign_in
from zairyu.site.tests.axe import axe_violations, overflows_horizontally

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_YEAR = dt.timedelta(days=365)
VISITOR_PAGES = (
    "/",
    "/catalogue/who-can-file/",
    "/accounts/sign-in/",
    "/accounts/sign-in/card/",
    "/accounts/register/",
    "/accounts/register/agent/",
    "/accounts/password/forgot/",
    "/organizations/apply/",
    "/public/scorecard/",
    "/public/ecoe/",
    "/staff/sign-in/",
)


@pytest.fixture(params=["desktop", "phone"])
def checked_page(request, chromium):
    """A page whose context lets axe-core's script in (the site's CSP refuses injected scripts)."""
    from conftest import DESKTOP, PHONE

    phone = request.param == "phone"
    context = chromium.new_context(
        viewport=PHONE if phone else DESKTOP, locale="en-US", is_mobile=phone, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.phone = phone
    yield page
    context.close()


def check(page, url: str) -> list[str]:
    """What is wrong with the page at ``url``: failing axe violations, a phone overflow, an error."""
    response = page.goto(url)
    found = [f"{url}: HTTP {response.status}"] if response.status >= 400 else []
    found += [f"{url}: {v}" for v in axe_violations(page) if v.fails]
    if page.phone and overflows_horizontally(page):
        found.append(f"{url}: wider than the phone")
    return found


def test_the_public_pages_pass_axe(checked_page, live_server):
    problems = [p for path in VISITOR_PAGES for p in check(checked_page, live_server.url + path)]
    assert problems == []


def test_a_filers_pages_and_a_drafts_steps_pass_axe(checked_page, live_server):
    site = live_server.url
    scrivener = filer(email="scrivener@example.com")
    application = submitted(procedure="P3", add_ons=("P6",), by=scrivener)
    checked_page.context.add_cookies(
        [{"name": "zairyu_session", "value": _card_session(scrivener), "url": site}]
    )
    paths = [
        "/accounts/",
        "/applications/",
        "/applications/new/",
        "/accounts/profile/",
        f"/applications/{application.public_id}/",
        f"/applications/{application.public_id}/manage/",
        "/applications/bulk/",
        "/api/clients/connected/",
    ]
    problems = [p for path in paths for p in check(checked_page, site + path)]
    # A draft, started as a filer does by copying the filed application; then each of its steps.
    checked_page.goto(f"{site}/applications/new/?copy={application.public_id}")
    checked_page.click("main form button[type=submit]")
    checked_page.wait_for_url(re.compile(r"/step/"))
    draft = re.search(r"/applications/([0-9a-f-]{36})/", checked_page.url).group(1)
    steps = checked_page.eval_on_selector_all(
        f"a[href*='/applications/{draft}/']", "as => [...new Set(as.map(a => a.getAttribute('href')))]"
    )
    assert len(steps) >= 4  # the steps, the documents, the receipt method, the confirmation
    problems += [p for path in steps for p in check(checked_page, site + path)]
    # The start page's warning (an extension long before the three-month mark), before "start anyway".
    early = submitted(
        procedure="P3", by=scrivener, period_of_stay="3Y", stay_expires_on=clock.today() + ONE_YEAR
    )
    checked_page.goto(f"{site}/applications/new/?copy={early.public_id}")
    checked_page.click("main form button[type=submit]")
    checked_page.wait_for_selector("[data-action=start-anyway]")
    problems += [f"the warned start page: {v}" for v in axe_violations(checked_page) if v.fails]
    if checked_page.phone and overflows_horizontally(checked_page):
        problems.append("the warned start page: wider than the phone")
    assert problems == []


def test_an_officers_pages_pass_axe(checked_page, live_server):
    site = live_server.url
    application = submitted(  # filed early: the review page carries the timing note too
        procedure="P3",
        add_ons=("P6", "P7"),
        photo=True,
        period_of_stay="3Y",
        stay_expires_on=clock.today() + ONE_YEAR,
    )
    desk = officer("tokyo", totp_secret=pyotp.random_base32(), totp_confirmed_at=clock.now())
    staff_sign_in(checked_page, site, desk)
    paths = [
        "/staff/",
        "/staff/review/",
        "/staff/review/?queue=submitted",
        f"/staff/review/applications/{application.pk}/",
        "/staff/review/scorecard/",
        "/staff/organizations/",
        "/staff/organizations/organizations/",
        "/staff/api-clients/",
        "/staff/security/",
    ]
    problems = [p for path in paths for p in check(checked_page, site + path)]
    assert problems == []
