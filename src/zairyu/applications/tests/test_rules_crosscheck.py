"""F-02: the identity cross-check against the residence-card record."""

import dataclasses
import datetime as dt

import pytest
from django.utils import translation

from zairyu.applications.rules.crosscheck import (
    FIELDS,
    IdentityInput,
    crosscheck,
    identity_field_id,
    identity_from_answers,
    lookup_resident,
    mismatch_fingerprint,
    municipalities_match,
    readback,
)
from zairyu.registry.models import Resident
from zairyu.registry.tests.factories import ResidentFactory

RECORD = {
    "roman_name": "NGUYEN VAN AN",
    "nationality": "VNM",
    "sex": "M",
    "date_of_birth": dt.date(1995, 4, 1),
    "prefecture": "13",
    "municipality": "新宿区",
    "card_number": "AB12345678CD",
    "card_expires_on": dt.date(2027, 5, 31),
}

# What the registry holds, in every spelling a message could leak it in.
RECORD_TEXTS = (
    "NGUYEN",
    "VAN AN",
    "VNM",
    "1995",
    "04-01",
    "新宿",
    "2027",
    "05-31",
    "Tokyo",
    "東京",
)


def record(**overrides) -> Resident:
    values = {
        **RECORD,
        "status": "engineer_humanities",
        "period_of_stay": "3Y",
        "stay_expires_on": dt.date(2027, 5, 31),
    }
    values.update(overrides)
    return Resident(**values)


def entered(**overrides) -> IdentityInput:
    return IdentityInput(**{**RECORD, **overrides})


def rendered(problem) -> str:
    with translation.override("en"):
        return str(problem.message)


def assert_reveals_nothing(result, *, allowed=()):
    for problem in result.messages:
        blob = rendered(problem) + repr(dict(problem.data))
        for value in RECORD_TEXTS:
            if value not in allowed:
                assert value not in blob, (problem.code, value)


# --- accepting what can be read ----------------------------------------------------------------


def test_the_record_as_printed_matches():
    result = crosscheck(entered=entered(), resident=record())
    assert result.ok and result.mismatched == () and result.messages == [] and result.changed == ()


def test_normalisable_input_is_read_not_refused():
    typed = IdentityInput(
        nationality="vnm",
        roman_name="ｎｇｕｙｅｎ,van,an",
        sex="m",
        date_of_birth="１９９５／４／１",
        prefecture="東京都",
        municipality=" 東京都 新宿区 ",
        card_number="ａｂ-1234 5678-ｃｄ",
        card_expires_on="2027年5月31日",
    )
    result = crosscheck(entered=typed, resident=record())
    assert result.ok, [p.code for p in result.messages]
    assert result.normalized == IdentityInput(**RECORD)
    assert set(result.changed) == set(FIELDS)
    assert readback(result)["roman_name"] == "NGUYEN VAN AN"
    assert readback(result)["date_of_birth"] == dt.date(1995, 4, 1)


@pytest.mark.parametrize("prefecture", ["13", "１３", " 13 ", "東京都", "東京", "Tokyo", "TOKYO", "tokyo"])
def test_the_prefecture_by_name_or_code(prefecture):
    result = crosscheck(entered=entered(prefecture=prefecture), resident=record())
    assert result.ok and result.normalized.prefecture == "13"


@pytest.mark.parametrize("nationality", ["VNM", "vnm", "ＶＮＭ", "ベトナム", "viet nam"])
def test_the_nationality_by_code_or_name(nationality):
    assert crosscheck(entered=entered(nationality=nationality), resident=record()).ok


@pytest.mark.parametrize(
    "day", ["1995-04-01", "1995/4/1", "1995.04.01", "19950401", "1995年4月1日", "１９９５－０４－０１"]
)
def test_dates_in_the_usual_spellings(day):
    assert crosscheck(entered=entered(date_of_birth=day), resident=record()).ok


