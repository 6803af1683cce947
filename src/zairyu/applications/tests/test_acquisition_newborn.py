"""Issue 14, P4: an acquisition of status for a child born in Japan, who has no residence card.
The filer starts it from the birth (the date, a parent's card) without the applicant's card
number; the 30-day limit is said at the start, at each step and at submission, with the day it
ran out and the bureau window to go to — the same verdict on the web and through the API; on
issue the child enters the registry."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import api_caller
from zairyu.api.tests.test_applications_api import BASE
from zairyu.applications import services
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import extension_applicant, signed_in_client
from zairyu.catalogue.formspec import role_field_id
from zairyu.core import clock

pytestmark = pytest.mark.django_db

WINDOW = "go to a regional immigration bureau window"


@pytest.fixture
def relative():
    return active_user(UserKind.U3, email="mother@example.com")


@pytest.fixture
def parent():
    return extension_applicant(status="engineer_humanities")


def days_ago(days: int) -> dt.date:
    return clock.today() - dt.timedelta(days=days)


def web_start(client, **extra):
    data = {"procedure": "P4", "status": "dependent", **extra}
    return client.post("/applications/new/", data)


def api_body(**extra):
    return {"procedure": "P4", "status": "dependent", **extra}


def test_on_the_web_a_parent_starts_an_acquisition_from_the_birth_without_a_card(relative, parent):
    born = days_ago(10)
    response = web_start(
        signed_in_client(relative),
        birth_or_event_date=born.isoformat(),
        parent_card_number=parent.card_number,
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    application = Application.objects.get()
    assert application.procedure == "P4" and application.applicant_resident is None
    assert application.parent_resident == parent
    answers = application.answers
    assert answers[role_field_id("acquisition.event_date")] == born.isoformat()
    assert answers[role_field_id("acquisition.reason")] == "birth"
    assert answers[role_field_id("identity.date_of_birth")] == born.isoformat()
    assert answers["filer_reason"] == "under_16"  # a newborn is under 16 by the date of birth
    # A relative holding only the parent's card number learns nothing of the parent's address.
    assert role_field_id("identity.municipality") not in answers


def test_on_the_web_a_birth_over_30_days_ago_is_refused_with_the_day_it_ran_out(relative, parent):
    born = days_ago(31)
    client = signed_in_client(relative)
    refused = web_start(client, birth_or_event_date=born.isoformat(), parent_card_number=parent.card_number)
    assert refused.status_code == 200 and not Application.objects.exists()
    errors = " ".join(refused.context["form"].errors.get("birth_or_event_date", []))
    deadline = (born + dt.timedelta(days=30)).isoformat()
    assert deadline in errors and WINDOW in errors
    assert refused.context["form"]["parent_card_number"].value() == parent.card_number  # kept


def test_on_the_web_the_date_is_asked_and_a_card_number_is_refused(relative, parent):
    client = signed_in_client(relative)
    no_date = web_start(client, parent_card_number=parent.card_number)
    assert no_date.status_code == 200 and not Application.objects.exists()
    assert "within 30 days" in " ".join(no_date.context["form"].errors.get("birth_or_event_date", []))
    with_card = web_start(client, card_number=parent.card_number, birth_or_event_date=days_ago(3).isoformat())
    assert with_card.status_code == 200 and not Application.objects.exists()
    assert "no residence card yet" in " ".join(with_card.context["form"].errors.get("card_number", []))
    unknown = web_start(
        client, parent_card_number="ZZ99999999ZZ", birth_or_event_date=days_ago(3).isoformat()
    )
    assert unknown.status_code == 200 and unknown.context["form"].errors.get("parent_card_number")


def test_each_step_says_the_limit_once_the_clock_passes_it(relative, parent):
    born = days_ago(25)
    client = signed_in_client(relative)
    assert (
        web_start(
            client, birth_or_event_date=born.isoformat(), parent_card_number=parent.card_number
        ).status_code
        == 302
    )
    application = Application.objects.get()
    field = role_field_id("acquisition.event_date")
    step = application_form_step(application, field)
    url = f"/applications/{application.public_id}/step/{step}/"
    deadline = (born + dt.timedelta(days=30)).isoformat()
    assert deadline not in client.get(url).content.decode()  # (the item's hint names the window)
    with time_machine.travel(clock.now() + dt.timedelta(days=10), tick=False):
        client = signed_in_client(relative)
        page = client.post(url, {field: born.isoformat()}).content.decode()
        assert deadline in page and "That time has passed" in page
        application.refresh_from_db()
        assert application.answers[field] == born.isoformat()  # what was entered is kept
        problems = services.application_problems(application, today=clock.today(), at_submission=True)
        assert "acquisition_deadline_passed" in [p.code for p in problems]


def application_form_step(application, field_id):
    form = services.application_form(application)
    return form.field(field_id).step


def test_through_the_api_the_same_verdicts(relative, parent):
    api = api_caller(relative)
    ok = api.post(
        f"{BASE}/check",
        api_body(birth_or_event_date=days_ago(5).isoformat(), parent_card_number=parent.card_number),
    )
    assert ok.json()["problems"] == [], ok.json()
    late = api.post(
        f"{BASE}/check",
        api_body(birth_or_event_date=days_ago(40).isoformat(), parent_card_number=parent.card_number),
    ).json()["problems"]
    assert [p["code"] for p in late] == ["acquisition_deadline_passed"] and WINDOW in late[0]["detail"]
    with_card = api.post(
        BASE, api_body(card_number=parent.card_number, birth_or_event_date=days_ago(5).isoformat())
    )
    assert with_card.status_code == 422
    assert "acquisition_has_card" in [e["code"] for e in with_card.json()["errors"]]
    created = api.post(
        BASE, api_body(birth_or_event_date=days_ago(5).isoformat(), parent_card_number=parent.card_number)
    )
    assert created.status_code == 201, created.json()
    application_id = created.json()["id"]
    with time_machine.travel(clock.now() + dt.timedelta(days=30), tick=False):
        later = api_caller(relative)
        problems = {p["code"]: p for p in later.post(f"{BASE}/{application_id}/validate").json()["problems"]}
        assert WINDOW in problems["acquisition_deadline_passed"]["detail"]


def test_a_scrivener_starts_one_and_on_issue_the_child_enters_the_registry_with_a_first_card(parent):
    from zairyu.registry.models import Resident
    from zairyu.review import services as review
    from zairyu.review.tests.factories import filer, officer, submitted

    scrivener = active_user(UserKind.U4, email="scrivener@example.com")
    started = web_start(
        signed_in_client(scrivener),
        birth_or_event_date=days_ago(7).isoformat(),
        parent_card_number=parent.card_number,
    )
    assert started.status_code == 302, started.content.decode()[:3000]

    application = submitted(procedure="P4", status="dependent", method="post", by=filer(UserKind.U4))
    assert application.applicant_resident is None
    desk = officer("tokyo")
    review.application_take_up(application_id=application.pk, officer=desk)
    review.application_decide(
        application_id=application.pk,
        officer=desk,
        outcome="permit",
        status="dependent",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    # A first card replaces none: the envelope and the fee form are all the post needs.
    review.postal_items_record(application_id=application.pk, officer=desk, envelope=True, fee_form=True)
    before = Resident.objects.count()
    review.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    application.refresh_from_db()
    child = application.applicant_resident
    assert Resident.objects.count() == before + 1 and child is not None
    assert child.status == "dependent" and child.roman_name == "NGUYEN VAN COE"
    assert child.date_of_birth == dt.date.fromisoformat(application.answers["date_of_birth"])
    assert child.card_number and child.card_number != parent.card_number
    assert application.state == "complete"


@pytest.mark.parametrize("value", [0, 20261120, "20.11.2026", True])
def test_through_the_api_a_date_not_written_yyyy_mm_dd_is_refused_not_guessed(relative, parent, value):
    response = api_caller(relative).post(
        f"{BASE}/check", api_body(birth_or_event_date=value, parent_card_number=parent.card_number)
    )
    assert response.status_code == 422, response.json()
    assert "YYYY-MM-DD" in response.text
