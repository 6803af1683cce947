"""F-07: how the result of an application is received."""

import datetime as dt

import pytest
from django.utils import translation

from zairyu.applications.rules.receipt import (
    CARD_RECEIPT_MONTHS_AFTER_STAY,
    POST_DOCUMENTS_DEADLINE_DAYS,
    card_receipt_deadline,
    changeable_after_submission,
    is_passport_stamp_period,
    method_changeable,
    post_documents_deadline,
    receipt_method_problems,
    receipt_options,
)

TODAY = dt.date(2026, 11, 21)
ADULT = dt.date(1995, 4, 1)


def options(procedure="P3", **overrides):
    values = {
        "procedure": procedure,
        "status": "engineer_humanities",
        "period_of_stay": "3Y",
        "kanji_name_requested": False,
        "applicant_birth_date": ADULT,
        "today": TODAY,
    }
    values.update(overrides)
    return receipt_options(**values)


def rendered(problem) -> str:
    with translation.override("en"):
        return str(problem.message)


def codes(result):
    return [reason.code for reason in result.reasons]


# --- COE and employment certificate ------------------------------------------------------------


def test_a_coe_is_received_by_email_or_post_and_the_user_must_choose():
    result = options("P1", applicant_birth_date=None)
    assert result.document == "coe"
    assert result.choices == ("email", "post")
    assert result.default is None and result.reasons == []


def test_the_coe_method_cannot_change_after_submission():
    assert not changeable_after_submission("coe")
    assert not method_changeable("submitted", "coe")
    assert not method_changeable("under_review", "coe")


def test_an_employment_certificate_is_received_by_post_or_at_the_window():
    result = options("P5")
    assert result.document == "employment_certificate"
    assert result.choices == ("post", "window") and result.reasons == []
    assert changeable_after_submission("employment_certificate")


@pytest.mark.parametrize("procedure", ["P2", "P3", "P4", "change", "extension"])
def test_a_residence_card_by_post_or_at_the_window(procedure):
    result = options(procedure)
    assert result.document == "residence_card"
    assert result.choices == ("post", "window") and result.default is None and result.reasons == []


def test_add_ons_have_no_receipt_of_their_own():
    with pytest.raises(ValueError):
        options("P6")


# --- when post is not possible -----------------------------------------------------------------


@pytest.mark.parametrize("period", ["3M", "1M", "90D", "15D", "2M30D", "3m"])
def test_three_months_or_less_is_a_passport_stamp_at_the_window(period):
    result = options(period_of_stay=period)
    assert result.document == "passport_stamp"
    assert result.choices == ("window",) and result.default == "window"
    assert codes(result) == ["post_unavailable_passport_stamp"]
    message = rendered(result.reasons[0])
    assert "three months or less" in message and "bureau window" in message


@pytest.mark.parametrize("period", ["4M", "91D", "3M1D", "6M", "1Y", "5Y", "", None, "nonsense"])
def test_longer_or_unknown_periods_give_a_card(period):
    assert not is_passport_stamp_period(period)
    assert options(period_of_stay=period).document == "residence_card"


@pytest.mark.parametrize("status", ["official", "ＯＦＦＩＣＩＡＬ", " Official "])
def test_status_official_gets_a_passport_sticker_at_the_window(status):
    result = options(status=status)
    assert result.document == "passport_stamp" and result.choices == ("window",)
    assert codes(result) == ["post_unavailable_official"]
    assert "Official" in rendered(result.reasons[0]) and "window" in rendered(result.reasons[0])


def test_adding_a_kanji_name_is_done_at_the_window():
    result = options(kanji_name_requested=True)
    assert result.document == "residence_card" and result.choices == ("window",)
    assert codes(result) == ["post_unavailable_kanji_name"]
    assert "window" in rendered(result.reasons[0])


def test_a_kanji_name_already_on_the_card_still_allows_post():
    result = options(kanji_name_requested=True, card_has_kanji_name=True)
    assert result.choices == ("post", "window") and result.reasons == []


