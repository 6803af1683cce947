"""The decision: permit (with the status, period and expiry granted and the add-ons' own outcomes) or deny, and the fee that applies (F-08)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.models import Application
from zairyu.applications.rules.procedures import CARD_PROCEDURES, COE, EMPLOYMENT_CERTIFICATE
from zairyu.applications.rules.receipt import OFFICIAL_STATUS, is_passport_stamp_period
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for
from zairyu.catalogue.formspec import role_field_id
from zairyu.catalogue.validators import normalize_period_of_stay, validate_period_of_stay
from zairyu.core import clock
from zairyu.review.constants import (
    IssueKind,
    IssueMethod,
    Outcome,
    PostalItem,
)
from zairyu.review.models import (
    AddOnDecision,
    Decision,
    Issue,
)
from zairyu.review.services.common import (
    POST_DOCUMENTS_DAYS,
    ReviewRefused,
    S,
    close_open_document_requests,
    filer_mail,
    guard,
    locked,
    may_work_on,
)
from zairyu.review.services.issuing import coe_paper_prepare, ecoe_issue, required_postal_items


@dataclass(frozen=True)
class AddOnOutcome:
    """The officer's outcome for a re-entry permit (P6) or an activity permission (P7)."""

    outcome: str
    reason: str = ""
    reentry_kind: str = ""  # P6: single or multiple
    valid_until: dt.date | None = None  # P6
    conditions: str = ""  # P7


def _fee_lines(
    application: Application, permitted: list[tuple[str, str | None]], on: dt.date
) -> list[dict[str, Any]]:
    return [
        {
            "procedure": code,
            "variant": variant,
            "yen": fee_for(procedure=code, on=on, channel="online", variant=variant),
        }
        for code, variant in permitted
    ]


def _validate_permit(
    application: Application,
    *,
    status: str,
    period_of_stay: str,
    stay_expires_on: dt.date | None,
    today: dt.date,
) -> tuple[str, str, dt.date | None, dict[str, Any]]:
    errors: dict[str, Any] = {}
    catalogue = get_catalogue()
    procedure = application.procedure
    if procedure == EMPLOYMENT_CERTIFICATE:
        resident = application.applicant_resident
        return (resident.status if resident else application.status), "", None, errors
    status = status or application.status
    if status not in catalogue.entries:
        errors["status"] = _("Choose the status of residence granted from the list.")
    period = ""
    if period_of_stay:
        period = normalize_period_of_stay(period_of_stay)
        try:
            validate_period_of_stay(period)
        except ValidationError:
            errors["period_of_stay"] = _("Write the period as on a card: 5Y, 3Y, 1Y, 6M, 3M or 90D.")
    if procedure in CARD_PROCEDURES:
        if not period:
            errors.setdefault("period_of_stay", _("Enter the period of stay granted, e.g. 1Y."))
        if stay_expires_on is None:
            errors["stay_expires_on"] = _("Enter the date the new period of stay expires.")
        elif stay_expires_on <= today:
            errors["stay_expires_on"] = _("The new period of stay must end after today.")
    else:
        stay_expires_on = None
    return status, period, stay_expires_on, errors


def _validate_add_ons(
    application: Application,
    add_ons: Mapping[str, AddOnOutcome],
    *,
    main_permitted: bool,
    stay_expires_on: dt.date | None,
    today: dt.date,
) -> tuple[list[AddOnDecision], dict[str, Any]]:
    rows: list[AddOnDecision] = []
    errors: dict[str, Any] = {}
    for code in application.add_ons:
        given = add_ons.get(code)
        if not main_permitted:
            rows.append(
                AddOnDecision(
                    procedure=code,
                    outcome=Outcome.DENY,
                    reason=str(_("The main application was denied.")),
                )
            )
            continue
        if given is None or given.outcome not in Outcome.values:
            errors[f"{code}_outcome"] = _("Decide on this procedure too.")
            continue
        row = AddOnDecision(procedure=code, outcome=given.outcome, reason=(given.reason or "").strip()[:2000])
        if given.outcome == Outcome.DENY:
            if not row.reason:
                errors[f"{code}_reason"] = _("Give the reason for the denial: the filer reads it.")
        elif code == "P6":
            row.reentry_kind = given.reentry_kind or str(
                application.answers.get(role_field_id("reentry.kind")) or "single"
            )
            if row.reentry_kind not in ("single", "multiple"):
                errors[f"{code}_reentry_kind"] = _("Choose a single or a multiple re-entry permit.")
            row.valid_until = given.valid_until or stay_expires_on
            if row.valid_until is None or row.valid_until <= today:
                errors[f"{code}_valid_until"] = _("The re-entry permit must be valid after today.")
            elif stay_expires_on is not None and row.valid_until > stay_expires_on:
                errors[f"{code}_valid_until"] = _("A re-entry permit cannot outlast the period of stay.")
        elif code == "P7":
            row.conditions = (given.conditions or "").strip()[:200]
        rows.append(row)
    return rows, errors


