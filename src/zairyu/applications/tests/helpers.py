"""Driving the application pages in tests: sign-in, step posts built from the form catalogue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from zairyu.accounts.tests.conftest import EnglishClient
from zairyu.applications.disclosure import registry_answers
from zairyu.applications.samples import sample_answers
from zairyu.applications.services import application_form
from zairyu.core import clock


def signed_in_client(user) -> EnglishClient:
    client = EnglishClient()
    client.force_login(user)
    session = client.session
    session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
    session.save()
    return client


def step_post(
    application, step: str, *, overrides: dict[str, Any] | None = None, draft: bool = False
) -> dict[str, Any]:
    """The POST data a person would send for ``step`` with valid sample answers. The person holds
    the applicant's card: where the form was not pre-filled (an agent or relative files, see
    ``zairyu.applications.disclosure``) they type what the card shows."""
    form = application_form(application)
    resident = application.applicant_resident
    card = registry_answers(resident) if resident is not None else {}
    answers = sample_answers(
        form, today=clock.today(), overrides={**card, **application.answers, **(overrides or {})}
    )
    data: dict[str, Any] = {"draft": "1"} if draft else {"next": "1"}
    step_spec = form.step(step)
    for section in step_spec.sections:
        if section.repeatable:
            data[f"{section.id}-TOTAL_FORMS"] = "0"
            data[f"{section.id}-INITIAL_FORMS"] = "0"
            continue
        for spec in section.fields:
            if spec.fixed_value is not None:
                continue
            value = answers.get(spec.id)
            if value in (None, ""):
                continue
            if isinstance(value, bool):
                if spec.must_be:
                    if value:
                        data[spec.id] = "on"
                else:
                    data[spec.id] = "true" if value else "false"
            else:
                data[spec.id] = value
    return data


def pdf_upload(name: str = "document.pdf", pages: int = 1):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zairyu.documents.tests.factories import pdf_bytes

    return SimpleUploadedFile(
        name, pdf_bytes(pages=pages) if pages else pdf_bytes(), content_type="application/pdf"
    )


def photo_upload(name: str = "photo.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zairyu.documents.tests.factories import jpeg_bytes

    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


def today_plus(days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=days)


def extension_applicant(**fields):
    """A resident in Tokyo whose one-year stay ends in 60 days: the time to file an extension."""
    from zairyu.registry.tests.factories import ResidentFactory

    values = {
        "status": "engineer_humanities",
        "period_of_stay": "1Y",
        "stay_expires_on": today_plus(60),
        "card_expires_on": today_plus(60),
        "prefecture": "13",
        "municipality": "新宿区",
        "move_in_notified_on": None,
        "abroad_on_reentry": False,
        **fields,
    }
    return ResidentFactory(**values)
