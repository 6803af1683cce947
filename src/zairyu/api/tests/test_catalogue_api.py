"""The catalogue API: procedures, statuses, groups, offices, the matrix, fees by date, forms as JSON
Schema (every sample answer of the catalogue validates; wrong answers do not), the anonymous check
of a planned filing, caching, throttling, and problems in both languages."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
import time_machine
from jsonschema import Draft202012Validator

from zairyu.api.jsonschema import form_schema
from zairyu.api.tests.conftest import ApiCaller
from zairyu.applications.samples import sample_answers
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import form_for
from zairyu.core import clock

pytestmark = pytest.mark.django_db

BASE = "/api/v1/catalogue"
TODAY = dt.date(2026, 6, 1)


@pytest.fixture(autouse=True)
def fresh_throttles():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous() -> ApiCaller:
    return ApiCaller(None)


@pytest.fixture
def japanese() -> ApiCaller:
    return ApiCaller(None, language="ja")


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


# --- reference lists ----------------------------------------------------------------------------


def test_procedures_name_the_add_ons_and_are_cacheable(anonymous):
    response = anonymous.get(f"{BASE}/procedures")
    assert response.status_code == 200
    procedures = {p["code"]: p for p in response.json()}
    assert list(procedures) == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert procedures["P3"]["name"] == {"ja": "在留期間更新許可申請", "en": "Extension of period of stay"}
    assert procedures["P6"]["add_on"] is True and procedures["P6"]["add_on_to"] == ["P2", "P3", "P4"]
    assert procedures["P6"]["fee_variants"] == ["multiple", "single"]
    assert procedures["P1"]["add_on"] is False and procedures["P1"]["fee_variants"] == []
    assert response["Cache-Control"] == "public, max-age=300"
    etag = response["ETag"]
    assert etag.startswith('"') and len(etag) > 10
    again = anonymous.get(f"{BASE}/procedures", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag and not again.content
    other = anonymous.get(f"{BASE}/procedures", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200
    # Another URL is another answer: another tag.
    assert anonymous.get(f"{BASE}/groups")["ETag"] != etag


def test_the_etag_changes_with_the_day(anonymous):
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=clock.JST), tick=False):
        first = anonymous.get(f"{BASE}/statuses")["ETag"]
    with time_machine.travel(dt.datetime(2026, 6, 2, 12, tzinfo=clock.JST), tick=False):
        second = anonymous.get(f"{BASE}/statuses", headers={"If-None-Match": first})
    assert second.status_code == 200 and second["ETag"] != first


def test_statuses_say_whether_each_is_in_force_on_the_day_asked(anonymous):
    before = anonymous.get(f"{BASE}/statuses", {"on": "2027-03-31"}).json()
    after = anonymous.get(f"{BASE}/statuses", {"on": "2027-04-01"}).json()
    assert before["on"] == "2027-03-31"

    def status(body, code):
        return next(s for s in body["statuses"] if s["code"] == code)

    new = status(before, "employment_for_skill_development")
    assert new["in_force"] is False and new["effective_from"] == "2027-04-01"
    assert new["entries"][0]["in_force"] is False
    assert status(after, "employment_for_skill_development")["in_force"] is True
    hsp = status(after, "highly_skilled_professional")
    keys = [e["key"] for e in hsp["entries"]]
    assert "highly_skilled_professional/1a" in keys
    entry = hsp["entries"][keys.index("highly_skilled_professional/1a")]
    assert entry["sub_code"] == "1a" and entry["group"] and entry["name"]["ja"]
    diplomat = status(after, "diplomat")
    assert diplomat["online"] is False and diplomat["entries"][0]["group"] is None
    assert len(after["statuses"]) == len(get_catalogue().statuses)
    problem = _problem(anonymous.get(f"{BASE}/statuses", {"on": "2027-13-01"}), 422)
    assert problem["errors"][0]["parameter"] == "on"


def test_groups_and_offices_cover_the_catalogue(anonymous):
    catalogue = get_catalogue()
    groups = anonymous.get(f"{BASE}/groups").json()
    assert [g["code"] for g in groups] == list(catalogue.groups)
    listed = [key for g in groups for key in g["statuses"]]
    assert sorted(listed) == sorted(e.key for e in catalogue.entries.values() if e.group)
    student_group = next(g for g in groups if "student" in g["statuses"])
    assert student_group["organization_part"] == "school"

    offices = anonymous.get(f"{BASE}/offices").json()
    assert len(offices) == 11
    prefectures = [p["code"] for o in offices for p in o["prefectures"]]
    assert sorted(prefectures) == [f"{n:02d}" for n in range(1, 48)]
    tokyo = next(o for o in offices if o["code"] == "tokyo")
    assert tokyo["receipt_prefix"] == "東オン"
    assert {"code": "13", "name": {"ja": "東京都", "en": "Tokyo"}} in tokyo["prefectures"]


def test_the_matrix_is_the_catalogues(anonymous):
    matrix = anonymous.get(f"{BASE}/matrix").json()
    assert [c["code"] for c in matrix["user_categories"]] == [f"U{n}" for n in range(1, 9)]
    assert matrix["procedures"] == ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]
    assert len(matrix["cells"]) == 56
    cells = {(c["user_category"], c["procedure"]): c for c in matrix["cells"]}
    assert cells[("U4", "P1")] == {
        "user_category": "U4",
        "procedure": "P1",
        "rule": "allow",
        "conditions": [],
    }
    assert cells[("U3", "P5")]["rule"] == "deny"
    assert cells[("U3", "P1")]["rule"] == "conditional"
    assert cells[("U3", "P1")]["conditions"] == ["relative_family_status", "relative_lives_in_japan"]
    for (category, procedure), cell in get_catalogue().matrix.items():
        assert cells[(category, procedure)]["rule"] == cell.rule
    conditions = {c["code"]: c for c in matrix["conditions"]}
    assert conditions["consulted_bureau"]["kind"] == "fact"
    assert "student" in conditions["relative_family_status"]["statuses"]
    assert conditions["applicant_in_scope"]["text"]["ja"]
    u8 = next(c for c in matrix["user_categories"] if c["code"] == "U8")
    assert u8["files_online"] is False and u8["identity"] == "email"


# --- fees ---------------------------------------------------------------------------------------


def test_fees_change_on_the_date_of_the_schedule(anonymous):
    before = anonymous.get(f"{BASE}/fees", {"procedure": "P2", "on": "2025-03-31"}).json()
    assert before["on"] == "2025-03-31" and before["currency"] == "JPY"
    assert {(f["channel"], f["amount"]) for f in before["fees"]} == {("online", 4000), ("window", 4000)}
    assert before["fees"][0]["valid_until"] == "2025-03-31"
    after = anonymous.get(f"{BASE}/fees", {"procedure": "P2", "on": "2025-04-01", "channel": "online"}).json()
    assert after["fees"] == [
        {
            "procedure": "P2",
            "variant": None,
            "channel": "online",
            "amount": 5500,
            "valid_from": "2025-04-01",
            "valid_until": None,
        }
    ]
    window = anonymous.get(f"{BASE}/fees", {"procedure": "P2", "on": "2025-04-01", "channel": "window"})
    assert [f["amount"] for f in window.json()["fees"]] == [6000]


def test_re_entry_fees_by_variant_and_every_procedure_by_default(anonymous):
    both = anonymous.get(f"{BASE}/fees", {"procedure": "P6", "on": "2025-04-01", "channel": "online"}).json()
    assert {(f["variant"], f["amount"]) for f in both["fees"]} == {("single", 3500), ("multiple", 6500)}
    single = anonymous.get(
        f"{BASE}/fees", {"procedure": "P6", "on": "2025-04-01", "channel": "window", "variant": "single"}
    ).json()
    assert [(f["variant"], f["amount"]) for f in single["fees"]] == [("single", 4000)]
    with time_machine.travel(dt.datetime(2025, 3, 31, 12, tzinfo=clock.JST), tick=False):
        today = anonymous.get(f"{BASE}/fees").json()
    assert today["on"] == "2025-03-31"
    codes = {f["procedure"] for f in today["fees"]}
    assert codes == {"P1", "P2", "P3", "P4", "P5", "P6", "P7"}
    assert len(today["fees"]) == 2 * 8  # seven procedures, re-entry twice, two channels
    p1 = [f["amount"] for f in today["fees"] if f["procedure"] == "P1"]
    assert p1 == [0, 0]


def test_fees_name_the_wrong_parameter_in_both_languages(anonymous, japanese):
    problem = _problem(anonymous.get(f"{BASE}/fees", {"procedure": "P9"}), 422)
    assert problem["code"] == "validation"
    assert problem["errors"][0]["parameter"] == "procedure"
    assert problem["errors"][0]["code"] == "literal_error"
    variant = _problem(anonymous.get(f"{BASE}/fees", {"procedure": "P6", "variant": "triple"}), 422)
    assert variant["errors"][0]["parameter"] == "variant"
    # A variant is a filter: a procedure with one fee has none, so nothing is listed.
    one = anonymous.get(f"{BASE}/fees", {"procedure": "P2", "variant": "single"})
    assert one.status_code == 200 and one.json()["fees"] == []
    channel = _problem(anonymous.get(f"{BASE}/fees", {"channel": "fax"}), 422)
    assert channel["errors"][0]["parameter"] == "channel"
    ja = japanese.get(f"{BASE}/fees", {"procedure": "P9"})
    assert ja["Content-Language"] == "ja"
    (error,) = _problem(ja, 422)["errors"]
    assert error["parameter"] == "procedure" and error["code"] == "literal_error"


# --- forms as JSON Schema -----------------------------------------------------------------------


def test_a_form_as_json_schema(anonymous):
    response = anonymous.get(f"{BASE}/forms/P3/student", {"user_category": "U4", "add_ons": "P6"})
    assert response.status_code == 200, response.content
    schema = response.json()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:zairyu:form:P3:student:U4:P6"
    assert schema["x-zairyu-title"]["en"] == "Extension of period of stay + Re-entry permit (Student)"
    assert schema["type"] == "object"
    properties = schema["properties"]
    assert "roman_name" in schema["required"] and properties["date_of_birth"]["format"] == "date"
    sex = properties["sex"]
    assert sex["enum"] == ["male", "female"]
    assert sex["x-zairyu-labels"] == {
        "male": {"ja": "男", "en": "Male"},
        "female": {"ja": "女", "en": "Female"},
    }
    assert sex["title"] == "Sex" and sex["x-zairyu-label"] == {"ja": "性別", "en": "Sex"}
    assert properties["address_prefecture"]["x-zairyu-labels"]["13"] == {"ja": "東京都", "en": "Tokyo"}
    # Conditional requirements, in JSON Schema and in the catalogue's own words.
    assert "x-zairyu-required-when" in properties["criminal_record_details"]
    validator = Draft202012Validator(schema)
    assert any(
        "criminal_record_details" in e.message for e in validator.iter_errors({"has_criminal_record": True})
    )
    # The steps order every item once.
    steps = schema["x-zairyu-steps"]
    assert [s["id"] for s in steps][:2] == ["2-1", "2-2"] and steps[-1]["id"] == "confirm"
    ordered = [f for s in steps for section in s["sections"] for f in section["fields"]]
    form = form_for(procedure="P3", status="student", user_category="U4", add_ons=("P6",))
    assert ordered == [f.id for f in form.fields]
    family = next(sec for s in steps for sec in s["sections"] if sec["id"] == "family_members")
    assert family["repeatable"] is True
    assert properties["family_members"]["type"] == "array"
    assert response["Cache-Control"] == "public, max-age=300" and response["ETag"]


def test_a_status_with_a_slash_and_add_ons_separated_by_commas(anonymous):
    response = anonymous.get(
        f"{BASE}/forms/P2/highly_skilled_professional/1a", {"user_category": "U1", "add_ons": "P6,P7"}
    )
    assert response.status_code == 200, response.content
    schema = response.json()
    assert schema["x-zairyu-context"]["status"] == "highly_skilled_professional/1a"
    assert schema["x-zairyu-context"]["add_ons"] == ["P6", "P7"]
    # A self-applicant attaches the organization's part as a PDF: no step 2-3.
    assert "2-3" not in [s["id"] for s in schema["x-zairyu-steps"]]
    repeated = anonymous.get(
        f"{BASE}/forms/P2/highly_skilled_professional/1a?user_category=U1&add_ons=P6&add_ons=P7"
    )
    assert repeated.json() == schema


@pytest.mark.parametrize(
    ("path", "params", "parameter", "code"),
    [
        # The codes are enums of the OpenAPI document: refused by the schema.
        ("P9/student", {"user_category": "U4"}, "procedure", "literal_error"),
        ("P6/student", {"user_category": "U4"}, "procedure", "literal_error"),
        ("P3/no_such_status", {"user_category": "U4"}, "status", "literal_error"),
        ("P3/diplomat", {"user_category": "U4"}, "status", "literal_error"),
        ("P3/student", {"user_category": "U9"}, "user_category", "literal_error"),
        ("P3/student", {"user_category": "U8"}, "user_category", "literal_error"),
        # A combination only the catalogue's rules know.
        ("P1/student", {"user_category": "U4", "add_ons": "P6"}, "add_ons", "add_on_not_allowed"),
        ("P3/student", {}, "user_category", "missing"),
    ],
)
def test_a_form_that_does_not_exist_is_a_problem_naming_the_parameter(
    anonymous, path, params, parameter, code
):
    problem = _problem(anonymous.get(f"{BASE}/forms/{path}", params), 422)
    assert {(e["parameter"], e["code"]) for e in problem["errors"]} >= {(parameter, code)}
    assert all(e["detail"] for e in problem["errors"])


@pytest.mark.parametrize("add_ons", ["P2", "P99", "P6,", "P6;P7"])
def test_add_ons_are_refused_by_the_schema_pattern(anonymous, add_ons):
    response = anonymous.get(f"{BASE}/forms/P3/student", {"user_category": "U4", "add_ons": add_ons})
    (error,) = _problem(response, 422)["errors"]
    assert error["code"] == "string_pattern_mismatch"


def test_the_form_operation_declares_the_catalogue_codes(anonymous):
    document = anonymous.get("/api/v1/openapi.json").json()
    parameters = {
        p["name"]: p["schema"]
        for p in document["paths"]["/api/v1/catalogue/forms/{procedure}/{status}"]["get"]["parameters"]
    }
    assert parameters["procedure"]["enum"] == ["P1", "P2", "P3", "P4", "P5"]
    assert "student" in parameters["status"]["enum"] and "diplomat" not in parameters["status"]["enum"]
    assert "highly_skilled_professional/1a" in parameters["status"]["enum"]
    assert parameters["user_category"]["enum"] == ["U1", "U2", "U3", "U4", "U5", "U6", "U7"]


def test_form_problems_are_in_japanese_when_asked(japanese):
    response = japanese.get(f"{BASE}/forms/P1/student", {"user_category": "U4", "add_ons": "P6"})
    assert response["Content-Language"] == "ja"
    (error,) = _problem(response, 422)["errors"]
    assert error["parameter"] == "add_ons" and error["code"] == "add_on_not_allowed"
    assert "再入国許可申請" in error["detail"]


CHUNKS = 4


def _sampled_forms() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """A deterministic spread of forms: every online status twice, the procedure, the user
    category and the add-ons turning with them, so that each comes up with many others."""
    catalogue = get_catalogue()
    procedures = itertools.cycle(["P1", "P2", "P3", "P4", "P5"])
    categories = itertools.cycle(["U1", "U2", "U3", "U4", "U5", "U6", "U7"])
    add_on_sets = itertools.cycle([(), ("P6",), ("P7",), ("P6", "P7")])
    forms = []
    for entry in catalogue.entries_in_force(TODAY, online_only=True):
        for _twice in range(2):
            procedure = next(procedures)
            add_ons = next(add_on_sets) if procedure in ("P2", "P3", "P4") else ()
            forms.append((procedure, entry.key, next(categories), add_ons))
    return forms


def test_the_sample_spreads_over_the_catalogue():
    forms = _sampled_forms()
    assert len(forms) >= 100
    assert {f[0] for f in forms} == {"P1", "P2", "P3", "P4", "P5"}
    assert {f[2] for f in forms} == {"U1", "U2", "U3", "U4", "U5", "U6", "U7"}
    assert {f[3] for f in forms} == {(), ("P6",), ("P7",), ("P6", "P7")}
    assert {f[1] for f in forms} == {e.key for e in get_catalogue().entries_in_force(TODAY, online_only=True)}


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sampled_forms_accept_their_sample_answers_and_refuse_wrong_ones(chunk):
    failures = []
    for procedure, status, category, add_ons in _sampled_forms()[chunk::CHUNKS]:
        form = form_for(procedure=procedure, status=status, user_category=category, add_ons=add_ons)
        schema = form_schema(form, today=TODAY)
        validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        answers = sample_answers(form, today=TODAY)
        label = f"{procedure}+{'+'.join(add_ons)} {status} {category}"
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(answers)
        ]
        if errors:
            failures.append(f"{label}: {errors[:3]}")
            continue
        # The schema is not vacuous: a required item left out, or a code that is not one, fails.
        required = schema["required"][0]
        if validator.is_valid({k: v for k, v in answers.items() if k != required}):
            failures.append(f"{label}: accepts answers without {required}")
        coded = next(
            (
                k
                for k, p in schema["properties"].items()
                if "enum" in p and k in answers and not p.get("readOnly")
            ),
            None,
        )
        if coded and validator.is_valid({**answers, coded: "NOT-A-CODE"}):
            failures.append(f"{label}: accepts NOT-A-CODE for {coded}")
        dated = next(
            (k for k, p in schema["properties"].items() if p.get("format") == "date" and k in answers), None
        )
        if dated and validator.is_valid({**answers, dated: "2025-02-30"}):
            failures.append(f"{label}: accepts 2025-02-30 for {dated}")
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize(
    ("procedure", "status", "category", "add_ons"),
    [
        ("P1", "engineer_humanities", "U5", ()),
        ("P3", "student", "U4", ("P6", "P7")),
        ("P2", "spouse_or_child_of_japanese", "U1", ()),
        ("P1", "technical_intern_training/2b", "U7", ()),
        ("P5", "specified_skilled_worker/i", "U2", ()),
    ],
)
def test_the_operation_serves_the_schema_the_samples_validate_against(
    anonymous, procedure, status, category, add_ons
):
    with time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=clock.JST), tick=False):
        response = anonymous.get(
            f"{BASE}/forms/{procedure}/{status}", {"user_category": category, "add_ons": ",".join(add_ons)}
        )
        assert response.status_code == 200, response.content
        form = form_for(procedure=procedure, status=status, user_category=category, add_ons=add_ons)
        assert response.json() == form_schema(form, today=TODAY)
        answers = sample_answers(form, today=TODAY)
    Draft202012Validator(response.json(), format_checker=Draft202012Validator.FORMAT_CHECKER).validate(
        answers
    )


# --- the check of a planned filing --------------------------------------------------------------


def _check(caller: ApiCaller, **body):
    return caller.post(f"{BASE}/check", body)


def test_an_extension_in_time_is_eligible(anonymous):
    response = _check(
        anonymous,
        procedure="P3",
        status="student",
        user_category="U4",
        add_ons=["P6"],
        stay_expires_on="2026-08-01",
        period_of_stay="1Y",
        planned_on="2026-06-01",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "eligible": True,
        "verdict": "allowed",
        "planned_on": "2026-06-01",
        "problems": [],
        "conditions": [],
    }


def test_timing_problems_point_at_the_dates(anonymous):
    last_day = _check(
        anonymous,
        procedure="P3",
        status="student",
        user_category="U4",
        stay_expires_on="2026-06-01",
        planned_on="2026-06-01",
    ).json()
    assert last_day["eligible"] is False
    (problem,) = last_day["problems"]
    assert problem["code"] == "stay_last_day" and problem["severity"] == "block"
    assert problem["pointer"] == "/stay_expires_on" and "2026-06-01" in problem["detail"]

    early = _check(
        anonymous,
        procedure="P3",
        status="student",
        user_category="U4",
        stay_expires_on="2027-06-01",
        period_of_stay="1Y",
        planned_on="2026-06-01",
    ).json()
    assert early["eligible"] is True
    (warning,) = early["problems"]
    assert warning["code"] == "extension_too_early" and warning["severity"] == "warning"
    assert warning["data"]["earliest"] == "2027-03-01"

    acquisition = _check(
        anonymous,
        procedure="P4",
        status="dependent",
        user_category="U2",
        birth_or_event_date="2026-04-01",
        planned_on="2026-06-01",
    ).json()
    assert acquisition["eligible"] is False
    assert acquisition["problems"][0]["code"] == "acquisition_deadline_passed"
    assert acquisition["problems"][0]["pointer"] == "/birth_or_event_date"
    assert acquisition["problems"][0]["data"]["deadline"] == "2026-05-01"


def test_the_matrix_decides_with_the_facts_stated(anonymous):
    body = {"procedure": "P2", "status": "student", "user_category": "U3", "planned_on": "2026-06-01"}
    pending = _check(anonymous, **body).json()
    assert pending["eligible"] is True and pending["verdict"] == "conditional"
    assert pending["problems"][0]["code"] == "condition_applicant_under_16_or_unable"
    assert pending["problems"][0]["severity"] == "warning"
    assert pending["problems"][0]["pointer"] == "/applicant_born_on"
    assert pending["conditions"][0]["state"] == "pending"

    # Under 16 on the planned day (the day before the 16th birthday): allowed on the date of birth.
    child = _check(anonymous, **body, applicant_born_on="2010-06-02").json()
    assert child["verdict"] == "allowed" and child["problems"] == []
    assert child["conditions"] == [
        {
            "code": "applicant_under_16_or_unable",
            "procedure": "P2",
            "text": {
                "ja": "申請人が16歳未満であるか、病気その他の理由で自ら申請できないこと",
                "en": "The applicant is under 16, or cannot apply in person because of illness or another reason",
            },
            "state": "met",
        }
    ]
    # Sixteen on the planned day: only the statement that the applicant cannot apply is left.
    adult = _check(anonymous, **body, applicant_born_on="2010-06-01").json()
    assert adult["verdict"] == "conditional"
    assert [(p["code"], p["pointer"]) for p in adult["problems"]] == [
        ("condition_applicant_unable", "/facts/applicant_unable")
    ]
    assert "16 or older" in adult["problems"][0]["detail"]
    unable = _check(
        anonymous, **body, applicant_born_on="2000-01-01", facts={"applicant_unable": True}
    ).json()
    assert unable["verdict"] == "allowed"

    failed = _check(
        anonymous, **body, applicant_born_on="2000-01-01", facts={"applicant_unable": False}
    ).json()
    assert failed["eligible"] is False and failed["verdict"] == "denied"
    assert failed["problems"][0]["pointer"] == "/applicant_born_on"
    assert failed["conditions"][0]["state"] == "failed"

    # The age is never the filer's word: the old tick box is not a fact one can state.
    stated = _check(anonymous, **body, facts={"applicant_under_16_or_unable": True})
    assert stated.status_code == 422

    denied = _check(anonymous, procedure="P5", status="student", user_category="U3").json()
    assert denied["eligible"] is False
    assert {(p["code"], p["pointer"]) for p in denied["problems"]} == {("matrix", "/user_category")}

    window = _check(anonymous, procedure="P1", status="student", user_category="U8").json()
    assert window["problems"][0]["code"] == "window_only"


def test_add_ons_and_statuses_not_in_force(anonymous):
    combination = _check(
        anonymous, procedure="P1", status="student", user_category="U4", add_ons=["P6"]
    ).json()
    assert combination["eligible"] is False
    assert ("add_on_not_allowed", "/add_ons") in {(p["code"], p["pointer"]) for p in combination["problems"]}

    future = _check(
        anonymous,
        procedure="P1",
        status="employment_for_skill_development",
        user_category="U4",
        planned_on="2027-03-31",
    ).json()
    assert [(p["code"], p["pointer"]) for p in future["problems"]] == [("status_not_in_force", "/status")]
    in_force = _check(
        anonymous,
        procedure="P1",
        status="employment_for_skill_development",
        user_category="U4",
        planned_on="2027-04-01",
    ).json()
    assert in_force["eligible"] is True


def test_a_wrong_check_is_a_problem_with_pointers(anonymous, japanese):
    problem = _problem(
        _check(
            anonymous,
            procedure="P9",
            status="nothing",
            user_category="U0",
            add_ons=["P6", "PX"],
            facts={"weather_is_fine": True},
        ),
        422,
    )
    # The codes are enums of the OpenAPI document (facts: the names of the matrix's facts).
    pointers = {(e["pointer"], e["code"]) for e in problem["errors"]}
    assert {p for p in pointers if not p[0].startswith("/facts/")} == {
        ("/procedure", "literal_error"),
        ("/status", "literal_error"),
        ("/user_category", "literal_error"),
        ("/add_ons/1", "literal_error"),
    }
    (fact,) = [p for p in pointers if p[0].startswith("/facts/")]
    assert fact[0].startswith("/facts/weather_is_fine") and fact[1] == "literal_error"
    missing = _problem(anonymous.post(f"{BASE}/check", {"procedure": "P3", "colour": "red"}), 422)
    assert {(e["pointer"], e["code"]) for e in missing["errors"]} >= {
        ("/status", "missing"),
        ("/user_category", "missing"),
        ("/colour", "extra_forbidden"),
    }
    dates = _problem(
        _check(anonymous, procedure="P3", status="student", user_category="U4", planned_on="tomorrow"), 422
    )
    assert dates["errors"][0]["pointer"] == "/planned_on"
    ja = _problem(_check(japanese, procedure="P9", status="student", user_category="U4"), 422)
    assert ja["errors"][0]["pointer"] == "/procedure"
    assert ja["errors"][0]["detail"] != "Choose one of the allowed values."
    broken = anonymous.http.post(f"{BASE}/check", "{not json", content_type="application/json")
    assert broken.status_code == 400


def test_check_answers_in_japanese(japanese):
    body = japanese.post(
        f"{BASE}/check",
        {
            "procedure": "P3",
            "status": "student",
            "user_category": "U4",
            "stay_expires_on": "2026-06-01",
            "planned_on": "2026-06-01",
        },
    ).json()
    detail = body["problems"][0]["detail"]
    assert "2026-06-01" in detail and any("\u3040" <= ch <= "\u30ff" for ch in detail)


def test_public_operations_are_limited_per_address(anonymous, settings):
    settings.API_RATE_ANONYMOUS_PER_MINUTE = 3
    statuses = [anonymous.get(f"{BASE}/procedures").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = _problem(anonymous.get(f"{BASE}/matrix"), 429)
    assert limited["code"] == "rate_limited"
    assert _check(anonymous, procedure="P3", status="student", user_category="U4").status_code == 429


@pytest.mark.parametrize(
    ("dates", "pointer"),
    [
        ({"stay_expires_on": "0001-02-01", "planned_on": "0001-01-01"}, "/stay_expires_on"),
        ({"stay_expires_on": "9999-12-31", "planned_on": "9999-12-31"}, "/planned_on"),
        ({"birth_or_event_date": "9999-12-30", "planned_on": "2026-01-01"}, "/birth_or_event_date"),
    ],
)
def test_dates_beyond_the_calendar_rules_are_refused_not_crashed(anonymous, dates, pointer):
    response = _check(anonymous, procedure="P4", status="student", user_category="U4", **dates)
    problem = _problem(response, 422)
    assert (pointer, "date_range") in {(e["pointer"], e["code"]) for e in problem["errors"]}
    assert "1900-01-01" in problem["errors"][0]["detail"]