@pytest.mark.parametrize("sex", ["M", "m", "Ｍ", "male", "男"])
def test_sex_spellings(sex):
    assert crosscheck(entered=entered(sex=sex), resident=record()).ok


def test_name_separators_do_not_matter_but_letters_do():
    assert crosscheck(entered=entered(roman_name="NGUYEN VAN-AN"), resident=record()).ok
    assert crosscheck(entered=entered(roman_name="NGUYỄN  VĂN  AN"), resident=record()).ok
    assert crosscheck(entered=entered(roman_name="NGUYEN VANAN"), resident=record()).ok
    for other in ("NGUYEN VAN AM", "VAN NGUYEN AN", "NGUYEN AN"):
        assert crosscheck(entered=entered(roman_name=other), resident=record()).mismatched == ("roman_name",)


# --- municipalities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "recorded", "same"),
    [
        ("新宿区", "新宿区", True),
        ("鎌ヶ谷市", "鎌ケ谷市", True),
        ("瑞穂町", "西多摩郡瑞穂町", True),
        ("西多摩郡瑞穂町", "西多摩郡瑞穂町", True),
        ("新宿", "新宿区", False),  # no guessing of 市/区/町/村
        ("府中市", "府中町", False),
        ("中区", "横浜市中区", False),  # there are many 中区
        ("郡山市", "大和郡山市", False),
        ("山市", "郡山市", False),
    ],
)
def test_municipality_tolerance_never_accepts_another_municipality(typed, recorded, same):
    assert municipalities_match(typed, recorded) is same


def test_a_leading_prefecture_name_is_dropped_from_the_municipality():
    result = crosscheck(entered=entered(municipality="東京都新宿区"), resident=record())
    assert result.ok and result.normalized.municipality == "新宿区"


# --- mismatches, item by item ------------------------------------------------------------------

WRONG = {
    "nationality": "PHL",
    "roman_name": "NGUYEN VAN BINH",
    "sex": "F",
    "date_of_birth": dt.date(1995, 4, 2),
    "prefecture": "14",
    "municipality": "豊島区",
    "card_number": "AB12345679CD",
    "card_expires_on": dt.date(2027, 5, 30),
}
NAMED = {
    "nationality": "nationality",
    "roman_name": "name",
    "sex": "sex",
    "date_of_birth": "date of birth",
    "prefecture": "prefecture",
    "municipality": "municipality",
    "card_number": "residence card number",
    "card_expires_on": "card expiry date",
}


@pytest.mark.parametrize("name", FIELDS)
def test_each_mismatch_names_its_item_and_not_the_record(name):
    result = crosscheck(entered=entered(**{name: WRONG[name]}), resident=record())
    assert not result.ok
    assert result.mismatched == (name,)
    [problem] = result.messages
    assert problem.code == f"{name}_mismatch" and problem.field == name and problem.blocks
    message = rendered(problem)
    assert NAMED[name] in message.lower()
    assert "does not match" in message and ("Check" in message or "Enter" in message)
    allowed = {"NGUYEN"} if name == "roman_name" else set()
    assert_reveals_nothing(result, allowed=allowed)


def test_several_mismatches_are_listed_together():
    result = crosscheck(
        entered=entered(date_of_birth=WRONG["date_of_birth"], sex="F", municipality="新宿"),
        resident=record(),
    )
    assert result.mismatched == ("sex", "date_of_birth", "municipality")
    assert [p.code for p in result.messages] == [
        "sex_mismatch",
        "date_of_birth_mismatch",
        "municipality_mismatch",
    ]


def test_the_date_of_birth_message_tells_the_user_what_to_do():
    result = crosscheck(entered=entered(date_of_birth="1995-04-02"), resident=record())
    assert rendered(result.messages[0]) == (
        "The date of birth does not match the residence card record. Check it against your "
        "residence card (year, month and day)."
    )


def test_an_unknown_card_number_says_only_that():
    result = crosscheck(entered=entered(card_number="zz 9999 9999 zz"), resident=None)
    assert not result.ok and result.mismatched == ("card_number",)
    [problem] = result.messages
    assert problem.code == "card_not_found" and problem.field == "card_number"
    message = rendered(problem)
    assert "ZZ99999999ZZ" in message and "Check the number" in message
    assert_reveals_nothing(result)


