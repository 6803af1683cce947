"""The bureau's work on an application, from taking it up to handing over the result.

Every state change here: keyword-only arguments, one transaction, the application row locked
(``select_for_update``) and looked up *within the officer's office* (another office's
application does not exist for the officer), an explicit guard on the current state, a history
event, an audit record with the acting officer, and its e-mail written to the outbox in the same
transaction under a key (so it is queued exactly once, F-16).

The user sees F-06 states only::

    submitted ─take up→ under review ─decide→ awaiting issue ─issue by post→ complete
                         │   ▲ (documents requested/answered)  (post)
                         │   └─────────┘
                         ├─decide (e-COE, window, stamp, denial)→ complete
                         └─(withdrawal accepted)→ withdrawn
    error (receipt number not obtained) ─put back→ submitted

"Waiting for additional documents" is *under review* with an open :class:`DocumentRequest`.
The registry changes only when a card is issued (:func:`issue_by_post`, :func:`issue_at_window`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import OfficerRole, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.constants import ApplicationState, DocumentRole
from zairyu.applications.models import Application, ApplicationDocument, ApplicationRequest
from zairyu.applications.rules.dates import add_months, birthday
from zairyu.applications.rules.procedures import CARD_PROCEDURES, COE, EMPLOYMENT_CERTIFICATE
from zairyu.applications.rules.receipt import OFFICIAL_STATUS, is_passport_stamp_period
from zairyu.applications.rules.results import format_message
from zairyu.applications.services import receipt_number_obtain
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Refused
from zairyu.core.models import AuditEvent
from zairyu.notifications.services import email_queue
from zairyu.registry.constants import CARD_AGE_LIMIT
from zairyu.registry.models import Resident
from zairyu.registry.validators import normalize_period_of_stay, validate_period_of_stay
from zairyu.review import signing
from zairyu.review.constants import (
    COE_VALIDITY_MONTHS,
    DocumentRequestState,
    IssueKind,
    IssueMethod,
    IssueState,
    Outcome,
    PaymentMethod,
    PostalItem,
)
from zairyu.review.models import (
    AddOnDecision,
    Assignment,
    CertificateCounter,
    Decision,
    DocumentRequest,
    EcoeRecord,
    InvalidatedCard,
    Issue,
    Payment,
    WindowCount,
)

S = ApplicationState
OPEN_STATES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.AWAITING_ISSUE, S.ERROR_RECEIPT})
SUPERVISOR_ROLES = frozenset({OfficerRole.SUPERVISOR, OfficerRole.ADMINISTRATOR})
POST_DOCUMENTS_DAYS = 14
MAX_DOCUMENT_REQUEST_DAYS = 90
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16


class ReviewRefused(Refused):
    """An officer's (or filer's) action that cannot be done now (the shape: ``core.errors``)."""


# --- helpers ------------------------------------------------------------------------------------


def _office_of(officer: User) -> str:
    if officer.kind != UserKind.OFFICER or not officer.office or officer.state != UserState.ACTIVE:
        raise ReviewRefused("not_officer", _("Only officers of a regional bureau do this."))
    return officer.office


def _locked(application_id: int, officer: User) -> Application:
    """The application, locked, if it was received by the officer's office."""
    office = _office_of(officer)
    application = (
        Application.objects.select_for_update()
        .filter(pk=application_id, office=office, submitted_at__isnull=False)
        .first()
    )
    if application is None:
        raise ReviewRefused("not_found", _("There is no such application at your office."))
    return application


def _guard(application: Application, action: str, officer: User | None) -> None:
    """Refuse unless the lifecycle allows ``action`` in the application's state."""
    try:
        lifecycle.check(application, action, actor=officer)
    except Refused as refusal:
        raise ReviewRefused(refusal.code, refusal.message) from None


def _is_supervisor(officer: User) -> bool:
    return officer.role in SUPERVISOR_ROLES


def _may_work_on(application: Application, officer: User) -> None:
    """An application assigned to someone else is theirs, unless a supervisor steps in."""
    assignment = Assignment.objects.filter(application=application).select_related("officer").first()
    if assignment is not None and assignment.officer_id != officer.pk and not _is_supervisor(officer):
        raise ReviewRefused(
            "assigned_elsewhere",
            format_message(
                _("This application is assigned to %(name)s. Ask a supervisor to reassign it to you."),
                name=assignment.officer.full_name or assignment.officer.username,
            ),
        )