def _permitted_procedures(decision: Decision, add_ons: list[AddOnDecision]) -> list[tuple[str, str | None]]:
    if not decision.permitted:
        return []
    permitted: list[tuple[str, str | None]] = [(decision.procedure, None)]
    for row in add_ons:
        if row.permitted:
            variant = (row.reentry_kind or "single") if row.procedure == "P6" else None
            permitted.append((row.procedure, variant))
    return permitted


def _issue_kind(application: Application, decision: Decision) -> tuple[str, str]:
    """What the permission is handed over as, and how (F-07), given the decided period."""
    methods = application.receipt_methods or {}
    if application.procedure == COE:
        method = methods.get("coe", IssueMethod.POST)
        return (
            (IssueKind.ECOE, IssueMethod.EMAIL)
            if method == "email"
            else (IssueKind.COE_PAPER, IssueMethod.POST)
        )
    if application.procedure == EMPLOYMENT_CERTIFICATE:
        method = methods.get("employment_certificate", IssueMethod.WINDOW)
        return IssueKind.EMPLOYMENT_CERTIFICATE, method if method in (
            "post",
            "window",
        ) else IssueMethod.WINDOW
    entry = get_catalogue().entries.get(decision.status)
    if is_passport_stamp_period(decision.period_of_stay) or (entry and entry.status_code == OFFICIAL_STATUS):
        return IssueKind.PASSPORT_STAMP, IssueMethod.WINDOW
    method = methods.get("residence_card") or methods.get("passport_stamp") or IssueMethod.WINDOW
    return IssueKind.RESIDENCE_CARD, method if method in ("post", "window") else IssueMethod.WINDOW


@dataclass(frozen=True)
class _Verdict:
    """A decision's input, checked: what is granted, and the add-ons' own outcomes."""

    permitted: bool
    status: str
    period: str
    expiry: dt.date | None
    reason: str
    add_on_rows: list[AddOnDecision]


def _checked(
    application: Application,
    *,
    outcome: str,
    status: str,
    period_of_stay: str,
    stay_expires_on: dt.date | None,
    reason: str,
    add_ons: Mapping[str, AddOnOutcome],
    today: dt.date,
) -> _Verdict:
    """Refuse (with an error beside each wrong field) unless the decision is complete and valid."""
    if outcome not in Outcome.values:
        raise ReviewRefused(
            "invalid", _("Choose permit or deny."), errors={"outcome": _("Choose permit or deny.")}
        )
    errors: dict[str, Any] = {}
    reason = (reason or "").strip()
    permitted = outcome == Outcome.PERMIT
    granted_status, period, expiry = "", "", None
    if permitted:
        granted_status, period, expiry, errors = _validate_permit(
            application,
            status=status,
            period_of_stay=period_of_stay,
            stay_expires_on=stay_expires_on,
            today=today,
        )
    elif not reason:
        errors["reason"] = _("Give the reason for the denial: it is sent to the filer.")
    add_on_rows, add_on_errors = _validate_add_ons(
        application, add_ons, main_permitted=permitted, stay_expires_on=expiry, today=today
    )
    errors.update(add_on_errors)
    if errors:
        raise ReviewRefused("invalid", next(iter(errors.values())), errors=errors)
    return _Verdict(permitted, granted_status, period, expiry, reason, add_on_rows)


def _decision_save(
    application: Application, verdict: _Verdict, *, outcome: str, officer: User, today: dt.date
) -> Decision:
    """The decision with its fee (F-08) and the add-ons' rows; once only (a second is refused)."""
    decision = Decision(
        application=application,
        outcome=outcome,
        status=verdict.status,
        period_of_stay=verdict.period,
        stay_expires_on=verdict.expiry,
        reason=verdict.reason[:2000] if not verdict.permitted else "",
        fee_on=today,
        decided_by=officer,
        office=application.office,
        procedure=application.procedure,
        days_to_decision=max((today - (application.receipt_date or today)).days, 0),
    )
    lines = _fee_lines(application, _permitted_procedures(decision, verdict.add_on_rows), today)
    decision.fee_lines = lines
    decision.fee_yen = sum(line["yen"] for line in lines)
    try:
        with transaction.atomic():
            decision.save(force_insert=True)
    except IntegrityError:
        raise ReviewRefused(
            "already_decided", _("This application was already decided; nothing was changed.")
        ) from None
    for row in verdict.add_on_rows:
        row.decision = decision
    AddOnDecision.objects.bulk_create(verdict.add_on_rows)
    return decision


