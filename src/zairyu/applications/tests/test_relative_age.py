"""Issue 14, U3: a relative files a change, extension or acquisition for an applicant under 16 —
the age is the registry's date of birth on the filing day, never the filer's tick — or for one
who cannot apply in person, which the filer states with the reason, and the officer reads. The
same verdict and message on the web start page, through the API, and again at submission with
the clock moved past the 16th birthday."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.api.tests.conftest import api_caller
from zairyu.api.tests.test_applications_api import BASE, _complete, _start_body
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import extension_applicant, signed_in_client
from zairyu.core import clock

pytestmark = pytest.mark.django_db

OLDER = "16 or older on the filing date"
REASON = "Give the reason why the applicant cannot apply in person"


def born_years_ago(years: int, days: int = 0) -> dt.date:
    today = clock.today()
    return today.replace(year=today.year - years) + dt.timedelta(days=days)


@pytest.fixture
def relative():
    return active_user(UserKind.U3, email="parent@example.com")


def web_start(client, resident, **extra):
    data = {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number, **extra}
    return client.post("/applications/new/", data)


def test_on_the_web_a_child_under_16_by_the_registry_needs_no_tick(relative):
    child = extension_applicant(date_of_birth=born_years_ago(16, days=1))  # sixteen tomorrow
    response = web_start(signed_in_client(relative), child)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Application.objects.get().fact_reasons == {}


def test_on_the_web_an_applicant_of_16_is_told_only_illness_or_another_reason_lets_a_relative_file(relative):
    adult = extension_applicant(date_of_birth=born_years_ago(16))  # sixteen today
    client = signed_in_client(relative)
    # The old tick box ("under 16") decides nothing: the registry says 16.
    refused = web_start(client, adult, applicant_under_16_or_unable="on")
    assert refused.status_code == 200 and not Application.objects.exists()
    assert OLDER in " ".join(refused.context["form"].errors.get("applicant_unable", []))
    no_reason = web_start(client, adult, applicant_unable="on")
    assert no_reason.status_code == 200 and not Application.objects.exists()
    assert REASON in " ".join(no_reason.context["form"].errors.get("applicant_unable_reason", []))
    assert no_reason.context["form"]["applicant_unable"].value() is True  # what was entered is kept
    started = web_start(client, adult, applicant_unable="on", applicant_unable_reason="In hospital until May")
    assert started.status_code == 302
    application = Application.objects.get()
    assert application.facts == {"applicant_unable": True}
    assert application.fact_reasons == {"applicant_unable": "In hospital until May"}


def test_through_the_api_the_same_verdicts_and_messages(relative):
    api = api_caller(relative)
    child = extension_applicant(date_of_birth=born_years_ago(15))
    adult = extension_applicant(date_of_birth=born_years_ago(30))
    assert api.post(f"{BASE}/check", _start_body(child)).json()["problems"] == []
    problems = api.post(f"{BASE}/check", _start_body(adult)).json()["problems"]
    assert [p["code"] for p in problems] == ["condition_applicant_unable"] and OLDER in problems[0]["detail"]
    stated = api.post(f"{BASE}/check", _start_body(adult, facts={"applicant_under_16_or_unable": True}))
    assert "condition_applicant_unable" in [p["code"] for p in stated.json()["problems"]]
    no_reason = api.post(BASE, _start_body(adult, facts={"applicant_unable": True}))
    assert no_reason.status_code == 422
    assert [e["code"] for e in no_reason.json()["errors"]] == ["fact_reason_required"]
    assert REASON in no_reason.json()["errors"][0]["detail"]
    created = api.post(
        BASE,
        _start_body(adult, facts={"applicant_unable": True}, fact_reasons={"applicant_unable": "Bedridden"}),
    )
    assert created.status_code == 201, created.json()
    assert created.json()["fact_reasons"] == {"applicant_unable": "Bedridden"}


def test_at_submission_the_age_is_taken_again_on_the_day_of_filing(relative):
    """Started at 15, checked for submission after the 16th birthday: refused, saying why, until
    the filer states (with the reason) that the applicant cannot apply in person. The check is the
    one submission runs (``application_problems``), asked through the API's validation."""
    api = api_caller(relative)
    child = extension_applicant(date_of_birth=born_years_ago(16, days=3))
    application_id = api.post(BASE, _start_body(child)).json()["id"]
    _complete(api, application_id, method="window")  # a card that runs out at 16 is collected

    def codes(response):
        return {p["code"]: p["detail"] for p in response.json()["problems"]}

    assert "condition_applicant_unable" not in codes(api.post(f"{BASE}/{application_id}/validate"))
    with time_machine.travel(clock.now() + dt.timedelta(days=5), tick=False):
        later = api_caller(relative)  # a token of that day
        found = codes(later.post(f"{BASE}/{application_id}/validate"))
        assert OLDER in found["condition_applicant_unable"]
        refused = later.post(f"{BASE}/{application_id}/submit", {}, headers={"Idempotency-Key": "age-1"})
        assert refused.status_code == 422
    assert Application.objects.get(public_id=application_id).state == "draft"


def test_the_officer_reads_what_the_relative_stated_and_why():
    from django.test import Client

    from zairyu.review.tests.factories import filer, officer, submitted

    application = submitted(by=filer(UserKind.U3))
    application.facts = {"applicant_unable": True}
    application.fact_reasons = {"applicant_unable": "In hospital until 20 May"}
    application.save(update_fields=["facts", "fact_reasons"])
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(officer())
    page = client.get(f"/staff/review/applications/{application.pk}/").content.decode()
    assert "Stated by the filer" in page
    assert "The applicant cannot apply in person because of illness or another reason" in page
    assert "In hospital until 20 May" in page


def test_why_a_relative_files_is_answered_from_the_start_and_under_16_is_refused_for_an_adult(relative):
    api = api_caller(relative)
    child = extension_applicant(date_of_birth=born_years_ago(10))
    adult = extension_applicant(date_of_birth=born_years_ago(40))
    first = api.post(BASE, _start_body(child)).json()
    assert first["answers"]["filer_reason"] == "under_16"
    second = api.post(
        BASE, _start_body(adult, facts={"applicant_unable": True}, fact_reasons={"applicant_unable": "Ill"})
    ).json()
    assert second["answers"]["filer_reason"] == "illness"
    api.patch(f"{BASE}/{second['id']}", {"answers": {"filer_reason": "under_16"}})
    problems = {p["code"]: p for p in api.post(f"{BASE}/{second['id']}/validate").json()["problems"]}
    assert "16 or older" in problems["filer_reason_not_under_16"]["detail"]