def _audit(action: str, *, officer: User | None, target: Any, ip: str | None, **details: Any) -> None:
    audit_record(
        action=f"review.{action}",
        actor=officer,
        actor_kind=AuditEvent.ActorKind.OFFICER if officer is not None else None,
        target=target,
        ip=ip,
        details=details,
    )


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _mail_filer(application: Application, email_kind: str, /, *, key: str, **context: Any) -> None:
    catalogue = get_catalogue()
    office = catalogue.offices.get(application.office)
    filer = application.filer
    email_queue(
        kind=email_kind,
        to=filer.email,
        language=filer.language,
        context={
            "receipt_number": application.receipt_number or application.provisional_number,
            "applicant_name": application.applicant_name,
            "procedure": catalogue.procedures[application.procedure].name,
            "office": office.name if office else application.office,
            "link": _site_url(reverse("applications:detail", kwargs={"public_id": application.public_id})),
            **context,
        },
        key=key,
    )


def _close_open_document_requests(application: Application) -> None:
    DocumentRequest.objects.filter(application=application, state=DocumentRequestState.OPEN).update(
        state=DocumentRequestState.CLOSED, closed_at=clock.now()
    )


def _next_serial(*, kind: str, office: str, year: int) -> int:
    try:
        with transaction.atomic():
            CertificateCounter.objects.get_or_create(kind=kind, office=office, year=year)
    except IntegrityError:
        pass  # created by a concurrent issue; the lock below serialises us
    counter = CertificateCounter.objects.select_for_update().get(kind=kind, office=office, year=year)
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return counter.last_serial


def certificate_number(*, kind: str, office: str, day: dt.date) -> str:
    """``TOK-N-2026-000001``: office, N (COE) or E (employment certificate), year, gap-free serial."""
    letter = {"coe": "N", "employment_certificate": "E"}[kind]
    return f"{office[:3].upper()}-{letter}-{day.year}-{_next_serial(kind=kind, office=office, year=day.year):06d}"


# --- take up, assign ----------------------------------------------------------------------------


@transaction.atomic
def application_take_up(*, application_id: int, officer: User, ip: str | None = None) -> Application:
    """Submitted → under review; the application is assigned to the officer unless it already is
    to someone (a supervisor may have assigned it)."""
    application = _locked(application_id, officer)
    _guard(application, "taken_up", officer)
    _may_work_on(application, officer)
    Assignment.objects.get_or_create(
        application=application, defaults={"officer": officer, "assigned_by": officer}
    )
    lifecycle.transition(
        application, "taken_up", S.UNDER_REVIEW, actor=officer, audit="review.taken_up", ip=ip
    )
    return application


@transaction.atomic
def application_assign(
    *, application_id: int, officer: User, assignee_id: int, ip: str | None = None
) -> Assignment:
    """A supervisor gives an open application to an officer of the same office."""
    application = _locked(application_id, officer)
    if not _is_supervisor(officer):
        raise ReviewRefused("not_supervisor", _("Only a supervisor reassigns applications."))
    _guard(application, "assigned", officer)
    assignee = User.objects.filter(
        pk=assignee_id, kind=UserKind.OFFICER, office=officer.office, state=UserState.ACTIVE
    ).first()
    if assignee is None:
        raise ReviewRefused(
            "assignee_invalid",
            _("Choose an officer of your office."),
            errors={"assignee": _("Choose an officer of your office.")},
        )
    assignment, _created = Assignment.objects.update_or_create(
        application=application,
        defaults={"officer": assignee, "assigned_by": officer, "assigned_at": clock.now()},
    )
    lifecycle.record(
        application,
        "assigned",
        actor=officer,
        audit="review.assigned",
        ip=ip,
        audit_details={"assignee": assignee.pk},
        assignee=assignee.pk,
    )
    return assignment


# --- additional documents -----------------------------------------------------------------------


@transaction.atomic
def documents_request(
    *, application_id: int, officer: User, message: str, deadline: dt.date, ip: str | None = None
) -> DocumentRequest:
    """Ask the filer for additional documents (a message and a deadline); they upload them
    online with a declaration (F-04). The application stays under review, waiting."""
    application = _locked(application_id, officer)
    _guard(application, "documents_requested", officer)
    _may_work_on(application, officer)
    today = clock.today()
    errors: dict[str, Any] = {}
    message = (message or "").strip()
    if not message:
        errors["message"] = _("Say which documents are needed and why: the filer reads this.")
    if deadline is None or deadline <= today:
        errors["deadline"] = _("The deadline must be after today.")
    elif deadline > today + dt.timedelta(days=MAX_DOCUMENT_REQUEST_DAYS):
        errors["deadline"] = format_message(
            _("The deadline can be at most %(days)s days from today."), days=MAX_DOCUMENT_REQUEST_DAYS
        )
    if errors:
        raise ReviewRefused("invalid", next(iter(errors.values())), errors=errors)
    if DocumentRequest.objects.filter(application=application, state=DocumentRequestState.OPEN).exists():
        raise ReviewRefused(
            "request_open", _("Documents were already asked for and not yet sent; nothing was changed.")
        )
    request = DocumentRequest.objects.create(
        application=application, message=message[:2000], deadline=deadline, requested_by=officer
    )
    lifecycle.record(
        application,
        "documents_requested",
        actor=officer,
        audit="review.documents_requested",
        ip=ip,
        audit_details={"request": request.pk},
        deadline=deadline.isoformat(),
    )
    _mail_filer(
        application,
        "review_documents_requested",
        key=f"review_documents_requested:{request.pk}",
        message=request.message,
        deadline=deadline,
        upload_link=_site_url(reverse("applications:manage", kwargs={"public_id": application.public_id})),
    )
    return request