def _issue_prepare(
    application: Application, decision: Decision, *, officer: User, today: dt.date
) -> tuple[Issue, str, list[lifecycle.Mail]]:
    """What a permit is received as (F-07) and the state it leaves the application in: an e-COE
    is issued at once (complete); a postal receipt waits for the filer's items (awaiting issue);
    a window receipt or a stamp is complete."""
    kind, method = _issue_kind(application, decision)
    issue = Issue.objects.create(application=application, kind=kind, method=method)
    if kind == IssueKind.ECOE:
        _record, mail = ecoe_issue(application, decision, issue, officer=officer)
        return issue, S.COMPLETE, [mail]
    if method == IssueMethod.POST:
        issue.documents_due_on = today + dt.timedelta(days=POST_DOCUMENTS_DAYS)
        if kind == IssueKind.COE_PAPER:
            coe_paper_prepare(application, decision, issue)
        issue.save()
        return issue, S.AWAITING_ISSUE, []
    return issue, S.COMPLETE, []


def _decision_mail(
    application: Application, decision: Decision, issue: Issue | None, verdict: _Verdict
) -> list[lifecycle.Mail]:
    """A denial, or a permit received by post or at the window (what to bring); an e-COE's own
    e-mail is made with it."""
    if not verdict.permitted:
        return [
            filer_mail(
                application,
                "review_decision",
                key=f"review_decision:{application.pk}",
                permitted=False,
                reason=decision.reason,
                add_ons=[],
            )
        ]
    if issue is None or issue.kind == IssueKind.ECOE:
        return []
    return [
        filer_mail(
            application,
            "review_complete",
            key=f"review_complete:{application.pk}",
            **_complete_context(decision, issue, verdict.add_on_rows),
        )
    ]


@transaction.atomic
def application_decide(
    *,
    application_id: int,
    officer: User,
    outcome: str,
    status: str = "",
    period_of_stay: str = "",
    stay_expires_on: dt.date | None = None,
    reason: str = "",
    add_ons: Mapping[str, AddOnOutcome] | None = None,
    ip: str | None = None,
) -> Decision:
    """Record the decision — permit (with the status, period and expiry granted, and the own
    outcome of a re-entry or activity permission filed with it) or deny (with the reason) — and
    the fee that applies on this day for an online application (F-08).

    What follows depends on how the result is received (F-07): an electronic COE is issued and
    e-mailed at once (complete); a postal receipt waits for the filer's envelope, fee and card
    (awaiting issue); a window receipt or a passport stamp is complete, and the e-mail says
    what to bring; a denial is complete.
    """
    application = locked(application_id, officer)
    guard(application, "decided", officer)
    may_work_on(application, officer)
    if Decision.objects.filter(application=application).exists():
        raise ReviewRefused(
            "already_decided", _("This application was already decided; nothing was changed.")
        )
    today = clock.today()
    verdict = _checked(
        application,
        outcome=outcome,
        status=status,
        period_of_stay=period_of_stay,
        stay_expires_on=stay_expires_on,
        reason=reason,
        add_ons=add_ons or {},
        today=today,
    )
    decision = _decision_save(application, verdict, outcome=outcome, officer=officer, today=today)
    close_open_document_requests(application)
    issue: Issue | None = None
    to: str = S.COMPLETE  # a denial
    mail: list[lifecycle.Mail] = []
    if verdict.permitted:
        issue, to, mail = _issue_prepare(application, decision, officer=officer, today=today)
    mail += _decision_mail(application, decision, issue, verdict)
    lifecycle.transition(
        application,
        "decided",
        to,
        actor=officer,
        audit="review.decided",
        ip=ip,
        audit_details={
            "outcome": outcome,
            "add_ons": {row.procedure: row.outcome for row in verdict.add_on_rows},
            "fee_yen": decision.fee_yen,
        },
        mail=mail,
        outcome=outcome,
    )
    return decision


def _complete_context(decision: Decision, issue: Issue, add_ons: list[AddOnDecision]) -> dict[str, Any]:
    catalogue = get_catalogue()
    entry = catalogue.entries.get(decision.status)
    return {
        "status": entry.name if entry else decision.status,
        "period_of_stay": decision.period_of_stay,
        "stay_expires_on": decision.stay_expires_on,
        "fee_yen": decision.fee_yen,
        "kind": issue.kind,
        "method": issue.method,
        "due_on": issue.documents_due_on,
        "items": [PostalItem(item).label for item in required_postal_items(issue, decision)],
        "add_ons": [
            {
                "procedure": catalogue.procedures[row.procedure].name,
                "permitted": row.permitted,
                "reason": row.reason,
            }
            for row in add_ons
        ],
    }
