"""Who may file what: the one evaluator of the user x procedure matrix (MISSION §2, F-01).

:func:`eligibility` answers for one user category, procedure and status of residence. Facts that
only the filer or later checks can establish (has the bureau been consulted, does the relative
live in Japan, is the applicant in the organization's scope) are passed in ``facts``; a fact not
given leaves the answer *conditional*, listing what must hold. The public "who can file what" page,
the application steps and the API all ask this function.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.loader import Catalogue, Condition, Procedure, StatusEntry, UserCategory
from zairyu.core import clock


class Verdict(enum.StrEnum):
    ALLOWED = "allowed"
    CONDITIONAL = "conditional"
    DENIED = "denied"


@dataclass(frozen=True)
class Reason:
    code: str
    message: Promise | str


@dataclass(frozen=True)
class Eligibility:
    verdict: Verdict
    user_category: str
    procedure: Procedure
    status: StatusEntry
    reasons: tuple[Reason, ...] = ()  # why it is denied
    pending: tuple[Condition, ...] = ()  # conditions that must still hold (verdict CONDITIONAL)
    met: tuple[Condition, ...] = ()  # conditions known to hold
    failed: tuple[Condition, ...] = ()  # conditions known not to hold

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOWED

    @property
    def filed_with(self) -> tuple[str, ...]:
        """For an add-on (re-entry, activity permission): the procedures it must accompany."""
        return self.procedure.add_on_to


def age_on(born: dt.date, day: dt.date) -> int:
    """Full years of age on ``day`` of someone born on ``born`` (the birthday counts; a 29 February
    birthday is reached on 1 March in other years)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True)
class _Facts:
    """What the conditions are decided from: the filer's statements and the system's facts, the
    status, the applicant's date of birth in the registry and the filing date."""

    stated: Mapping[str, bool]
    status: StatusEntry
    born: dt.date | None
    day: dt.date
    conditions: Mapping[str, Condition]


def _condition_holds(condition: Condition, facts: _Facts) -> bool | None:
    if condition.kind == "applicant_status_in":
        return any(facts.status.matches(spec) for spec in condition.statuses)
    if condition.kind == "applicant_age_under":
        if facts.born is None or condition.age is None:
            return None
        return age_on(facts.born, facts.day) < condition.age
    if condition.kind == "any":
        answers = [_condition_holds(facts.conditions[part], facts) for part in condition.parts]
        if any(answers):
            return True
        return False if all(answer is False for answer in answers) else None
    value = facts.stated.get(condition.code)
    return None if value is None else bool(value)


def eligibility(
    *,
    user_category: str,
    procedure: str,
    status: str,
    facts: Mapping[str, bool] | None = None,
    on: dt.date | None = None,
    applicant_born: dt.date | None = None,
) -> Eligibility:
    """Whether a user of ``user_category`` may file ``procedure`` online for ``status``.

    ``status`` is a status entry key ("student", "highly_skilled_professional/1a"): the status
    applied for (COE, change, acquisition) or held (extension, employment certificate, add-ons).
    ``applicant_born``: the applicant's date of birth in the registry (the age conditions are
    decided on ``on``, the filing date; unknown, they stay pending).
    Raises ``KeyError`` for codes that are not in the catalogue.
    """
    catalogue = get_catalogue()
    category = catalogue.user_categories[user_category]
    proc = catalogue.procedures[procedure]
    entry = catalogue.entries[status]
    day = on or clock.today()
    facts = facts or {}

    def denied(*reasons: Reason, failed: tuple[Condition, ...] = ()) -> Eligibility:
        return Eligibility(
            verdict=Verdict.DENIED,
            user_category=user_category,
            procedure=proc,
            status=entry,
            reasons=reasons,
            failed=failed,
        )

    reason = _gate_reason(catalogue, category, entry, day)
    if reason is not None:
        return denied(reason)
    cell = catalogue.matrix[(user_category, procedure)]
    if cell.rule == "deny":
        return denied(
            Reason(
                "matrix",
                _(
                    "Your user category may not file this procedure. Ask a lawyer or scrivener, or the applicant."
                ),
            )
        )
    known = _Facts(stated=facts, status=entry, born=applicant_born, day=day, conditions=catalogue.conditions)
    met, pending, failed = _sort_conditions(cell.conditions, known)
    if failed:
        return denied(
            *(Reason(c.code, _condition_message(c)) for c in failed),
            failed=tuple(failed),
        )
    return Eligibility(
        verdict=Verdict.CONDITIONAL if pending else Verdict.ALLOWED,
        user_category=user_category,
        procedure=proc,
        status=entry,
        pending=tuple(pending),
        met=tuple(met),
    )