def document_request_answer(
    *, application: Application, attachment: ApplicationDocument, user: User
) -> DocumentRequest | None:
    """Called by ``applications.services.application_add_documents`` (inside its transaction,
    the application locked) when the filer adds a document: an open request is answered."""
    request = (
        DocumentRequest.objects.select_for_update()
        .filter(application=application, state=DocumentRequestState.OPEN)
        .first()
    )
    if request is None:
        return None
    request.state = DocumentRequestState.ANSWERED
    request.answered_at = clock.now()
    request.answer = attachment
    request.save(update_fields=["state", "answered_at", "answer"])
    lifecycle.record(
        application, "documents_request_answered", actor=user, audit="review.documents_request_answered"
    )
    return request


# --- decision -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddOnOutcome:
    """The officer's outcome for a re-entry permit (P6) or an activity permission (P7)."""

    outcome: str
    reason: str = ""
    reentry_kind: str = ""  # P6: single or multiple
    valid_until: dt.date | None = None  # P6
    conditions: str = ""  # P7


def _fee_lines(application: Application, permitted: list[tuple[str, str | None]], on: dt.date) -> list[dict]:
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
            row.reentry_kind = given.reentry_kind or str(application.answers.get("reentry_kind") or "single")
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


def required_postal_items(issue: Issue, decision: Decision) -> list[str]:
    """What the filer must send before a postal issue (A6-5): the return envelope always, the
    fee form when there is a fee, the current card when a new card replaces it."""
    items = [PostalItem.ENVELOPE]
    if decision.fee_yen:
        items.append(PostalItem.FEE)
    if issue.kind == IssueKind.RESIDENCE_CARD:
        items.append(PostalItem.CARD)
    return items


