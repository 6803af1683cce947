"""Single and bulk give the same verdict for the same data.

For generated rows — valid samples from the registry with random cells broken, blanked or
replaced, for applicants in scope, outside it, with an expired stay or an unknown card — the
verdict of a single application (``application_create`` then ``application_save_step`` for each
step, as the web pages call them) equals the verdict of the row in a bulk file (written as CSV,
read back, checked in batch): refused, in error or a draft, with the same problems.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zairyu.applications import services as applications
from zairyu.bulk.columns import bulk_columns, row_answers
from zairyu.bulk.constants import RowState
from zairyu.bulk.models import BulkRow
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import student_form, student_of, upload
from zairyu.core import clock
from zairyu.organizations.tests.factories import staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db

FORM = student_form()
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
ROWS = st.lists(st.tuples(st.integers(min_value=0, max_value=5), CHANGES), min_size=1, max_size=2)


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
    ]


def single_verdict(user, cells: dict[str, str]):
    answers, _organization = row_answers(bulk_columns(FORM), cells)
    try:
        application = applications.application_create(
            user=user,
            start=applications.Start(
                procedure="P3", status="student", card_number=cells.get("card_number", "")
            ),
        )
    except applications.ApplicationRefused as refusal:
        return "refused", sorted({p.code for p in refusal.problems if p.blocks})
    errors = []
    for step in FORM.step_ids:
        errors += applications.application_save_step(
            application=application, user=user, step=step, answers=answers
        ).errors
    found = sorted({(e.field_id if e.row is None else f"{e.field_id}_{e.row}", e.code) for e in errors})
    return ("error" if errors else "draft"), found


def bulk_verdict(row: BulkRow):
    if row.state == RowState.REFUSED:
        return "refused", sorted({e["code"] for e in row.errors})
    return row.state, sorted({(e["key"], e["code"]) for e in row.errors})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
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
            cells["card_number"] = "ZZ00000000ZZ"
        for key, value in changes.items():
            if key == "card_number" and value.strip():
                continue  # another card number would be another applicant
            if value.strip():
                cells[key] = value
            else:
                cells.pop(key, None)
        cells_list.append(cells)
    bulk_import = upload(user, bulk_file(FORM, cells_list, kind="csv"))
    for offset, cells in enumerate(cells_list):
        bulk = bulk_verdict(BulkRow.objects.get(bulk_import=bulk_import, row_number=6 + offset))
        single = single_verdict(user, cells)
        assert bulk == single, (cells, bulk, single)


@pytest.fixture
def django_settings_override(settings):
    # Both paths cross-check identities; with many generated mismatches the per-hour throttle of
    # single filing would otherwise answer for the later ones.
    settings.CROSSCHECK_MISMATCH_LIMIT = 10_000
    return settings