# --- the 16th birthday -------------------------------------------------------------------------


def test_turning_16_within_six_months_needs_the_window():
    birth = dt.date(2011, 5, 21)  # 16 on 2027-05-21, six months after TODAY
    result = options(applicant_birth_date=birth)
    assert result.choices == ("window",)
    assert codes(result) == ["post_unavailable_card_validity"]
    assert result.reasons[0].data["sixteenth_birthday"] == dt.date(2027, 5, 21)
    message = rendered(result.reasons[0])
    assert "turns 16 on 2027-05-21" in message and "window" in message


def test_turning_16_a_day_later_than_six_months_allows_post():
    assert options(applicant_birth_date=dt.date(2011, 5, 22)).choices == ("post", "window")


def test_the_expected_decision_date_moves_the_six_months():
    birth = dt.date(2011, 7, 1)  # 16 on 2027-07-01
    assert options(applicant_birth_date=birth).choices == ("post", "window")
    later = options(applicant_birth_date=birth, expected_decision_date=dt.date(2027, 1, 15))
    assert codes(later) == ["post_unavailable_card_validity"]


@pytest.mark.parametrize("birth", [dt.date(2010, 11, 21), dt.date(2010, 11, 20), ADULT])
def test_someone_already_16_is_not_concerned(birth):
    assert options(applicant_birth_date=birth).choices == ("post", "window")


def test_a_newborn_is_far_from_16():
    assert options("P4", applicant_birth_date=dt.date(2026, 11, 1), period_of_stay="1Y").choices == (
        "post",
        "window",
    )


def test_every_reason_is_given():
    result = options(kanji_name_requested=True, applicant_birth_date=dt.date(2011, 1, 1))
    assert codes(result) == ["post_unavailable_kanji_name", "post_unavailable_card_validity"]
    assert all(reason.field == "receipt_method" and not reason.blocks for reason in result.reasons)


def test_a_passport_stamp_makes_the_card_reasons_moot():
    result = options(period_of_stay="3M", kanji_name_requested=True, applicant_birth_date=dt.date(2011, 1, 1))
    assert codes(result) == ["post_unavailable_passport_stamp"]


# --- choosing and changing ---------------------------------------------------------------------


def test_the_chosen_method_must_be_offered():
    window_only = options(kanji_name_requested=True)
    [problem] = receipt_method_problems(options=window_only, method="post")
    assert problem.code == "receipt_method_unavailable" and problem.blocks
    assert "At the bureau window" in rendered(problem)
    assert problem.data["reasons"] == ["post_unavailable_kanji_name"]
    assert receipt_method_problems(options=window_only, method="window") == []
    assert [p.code for p in receipt_method_problems(options=window_only, method="")] == [
        "receipt_method_required"
    ]
    assert receipt_method_problems(options=options("P1"), method="email") == []


@pytest.mark.parametrize(
    ("state", "changeable"),
    [
        ("entered", False),
        ("submitted", True),
        ("under_review", True),
        ("awaiting_issue", False),
        ("complete", False),
    ],
)
def test_card_and_certificate_methods_change_only_while_submitted_or_under_review(state, changeable):
    assert method_changeable(state) is changeable
    assert method_changeable(state, "residence_card") is changeable
    assert method_changeable(state, "employment_certificate") is changeable
    assert method_changeable(state, "passport_stamp") is False


# --- postal receipt deadlines ------------------------------------------------------------------


def test_postal_deadlines():
    assert POST_DOCUMENTS_DEADLINE_DAYS == 14
    assert post_documents_deadline(dt.date(2026, 11, 21)) == dt.date(2026, 12, 5)
    assert CARD_RECEIPT_MONTHS_AFTER_STAY == 2
    assert card_receipt_deadline(dt.date(2026, 12, 31)) == dt.date(2027, 2, 28)
    assert card_receipt_deadline(dt.date(2027, 5, 15)) == dt.date(2027, 7, 15)
