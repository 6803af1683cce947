"""Single and bulk give the same verdict for the same data.

For generated rows — valid samples from the registry with random cells broken, blanked or
replaced, for applicants in scope, outside it, with an expired stay, an extension filed early or
an unknown card — the verdict of a single application (``application_create`` then
``application_save_step`` for each step, as the web pages call them) equals the verdict of the row
in a bulk file (written as CSV, read back, checked in batch): refused, in error or a draft, with
the same problems and the same warnings. The same holds for acquisitions of newborns (P4): born
within 30 days or not, a parent's card known, unknown or outside the scope, a card typed for the
child.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from zairyu.applications import services as applications
from zairyu.bulk.columns import bulk_columns, bulk_form, file_columns, row_answers
from zairyu.bulk.constants import RowState
from zairyu.bulk.models import BulkRow
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import student_form, student_of, upload
from zairyu.catalogue.formspec import role_field_id
from zairyu.catalogue.formspec.values import read_date
from zairyu.core import clock
from zairyu.organizations.tests.factories import staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db

FORM = student_form()
CARD = role_field_id("identity.card_number")
COLUMNS = [c for c in bulk_columns(FORM) if c.row is None and not c.fixed_value]
KEYS = [c.key for c in COLUMNS]
BAD_VALUES = [
    "",
    "2024-02-30",
    "1990/4/1",
    "令和6年4月1日",
    "???",
    "yes",
    "いいえ",
    "12",
    "abc",
    "not@mail",
    "ＮＧＵＹＥＮ　ＶＡＮ",
    "x" * 120,
    "0312345678",
    "ab12345678cd",
    "1Y",
    "3万",
]
# Text a spreadsheet would not turn into something else: no control characters, and no leading
# character that makes a formula (those are refused as formulas in bulk, by design).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=25).filter(
    lambda s: not s.lstrip().startswith(("=", "+", "-", "@"))
)
CHANGES = st.dictionaries(
    keys=st.sampled_from(KEYS), values=st.one_of(st.sampled_from(BAD_VALUES), TEXT), max_size=3
)
ROWS = st.lists(st.tuples(st.integers(min_value=0, max_value=6), CHANGES), min_size=1, max_size=2)


@pytest.fixture
def pool(school):
    today = clock.today()
    return [
        student_of(school),
        student_of(school),
        student_of(
            school,
            stay_expires_on=today + dt.timedelta(days=200),
            card_expires_on=today + dt.timedelta(days=200),
        ),
        student_of(
            school,
            stay_expires_on=today - dt.timedelta(days=10),
            card_expires_on=today - dt.timedelta(days=10),
        ),
        student_of(ReceivingOrganizationFactory(kind="school")),  # outside the staff member's scope
        None,  # an unknown card number
        student_of(  # an extension filed early: a draft, with a warning
            school,
            period_of_stay="3Y",
            stay_expires_on=today + dt.timedelta(days=480),
            card_expires_on=today + dt.timedelta(days=480),
        ),
    ]


def single_verdict(user, cells: dict[str, str], *, form=FORM, start=None):
    """(state, problems, warnings) of the single application with the row's data, and the
    application (None when refused)."""
    answers, _organization = row_answers(file_columns(form), cells)
    start = start or applications.Start(procedure="P3", status="student", card_number=cells.get(CARD, ""))
    # The warnings the start gives (the web start page shows them before "Start anyway").
    problems, _resident, _organization = applications.start_problems(
        user=user, start=start, today=clock.today()
    )
    warnings = sorted({p.code for p in problems if not p.blocks})
    try:
        application = applications.application_create(user=user, start=start)
    except applications.ApplicationRefused as refusal:
        return ("refused", sorted({p.code for p in refusal.problems if p.blocks}), []), None
    errors = []
    for step in form.step_ids:
        errors += applications.application_save_step(
            application=application, user=user, step=step, answers=answers
        ).errors
    found = sorted({(e.field_id if e.row is None else f"{e.field_id}_{e.row}", e.code) for e in errors})
    return (("error" if errors else "draft"), found, warnings), application


def bulk_verdict(row: BulkRow):
    warnings = sorted({w["code"] for w in row.warnings})
    if row.state == RowState.REFUSED:
        return "refused", sorted({e["code"] for e in row.errors}), warnings
    return row.state, sorted({(e["key"], e["code"]) for e in row.errors}), warnings


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
@example(rows=[(6, {}), (0, {})])  # an extension filed early beside one on time
def test_single_and_bulk_give_the_same_verdict(enrolment, pool, rows, django_settings_override):
    user = staff_member(enrolment)  # a fresh filer: nothing recognised from an earlier example
    cells_list = []
    seen = set()
    for index, changes in rows:
        resident = pool[index]
        if resident in seen:
            continue  # the same applicant twice is a duplicate row: a bulk-only verdict
        seen.add(resident)
        (cells,), _ = bulk_rows(FORM, [resident or pool[0]])
        if resident is None:
            cells[CARD] = "ZZ00000000ZZ"
        for key, value in changes.items():
            if key == CARD and value.strip():
                continue  # another card number would be another applicant
            if value.strip():
                cells[key] = value
            else:
                cells.pop(key, None)
        cells_list.append(cells)
    bulk_import = upload(user, bulk_file(FORM, cells_list, kind="csv"))
    for offset, cells in enumerate(cells_list):
        bulk = bulk_verdict(BulkRow.objects.get(bulk_import=bulk_import, row_number=6 + offset))
        single, _application = single_verdict(user, cells)
        assert bulk == single, (cells, bulk, single)


@pytest.fixture
def django_settings_override(settings):
    # Both paths cross-check identities; with many generated mismatches the per-hour throttle of
    # single filing would otherwise answer for the later ones.
    settings.CROSSCHECK_MISMATCH_LIMIT = 10_000
    return settings


# --- acquisitions of newborns (P4) --------------------------------------------------------------

NEWBORN_FORM = bulk_form(procedure="P4", status="dependent", user_category="U5")
EVENT = role_field_id("acquisition.event_date")
PARENTS = ("in_scope", "outside", "unknown", "none")
# What an acquisition's start fills in: with a parent the reason and the birth, and where the
# disclosure policy allows it (the staff member's own school) the parent's address.
START_FILLS = (
    "acquisition.reason",
    "identity.date_of_birth",
    "identity.prefecture",
    "identity.municipality",
    "applicant.address_street",
)


def newborn_cells(parent_card: str, born: dt.date, child_card: str) -> dict[str, str]:
    from zairyu.registry.tests.factories import ResidentFactory

    (cells,), _ = bulk_rows(NEWBORN_FORM, [ResidentFactory.build()])
    cells.pop(CARD, None)
    for role in START_FILLS:  # left blank: what the start fills in stands
        cells.pop(role_field_id(role), None)
    cells[EVENT] = born.isoformat()
    for key, value in (("parent_card_number", parent_card), (CARD, child_card)):
        if value:
            cells[key] = value
    return cells


def start_answers(application) -> dict:
    """What the application holds of the items its start fills in."""
    return {role: application.answers.get(role_field_id(role)) for role in START_FILLS}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    days=st.integers(min_value=0, max_value=40),
    parent=st.sampled_from(PARENTS),
    child_card=st.booleans(),
)
@example(days=10, parent="in_scope", child_card=False)  # born within 30 days
@example(days=31, parent="in_scope", child_card=False)  # the 30 days have passed
@example(days=5, parent="unknown", child_card=False)  # a parent's card the registry does not know
@example(days=5, parent="in_scope", child_card=True)  # a card typed for the child
def test_single_and_bulk_give_a_newborn_the_same_verdict(enrolment, school, days, parent, child_card):
    user = staff_member(enrolment)
    parents = {
        "in_scope": student_of(school).card_number,
        "outside": student_of(ReceivingOrganizationFactory(kind="school")).card_number,
        "unknown": "ZZ99999999ZZ",
        "none": "",
    }
    born = clock.today() - dt.timedelta(days=days)
    cells = newborn_cells(parents[parent], born, student_of(school).card_number if child_card else "")
    data = bulk_file(NEWBORN_FORM, [cells], kind="csv", columns=file_columns(NEWBORN_FORM))
    bulk_import = upload(user, data, procedure="P4", status="dependent")
    row = BulkRow.objects.get(bulk_import=bulk_import, row_number=6)
    start = applications.Start(
        procedure="P4",
        status="dependent",
        card_number=cells.get(CARD, ""),
        parent_card_number=cells.get("parent_card_number", ""),
        birth_or_event_date=read_date(cells[EVENT]),
    )
    single, application = single_verdict(user, cells, form=NEWBORN_FORM, start=start)
    assert bulk_verdict(row) == single, (parent, days, child_card, row.errors)
    if application is not None:  # the drafts hold the same: the parent, the answers
        application.refresh_from_db()
        assert row.application.parent_resident_id == application.parent_resident_id
        assert start_answers(row.application) == start_answers(application)
