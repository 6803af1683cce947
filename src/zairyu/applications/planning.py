"""Checking a planned filing before there is an application (no registry, no account).

Whether a user category may file a procedure (with add-ons) for a status of residence, and when:
the matrix with the conditions the caller states (MISSION §2), the combination of add-ons, and the
timing rules (F-01) for a period of stay or an acquisition's event on a planned day. The registry,
the filer's organization and scope and the network rule are checked when the application is
started (``services.start_problems``); this is what the public API's ``POST /catalogue/check``
and anyone planning ahead can know from the catalogue alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from zairyu.applications.rules.results import Problem, Severity
from zairyu.applications.rules.timing import timing_problems
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.rules import Verdict, combination_errors, eligibility
from zairyu.registry.models import Resident

STAY_PROBLEMS = frozenset({"stay_last_day", "stay_expired", "extension_too_early", "no_period_to_extend"})


@dataclass(frozen=True)
class PlannedFiling:
    procedure: str
    status: str
    user_category: str
    add_ons: tuple[str, ...] = ()
    facts: dict[str, bool] = field(default_factory=dict)
    planned_on: dt.date | None = None
    stay_expires_on: dt.date | None = None
    period_of_stay: str = ""
    birth_or_event_date: dt.date | None = None
    applicant_born_on: dt.date | None = None  # the age conditions (a relative, U3)


@dataclass(frozen=True)
class ConditionState:
    condition: Any  # catalogue.loader.Condition
    procedure: str
    state: Literal["met", "pending", "failed"]


@dataclass(frozen=True)
class PlanVerdict:
    problems: list[Problem]  # ``field``: "add_ons", "status", "facts.<code>", a date's name, …
    conditions: list[ConditionState]
    verdict: Verdict

    @property
    def eligible(self) -> bool:
        return not any(p.blocks for p in self.problems)


# Which item of the plan a reason of the matrix is about.
_REASON_FIELDS = {
    "window_only": "user_category",
    "matrix": "user_category",
    "status_not_in_force": "status",
    "status_not_online": "status",
}


def _condition_item(condition: Any) -> str:
    """The item of the plan a condition is decided by: the fact stated, the applicant's date of
    birth (an age, or one of several where the age comes first), else the status."""
    if condition.kind == "fact":
        return f"facts.{condition.code}"
    if condition.kind in ("applicant_age_under", "any"):
        return "applicant_born_on"
    return "status"


def _matrix(plan: PlannedFiling, day: dt.date) -> tuple[list[Problem], list[ConditionState], list[Verdict]]:
    catalogue = get_catalogue()
    problems: list[Problem] = []
    conditions: list[ConditionState] = []
    verdicts: list[Verdict] = []
    for procedure in dict.fromkeys((plan.procedure, *plan.add_ons)):
        answer = eligibility(
            user_category=plan.user_category,
            procedure=procedure,
            status=plan.status,
            facts=plan.facts,
            on=day,
            applicant_born=plan.applicant_born_on,
        )
        verdicts.append(answer.verdict)
        for reason in answer.reasons:
            condition = catalogue.conditions.get(reason.code)
            where = _REASON_FIELDS.get(reason.code)
            code = reason.code
            if condition is not None:
                where = _condition_item(condition)
                code = f"condition_{reason.code}"
            problems.append(Problem(code, reason.message, field=where, data={"procedure": procedure}))
        for condition in answer.pending:
            problems.append(
                Problem(
                    f"condition_{condition.code}",
                    condition.text,
                    severity=Severity.WARNING,
                    field=_condition_item(condition),
                    data={"procedure": procedure},
                )
            )
        for conditions_in, state in (
            (answer.met, "met"),
            (answer.pending, "pending"),
            (answer.failed, "failed"),
        ):
            conditions += [ConditionState(c, procedure, state) for c in conditions_in]  # type: ignore[arg-type]
    return problems, conditions, verdicts


def _timing(plan: PlannedFiling, day: dt.date) -> list[Problem]:
    catalogue = get_catalogue()
    resident = None
    if plan.stay_expires_on is not None:
        # The timing rules read the applicant's record; here the caller states what they need.
        resident = Resident(
            stay_expires_on=plan.stay_expires_on,
            period_of_stay=plan.period_of_stay or "",
            prefecture="",
            move_in_notified_on=None,
            abroad_on_reentry=False,
        )
    add_ons = [code for code in plan.add_ons if catalogue.procedures[code].add_on]
    found = []
    for problem in timing_problems(
        procedure=plan.procedure,
        add_ons=add_ons,
        resident=resident,
        today=day,
        birth_or_event_date=plan.birth_or_event_date,
    ):
        where = problem.field or ("stay_expires_on" if problem.code in STAY_PROBLEMS else "planned_on")
        found.append(Problem(problem.code, problem.message, problem.severity, where, problem.data))
    return found


def plan_check(plan: PlannedFiling, *, today: dt.date) -> PlanVerdict:
    """The verdict on ``plan`` (its codes known to the catalogue) on its planned day or ``today``."""
    day = plan.planned_on or today
    problems = [
        Problem(reason.code, reason.message, field="add_ons")
        for reason in combination_errors(main=plan.procedure, add_ons=list(plan.add_ons))
    ]
    matrix_problems, conditions, verdicts = _matrix(plan, day)
    problems += matrix_problems + _timing(plan, day)
    verdict = (
        Verdict.DENIED
        if Verdict.DENIED in verdicts
        else Verdict.CONDITIONAL
        if Verdict.CONDITIONAL in verdicts
        else Verdict.ALLOWED
    )
    return PlanVerdict(problems=problems, conditions=conditions, verdict=verdict)
