"""A choice is found by its label as the catalogue shows it.

A typed value is normalised (NFKC, spaces …) and case-folded before it is looked up; the labels it
is compared with are normalised the same way. Before, they were compared as written, so a label
with full-width brackets or capital letters — "大学院（修士）", "日本語能力試験N2", "中国（香港）" —
was refused even when typed exactly as shown, in a single application and in a bulk file alike.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

import pytest

from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.bulk.constants import RowState
from zairyu.bulk.models import BulkRow
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.bulk.tests.conftest import student_form, upload
from zairyu.catalogue.formspec import (
    ALWAYS,
    NEVER,
    FormSpec,
    SectionSpec,
    StepSpec,
    choices_for,
    get_form_library,
    normalize_and_validate,
)
from zairyu.catalogue.loader import Localized
from zairyu.core import clock

CODED = ("choice", "multi_choice", "country")


def _form_of(spec) -> FormSpec:
    """A form holding only ``spec``, shown and optional."""
    spec = replace(spec, required=NEVER, show_when=ALWAYS, step="2-1", section="only", row_section=None)
    title = Localized(ja="項目", en="Item")
    section = SectionSpec(id="only", title=title, fields=(spec,), step="2-1")
    step = StepSpec(id="2-1", kind="applicant", title=title, sections=(section,))
    return FormSpec(
        procedure="P3",
        status="student",
        group="P",
        organization_part="school",
        user_category="U5",
        add_ons=(),
        steps=(step,),
    )


def _typed_labels():
    """(field, label as shown, its code) for every label of every coded field that names one
    choice only (a label two choices share finds the first)."""
    today = clock.today()
    for spec in get_form_library().fields.values():
        if spec.type not in CODED:
            continue
        choices = choices_for(spec, today=today)
        seen: dict[str, set[str]] = {}
        for choice in choices:
            for label in (choice.label.ja, choice.label.en):
                key = unicodedata.normalize("NFKC", label).strip().casefold()
                seen.setdefault(key, set()).add(choice.code)
        for choice in choices:
            for label in (choice.label.ja, choice.label.en):
                if seen[unicodedata.normalize("NFKC", label).strip().casefold()] == {choice.code}:
                    yield spec, label, choice.code


def test_every_label_of_the_catalogue_typed_as_shown_reads_back_as_its_choice():
    today = clock.today()
    labels = list(_typed_labels())
    # The labels the comparison used to miss are among them.
    changed = [label for _spec, label, _code in labels if unicodedata.normalize("NFKC", label) != label]
    assert len(labels) > 500 and len(changed) > 20
    wrong = []
    for spec, label, code in labels:
        result = normalize_and_validate(_form_of(spec), {spec.id: label}, today=today)
        expected = [code] if spec.type == "multi_choice" else code
        if result.errors or result.cleaned.get(spec.id) != expected:
            wrong.append((spec.id, label, code, result.cleaned.get(spec.id), [e.code for e in result.errors]))
    assert wrong == []


@pytest.mark.parametrize(
    ("field_id", "typed", "code"),
    [
        ("education_level", "大学院（修士）", "master"),  # full-width brackets, as the catalogue writes them
        ("education_level", "大学院(修士)", "master"),  # half-width, as NFKC makes them
        ("japanese_ability", "日本語能力試験N2", "jlpt_n2"),  # capital letters in a Japanese label
        ("japanese_ability", "日本語能力試験Ｎ２", "jlpt_n2"),  # full-width letters and digits
        ("nationality", "中国（香港）", "HKG"),
        ("nationality", "Viet Nam", "VNM"),  # what was found before still is
        ("education_level", "MASTER", "master"),
    ],
)
def test_a_label_is_found_whatever_its_width_and_case(field_id, typed, code):
    spec = get_form_library().fields[field_id]
    result = normalize_and_validate(_form_of(spec), {field_id: typed}, today=clock.today())
    assert result.errors == []
    assert result.cleaned[field_id] == code


def test_an_unknown_value_is_still_refused_naming_the_options():
    spec = get_form_library().fields["education_level"]
    result = normalize_and_validate(
        _form_of(spec), {"education_level": "大学院（学士）"}, today=clock.today()
    )
    assert [e.code for e in result.errors] == ["invalid_choice"]


@pytest.mark.django_db
def test_a_bulk_cell_holding_a_label_as_the_catalogue_shows_it_is_read_as_its_choice(staff, students):
    form = student_form()
    rows, _injected = bulk_rows(form, students[:2])
    rows[0]["education_level"] = "大学院（修士）"
    rows[0]["japanese_ability"] = "日本語能力試験N2"
    bulk_import = upload(staff, bulk_file(form, rows, kind="csv"))
    assert (bulk_import.rows_draft, bulk_import.rows_error) == (2, 0)
    row = BulkRow.objects.get(bulk_import=bulk_import, row_number=6)
    assert row.state == RowState.DRAFT and row.errors == []
    application = Application.objects.get(pk=row.application_id)
    assert application.state == ApplicationState.DRAFT
    assert application.answers["education_level"] == "master"
    assert application.answers["japanese_ability"] == "jlpt_n2"
