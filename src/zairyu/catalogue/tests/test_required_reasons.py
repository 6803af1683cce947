"""A field required only in some cases says which case applies, naming the fields and choices by
their labels in the user's language; a field always required says only that it is."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from zairyu.catalogue.formspec.building import form_for
from zairyu.catalogue.formspec.validation import normalize_and_validate

TODAY = dt.date(2026, 12, 4)


def _messages(form, answers, field_id, language="en"):
    result = normalize_and_validate(form, answers, today=TODAY)
    with translation.override(language):
        return [str(e.message) for e in result.errors if e.field_id == field_id]


def test_a_field_required_by_another_answer_names_that_answer_and_its_value():
    form = form_for(procedure="P3", status="engineer_humanities", user_category="U1")
    [text] = _messages(form, {"education_level": "bachelor"}, "education_major")
    assert text == (
        "Major or field of study: required because “Highest education” is “University (bachelor's)”;"
        " please fill it in."
    )
    # Not required when the answer that makes it so is not given.
    assert _messages(form, {"education_level": "high_school"}, "education_major") == []


def test_a_field_required_when_another_is_blank_says_so_and_the_plain_message_stays_for_always():
    form = form_for(procedure="P3", status="engineer_humanities", user_category="U1")
    [text] = _messages(form, {}, "phone_number")
    assert "required because “Mobile phone number” is not filled in" in text, text
    [always] = _messages(form, {}, "mobile_number") or [None]
    assert always is None  # not required: the phone number may be given instead
    assert _messages(form, {"mobile_number": "090-1234-5678"}, "phone_number") == []


def test_the_reason_is_in_the_users_language():
    form = form_for(procedure="P3", status="engineer_humanities", user_category="U1")
    [text] = _messages(form, {}, "phone_number", language="ja")
    assert "携帯電話番号" in text and "ため" in text, text