# --- input that cannot be read -----------------------------------------------------------------


def test_malformed_items_are_explained_and_not_compared():
    result = crosscheck(
        entered=entered(card_number="AB1234", date_of_birth="1st April", sex="X", prefecture="Atlantis"),
        resident=record(),
    )
    assert not result.ok and result.mismatched == ()
    codes = {p.field: p.code for p in result.messages}
    assert codes == {
        "card_number": "card_number_invalid",
        "date_of_birth": "date_of_birth_invalid",
        "sex": "sex_invalid",
        "prefecture": "prefecture_invalid",
    }
    messages = {p.field: rendered(p) for p in result.messages}
    assert "AB12345678CD" in messages["card_number"]  # the format example, not the record
    assert "year-month-day" in messages["date_of_birth"]
    assert "M (male) or F (female)" in messages["sex"]


def test_a_malformed_card_number_is_not_reported_as_unknown():
    result = crosscheck(entered=entered(card_number="AB1234"), resident=None)
    assert [p.code for p in result.messages] == ["card_number_invalid"]
    assert result.mismatched == ()


def test_an_impossible_date_is_invalid():
    result = crosscheck(entered=entered(card_expires_on="2027-02-30"), resident=record())
    assert [p.code for p in result.messages] == ["card_expires_on_invalid"]


def test_missing_items_are_asked_for():
    result = crosscheck(entered=IdentityInput(card_number="AB12345678CD"), resident=record())
    assert {p.code for p in result.messages} == {
        f"{name}_required" for name in FIELDS if name != "card_number"
    }
    assert all("as printed on the residence card" in rendered(p) for p in result.messages)


def test_an_invalid_name_is_explained():
    result = crosscheck(entered=entered(roman_name="グエン"), resident=record())
    assert [p.code for p in result.messages] == ["roman_name_invalid"]
    assert "Latin letters" in rendered(result.messages[0])


# --- lookup and fingerprint --------------------------------------------------------------------


@pytest.mark.django_db
def test_lookup_resident_normalises_the_number(django_assert_num_queries):
    person = ResidentFactory(card_number="AB12345678CD")
    assert lookup_resident("ａｂ-1234 5678-cd") == person
    assert lookup_resident("AB00000000CD") is None
    with django_assert_num_queries(0):
        assert lookup_resident("not a number") is None


def test_the_fingerprint_follows_the_card_and_hides_it():
    first = mismatch_fingerprint(entered(date_of_birth=dt.date(2000, 1, 1)))
    assert first == mismatch_fingerprint(entered(card_number="ab 12345678 cd", roman_name="SOMEONE ELSE"))
    assert first == mismatch_fingerprint("AB12345678CD")
    assert first != mismatch_fingerprint(entered(card_number="AB12345679CD"))
    assert len(first) == 64 and int(first, 16) >= 0
    assert "12345678" not in first


def test_the_input_dataclass_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        entered().roman_name = "X"  # type: ignore[misc]


def test_the_identity_items_are_read_from_the_fields_of_their_roles():
    assert identity_field_id("prefecture") == "address_prefecture"
    assert identity_field_id("card_expires_on") == "card_expiry"
    answers = {
        "nationality": "VNM",
        "roman_name": "NGUYEN VAN AN",
        "sex": "male",
        "date_of_birth": "1995-04-01",
        "address_prefecture": "13",
        "address_municipality": "新宿区",
        "card_number": "AB12345678CD",
        "occupation": "engineer",
    }
    assert identity_from_answers(answers) == IdentityInput(
        nationality="VNM",
        roman_name="NGUYEN VAN AN",
        sex="male",
        date_of_birth="1995-04-01",
        prefecture="13",
        municipality="新宿区",
        card_number="AB12345678CD",
        card_expires_on=None,
    )