def missing_postal_items(issue: Issue, decision: Decision) -> list[str]:
    received = {
        PostalItem.ENVELOPE: issue.envelope_received_on is not None,
        PostalItem.FEE: Payment.objects.filter(application_id=issue.application_id).exists(),
        PostalItem.CARD: issue.card_received_on is not None,
    }
    return [item for item in required_postal_items(issue, decision) if not received[item]]


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
    application = _locked(application_id, officer)
    _guard(application, "decided", officer)
    _may_work_on(application, officer)
    if Decision.objects.filter(application=application).exists():
        raise ReviewRefused(
            "already_decided", _("This application was already decided; nothing was changed.")
        )
    today = clock.today()
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
        application, add_ons or {}, main_permitted=permitted, stay_expires_on=expiry, today=today
    )
    errors.update(add_on_errors)
    if errors:
        raise ReviewRefused("invalid", next(iter(errors.values())), errors=errors)

    decision = Decision(
        application=application,
        outcome=outcome,
        status=granted_status,
        period_of_stay=period,
        stay_expires_on=expiry,
        reason=reason[:2000] if not permitted else "",
        fee_on=today,
        decided_by=officer,
        office=application.office,
        procedure=application.procedure,
        days_to_decision=max((today - (application.receipt_date or today)).days, 0),
    )
    lines = _fee_lines(application, _permitted_procedures(decision, add_on_rows), today)
    decision.fee_lines = lines
    decision.fee_yen = sum(line["yen"] for line in lines)
    try:
        with transaction.atomic():
            decision.save(force_insert=True)
    except IntegrityError:
        raise ReviewRefused(
            "already_decided", _("This application was already decided; nothing was changed.")
        ) from None
    for row in add_on_rows:
        row.decision = decision
    AddOnDecision.objects.bulk_create(add_on_rows)
    _close_open_document_requests(application)

    issue: Issue | None = None
    to = S.COMPLETE  # a denial; a permit collected at the window (the e-mail says what to bring)
    if permitted:
        kind, method = _issue_kind(application, decision)
        issue = Issue.objects.create(application=application, kind=kind, method=method)
        if kind == IssueKind.ECOE:
            _ecoe_issue(application, decision, issue, officer=officer)
        elif method == IssueMethod.POST:
            issue.documents_due_on = today + dt.timedelta(days=POST_DOCUMENTS_DAYS)
            if kind == IssueKind.COE_PAPER:
                _coe_paper_prepare(application, decision, issue)
            issue.save()
            to = S.AWAITING_ISSUE
    lifecycle.transition(
        application,
        "decided",
        to,
        actor=officer,
        audit="review.decided",
        ip=ip,
        audit_details={
            "outcome": outcome,
            "add_ons": {row.procedure: row.outcome for row in add_on_rows},
            "fee_yen": decision.fee_yen,
        },
        outcome=outcome,
    )
    if not permitted:
        _mail_filer(
            application,
            "review_decision",
            key=f"review_decision:{application.pk}",
            permitted=False,
            reason=decision.reason,
            add_ons=[],
        )
    elif issue is not None and issue.kind != IssueKind.ECOE:
        _mail_filer(
            application,
            "review_complete",
            key=f"review_complete:{application.pk}",
            **_complete_context(decision, issue, add_on_rows),
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


# --- issuing ------------------------------------------------------------------------------------


def _store_pdf(data: bytes, *, name: str, document_type: str):
    from zairyu.documents.services import document_store_pdf

    # Our own PDF, not an upload: not scanned for malware (ADR 0013).
    return document_store_pdf(
        upload=ContentFile(data, name=name), owner=None, document_type=document_type, generated=True
    )


def _verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalize_code(text: str) -> str:
    return "".join(char for char in (text or "").upper() if char.isalnum())[: CODE_LENGTH * 2]


def ecoe_url(code: str) -> str:
    return _site_url(reverse("public_review:ecoe", kwargs={"code": code}))


def _ecoe_issue(application: Application, decision: Decision, issue: Issue, *, officer: User) -> EcoeRecord:
    """Make the electronic COE: the PDF (no photo) with its number, code and QR code, stored;
    the verification record with the hash of those exact bytes, signed; the e-mail with a link
    to download it (forwardable to the applicant abroad) and the verification page."""
    from zairyu.review.pdf import coe_pdf

    today = clock.today()
    number = certificate_number(kind="coe", office=application.office, day=today)
    code = _verification_code()
    valid_until = add_months(today, COE_VALIDITY_MONTHS)
    data = coe_pdf(
        application=application,
        decision=decision,
        coe_number=number,
        issued_on=today,
        valid_until=valid_until,
        verification=(display_code(code), ecoe_url(code)),
    )
    digest = hashlib.sha256(data).hexdigest()
    signature, key_id = signing.sign(
        signing.signed_message(coe_number=number, sha256=digest, issued_on=today, code=code)
    )
    token = secrets.token_urlsafe(24)
    issue.certificate_number = number
    issue.document = _store_pdf(data, name=f"ecoe-{number}.pdf", document_type="ecoe")
    _mark_issued(issue, decision, officer=officer)
    record = EcoeRecord.objects.create(
        issue=issue,
        code=code,
        coe_number=number,
        sha256=digest,
        issued_on=today,
        valid_until=valid_until,
        status=decision.status,
        key_id=key_id,
        signature=signature,
        download_token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    _mail_filer(
        application,
        "review_ecoe_issued",
        key=f"review_ecoe_issued:{application.pk}",
        coe_number=number,
        code=display_code(code),
        valid_until=valid_until,
        download_link=_site_url(reverse("public_review:ecoe-download", kwargs={"token": token})),
        verify_link=ecoe_url(code),
    )
    return record


def _coe_paper_prepare(application: Application, decision: Decision, issue: Issue) -> None:
    """The paper COE for printing (with the face photo when attached), ready at the decision."""
    from zairyu.documents.services import document_open
    from zairyu.review.pdf import coe_pdf

    today = clock.today()
    photo = None
    attachment = application.documents.filter(
        role=DocumentRole.PHOTO, document__deleted_at__isnull=True
    ).first()
    if attachment is not None:
        with document_open(attachment.document) as handle:
            photo = handle.read()
    issue.certificate_number = certificate_number(kind="coe", office=application.office, day=today)
    data = coe_pdf(
        application=application,
        decision=decision,
        coe_number=issue.certificate_number,
        issued_on=today,
        valid_until=add_months(today, COE_VALIDITY_MONTHS),
        photo=photo,
    )
    issue.document = _store_pdf(data, name=f"coe-{issue.certificate_number}.pdf", document_type="coe_paper")


def _employment_certificate_make(application: Application, decision: Decision, issue: Issue) -> None:
    from zairyu.review.pdf import employment_certificate_pdf

    today = clock.today()
    issue.certificate_number = certificate_number(
        kind="employment_certificate", office=application.office, day=today
    )
    data = employment_certificate_pdf(
        application=application,
        decision=decision,
        certificate_number=issue.certificate_number,
        issued_on=today,
    )
    issue.document = _store_pdf(
        data,
        name=f"employment-certificate-{issue.certificate_number}.pdf",
        document_type="employment_certificate",
    )


def _mark_issued(issue: Issue, decision: Decision, *, officer: User) -> None:
    now = clock.now()
    issue.state = IssueState.ISSUED
    issue.issued_at = now
    issue.issued_by = officer
    issue.save()
    decision.issued_at = now
    decision.days_to_issue = max((now.date() - decision.decided_at.astimezone(clock.JST).date()).days, 0)
    decision.save(update_fields=["issued_at", "days_to_issue"])


def new_card_number() -> str:
    """A residence card number no card has had: two letters, eight digits, two letters."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while True:
        number = (
            "".join(secrets.choice(letters) for _ in range(2))
            + f"{secrets.randbelow(10**8):08d}"
            + "".join(secrets.choice(letters) for _ in range(2))
        )
        if (
            not Resident.objects.filter(card_number=number).exists()
            and not InvalidatedCard.objects.filter(card_number=number).exists()
        ):
            return number


def _card_expiry(resident: Resident, decision: Decision) -> dt.date:
    """With the period of stay; for a holder under 16, at the 16th birthday if that comes first."""
    expiry = decision.stay_expires_on or resident.card_expires_on
    sixteenth = birthday(resident.date_of_birth, CARD_AGE_LIMIT)
    if sixteenth > clock.today():
        expiry = min(expiry, sixteenth)
    return expiry


def _registry_update(application: Application, decision: Decision, issue: Issue, *, new_card: bool) -> None:
    """The registry learns the new status, period and expiry — and with a new card, its number
    and expiry; the old card is invalidated (punched and returned to the holder, Q5-5)."""
    resident = Resident.objects.select_for_update().get(pk=application.applicant_resident_id)
    resident.status = decision.status
    resident.period_of_stay = decision.period_of_stay
    resident.stay_expires_on = decision.stay_expires_on
    fields = ["status", "period_of_stay", "stay_expires_on", "updated_at"]
    if new_card:
        issue.old_card_number = resident.card_number
        InvalidatedCard.objects.create(card_number=resident.card_number, resident=resident, issue=issue)
        resident.card_number = new_card_number()
        resident.card_expires_on = _card_expiry(resident, decision)
        issue.new_card_number = resident.card_number
        issue.new_card_expires_on = resident.card_expires_on
        fields += ["card_number", "card_expires_on"]
    resident.save(update_fields=fields)


def _locked_issue(application: Application) -> tuple[Issue, Decision]:
    issue = Issue.objects.select_for_update().filter(application=application).first()
    decision = Decision.objects.filter(application=application).first()
    if issue is None or decision is None:
        raise ReviewRefused("nothing_to_issue", _("Nothing is waiting to be issued for this application."))
    if issue.state != IssueState.WAITING:
        raise ReviewRefused("already_issued", _("This was already issued; nothing was changed."))
    return issue, decision


@transaction.atomic
def postal_items_record(
    *,
    application_id: int,
    officer: User,
    envelope: bool = False,
    fee_form: bool = False,
    card: bool = False,
    ip: str | None = None,
) -> Issue:
    """Record what arrived for a postal receipt: the return envelope, the fee form with its
    revenue stamps (which is the payment), the current residence card."""
    application = _locked(application_id, officer)
    _guard(application, "postal_items_received", officer)
    issue, decision = _locked_issue(application)
    if issue.method != IssueMethod.POST:
        raise ReviewRefused("not_postal", _("This result is not received by post."))
    today = clock.today()
    recorded = []
    if envelope and issue.envelope_received_on is None:
        issue.envelope_received_on = today
        recorded.append(PostalItem.ENVELOPE)
    if fee_form and decision.fee_yen and issue.fee_form_received_on is None:
        issue.fee_form_received_on = today
        recorded.append(PostalItem.FEE)
        if not Payment.objects.filter(application=application).exists():
            Payment.objects.create(
                application=application,
                method=PaymentMethod.REVENUE_STAMPS,
                amount_yen=decision.fee_yen,
                recorded_by=officer,
            )
    if card and issue.kind == IssueKind.RESIDENCE_CARD and issue.card_received_on is None:
        issue.card_received_on = today
        recorded.append(PostalItem.CARD)
    if not recorded:
        raise ReviewRefused("nothing_recorded", _("Tick what arrived; it was not recorded before."))
    issue.save()
    items = [str(i) for i in recorded]
    lifecycle.record(
        application,
        "postal_items_received",
        actor=officer,
        audit="review.postal_items_received",
        ip=ip,
        audit_details={"items": items},
        items=items,
    )
    return issue


def _remind(application: Application, issue: Issue, decision: Decision, *, officer: User | None) -> bool:
    missing = missing_postal_items(issue, decision)
    if not missing:
        return False
    issue.reminded_at = clock.now()
    issue.save(update_fields=["reminded_at"])
    lifecycle.record(application, "postal_reminder_sent", actor=officer, audit="review.postal_reminder_sent")
    _mail_filer(
        application,
        "review_post_reminder",
        key=f"review_post_reminder:{issue.pk}",
        due_on=issue.documents_due_on,
        items=[PostalItem(item).label for item in missing],
    )
    return True


@transaction.atomic
def postal_reminder_send(*, application_id: int, officer: User, ip: str | None = None) -> Issue:
    """The officer records that 14 days passed without the envelope, fee form or card: the
    filer is reminded (once)."""
    application = _locked(application_id, officer)
    _guard(application, "postal_reminder_sent", officer)
    issue, decision = _locked_issue(application)
    if issue.method != IssueMethod.POST:
        raise ReviewRefused("not_postal", _("This result is not received by post."))
    if issue.documents_due_on is None or clock.today() <= issue.documents_due_on:
        raise ReviewRefused(
            "not_due",
            format_message(_("The filer has until %(date)s to send them."), date=issue.documents_due_on),
        )
    if issue.reminded_at is not None:
        raise ReviewRefused("already_reminded", _("The filer was already reminded."))
    if not _remind(application, issue, decision, officer=officer):
        raise ReviewRefused("nothing_missing", _("Everything has arrived: issue it."))
    return issue


def postal_reminders_send() -> int:
    """A job: remind every filer whose 14 days passed with something missing (once each)."""
    sent = 0
    due = Issue.objects.filter(
        method=IssueMethod.POST,
        state=IssueState.WAITING,
        reminded_at__isnull=True,
        documents_due_on__lt=clock.today(),
    ).values_list("application_id", flat=True)
    for application_id in list(due):
        with transaction.atomic():
            application = Application.objects.select_for_update().get(pk=application_id)
            if application.state != S.AWAITING_ISSUE:
                continue
            issue = Issue.objects.select_for_update().get(application=application)
            decision = Decision.objects.get(application=application)
            if issue.reminded_at is None and issue.state == IssueState.WAITING:
                sent += _remind(application, issue, decision, officer=None)
    return sent


@transaction.atomic
def issue_by_post(
    *, application_id: int, officer: User, tracking_number: str, ip: str | None = None
) -> Issue:
    """Post the card or certificate once everything arrived: a new residence card goes into the
    registry (the old one is invalidated and returned); the filer is e-mailed the tracking
    number; complete. The new card takes effect when it is delivered (A6-8)."""
    application = _locked(application_id, officer)
    _guard(application, "issued_by_post", officer)
    issue, decision = _locked_issue(application)
    if issue.method != IssueMethod.POST:
        raise ReviewRefused("not_postal", _("This result is not received by post."))
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise ReviewRefused(
            "invalid",
            _("Enter the tracking number of the registered mail."),
            errors={"tracking_number": _("Enter the tracking number of the registered mail.")},
        )
    missing = missing_postal_items(issue, decision)
    if missing:
        labels = ", ".join(str(PostalItem(item).label) for item in missing)
        raise ReviewRefused(
            "items_missing",
            format_message(_("Still missing: %(items)s. Record them when they arrive."), items=labels),
        )
    if issue.kind == IssueKind.RESIDENCE_CARD:
        _registry_update(application, decision, issue, new_card=True)
    elif issue.kind == IssueKind.EMPLOYMENT_CERTIFICATE:
        _employment_certificate_make(application, decision, issue)
    issue.tracking_number = tracking_number[:40]
    _mark_issued(issue, decision, officer=officer)
    lifecycle.transition(
        application,
        "issued_by_post",
        S.COMPLETE,
        actor=officer,
        audit="review.issued_by_post",
        ip=ip,
        audit_details={"kind": issue.kind},
    )
    _mail_filer(
        application,
        "review_card_issued",
        key=f"review_card_issued:{application.pk}",
        kind=IssueKind(issue.kind).label,
        tracking_number=issue.tracking_number,
        new_card_number=issue.new_card_number,
        new_card_expires_on=issue.new_card_expires_on,
    )
    return issue


@transaction.atomic
def issue_at_window(
    *, application_id: int, officer: User, fee_stamps_received: bool = False, ip: str | None = None
) -> Issue:
    """Hand over at the window what a window receipt was decided for (the application is
    complete already): a new card, the stamp in the passport, or the employment certificate.
    The fee is paid with revenue stamps handed in now, unless it was paid online."""
    application = _locked(application_id, officer)
    _guard(application, "handed_over_at_window", officer)
    issue, decision = _locked_issue(application)
    if issue.method != IssueMethod.WINDOW:
        raise ReviewRefused("not_window", _("This result is not collected at the window."))
    if decision.fee_yen and not Payment.objects.filter(application=application).exists():
        if not fee_stamps_received:
            raise ReviewRefused(
                "fee_unpaid",
                _("The fee is not paid yet: tick that the fee form with revenue stamps was handed in."),
                errors={
                    "fee_stamps_received": _("Tick this when the fee form with its stamps is handed in.")
                },
            )
        Payment.objects.create(
            application=application,
            method=PaymentMethod.REVENUE_STAMPS,
            amount_yen=decision.fee_yen,
            recorded_by=officer,
        )
    if issue.kind == IssueKind.RESIDENCE_CARD:
        _registry_update(application, decision, issue, new_card=True)
    elif issue.kind == IssueKind.PASSPORT_STAMP:
        _registry_update(application, decision, issue, new_card=False)
    elif issue.kind == IssueKind.EMPLOYMENT_CERTIFICATE:
        _employment_certificate_make(application, decision, issue)
    _mark_issued(issue, decision, officer=officer)
    lifecycle.record(
        application,
        "handed_over_at_window",
        actor=officer,
        audit="review.handed_over_at_window",
        ip=ip,
        audit_details={"kind": issue.kind},
    )
    return issue


# --- payment ------------------------------------------------------------------------------------


@transaction.atomic
def payment_pay_online(*, application: Application, user: User, ip: str | None = None) -> Payment:
    """The filer pays the fee online instead of with revenue stamps (through the configured
    provider; the demo provider pays at once)."""
    from zairyu.review import payments

    application = Application.objects.select_for_update().get(pk=application.pk, filer=user)
    decision = Decision.objects.filter(application=application, outcome=Outcome.PERMIT).first()
    issue = Issue.objects.filter(application=application, state=IssueState.WAITING).first()
    if decision is None or issue is None or not decision.fee_yen:
        raise ReviewRefused("nothing_to_pay", _("There is no fee to pay for this application now."))
    if Payment.objects.filter(application=application).exists():
        raise ReviewRefused("already_paid", _("The fee is already paid."))
    provider = payments.provider()
    try:
        receipt = provider.charge(amount_yen=decision.fee_yen, reference=application.receipt_number)
    except payments.PaymentFailed as exc:
        raise ReviewRefused(
            "payment_failed",
            _("The payment did not go through; nothing was charged. Try again, or pay with revenue stamps."),
        ) from exc
    payment = Payment.objects.create(
        application=application,
        method=PaymentMethod.ELECTRONIC,
        amount_yen=decision.fee_yen,
        provider=receipt.provider,
        receipt_id=receipt.receipt_id,
        paid_by=user,
    )
    lifecycle.record(
        application,
        "fee_paid_online",
        actor=user,
        audit="review.fee_paid_online",
        ip=ip,
        audit_details={"receipt_id": receipt.receipt_id},
    )
    return payment


# --- withdrawal and correction requests, receipt errors ------------------------------------------


def _locked_request(request_id: int, officer: User) -> tuple[ApplicationRequest, Application]:
    office = _office_of(officer)
    application_id = (
        ApplicationRequest.objects.filter(pk=request_id, application__office=office)
        .values_list("application_id", flat=True)
        .first()
    )
    if application_id is None:
        raise ReviewRefused("not_found", _("There is no such request at your office."))
    application = _locked(application_id, officer)  # the application first, as every service does
    request = ApplicationRequest.objects.select_for_update().get(pk=request_id)
    if request.state != ApplicationRequest.State.OPEN:
        raise ReviewRefused("already_decided", _("This request was already answered; nothing was changed."))
    return request, application


@transaction.atomic
def application_request_accept(
    *, request_id: int, officer: User, ip: str | None = None
) -> ApplicationRequest:
    """Accept a withdrawal (the application is withdrawn) or a correction (noted in the history;
    the officer takes it into account in the review). Only before the decision."""
    request, application = _locked_request(request_id, officer)
    action = f"{request.kind}_accepted"
    _guard(application, action, officer)
    request.state = ApplicationRequest.State.ACCEPTED
    request.decided_at = clock.now()
    request.decided_by = officer
    request.save(update_fields=["state", "decided_at", "decided_by"])
    audit = {"audit": f"review.{action}", "ip": ip, "audit_details": {"request": request.pk}}
    if request.kind == ApplicationRequest.Kind.WITHDRAWAL:
        _close_open_document_requests(application)
        lifecycle.transition(application, f"{request.kind}_accepted", S.WITHDRAWN, actor=officer, **audit)
    else:
        lifecycle.record(application, f"{request.kind}_accepted", actor=officer, **audit)
    _mail_filer(
        application,
        "review_request_result",
        key=f"review_request_result:{request.pk}",
        request_kind=request.get_kind_display(),
        accepted=True,
        withdrawn=application.state == S.WITHDRAWN,
        reason="",
    )
    return request


@transaction.atomic
def application_request_decline(
    *, request_id: int, officer: User, reason: str, ip: str | None = None
) -> ApplicationRequest:
    request, application = _locked_request(request_id, officer)
    _guard(application, f"{request.kind}_declined", officer)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewRefused(
            "invalid",
            _("Give the reason: the filer reads it."),
            errors={"reason": _("Give the reason: the filer reads it.")},
        )
    request.state = ApplicationRequest.State.DECLINED
    request.decided_at = clock.now()
    request.decided_by = officer
    request.save(update_fields=["state", "decided_at", "decided_by"])
    lifecycle.record(
        application,
        f"{request.kind}_declined",
        actor=officer,
        audit=f"review.{request.kind}_declined",
        ip=ip,
        audit_details={"request": request.pk},
    )
    _mail_filer(
        application,
        "review_request_result",
        key=f"review_request_result:{request.pk}",
        request_kind=request.get_kind_display(),
        accepted=False,
        withdrawn=False,
        reason=reason[:2000],
    )
    return request


@transaction.atomic
def application_put_back(*, application_id: int, officer: User, ip: str | None = None) -> Application:
    """Give a formal receipt number to an application that could not get one and put it back in
    the submitted queue (the job does the same every few minutes; the e-mail goes once either way)."""
    application = _locked(application_id, officer)
    _guard(application, "receipt_number_obtained", officer)
    if not receipt_number_obtain(application=application, actor=officer, ip=ip):
        raise ReviewRefused(
            "still_failing", _("The receipt number still cannot be obtained. Try again later.")
        )
    return application


# --- window counts (scorecard) ------------------------------------------------------------------


@transaction.atomic
def window_count_set(
    *, officer: User, office: str, month: dt.date, procedure: str, count: int, ip: str | None = None
) -> WindowCount:
    """Enter (or correct) the number of window applications of an office, month and procedure.
    Officers enter their own office's; administrators any office's."""
    own = _office_of(officer)
    if office != own and officer.role != OfficerRole.ADMINISTRATOR:
        raise ReviewRefused("other_office", _("You can enter the counts of your own office only."))
    catalogue = get_catalogue()
    if office not in catalogue.offices:
        raise ReviewRefused("invalid", _("Unknown office."), errors={"office": _("Choose an office.")})
    if procedure not in catalogue.procedures:
        raise ReviewRefused(
            "invalid", _("Unknown procedure."), errors={"procedure": _("Choose a procedure.")}
        )
    if count < 0:
        raise ReviewRefused(
            "invalid", _("A count cannot be negative."), errors={"count": _("A count cannot be negative.")}
        )
    month = month.replace(day=1)
    if month > clock.today():
        raise ReviewRefused(
            "invalid", _("That month has not begun."), errors={"month": _("That month has not begun.")}
        )
    row, _created = WindowCount.objects.update_or_create(
        office=office,
        month=month,
        procedure=procedure,
        defaults={"count": count, "entered_by": officer, "entered_at": clock.now()},
    )
    _audit(
        "window_count_set",
        officer=officer,
        target=row,
        ip=ip,
        office=office,
        month=month.isoformat(),
        procedure=procedure,
        count=count,
    )
    return row


@transaction.atomic
def window_counts_import(*, officer: User, rows: list[Any], ip: str | None = None) -> int:
    """Save the rows of a checked CSV file (see ``scorecard.parse_window_counts``): all or none."""
    for row in rows:
        window_count_set(
            officer=officer,
            office=row.office,
            month=row.month,
            procedure=row.procedure,
            count=row.count,
            ip=ip,
        )
    return len(rows)