def window_only() -> Reason:
    """Why a user category that does not file online (``files_online: false``) cannot: the words
    the start page and the API's checks both give."""
    return Reason(
        "window_only",
        _(
            "This user category cannot file online: file at the bureau window, and receive the e-COE by email."
        ),
    )


def _gate_reason(
    catalogue: Catalogue, category: UserCategory, entry: StatusEntry, day: dt.date
) -> Reason | None:
    """Why nothing of this user category or status can be filed online on ``day``, whatever the
    procedure; ``None`` when the matrix decides."""
    if not category.files_online:
        return window_only()
    if not (entry.in_force(day) and catalogue.statuses[entry.status_code].in_force(day)):
        return Reason("status_not_in_force", _("This status of residence does not exist on that date."))
    if not entry.online:
        return Reason(
            "status_not_online",
            _("Applications for this status of residence cannot be filed online: file at the bureau window."),
        )
    return None


def _sort_conditions(
    conditions: Iterable[Condition], facts: _Facts
) -> tuple[list[Condition], list[Condition], list[Condition]]:
    """The matrix cell's conditions split into (met, pending, failed). An ``any`` whose parts the
    system decides are known not to hold is pending on the filer's statement alone: that fact is
    what is pending, worded by the ``otherwise_text`` (the applicant is 16 or older: only illness
    or another reason lets a relative file)."""
    met: list[Condition] = []
    pending: list[Condition] = []
    failed: list[Condition] = []
    for condition in conditions:
        holds = _condition_holds(condition, facts)
        if holds is None and condition.kind == "any":
            parts = [facts.conditions[part] for part in condition.parts]
            open_parts = [part for part in parts if _condition_holds(part, facts) is None]
            if all(part.kind == "fact" for part in open_parts):
                for part in open_parts:
                    text = condition.otherwise_text or part.text
                    pending.append(replace(part, text=text))
                continue
        (met if holds else pending if holds is None else failed).append(condition)
        if holds and condition.kind == "any":
            # Met on the filer's word alone: the statement it rests on is met too (its reason is asked).
            parts = [facts.conditions[part] for part in condition.parts]
            if not any(_condition_holds(p, facts) for p in parts if p.kind != "fact"):
                met += [p for p in parts if p.kind == "fact" and _condition_holds(p, facts)]
    return met, pending, failed


def _condition_message(condition: Condition) -> Promise:
    # Evaluated when rendered, so the text follows the reader's language.
    return format_lazy(_("This is possible only when: {condition}"), condition=condition.text)


def add_on_alone(procedure: Procedure) -> Reason:
    """Why a re-entry permit or a permission for another activity cannot be filed on its own
    online, and what to do instead: the procedures it goes with (from the catalogue), and the
    bureau's window for it alone. Rendered in the reader's language when shown."""
    catalogue = get_catalogue()
    mains = [catalogue.procedures[code] for code in procedure.add_on_to if code in catalogue.procedures]
    return Reason(
        "add_on_alone",
        format_lazy(
            _(
                "{procedure} is filed online only together with one of: {mains}. Choose that procedure, "
                "then tick {procedure} under “Apply at the same time for”. For {procedure} on its own, "
                "apply at the window of the regional immigration bureau."
            ),
            procedure=procedure.name,
            mains=_Joined(tuple(p.name for p in mains)),
        ),
    )


class _Joined:
    """Names joined with the reader's list separator, when rendered (、 in Japanese)."""

    def __init__(self, names: tuple[object, ...]) -> None:
        self.names = names

    def __str__(self) -> str:
        from django.utils.translation import pgettext

        return pgettext("list separator", ", ").join(str(name) for name in self.names)


def combination_errors(*, main: str, add_ons: Iterable[str]) -> list[Reason]:
    """Problems with filing ``add_ons`` (P6/P7) together with ``main``; empty when all is well."""
    catalogue = get_catalogue()
    reasons: list[Reason] = []
    main_proc = catalogue.procedures[main]
    if main_proc.add_on:
        reasons.append(add_on_alone(main_proc))
        return reasons
    seen: set[str] = set()
    for code in add_ons:
        proc = catalogue.procedures[code]
        if code in seen:
            reasons.append(
                Reason("duplicate", _("%(procedure)s is listed twice.") % {"procedure": proc.name})
            )
            continue
        seen.add(code)
        if not proc.add_on:
            reasons.append(
                Reason("not_add_on", _("%(procedure)s is filed on its own.") % {"procedure": proc.name})
            )
        elif main not in proc.add_on_to:
            reasons.append(
                Reason(
                    "add_on_not_allowed",
                    _(
                        "%(add_on)s can only be filed together with a change, extension or acquisition, not with %(main)s."
                    )
                    % {"add_on": proc.name, "main": main_proc.name},
                )
            )
    return reasons
