import datetime as dt

import pytest
from django.utils import translation

from zairyu.catalogue.rules import Verdict, age_on, combination_errors, eligibility

TODAY = dt.date(2026, 11, 21)


def check(user, procedure, status, **facts):
    return eligibility(user_category=user, procedure=procedure, status=status, facts=facts, on=TODAY)


def test_self_applicant_coe_needs_a_consultation_with_the_bureau_first():
    result = check("U1", "P1", "engineer_humanities")
    assert result.verdict is Verdict.CONDITIONAL
    assert [c.code for c in result.pending] == ["consulted_bureau"]
    assert check("U1", "P1", "engineer_humanities", consulted_bureau=True).allowed
    assert check("U1", "P1", "engineer_humanities", consulted_bureau=False).verdict is Verdict.DENIED
    assert check("U1", "P3", "engineer_humanities").allowed


def test_relative_coe_only_for_family_statuses_and_only_when_living_in_japan():
    student = check("U3", "P1", "student")
    assert student.verdict is Verdict.CONDITIONAL
    assert [c.code for c in student.met] == ["relative_family_status"]
    assert [c.code for c in student.pending] == ["relative_lives_in_japan"]
    assert check("U3", "P1", "designated_activities/n47", relative_lives_in_japan=True).allowed
    refused = check("U3", "P1", "engineer_humanities", relative_lives_in_japan=True)
    assert refused.verdict is Verdict.DENIED and refused.failed[0].code == "relative_family_status"
    with translation.override("en"):
        message = str(refused.reasons[0].message)
    assert message.startswith("This is possible only when:") and "Long-Term Resident" in message


def test_relative_change_and_extension_only_for_a_child_under_16_or_an_applicant_unable_to_apply():
    day = dt.date(2026, 6, 1)

    def relative(born=None, **facts):
        return eligibility(
            user_category="U3",
            procedure="P3",
            status="engineer_humanities",
            facts=facts,
            on=day,
            applicant_born=born,
        )

    # The age is the registry's date of birth on the filing day, not what the filer says.
    assert relative(dt.date(2010, 6, 2)).allowed  # 15, sixteen tomorrow
    adult = relative(dt.date(2010, 6, 1))  # sixteen today
    assert adult.verdict is Verdict.CONDITIONAL and [c.code for c in adult.pending] == ["applicant_unable"]
    with translation.override("en"):
        assert "16 or older on the filing date" in str(adult.pending[0].text)
    assert relative(dt.date(2006, 1, 1), applicant_unable=True).allowed
    assert [c.code for c in relative(dt.date(2006, 1, 1), applicant_unable=True).met] == [
        "applicant_under_16_or_unable",
        "applicant_unable",
    ]
    assert relative(dt.date(2006, 1, 1), applicant_unable=False).verdict is Verdict.DENIED
    # A stated "under 16" decides nothing; without a date of birth the condition stays open.
    assert relative(applicant_under_16_or_unable=True).verdict is Verdict.CONDITIONAL
    assert relative(dt.date(2006, 1, 1), applicant_under_16_or_unable=True).verdict is Verdict.CONDITIONAL
    for procedure in ("P5", "P7"):
        result = check("U3", procedure, "dependent", applicant_unable=True)
        assert result.verdict is Verdict.DENIED and result.reasons[0].code == "matrix"


def test_age_in_full_years_on_a_day():
    assert age_on(dt.date(2010, 6, 1), dt.date(2026, 5, 31)) == 15
    assert age_on(dt.date(2010, 6, 1), dt.date(2026, 6, 1)) == 16
    assert age_on(dt.date(2008, 2, 29), dt.date(2024, 2, 28)) == 15
    assert age_on(dt.date(2008, 2, 29), dt.date(2024, 2, 29)) == 16


@pytest.mark.parametrize("user", ["U5", "U6", "U7"])
def test_organization_staff_only_for_their_organizations_foreigners(user):
    assert check(user, "P3", "student").verdict is Verdict.CONDITIONAL
    assert check(user, "P3", "student", applicant_in_scope=True).allowed
    assert check(user, "P3", "student", applicant_in_scope=False).verdict is Verdict.DENIED


def test_window_applicants_and_excluded_statuses():
    assert check("U8", "P1", "student").reasons[0].code == "window_only"
    assert check("U4", "P3", "temporary_visitor").reasons[0].code == "status_not_online"
    assert (
        check("U4", "P2", "designated_activities/departure_preparation").reasons[0].code
        == "status_not_online"
    )
    assert check("U4", "P1", "employment_for_skill_development").reasons[0].code == "status_not_in_force"
    assert eligibility(
        user_category="U4", procedure="P1", status="employment_for_skill_development", on=dt.date(2027, 4, 1)
    ).allowed


def test_unknown_codes_are_programming_errors():
    with pytest.raises(KeyError):
        check("U9", "P1", "student")
    with pytest.raises(KeyError):
        check("U1", "P1", "astronaut")


def test_re_entry_and_activity_permission_go_only_with_change_extension_or_acquisition():
    assert combination_errors(main="P3", add_ons=["P6", "P7"]) == []
    assert combination_errors(main="P4", add_ons=["P6"]) == []
    assert [r.code for r in combination_errors(main="P1", add_ons=["P6"])] == ["add_on_not_allowed"]
    assert [r.code for r in combination_errors(main="P5", add_ons=["P7"])] == ["add_on_not_allowed"]
    assert [r.code for r in combination_errors(main="P6", add_ons=[])] == ["add_on_alone"]
    assert [r.code for r in combination_errors(main="P2", add_ons=["P6", "P6"])] == ["duplicate"]
    assert [r.code for r in combination_errors(main="P2", add_ons=["P3"])] == ["not_add_on"]
    assert check("U4", "P6", "student").filed_with == ("P2", "P3", "P4")
