"""The catalogue of application forms (catalogue/formspec.py, data/forms/*.yaml)."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml
from django.utils import translation

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import (
    FIELD_TYPES,
    FORMS_DIR,
    ROLES,
    FormSpecError,
    django_form_class,
    flat_columns,
    form_for,
    get_form_library,
    json_schema,
    load_form_library,
    normalize_and_validate,
    organization_part_as_pdf,
    role_field_id,
)

try:
    import jsonschema
except ImportError:  # not a dependency: the structural check below still runs
    jsonschema = None

TODAY = dt.date(2026, 11, 21)
MAIN_PROCEDURES = ("P1", "P2", "P3", "P4", "P5")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def online_entries():
    return get_catalogue().entries_in_force(TODAY, online_only=True)


def codes(result):
    return {(e.field_id, e.code, e.row) for e in result.errors}


def error_fields(result):
    return {e.field_id for e in result.errors}


# --- the library ------------------------------------------------------------------------------


def test_the_library_loads_with_every_field_labelled_and_typed():
    library = get_form_library()
    assert len(library.fields) > 200
    for spec in library.fields.values():
        assert spec.type in FIELD_TYPES
        assert spec.label.ja and spec.label.en
    labels = [s.label.en for s in library.fields.values()]
    assert len(labels) == len(set(labels))


@pytest.mark.parametrize("procedure", MAIN_PROCEDURES)
def test_every_procedure_and_online_status_yields_the_steps_of_f03(procedure, online_entries):
    for entry in online_entries:
        for category in ("U1", "U3", "U4", "U7"):
            form = form_for(procedure=procedure, status=entry.key, user_category=category)
            ids = [f.id for f in form.fields]
            assert len(ids) == len(set(ids)), (procedure, entry.key, category)
            has_part = entry.group.has_organization_part and category != "U1"
            expected = ("2-1", "2-2", "2-3", "confirm") if has_part else ("2-1", "2-2", "confirm")
            assert form.step_ids == expected, (procedure, entry.key, category)
            assert {"nationality", "roman_name", "date_of_birth", "applicant_email"} <= set(ids)
            assert form.field("applicant_email").statically_required  # F-03
            if category == "U4":
                # Complete enough to file: the organization's part is entered, not attached.
                assert len(ids) >= 40, (procedure, entry.key, len(ids))


def test_the_forms_follow_the_procedure():
    coe = form_for(procedure="P1", status="engineer_humanities", user_category="U5")
    extension = form_for(procedure="P3", status="engineer_humanities", user_category="U5")
    acquisition = form_for(procedure="P4", status="engineer_humanities", user_category="U5")
    assert not coe.has_field("card_number") and not coe.has_field("current_status")
    assert coe.has_field("planned_entry_date") and coe.has_field("port_of_entry")
    assert "accompanying_persons" in {s.id for s in coe.sections}
    assert extension.has_field("card_number") and not extension.has_field("planned_entry_date")
    assert not acquisition.has_field("card_number") and acquisition.has_field("acquisition_reason")
    # The status chosen at step 1 is not typed again: it is the value of the field.
    assert coe.field("desired_status").fixed_value == "engineer_humanities"
    assert extension.field("current_status").fixed_value == "engineer_humanities"
    change = form_for(procedure="P2", status="engineer_humanities", user_category="U5")
    assert change.field("current_status").fixed_value is None
    assert change.field("desired_status").fixed_value == "engineer_humanities"


def test_the_organization_part_differs_by_screen_group():
    def part(status):
        form = form_for(procedure="P1", status=status, user_category="U4")
        return {f.id for f in form.step("2-3").fields}

    employer = part("engineer_humanities")
    assert {"org_name", "org_corporate_number", "salary_monthly", "duties", "is_dispatched"} <= employer
    assert {"dispatch_name", "dispatch_address", "dispatch_start_date"} <= employer
    assert "school_name" not in employer
    school = part("student")
    assert {"school_name", "school_kind", "enrolment_date", "tuition_paid", "has_scholarship"} <= school
    assert "salary_monthly" not in school
    supporter = part("dependent")
    assert {"supporter_name", "supporter_card_number", "supporter_annual_income"} <= supporter
    supervised = part("technical_intern_training/1b")
    assert {"sup_org_name", "impl_org_name", "titp_plan_number", "titp_start_date"} <= supervised
    # Company-run training (type (a)) has no supervising organization.
    assert "sup_org_name" not in part("technical_intern_training/1a")
    assert {"business_description", "investment_amount"} <= part("business_manager")
    assert {"transfer_from_name", "transfer_relationship"} <= part("intra_company_transferee")
    assert "transfer_from_name" not in part("journalist")
    assert {"ssw_field", "ssw_support_outsourced"} <= part("specified_skilled_worker/i")
    assert "ssw_support_outsourced" not in part("specified_skilled_worker/ii")
    assert {"training_content", "training_allowance_monthly"} <= part("trainee")
    assert {"religion_denomination", "host_activity_content"} <= part("religious_activities")


def test_groups_without_an_organization_part_ask_their_questions_in_step_2_2():
    spouse = form_for(procedure="P2", status="spouse_or_child_of_japanese", user_category="U4")
    assert "2-3" not in spouse.step_ids
    assert {"t_relationship", "anchor_name", "marriage_date", "household_supporter_annual_income"} <= {
        f.id for f in spouse.step("2-2").fields
    }
    holiday = form_for(procedure="P1", status="designated_activities/n5", user_category="U4")
    assert holiday.has_field("activity_description") and not holiday.has_field("supporter_name")
    family = form_for(procedure="P1", status="designated_activities/n33", user_category="U3")
    assert family.has_field("supporter_name") and not family.has_field("activity_description")
    official = form_for(procedure="P3", status="official", user_category="U4")
    assert official.has_field("official_agency") and not official.has_field("host_name")


def test_u1_stops_before_2_3_and_declares_the_pdf():
    assert organization_part_as_pdf("U1", "N") is True
    assert organization_part_as_pdf("U4", "N") is False
    assert organization_part_as_pdf("U1", "T") is False  # nothing to attach
    form = form_for(procedure="P3", status="engineer_humanities", user_category="U1")
    assert "2-3" not in form.step_ids and not form.has_field("org_name")
    assert form.field("declaration_org_part_pdf").statically_required
    agent = form_for(procedure="P3", status="engineer_humanities", user_category="U4")
    assert not agent.has_field("declaration_org_part_pdf")
    assert agent.has_field("declaration_confirmed_with_applicant")
    assert not form_for(procedure="P3", status="spouse_or_child_of_japanese", user_category="U1").has_field(
        "declaration_org_part_pdf"
    )


def test_user_categories_add_their_own_questions():
    relative = form_for(procedure="P3", status="student", user_category="U3")
    assert relative.has_field("filer_relation") and relative.has_field("filer_reason")
    assert not form_for(procedure="P1", status="student", user_category="U3").has_field("filer_reason")
    assert not form_for(procedure="P3", status="student", user_category="U4").has_field("filer_relation")


def test_add_ons_appear_only_with_p2_to_p4():
    plain = form_for(procedure="P3", status="student", user_category="U4")
    assert not plain.has_field("reentry_kind") and not plain.has_field("p7_kind")
    both = form_for(procedure="P3", status="student", user_category="U4", add_ons=("P7", "P6"))
    assert both.add_ons == ("P6", "P7")
    assert both.has_field("reentry_kind") and both.has_field("p7_hours_per_week")
    assert {"reentry", "activity_permission"} <= {s.id for s in both.step("2-2").sections}
    only_p6 = form_for(procedure="P2", status="student", user_category="U1", add_ons=("P6",))
    assert only_p6.has_field("reentry_kind") and not only_p6.has_field("p7_kind")
    for procedure in ("P1", "P5"):
        with pytest.raises(ValueError, match="only with P2, P3, P4"):
            form_for(procedure=procedure, status="student", user_category="U4", add_ons=("P6",))
    with pytest.raises(ValueError, match="filed only together"):
        form_for(procedure="P6", status="student", user_category="U4")


def test_form_for_refuses_what_cannot_be_filed_online():
    with pytest.raises(ValueError, match="cannot be filed online"):
        form_for(procedure="P3", status="temporary_visitor", user_category="U4")
    with pytest.raises(ValueError, match="unknown status"):
        form_for(procedure="P3", status="astronaut", user_category="U4")
    with pytest.raises(ValueError, match="cannot file online"):
        form_for(procedure="P1", status="student", user_category="U8")


# --- conditions -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extension():
    return form_for(procedure="P3", status="engineer_humanities", user_category="U5")


def test_criminal_record_details_are_required_only_when_yes(extension):
    no = normalize_and_validate(extension, {"has_criminal_record": "no"}, step="2-2", today=TODAY)
    assert "criminal_record_details" not in error_fields(no)
    yes = normalize_and_validate(extension, {"has_criminal_record": "はい"}, step="2-2", today=TODAY)
    assert ("criminal_record_details", "required", None) in codes(yes)
    assert yes.cleaned["has_criminal_record"] is True
    # A value sent for a hidden field is dropped, not stored.
    dropped = normalize_and_validate(
        extension, {"has_criminal_record": False, "criminal_record_details": "x"}, step="2-2", today=TODAY
    )
    assert "criminal_record_details" not in dropped.cleaned


def test_the_dispatch_destination_is_asked_only_when_dispatched(extension):
    direct = normalize_and_validate(extension, {"is_dispatched": False}, step="2-3", today=TODAY)
    assert not {"dispatch_name", "dispatch_address", "dispatch_start_date"} & error_fields(direct)
    dispatched = normalize_and_validate(extension, {"is_dispatched": True}, step="2-3", today=TODAY)
    assert {"dispatch_name", "dispatch_address", "dispatch_start_date", "dispatch_end_date"} <= error_fields(
        dispatched
    )
    assert "dispatch_phone" not in error_fields(dispatched)  # optional even when shown
    assert not extension.field("dispatch_name").statically_required


def test_family_rows_only_when_there_is_family_in_japan(extension):
    none = normalize_and_validate(
        extension,
        {"has_family_in_japan": False, "family_members": [{"family_name": "X"}]},
        step="2-2",
        today=TODAY,
    )
    assert "family_members" not in none.cleaned and "family_members" not in error_fields(none)
    missing = normalize_and_validate(extension, {"has_family_in_japan": True}, step="2-2", today=TODAY)
    assert ("family_members", "rows_required", None) in codes(missing)
    rows = [
        {"family_relation": "spouse", "family_name": "nguyen thi b", "family_date_of_birth": "1992-01-05",
         "family_nationality": "VNM", "family_lives_together": "yes", "family_card_number": "ab12345678cd"},
        {},  # a blank row, e.g. an unused extra form: skipped
        {"family_relation": "child", "family_name": "山田 花子", "family_date_of_birth": "2040-01-01",
         "family_nationality": "JPN", "family_lives_together": "no"},
    ]  # fmt: skip
    result = normalize_and_validate(
        extension, {"has_family_in_japan": True, "family_members": rows}, step="2-2", today=TODAY
    )
    family_errors = {(e.field_id, e.code, e.row) for e in result.errors if e.row}
    assert family_errors == {("family_date_of_birth", "too_late", 3)}
    assert result.cleaned["family_members"][0]["family_card_number"] == "AB12345678CD"
    assert "family_card_number" not in result.cleaned["family_members"][1]  # Japanese: no card
    message = str(next(e.message for e in result.errors if e.row == 3))
    assert message.startswith("Family member: date of birth (row 3):")
    too_many = normalize_and_validate(
        extension,
        {"has_family_in_japan": True, "family_members": [{"family_name": "A"}] * 7},
        step="2-2",
        today=TODAY,
    )
    assert ("family_members", "too_many_rows", None) in codes(too_many)


def test_conditions_mix_context_and_answers():
    acquisition = form_for(procedure="P4", status="dependent", user_category="U2")
    without = normalize_and_validate(acquisition, {"has_passport": False}, step="2-2", today=TODAY)
    assert not {"passport_number", "passport_expiry"} & error_fields(without)
    with_passport = normalize_and_validate(acquisition, {"has_passport": True}, step="2-2", today=TODAY)
    assert {"passport_number", "passport_expiry"} <= error_fields(with_passport)
    # Elsewhere the passport is always asked.
    assert (
        form_for(procedure="P3", status="dependent", user_category="U2")
        .field("passport_number")
        .statically_required
    )
    # A phone number is needed unless a mobile number is given (and not for a COE).
    extension = form_for(procedure="P3", status="dependent", user_category="U2")
    assert "phone_number" in error_fields(normalize_and_validate(extension, {}, step="2-1", today=TODAY))
    mobile = normalize_and_validate(extension, {"mobile_number": "090 1234 5678"}, step="2-1", today=TODAY)
    assert "phone_number" not in error_fields(mobile)
    coe = form_for(procedure="P1", status="dependent", user_category="U2")
    assert "phone_number" not in error_fields(normalize_and_validate(coe, {}, step="2-1", today=TODAY))


def test_conditional_limits_and_cross_field_bounds():
    form = form_for(procedure="P3", status="student", user_category="U4", add_ons=("P6", "P7"))
    answers = {"p7_kind": "comprehensive", "p7_hours_per_week": "30", "reentry_departure_date": "2027-01-10",
               "reentry_return_date": "2027-01-05"}  # fmt: skip
    result = normalize_and_validate(form, answers, step="2-2", today=TODAY)
    assert ("p7_hours_per_week", "too_large", None) in codes(result)
    assert ("reentry_return_date", "before_other", None) in codes(result)
    assert "p7_employer_name" not in error_fields(result)  # comprehensive: no employer
    individual = normalize_and_validate(
        form, {**answers, "p7_kind": "individual", "p7_hours_per_week": "30"}, step="2-2", today=TODAY
    )
    assert "p7_hours_per_week" not in error_fields(individual)
    assert {"p7_employer_name", "p7_monthly_pay"} <= error_fields(individual)


# --- normalisation ----------------------------------------------------------------------------


def test_normalisation_fixes_what_can_be_fixed_and_shows_it(extension):
    answers = {
        "date_of_birth": "１９９０／０４／０１",
        "roman_name": "nguyen van,an",
        "phone_number": "０３（１２３４）５６７８",
        "mobile_number": "09012345678",
        "address_prefecture": "東京都",
        "applicant_email": " An@Example.COM ",
        "passport_number": "c1234567",
        "card_number": "ab 1234 5678 cd",
        "current_period_of_stay": "３年",
        "desired_period_of_stay": "5 years",
        "card_expiry": "R9.3.31",
        "sex": "Male",
        "nationality": "Viet Nam",
    }
    result = normalize_and_validate(extension, answers, today=TODAY)
    cleaned = result.cleaned
    assert cleaned["date_of_birth"] == "1990-04-01"
    assert cleaned["roman_name"] == "NGUYEN VAN AN"
    assert cleaned["phone_number"] == "03-1234-5678"
    assert cleaned["mobile_number"] == "09012345678"  # hyphens are optional
    assert cleaned["address_prefecture"] == "13"
    assert cleaned["applicant_email"] == "An@example.com"
    assert cleaned["passport_number"] == "C1234567"
    assert cleaned["card_number"] == "AB12345678CD"
    assert cleaned["current_period_of_stay"] == "3Y"
    assert cleaned["desired_period_of_stay"] == "5Y"
    assert cleaned["card_expiry"] == "2027-03-31"
    assert cleaned["sex"] == "male" and cleaned["nationality"] == "VNM"
    changed = {c.field_id: c.after for c in result.changes}
    assert changed["roman_name"] == "NGUYEN VAN AN" and changed["date_of_birth"] == "1990-04-01"
    assert not set(answers) & error_fields(result)


def test_numbers_and_amounts_accept_what_people_type(extension):
    answers = {"salary_monthly": "２５万", "org_employees": "1,200", "org_foreign_employees": "30人",
               "org_capital": "¥10,000,000"}  # fmt: skip
    result = normalize_and_validate(extension, answers, step="2-3", today=TODAY)
    assert result.cleaned["salary_monthly"] == 250000
    assert result.cleaned["org_employees"] == 1200 and result.cleaned["org_foreign_employees"] == 30
    assert result.cleaned["org_capital"] == 10_000_000
    more_foreign = normalize_and_validate(
        extension, {"org_employees": "10", "org_foreign_employees": "11"}, step="2-3", today=TODAY
    )
    assert ("org_foreign_employees", "after_other", None) in codes(more_foreign)


@pytest.mark.parametrize(
    ("field_id", "value", "code", "start"),
    [
        ("date_of_birth", "next Tuesday", "invalid_date", "Date of birth: enter a date such as 1990-04-01."),
        ("date_of_birth", "1990-02-30", "date_nonexistent", "Date of birth:"),
        ("date_of_birth", "1990-13-01", "date_nonexistent", "Date of birth:"),
        ("date_of_birth", "2030-01-01", "too_late", "Date of birth: the date must be 2026-11-21 or earlier."),
        ("roman_name", "Nguyễn 2", "roman_name_characters", "Name (Latin letters):"),
        ("passport_number", "C12", "invalid_passport_number", "Passport number:"),
        ("phone_number", "12345", "invalid_phone_number", "Telephone number:"),
        ("applicant_email", "an@", "invalid_email", "Applicant's e-mail address for notifications:"),
        ("card_number", "1234", "invalid_card_number", "Residence card number:"),
        ("sex", "x", "invalid_choice", "Sex:"),
        ("nationality", "ZZZ", "invalid_nationality", "Nationality or region:"),
        ("address_prefecture", "48", "invalid_prefecture", "Address in Japan (prefecture):"),
        ("current_period_expiry", "2026-11-21", "too_early", "Expiry of the period of stay:"),
        ("kanji_name", "阮 Van", "invalid_kanji_name", "Name in kanji:"),
        ("has_criminal_record", "maybe", "invalid_boolean", "“Have you ever been punished"),
        ("org_corporate_number", "1234567890123", "corporate_number_check_digit", "Corporate number of the"),
        ("org_employment_insurance_number", "12-34", "invalid_format", "Employment insurance office number:"),
        ("salary_monthly", "a lot", "invalid_money", "Salary or remuneration"),
        ("salary_monthly", "0", "too_small", "Salary or remuneration"),
        (
            "address_street",
            "x" * 101,
            "too_long",
            "Address in Japan (street, number and building): at most 100",
        ),
    ],
)
def test_invalid_values_give_errors_that_name_the_field(extension, field_id, value, code, start):
    result = normalize_and_validate(extension, {field_id: value}, today=TODAY)
    errors = result.errors_for(field_id)
    assert [e.code for e in errors] == [code]
    assert str(errors[0].message).startswith(start)
    assert field_id not in result.cleaned


def test_messages_follow_the_active_language(extension):
    result = normalize_and_validate(extension, {"date_of_birth": "yesterday"}, today=TODAY)
    message = result.errors_for("date_of_birth")[0].message
    with translation.override("ja"):
        assert str(message).startswith("生年月日：")
    assert str(message).startswith("Date of birth:")


def test_unknown_keys_are_named_and_context_fields_cannot_be_overridden(extension):
    result = normalize_and_validate(
        extension, {"nationalty": "VNM", "current_status": "student"}, today=TODAY
    )
    assert ("nationalty", "unknown_field", None) in codes(result)
    assert ("current_status", "fixed_by_context", None) in codes(result)
    ok = normalize_and_validate(extension, {"current_status": "Engineer_Humanities"}, today=TODAY)
    assert ok.cleaned["current_status"] == "engineer_humanities"


def test_declarations_must_be_ticked(extension):
    result = normalize_and_validate(extension, {"declaration_truthful": False}, step="confirm", today=TODAY)
    assert ("declaration_truthful", "declaration_required", None) in codes(result)
    ok = normalize_and_validate(
        extension,
        {"declaration_truthful": True, "declaration_confirmed_with_applicant": "on"},
        step="confirm",
        today=TODAY,
    )
    assert ok.is_valid and ok.cleaned == {
        "declaration_truthful": True,
        "declaration_confirmed_with_applicant": True,
    }


def test_a_complete_application_validates():
    form = form_for(procedure="P3", status="dependent", user_category="U1", add_ons=("P6",))
    answers = {
        "nationality": "PHL", "date_of_birth": "1995-07-20", "roman_name": "SANTOS MARIA", "sex": "female",
        "place_of_birth": "Manila, Philippines", "marital_status": "married", "occupation": "主婦",
        "home_town": "Quezon City", "address_prefecture": "27", "address_municipality": "大阪市北区",
        "address_street": "梅田1-1-1", "mobile_number": "080-1234-5678", "applicant_email": "maria@example.com",
        "passport_number": "P1234567A", "passport_expiry": "2030-01-01", "card_number": "AB12345678CD",
        "card_expiry": "2027-01-31", "current_period_of_stay": "1Y", "current_period_expiry": "2027-01-31",
        "desired_period_of_stay": "1Y", "application_reason": "夫と引き続き同居するため",
        "has_criminal_record": False, "has_deportation_history": False, "has_family_in_japan": False,
        "reentry_kind": "single", "reentry_purpose": "visiting_relatives", "reentry_destination": "PHL",
        "reentry_departure_date": "2026-12-20", "reentry_return_date": "2027-01-10",
        "reentry_pending_criminal_case": False, "declaration_truthful": True, "declaration_org_part_pdf": True,
    }  # fmt: skip
    result = normalize_and_validate(form, answers, today=TODAY)
    assert result.errors == []
    assert result.cleaned["current_status"] == "dependent"
    assert set(result.cleaned) <= {f.id for f in form.fields}


# --- derived artefacts ------------------------------------------------------------------------


def test_the_django_form_renders_and_validates(extension):
    form_class = django_form_class(extension, "2-2")
    assert django_form_class(extension, "2-2") is form_class
    unbound = form_class()
    html = str(unbound)
    assert "Passport expiry date" in html and 'type="date"' in html
    assert unbound.fields["has_criminal_record"].required
    assert not unbound.fields["criminal_record_details"].required  # conditional
    assert unbound.fields["current_status"].disabled
    with translation.override("ja"):
        assert "旅券の有効期限" in str(form_class())
    data = {
        "passport_number": "c1234567", "passport_expiry": "2030-01-01", "card_number": "AB12345678CD",
        "card_expiry": "2027-01-31", "current_period_of_stay": "5年", "current_period_expiry": "2027-01-31",
        "desired_period_of_stay": "5Y", "application_reason": "継続して勤務するため",
        "has_criminal_record": "true", "has_deportation_history": "false", "has_family_in_japan": "true",
        "family_members-TOTAL_FORMS": "2", "family_members-INITIAL_FORMS": "0",
        "family_members-0-family_relation": "spouse", "family_members-0-family_name": "TRAN THI B",
        "family_members-0-family_date_of_birth": "1993-03-03", "family_members-0-family_nationality": "VNM",
        "family_members-0-family_lives_together": "true", "family_members-0-family_card_number": "zz",
        "education_place": "abroad", "education_level": "bachelor", "education_school_name": "Hanoi University",
        "education_graduation": "2015-06", "education_major": "Computer science", "has_it_qualification": "false",
        "work_history-TOTAL_FORMS": "1", "work_history-INITIAL_FORMS": "0",
    }  # fmt: skip
    bound = form_class(data, today=TODAY)
    assert not bound.is_valid()
    assert "criminal_record_details" in bound.errors  # conditionally required, reported as a form error
    assert bound.errors["criminal_record_details"][0].startswith("Details of the punishment:")
    row_errors = bound.formsets["family_members"].forms[0].errors
    assert "family_card_number" in row_errors and "family_relation" not in row_errors
    data["has_criminal_record"] = "false"
    data["family_members-0-family_card_number"] = "ab12345678cd"
    fixed = form_class(data, today=TODAY)
    assert fixed.is_valid(), (fixed.errors, [f.errors for f in fixed.formsets["family_members"].forms])
    assert fixed.cleaned_data["passport_number"] == "C1234567"
    assert fixed.cleaned_data["current_period_of_stay"] == "5Y"
    assert fixed.cleaned_data["family_members"][0]["family_card_number"] == "AB12345678CD"
    assert len(fixed.cleaned_data["family_members"]) == 1


KEYWORDS_2020_12 = {
    "$schema", "$id", "title", "description", "type", "properties", "required", "allOf", "anyOf", "not",
    "if", "then", "const", "enum", "items", "uniqueItems", "maxItems", "minItems", "minimum", "maximum",
    "maxLength", "minLength", "pattern", "format", "readOnly", "dependentRequired", "contains",
}  # fmt: skip
JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


def _check_schema(node, path="#"):
    assert isinstance(node, dict), path
    for key, value in node.items():
        assert key in KEYWORDS_2020_12 or key.startswith("x-zairyu-"), f"{path}: {key}"
        if key == "type":
            assert value in JSON_TYPES, path
        elif key in ("properties",):
            for name, sub in value.items():
                _check_schema(sub, f"{path}/properties/{name}")
        elif key in ("allOf", "anyOf"):
            assert value, path
            for i, sub in enumerate(value):
                _check_schema(sub, f"{path}/{key}/{i}")
        elif key in ("not", "if", "then", "items", "contains"):
            _check_schema(value, f"{path}/{key}")
        elif key == "enum":
            assert isinstance(value, list) and value, path
        elif key == "required":
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), path
        elif key == "dependentRequired":
            assert all(isinstance(v, list) for v in value.values()), path
    if node.get("type") == "object" and "required" in node:
        assert set(node["required"]) <= set(node["properties"]), path
    if "if" in node:
        assert "then" in node, path


@pytest.mark.parametrize(
    ("procedure", "status", "category", "add_ons"),
    [
        ("P1", "engineer_humanities", "U5", ()),
        ("P3", "student", "U4", ("P6", "P7")),
        ("P2", "spouse_or_child_of_japanese", "U1", ()),
        ("P1", "technical_intern_training/2b", "U5", ()),
    ],
)
def test_json_schema_is_a_2020_12_schema_with_the_conditions(procedure, status, category, add_ons):
    form = form_for(procedure=procedure, status=status, user_category=category, add_ons=add_ons)
    schema = json_schema(form, today=TODAY)
    json.dumps(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    _check_schema(schema)
    properties = schema["properties"]
    assert "roman_name" in schema["required"] and properties["date_of_birth"]["format"] == "date"
    assert properties["criminal_record_details"]["x-zairyu-required-when"] == {
        "all": [{"answer": "has_criminal_record", "equals": True}]
    } or properties["criminal_record_details"]["x-zairyu-required-when"] == {
        "answer": "has_criminal_record",
        "equals": True,
    }
    assert {"if": {"properties": {"has_criminal_record": {"const": True}}, "required": ["has_criminal_record"]},
            "then": {"required": ["criminal_record_details"]}} in schema["allOf"]  # fmt: skip
    family = properties["family_members"]
    assert family["type"] == "array" and family["maxItems"] == 6
    assert "family_relation" in family["items"]["required"]
    assert properties["declaration_truthful"]["const"] is True
    if jsonschema is not None:
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.skipif(jsonschema is None, reason="jsonschema is not installed")
def test_json_schema_states_the_conditional_requirements(extension):
    schema = json_schema(extension, today=TODAY)
    validator = jsonschema.Draft202012Validator(schema)
    errors = [e.message for e in validator.iter_errors({"has_criminal_record": True})]
    assert any("criminal_record_details" in m for m in errors)


def test_flat_columns_have_unique_headers_and_codes():
    form = form_for(procedure="P1", status="engineer_humanities", user_category="U5")
    columns = flat_columns(form, today=TODAY)
    keys = [c.key for c in columns]
    assert len(keys) == len(set(keys))
    for language in ("header_ja", "header_en"):
        headers = [getattr(c, language) for c in columns]
        assert len(headers) == len(set(headers)), language
    by_key = {c.key: c for c in columns}
    assert [f"family_name_{n}" for n in range(1, 7)] == [k for k in keys if k.startswith("family_name_")]
    assert by_key["family_name_1"].header_en == "Family member: name (1)"
    assert by_key["family_name_1"].required == "conditional"
    assert by_key["roman_name"].required == "always" and by_key["roman_name"].codes is None
    assert by_key["sex"].codes == ("male", "female")
    assert by_key["address_prefecture"].codes[0] == "01" and len(by_key["address_prefecture"].codes) == 47
    assert by_key["has_criminal_record"].codes == ("true", "false")
    assert by_key["dispatch_name"].required == "conditional"
    # One template serves the whole screen group: the status column lists its statuses.
    assert {"engineer_humanities", "skilled_labor", "highly_skilled_professional/1b"} <= set(
        by_key["desired_status"].codes
    )
    assert "student" not in by_key["desired_status"].codes


# --- broken data is refused -------------------------------------------------------------------


def _broken_copy(tmp_path: Path, name: str, edit) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    path = target / name
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)  # noqa: S506
    edit(data)
    path.write_text(
        yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return target


def _field(data, field_id):
    return next(f for f in data["fields"] if f["id"] == field_id)


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (
            "fields.yaml",
            lambda d: _field(d, "sex").update(lable_en="Sex"),
            r"field 'sex': unknown key\(s\) \['lable_en'\]",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "sex").update(type="gender"),
            "field 'sex': type 'gender' is not one of",
        ),
        ("fields.yaml", lambda d: d["fields"].append(dict(_field(d, "sex"))), "field 'sex' appears twice"),
        (
            "fields.yaml",
            lambda d: _field(d, "sex").update(choice_set="genders"),
            "field 'sex': unknown choice set 'genders'",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "nationality").update(choice_source="planets"),
            "unknown choice source 'planets'",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "criminal_record_details").update(
                show_when={"answer": "has_crime", "equals": True}
            ),
            "field 'criminal_record_details': show_when: unknown field 'has_crime'",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "criminal_record_details").update(
                show_when={"answer": "has_criminal_record", "is": True}
            ),
            "exactly one test",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "port_of_entry_other").update(
                show_when={"answer": "port_of_entry", "equals": "osaka"}
            ),
            r"\['osaka'\] are not choices of 'port_of_entry'",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "filer_reason").update(applies={"context": "procedure", "in": ["P9"]}),
            r"unknown procedure \['P9'\]",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "filer_reason").update(applies={"answer": "sex", "equals": "male"}),
            "may only use the context",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "sex").update(required="sometimes"),
            "field 'sex': required: must be 'always', 'never'",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "has_criminal_record").update(
                show_when={"answer": "criminal_record_details", "is_set": True}
            ),
            "go round in a circle",
        ),
        (
            "fields.yaml",
            lambda d: _field(d, "occupation").update(label_en="Sex"),
            "has the label 'Sex' of field 'sex'",
        ),
        (
            "structure.yaml",
            lambda d: d["steps"][0]["sections"][0]["fields"].append("favourite_colour"),
            r"section 'applicant_identity': unknown field id\(s\) \['favourite_colour'\]",
        ),
        (
            "structure.yaml",
            lambda d: d["steps"][0]["sections"][0].update(applies={"context": "weather", "equals": "rain"}),
            "unknown context variable 'weather'",
        ),
        (
            "structure.yaml",
            lambda d: d["steps"][0]["sections"][0].update(applies={"context": "group", "equals": "Z"}),
            r"unknown group \['Z'\]",
        ),
        (
            "choices.yaml",
            lambda d: d["choice_sets"]["sex"].update(other={"ja": "その他"}),
            "needs 'ja' and 'en'",
        ),
    ],
)
def test_broken_data_is_refused_with_a_clear_message(tmp_path, name, edit, message):
    directory = _broken_copy(tmp_path, name, edit)
    with pytest.raises(FormSpecError, match=message):
        load_form_library(directory)


def test_unreadable_yaml_is_refused(tmp_path):
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    (target / "structure.yaml").write_text("steps: [unclosed\n", encoding="utf-8")
    with pytest.raises(FormSpecError, match="structure.yaml: cannot be read"):
        load_form_library(target)


def test_a_field_used_nowhere_is_refused(tmp_path):
    def add(data):
        data["fields"].append({"id": "shoe_size", "type": "integer", "label_ja": "靴のサイズ", "label_en": "Shoe size",
                               "required": "never"})  # fmt: skip

    with pytest.raises(FormSpecError, match=r"used in no section of structure.yaml: \['shoe_size'\]"):
        load_form_library(_broken_copy(tmp_path, "fields.yaml", add))


def test_the_django_form_speaks_with_the_field_names(extension):
    confirm = django_form_class(extension, "confirm")({}, today=TODAY)
    assert not confirm.is_valid()
    assert confirm.errors["declaration_truthful"][0].startswith(
        "“I declare that the information given is true"
    )
    personal = django_form_class(extension, "2-1")({"sex": "x", "address_prefecture": "13"}, today=TODAY)
    assert not personal.is_valid()
    assert personal.errors["sex"] == ["Sex: “x” is not one of the options; choose from the list."]
    assert personal.errors["roman_name"] == ["Name (Latin letters): this is required; please fill it in."]
    assert "address_prefecture" not in personal.errors


# --- roles ------------------------------------------------------------------------------------


def test_every_role_is_given_to_one_field_of_the_library():
    library = get_form_library()
    assert set(library.roles) == set(ROLES)
    for role, field_id in library.roles.items():
        assert library.fields[field_id].role == role
        assert role_field_id(role) == field_id
    assert role_field_id("identity.prefecture") == "address_prefecture"
    assert role_field_id("applicant.email") == "applicant_email"
    with pytest.raises(KeyError, match="not a role"):
        role_field_id("identity.shoe_size")


def test_a_form_finds_the_fields_it_asks_by_role(extension):
    assert extension.field_for_role("identity.card_number").id == "card_number"
    assert extension.field_for_role("stay.expires_on").step == "2-2"
    coe = form_for(procedure="P1", status="engineer_humanities", user_category="U5")
    assert coe.field_for_role("identity.roman_name").id == "roman_name"
    assert coe.field_for_role("identity.card_number") is None  # a COE applicant has no card yet
    with pytest.raises(KeyError, match="not a role"):
        extension.field_for_role("identity.shoe_size")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: _field(d, "sex").update(role="identity.gender"),
            "field 'sex': unknown role 'identity.gender'",
        ),
        (
            lambda d: _field(d, "occupation").update(role="identity.sex"),
            "field 'occupation' has the role 'identity.sex' of field 'sex'",
        ),
        (lambda d: _field(d, "sex").pop("role"), r"no field has the role\(s\) \['identity.sex'\]"),
        (
            lambda d: _field(d, "family_name").update(role="identity.sex") or _field(d, "sex").pop("role"),
            "field 'family_name' has the role 'identity.sex', which is answered once; it cannot repeat",
        ),
    ],
)
def test_broken_roles_are_refused(tmp_path, edit, message):
    with pytest.raises(FormSpecError, match=message):
        load_form_library(_broken_copy(tmp_path, "fields.yaml", edit))
