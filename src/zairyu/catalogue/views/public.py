"""Public pages generated from the catalogue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for, fee_variants
from zairyu.catalogue.forms import WhoCanFileForm
from zairyu.catalogue.loader import Catalogue, Condition, Procedure, StatusEntry, UserCategory
from zairyu.catalogue.rules import Eligibility, Reason, Verdict, eligibility
from zairyu.core import clock

MARKS = {"allow": "○", "conditional": "△", "deny": "×"}
VARIANT_LABELS = {"single": _("single entry"), "multiple": _("multiple entries")}  # also the display order


@dataclass(frozen=True)
class Fee:
    variant: str | None
    label: object
    online: int
    window: int


@dataclass(frozen=True)
class Answer:
    """One procedure's line of the answer: the verdict, what it goes with, what it costs."""

    eligibility: Eligibility
    filed_with: list[Procedure]
    fees: list[Fee]

    @property
    def procedure(self) -> Procedure:
        return self.eligibility.procedure


@dataclass(frozen=True)
class MatrixCellView:
    procedure: Procedure
    rule: str
    mark: str
    footnotes: list[int]


@dataclass(frozen=True)
class MatrixRow:
    category: UserCategory
    cells: list[MatrixCellView]


@dataclass
class MatrixTable:
    procedures: list[Procedure]
    rows: list[MatrixRow] = field(default_factory=list)
    footnotes: list[tuple[int, Condition]] = field(default_factory=list)


def _variant_order(variant: str | None) -> int:
    return list(VARIANT_LABELS).index(variant) if variant in VARIANT_LABELS else len(VARIANT_LABELS)


def fees_of(procedure: Procedure, on: dt.date) -> list[Fee]:
    return [
        Fee(
            variant=variant,
            label=VARIANT_LABELS.get(variant, variant) if variant else "",
            online=fee_for(procedure=procedure.code, on=on, channel="online", variant=variant),
            window=fee_for(procedure=procedure.code, on=on, channel="window", variant=variant),
        )
        for variant in sorted(fee_variants(procedure.code), key=_variant_order)
    ]


def matrix_table(catalogue: Catalogue) -> MatrixTable:
    """The user category x procedure table, each condition numbered once as a footnote."""
    table = MatrixTable(procedures=list(catalogue.procedures.values()))
    numbers: dict[str, int] = {}
    for category in catalogue.user_categories.values():
        cells = []
        for procedure in table.procedures:
            cell = catalogue.matrix[(category.code, procedure.code)]
            refs = []
            for condition in cell.conditions:
                if condition.code not in numbers:
                    numbers[condition.code] = len(numbers) + 1
                    table.footnotes.append((numbers[condition.code], condition))
                refs.append(numbers[condition.code])
            cells.append(
                MatrixCellView(procedure=procedure, rule=cell.rule, mark=MARKS[cell.rule], footnotes=refs)
            )
        table.rows.append(MatrixRow(category=category, cells=cells))
    return table


def answers_for(*, user_category: str, status: str, on: dt.date) -> list[Answer]:
    catalogue = get_catalogue()
    return [
        Answer(
            eligibility=eligibility(
                user_category=user_category, procedure=procedure.code, status=status, on=on
            ),
            filed_with=[catalogue.procedures[code] for code in procedure.add_on_to],
            fees=fees_of(procedure, on),
        )
        for procedure in catalogue.procedures.values()
    ]


def common_reasons(answers: list[Answer]) -> list[Reason]:
    """When nothing can be filed for the same reason, that reason, to say it once at the top."""
    if not answers or any(a.eligibility.verdict is not Verdict.DENIED for a in answers):
        return []
    first = answers[0].eligibility.reasons
    codes = {r.code for r in first}
    if all({r.code for r in a.eligibility.reasons} == codes for a in answers):
        return list(first)
    return []


@require_GET
def who_can_file(request: HttpRequest) -> HttpResponse:
    catalogue = get_catalogue()
    today = clock.today()
    # Only the form's own parameters make it a question; anything else in the URL is ignored.
    asked = any(name in request.GET for name in WhoCanFileForm.base_fields)
    form = WhoCanFileForm(request.GET if asked else None, on=today)
    context: dict[str, object] = {
        "form": form,
        "today": today,
        "not_online": [e for e in catalogue.entries_in_force(today) if not e.online],
    }
    if asked and form.is_valid():
        category: UserCategory = catalogue.user_categories[form.cleaned_data["user_category"]]
        entry: StatusEntry = catalogue.entries[form.cleaned_data["status"]]
        answers = answers_for(user_category=category.code, status=entry.key, on=today)
        context.update(
            chosen_category=category,
            chosen_status=entry,
            answers=answers,
            common_reasons=common_reasons(answers),
        )
    else:
        context.update(
            matrix=matrix_table(catalogue),
            fee_rows=[(p, fees_of(p, today)) for p in catalogue.procedures.values()],
        )
    return render(request, "catalogue/who_can_file.html", context)
