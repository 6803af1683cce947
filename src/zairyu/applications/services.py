"""Applications: from a draft to a submitted application with its receipt number.

One way to do each thing: the web steps, the bulk import and the API all call these services.
Every check lives in one place — the matrix (``catalogue.rules``), the timing, cross-check and
receipt rules (``applications.rules``), the form catalogue (``catalogue.formspec``) and the
document checks (``documents``) — and :func:`application_problems` gathers them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.accounts.models import User
from zairyu.applications import lifecycle, mynaportal, receipts, signing, tasks
from zairyu.applications.checklist import checklist
from zairyu.applications.constants import EDITABLE_STATES, ApplicationState, DocumentRole
from zairyu.applications.disclosure import applicant_label, prefill_answers, registry_disclosure
from zairyu.applications.models import Application, ApplicationData, ApplicationDocument, ApplicationRequest
from zairyu.applications.rules.crosscheck import (
    CrosscheckResult,
    card_number_problem,
    crosscheck,
    identity_field_id,
    identity_from_answers,
    lookup_resident,
)
from zairyu.applications.rules.procedures import ACQUISITION
from zairyu.applications.rules.receipt import (
    Document,
    ReceiptOptions,
    changeable_after_submission,
    receipt_method_problems,
    receipt_options,
)
from zairyu.applications.rules.results import Problem, Severity, format_message
from zairyu.applications.rules.timing import timing_problems
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for
from zairyu.catalogue.formspec import (
    FieldError,
    FormSpec,
    ValidationResult,
    form_for,
    normalize_and_validate,
    role_field_id,
)
from zairyu.catalogue.rules import add_on_alone, age_on, combination_errors, eligibility
from zairyu.catalogue.validators import normalize_corporate_number
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Refused
from zairyu.core.net import throttle_exceeded, throttle_hit
from zairyu.core.tasks import enqueue_on_commit
from zairyu.documents.scanning import documents_scan_problems
from zairyu.documents.services import document_delete, document_store_pdf, document_store_photo
from zairyu.notifications.services import email_queue
from zairyu.organizations import access as organization_access
from zairyu.registry.models import ReceivingOrganization, Resident

logger = logging.getLogger(__name__)


class ApplicationRefused(Refused):
    """The application cannot go on; ``problems`` say why and what to do instead (the first one
    gives ``code`` and ``message``; those naming a field give ``errors``)."""

    def __init__(self, problems: list[Problem]) -> None:
        first = problems[0]
        super().__init__(
            first.code,
            first.message,
            errors={p.field: p.message for p in reversed(problems) if p.field},
            problems=problems,
        )

    def __str__(self) -> str:
        return ", ".join(p.code for p in self.problems)


class ApplicationWarned(ApplicationRefused):
    """Nothing stops the application, but ``problems`` (warnings) should be read before it is
    started: raised only when the caller asks to stop at warnings (the web start page, which then
    offers to start anyway)."""


class SignatureRefused(ApplicationRefused):
    """The card signature a submission through software needs is missing or wrong (``problems``:
    one per wrong value, ``field`` ``signature`` or ``certificate``)."""


def _problem(code: str, message: Any, *, field: str | None = None, **data: Any) -> Problem:
    return Problem(code=code, message=message, severity=Severity.BLOCK, field=field, data=data)


def application_form(application: Application) -> FormSpec:
    return form_for(
        procedure=application.procedure,
        status=application.status,
        user_category=application.user_category,
        add_ons=tuple(application.add_ons),
    )


# --- who may file what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    procedure: str
    status: str
    add_ons: tuple[str, ...] = ()
    card_number: str = ""
    organization_corporate_number: str = ""
    facts: dict[str, bool] | None = None
    fact_reasons: dict[str, str] | None = None  # the reason for a stated fact whose condition asks one
    # An acquisition (P4) is for someone without a card: the day of the birth or event, and for a
    # child born in Japan the card of a parent in the registry (then the birth is the child's).
    birth_or_event_date: dt.date | None = None
    parent_card_number: str = ""


FACT_REASON_MAX = 500


def _scope_facts(
    user: User, *, resident: Resident | None, organization: ReceivingOrganization | None
) -> dict[str, bool]:
    """The ``applicant_in_scope`` fact for organization staff (U5–U7), from the organizations rules."""
    if user.kind not in ORGANIZATION_STAFF_KINDS:
        return {}

    if resident is not None:
        return {"applicant_in_scope": organization_access.applicant_in_scope(user, resident)}
    if organization is not None:
        return {
            "applicant_in_scope": organization_access.organizations_in_scope(user)
            .filter(pk=organization.pk)
            .exists()
        }
    return {"applicant_in_scope": False}


def start_problems(
    *,
    user: User,
    start: Start,
    today: dt.date,
    known_resident: Resident | None = None,
    identity_matched: bool = False,
) -> tuple[list[Problem], Resident | None, ReceivingOrganization | None]:
    """Whether ``user`` may start this application; returns (problems, resident, organization).
    ``known_resident``: the registry record already loaded for ``start.card_number`` (re-checks).
    ``identity_matched``: the identity items typed so far match the record, so the disclosure
    policy lets the messages name the record's dates (:mod:`zairyu.applications.disclosure`)."""
    catalogue = get_catalogue()
    problems: list[Problem] = []
    if start.procedure not in catalogue.procedures:
        return (
            [_problem("procedure_unknown", _("Choose one of the listed procedures."), field="procedure")],
            None,
            None,
        )
    if catalogue.procedures[start.procedure].add_on:  # a re-entry permit or activity permission alone
        reason = add_on_alone(catalogue.procedures[start.procedure])
        return [_problem(reason.code, reason.message, field="procedure")], None, None
    if start.status not in catalogue.entries:
        return (
            [_problem("status_unknown", _("Choose a status of residence from the list."), field="status")],
            None,
            None,
        )
    for reason in combination_errors(main=start.procedure, add_ons=start.add_ons):
        problems.append(_problem(reason.code, reason.message, field="add_ons"))
    resident, organization, found = _start_parties(user=user, start=start, known_resident=known_resident)
    problems += found
    parent, found = _acquisition_parent(start)
    problems += found
    facts = {
        **(start.facts or {}),
        **_scope_facts(user, resident=resident or parent, organization=organization),
    }
    problems += _start_eligibility(
        user=user,
        start=start,
        facts=facts,
        today=today,
        resident=resident,
        born=start.birth_or_event_date if parent is not None else None,
    )
    if start.procedure == ACQUISITION or resident is not None:
        disclosure = registry_disclosure(user, resident, identity_matched=identity_matched)
        problems += list(
            timing_problems(
                procedure=start.procedure,
                add_ons=start.add_ons,
                resident=resident,
                today=today,
                birth_or_event_date=start.birth_or_event_date,
                at_submission=True,  # an acquisition starts from the day of the birth or event
                disclose_dates=disclosure.facts if resident is not None else True,
            )
        )
    return problems, resident, organization


def _acquisition_parent(start: Start) -> tuple[Resident | None, list[Problem]]:
    """For an acquisition of a child born in Japan, the parent's record named by their card; the
    problem of a card number typed that finds none. ``None`` without a number (another event)."""
    if start.procedure != ACQUISITION or not start.parent_card_number:
        return None, []
    parent = lookup_resident(start.parent_card_number)
    if parent is not None:
        return parent, []
    problem = card_number_problem(start.parent_card_number)
    return None, [_problem(problem.code, problem.message, field="parent_card_number")]


def _start_parties(
    *, user: User, start: Start, known_resident: Resident | None
) -> tuple[Resident | None, ReceivingOrganization | None, list[Problem]]:
    """The applicant's record (every procedure but the COE) and the receiving organization named by
    its corporate number, with a problem for each that is not found or missing."""
    problems: list[Problem] = []
    resident = organization = None
    if start.procedure == ACQUISITION:
        if start.card_number:
            problems.append(
                _problem(
                    "acquisition_has_card",
                    _(
                        "An acquisition of status is for someone who has no residence card yet: a child born "
                        "in Japan, or a person who lost Japanese nationality. Leave the applicant's card "
                        "number empty; for a child, enter the card number of a parent living in Japan. "
                        "Someone who holds a card files a change or an extension instead."
                    ),
                    field="card_number",
                )
            )
    elif start.procedure != "P1":
        if known_resident is not None and known_resident.card_number == start.card_number:
            resident = known_resident
        else:
            resident = lookup_resident(start.card_number) if start.card_number else None
        if resident is None:
            problems.append(card_number_problem(start.card_number))
    if start.organization_corporate_number:
        organization = ReceivingOrganization.objects.filter(
            corporate_number=normalize_corporate_number(start.organization_corporate_number)
        ).first()
        if organization is None:
            problems.append(
                _problem(
                    "organization_not_found",
                    _("No organization with this corporate number is registered. Check the 13 digits."),
                    field="organization",
                )
            )
    elif start.procedure == "P1" and user.kind in ORGANIZATION_STAFF_KINDS:
        problems.append(
            _problem(
                "organization_required",
                _("Enter the corporate number of the receiving organization."),
                field="organization",
            )
        )
    return resident, organization, problems


def _start_eligibility(
    *,
    user: User,
    start: Start,
    facts: dict[str, bool],
    today: dt.date,
    resident: Resident | None,
    born: dt.date | None = None,
) -> list[Problem]:
    """The matrix for the procedure and each add-on (MISSION §2) — the applicant's age from the
    registry's date of birth on the filing day, a stated fact with its reason where the condition
    asks one — and an organization's account that may no longer file."""
    catalogue = get_catalogue()
    problems: list[Problem] = []
    seen: set[str] = set()
    for procedure in (start.procedure, *start.add_ons):
        if procedure not in catalogue.procedures:
            continue
        verdict = eligibility(
            user_category=user.kind,
            procedure=procedure,
            status=start.status,
            facts=facts,
            on=today,
            applicant_born=resident.date_of_birth if resident is not None else born,
        )
        found = [_problem(reason.code, reason.message, field="status") for reason in verdict.reasons]
        found += [
            _problem(f"condition_{condition.code}", condition.text, field=condition.code)
            for condition in verdict.pending
        ]
        found += _fact_reason_problems(start, verdict.met)
        for problem in found:
            if problem.code not in seen:
                seen.add(problem.code)
                problems.append(problem)
    if user.kind in ORGANIZATION_STAFF_KINDS:
        may, why = organization_access.organization_may_file(user)
        if not may:
            problems.append(_problem("organization_expired", why))
    return problems


def _fact_reason_problems(start: Start, met: Iterable[Any]) -> list[Problem]:
    """A stated fact that counts, whose condition asks for the reason, without one (or too long)."""
    catalogue = get_catalogue()
    reasons = start.fact_reasons or {}
    codes = {c.code for c in met}
    problems: list[Problem] = []
    for code in sorted(codes):
        condition = catalogue.conditions.get(code)
        if condition is None or not condition.reason or not (start.facts or {}).get(code):
            continue
        text = str(reasons.get(code) or "").strip()
        if not text:
            problems.append(
                _problem(
                    "fact_reason_required",
                    _(
                        "Give the reason why the applicant cannot apply in person, in a few words (for "
                        "example “in hospital until 20 May”): the officer reads it with the application."
                    ),
                    field=f"{code}_reason",
                )
            )
        elif len(text) > FACT_REASON_MAX:
            problems.append(
                _problem(
                    "fact_reason_too_long",
                    _("Shorten the reason to at most %(max)d characters.") % {"max": FACT_REASON_MAX},
                    field=f"{code}_reason",
                )
            )
    return problems


@transaction.atomic
def application_create(
    *,
    user: User,
    start: Start,
    ip: str | None = None,
    copy_from: Application | None = None,
    filed_via: Any = None,
    stop_at_warnings: bool = False,
) -> Application:
    """Start a draft after checking who may file it (matrix, scope, timing). Warnings do not stop
    it unless ``stop_at_warnings`` (then :class:`ApplicationWarned`, nothing saved).
    ``filed_via``: the API client (``api.ApiClient``) that files it, if not the web."""
    today = clock.today()
    problems, resident, organization = start_problems(user=user, start=start, today=today)
    if any(p.blocks for p in problems):
        raise ApplicationRefused([p for p in problems if p.blocks])
    if stop_at_warnings and problems:
        raise ApplicationWarned(problems)
    entry = get_catalogue().entries[start.status]
    answers: dict[str, Any] = {}
    if copy_from is not None and copy_from.filer_id == user.pk:
        answers = dict(copy_from.answers)
    disclosure = registry_disclosure(user, resident)
    if resident is not None:
        answers = {
            **prefill_answers(disclosure, resident),
            **answers,
            role_field_id("identity.card_number"): resident.card_number,
        }
    answers = {**_filer_reason_prefill(start, resident, today), **answers}
    parent, _found = _acquisition_parent(start)
    answers = {**_acquisition_prefill(user, start, parent), **answers}
    application = Application.objects.create(
        filer=user,
        user_category=user.kind,
        procedure=start.procedure,
        add_ons=sorted(start.add_ons),
        status=start.status,
        group=entry.group.code if entry.group else "",
        applicant_resident=resident,
        parent_resident=parent,
        receiving_organization=organization,
        applicant_name=applicant_label(
            disclosure, resident, str(answers.get(role_field_id("identity.roman_name"), ""))
        ),
        answers=answers,
        facts=dict(start.facts or {}),
        fact_reasons={
            code: str(text).strip()
            for code, text in (start.fact_reasons or {}).items()
            if (start.facts or {}).get(code) and str(text).strip()
        },
        copied_from=copy_from if copy_from is not None and copy_from.filer_id == user.pk else None,
        filed_via=filed_via,
        draft_expires_at=clock.now() + dt.timedelta(days=settings.DRAFT_LIFETIME_DAYS),
    )
    lifecycle.created(
        application, actor=user, ip=ip, audit_details={"procedure": start.procedure, "status": start.status}
    )
    return application


def _acquisition_prefill(user: User, start: Start, parent: Resident | None) -> dict[str, Any]:
    """An acquisition's answers known at the start: the day of the birth or event; for a child
    born in Japan, the birth, and the address of the parent where the disclosure policy lets the
    parent's record fill the form (the parent's own card, an organization's scope)."""
    if start.procedure != ACQUISITION or start.birth_or_event_date is None:
        return {}
    answers: dict[str, Any] = {role_field_id("acquisition.event_date"): start.birth_or_event_date.isoformat()}
    if parent is None:
        return answers
    answers.update(
        {
            role_field_id("acquisition.reason"): "birth",
            role_field_id("identity.date_of_birth"): start.birth_or_event_date.isoformat(),
        }
    )
    if registry_disclosure(user, parent).prefill:
        answers.update(
            {
                role_field_id("identity.prefecture"): parent.prefecture,
                role_field_id("identity.municipality"): parent.municipality,
                role_field_id("applicant.address_street"): parent.address_rest,
            }
        )
    return answers


def _under_16(resident: Resident | None, today: dt.date, born: dt.date | None = None) -> bool | None:
    """Whether the applicant is under 16 on ``today`` by the registry — or, for a child born in
    Japan who is not in it yet, by the birth date given with a parent's card (None without)."""
    birth = resident.date_of_birth if resident is not None else born
    if birth is None:
        return None
    return age_on(birth, today) < 16


def _filer_reason_prefill(start: Start, resident: Resident | None, today: dt.date) -> dict[str, Any]:
    """A relative's "why a relative files", answered from what decided the start: the registry's
    age, else the statement that the applicant cannot apply in person."""
    field = role_field_id("relative.filer_reason")
    newborn = (
        start.birth_or_event_date if start.procedure == ACQUISITION and start.parent_card_number else None
    )
    under_16 = _under_16(resident, today, born=newborn)
    if under_16:
        return {field: "under_16"}
    if (start.facts or {}).get("applicant_unable"):
        return {field: "illness"}
    return {}


def _filer_reason_problems(application: Application, form: FormSpec, today: dt.date) -> list[Problem]:
    """ "Under 16" chosen as the relative's reason while the registry makes the applicant 16 or
    older on the filing day (the age is never the filer's word)."""
    field = role_field_id("relative.filer_reason")
    if not form.has_field(field) or application.answers.get(field) != "under_16":
        return []
    if _under_16(application.applicant_resident, today) is not False:
        return []
    return [
        _problem(
            "filer_reason_not_under_16",
            _(
                "“Why a relative files”: by the date of birth in the registry the applicant is 16 or older "
                "on the filing date. A relative may file only if the applicant cannot apply in person "
                "because of illness or another reason: choose that reason if it is so. If it was not stated "
                "when this application was started, start a new one stating it (with the reason) from "
                "“Start a new application with these answers” on its page; otherwise the applicant "
                "files themselves."
            ),
            field=field,
            steps=[form.field(field).step],
        )
    ]


def duplicate_drafts(*, user: User, application: Application) -> list[Application]:
    """Other drafts of this user for the same applicant and procedure: warned about, not blocked."""
    qs = Application.objects.filter(
        filer=user, procedure=application.procedure, state__in=EDITABLE_STATES
    ).exclude(pk=application.pk)
    if application.applicant_resident_id:
        qs = qs.filter(applicant_resident_id=application.applicant_resident_id)
    else:
        qs = qs.filter(applicant_name=application.applicant_name)
    return list(qs[:5])


# --- steps ------------------------------------------------------------------------------------


def _locked_editable(application_id: int, user: User) -> Application:
    application = Application.objects.select_for_update().get(pk=application_id, filer=user)
    if application.state not in EDITABLE_STATES:
        raise ApplicationRefused(
            [
                _problem(
                    "not_editable",
                    _("This application has been submitted; it can no longer be changed here."),
                )
            ]
        )
    return application


@transaction.atomic
def application_save_step(
    *, application: Application, user: User, step: str, answers: dict[str, Any], ip: str | None = None
) -> ValidationResult:
    """Save what was typed for one step — always, even with errors, so nothing is lost — and
    return the validation result. The step counts as done only when it has no errors."""
    application = _locked_editable(application.pk, user)
    form = application_form(application)
    merged = {**application.answers, **answers}
    result = normalize_and_validate(form, merged, step=step, today=clock.today())
    stored = {**application.answers, **answers, **result.cleaned}
    errors = list(result.errors)
    known = {e.field_id for e in errors}
    errors += [
        e for e in _acquisition_step_errors(application, stored, clock.today()) if e.field_id not in known
    ]
    if step == "2-2" and application.applicant_resident_id and not errors:
        errors += _crosscheck_errors(application, stored, user=user, ip=ip)
    application.answers = stored
    done = set(application.steps_done)
    (done.add if not errors else done.discard)(step)
    application.steps_done = sorted(done)
    name_field, email_field = role_field_id("identity.roman_name"), role_field_id("applicant.email")
    if form.has_field(name_field) and stored.get(name_field):
        application.applicant_name = str(stored[name_field])[:200]
    if stored.get(email_field):
        application.applicant_email = str(stored[email_field])[:254]
    application.updated_at = clock.now()
    application.draft_expires_at = clock.now() + dt.timedelta(days=settings.DRAFT_LIFETIME_DAYS)
    application.save()
    result.errors = errors
    return result


@dataclass
class SavedAnswers:
    """What :func:`application_save_answers` saved: the steps, and the errors of each."""

    steps: list[str]
    errors: list[Any]  # formspec ``FieldError``s, in the order of the steps


def answer_steps(form: FormSpec, keys: Any) -> tuple[list[str], list[str]]:
    """The steps (in the form's order) holding the items ``keys``, and the keys it has no item for."""
    steps: list[str] = []
    unknown: list[str] = []
    section_steps = {section.id: section.step for section in form.sections}
    field_steps = {f.id: f.step for f in form.fields if f.row_section is None}
    for key in keys:
        step = field_steps.get(key) or section_steps.get(key)
        if step is None:
            unknown.append(key)
        elif step not in steps:
            steps.append(step)
    return [s for s in form.step_ids if s in steps], unknown


@transaction.atomic
def application_save_answers(
    *, application: Application, user: User, answers: dict[str, Any], ip: str | None = None
) -> SavedAnswers:
    """Save answers to several steps at once (software, a bulk row), each step as the web saves
    it, in one transaction. Items the form does not have refuse the whole (nothing is saved)."""
    form = application_form(application)
    steps, unknown = answer_steps(form, answers.keys())
    if unknown:
        raise ApplicationRefused(
            [_problem("unknown_field", _("This form has no such item."), field=key) for key in unknown]
        )
    errors: list[Any] = []
    for step in steps:
        keys = {f.id for f in form.step(step).fields} | {s.id for s in form.step(step).sections}
        result = application_save_step(
            application=application,
            user=user,
            step=step,
            answers={k: v for k, v in answers.items() if k in keys},
            ip=ip,
        )
        errors += result.errors
    return SavedAnswers(steps=steps, errors=errors)


_CROSSCHECK_SCOPE = "crosscheck"
_CROSSCHECK_WINDOW_SECONDS = 3600


def _crosscheck_keys(user: User, resident: Resident) -> tuple[str, str]:
    """The two throttle keys of a cross-check: the filer, and the card number (kept as an HMAC,
    so that no card number stands in the cache)."""

    card = salted_hmac("zairyu.crosscheck", resident.card_number).hexdigest()[:32]
    return f"user:{user.pk}", f"card:{card}"


def crosscheck_blocked(*, user: User, resident: Resident) -> bool:
    """True once the filer, or anybody for this card number, has passed the limit of identity
    mismatches within the hour: every further try is refused, whatever it contains."""

    limit = settings.CROSSCHECK_MISMATCH_LIMIT
    return any(
        throttle_exceeded(scope=_CROSSCHECK_SCOPE, key=key, limit=limit)
        for key in _crosscheck_keys(user, resident)
    )


def _identity_problem_field(problem: Problem) -> str:
    """The form field a problem of the cross-check is about: its ``field`` names the identity
    item; a problem about no item in particular (the record not found) is the card number's."""
    return identity_field_id(problem.field) if problem.field else role_field_id("identity.card_number")


def _crosscheck_throttled_error() -> FieldError:

    return FieldError(
        role_field_id("identity.card_number"),
        "crosscheck_throttled",
        _(
            "Too many attempts that do not match the residence card record. For your protection, "
            "the identity items cannot be checked again for an hour, even if they are right now. "
            "Check them against the residence card, then try again after an hour."
        ),
    )


def _crosscheck_errors(
    application: Application, answers: dict[str, Any], *, user: User, ip: str | None
) -> list[FieldError]:
    """F-02: the identity items against the residence-card record. Every try is audited; a
    mismatch counts for the filer and for the card number, and once either has passed the limit
    every try is refused until the hour is over, a right one too (so that guessing item by item
    cannot reach the answer). An honest user is told which item to check, never what the
    record holds (:mod:`zairyu.applications.disclosure`)."""
    resident = application.applicant_resident
    assert resident is not None  # the caller checks there is a record to cross-check against
    if crosscheck_blocked(user=user, resident=resident):
        audit_record(
            action="applications.crosscheck_blocked", actor=user, target=application, ip=ip, details={}
        )
        return [_crosscheck_throttled_error()]
    result = crosscheck(entered=identity_from_answers(answers), resident=resident)
    audit_record(
        action="applications.crosscheck_match" if result.ok else "applications.crosscheck_mismatch",
        actor=user,
        target=application,
        ip=ip,
        details={"items": list(result.mismatched)} if not result.ok else {},
    )
    if result.ok:
        return []
    limit = settings.CROSSCHECK_MISMATCH_LIMIT
    within = [
        throttle_hit(scope=_CROSSCHECK_SCOPE, key=key, limit=limit, window_seconds=_CROSSCHECK_WINDOW_SECONDS)
        for key in _crosscheck_keys(user, resident)
    ]
    if not all(within):
        return [_crosscheck_throttled_error()]
    return [
        FieldError(_identity_problem_field(problem), problem.code, problem.message)
        for problem in result.messages
        if problem.blocks
    ]


# --- documents and receipt method -------------------------------------------------------------


@transaction.atomic
def application_attach(
    *,
    application: Application,
    user: User,
    upload: IO[bytes],
    role: str,
    document_type: str,
    taken_within_6_months: bool = False,
    ip: str | None = None,
) -> ApplicationDocument:
    """Check and store one PDF (or the face photo) for the application; within the total limit."""

    application = _locked_editable(application.pk, user)
    existing = [
        d.document for d in application.documents.select_related("document") if d.document.deleted_at is None
    ]
    if role == DocumentRole.PHOTO:
        for old in application.documents.filter(role=DocumentRole.PHOTO):
            old.delete()  # one photo per application: the new one replaces it
        document = document_store_photo(
            upload=upload, owner=user, taken_within_6_months=taken_within_6_months, ip=ip, existing=existing
        )
    else:
        document = document_store_pdf(
            upload=upload, owner=user, document_type=document_type, ip=ip, existing=existing
        )
    attached = ApplicationDocument.objects.create(
        application=application, document=document, role=role, document_type=document_type
    )
    Application.objects.filter(pk=application.pk).update(updated_at=clock.now())
    return attached


@transaction.atomic
def application_detach(
    *, application: Application, user: User, attachment_id: int, ip: str | None = None
) -> None:

    application = _locked_editable(application.pk, user)
    attachment = application.documents.select_related("document").get(pk=attachment_id)
    document = attachment.document
    attachment.delete()
    document_delete(document=document, actor=user, ip=ip)


def application_receipt_options(application: Application) -> tuple[ReceiptOptions, type[Document]]:

    answers = application.answers
    birth = answers.get(role_field_id("identity.date_of_birth"))
    try:
        birth_date = dt.date.fromisoformat(birth) if isinstance(birth, str) and birth else None
    except ValueError:
        birth_date = None
    resident = application.applicant_resident
    options = receipt_options(
        procedure=application.procedure,
        status=application.status,
        period_of_stay=answers.get(role_field_id("stay.desired_period")) or None,
        kanji_name_requested=answers.get(role_field_id("card.kanji_name_requested")) is True,
        applicant_birth_date=birth_date,
        today=clock.today(),
        # Whether the current card shows a kanji name only decides whether post stays open; the
        # registry's kanji name itself is never shown to the filer.
        card_has_kanji_name=resident is not None and bool(resident.kanji_name),
    )
    return options, Document


@transaction.atomic
def application_set_receipt_method(
    *, application: Application, user: User, method: str, ip: str | None = None
) -> None:
    application = _locked_editable(application.pk, user)
    options, _ = application_receipt_options(application)
    problems = receipt_method_problems(options=options, method=method)
    if any(p.blocks for p in problems):
        raise ApplicationRefused(problems)
    application.receipt_methods = {options.document: method}
    application.updated_at = clock.now()
    application.save(update_fields=["receipt_methods", "updated_at"])


# --- submission -------------------------------------------------------------------------------


def acquisition_event_date(application: Application, answers: dict[str, Any] | None = None) -> dt.date | None:
    """The day of the birth or event of an acquisition, as answered (``None`` before it is)."""
    if application.procedure != ACQUISITION:
        return None
    value = (application.answers if answers is None else answers).get(role_field_id("acquisition.event_date"))
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _acquisition_step_errors(
    application: Application, answers: dict[str, Any], today: dt.date
) -> list[FieldError]:
    """At each step of an acquisition: the 30-day limit (and a date after today), said on the
    date's item with the day it ran out and where to go instead."""
    event = acquisition_event_date(application, answers)
    if event is None:
        return []
    found = timing_problems(
        procedure=application.procedure, add_ons=(), resident=None, today=today, birth_or_event_date=event
    )
    field = role_field_id("acquisition.event_date")
    return [FieldError(field, p.code, p.message) for p in found if p.blocks]


def application_problems(application: Application, *, today: dt.date, at_submission: bool) -> list[Problem]:
    """Everything that stops this application now: re-checked at every step and at submission."""
    problems: list[Problem] = []
    start = Start(
        procedure=application.procedure,
        status=application.status,
        add_ons=tuple(application.add_ons),
        card_number=application.applicant_resident.card_number if application.applicant_resident else "",
        organization_corporate_number=(
            application.receiving_organization.corporate_number if application.receiving_organization else ""
        ),
        facts=application.facts or {},
        fact_reasons=application.fact_reasons or {},
        birth_or_event_date=acquisition_event_date(application),
        parent_card_number=application.parent_resident.card_number if application.parent_resident else "",
    )
    resident = application.applicant_resident
    identity = (
        crosscheck(entered=identity_from_answers(application.answers), resident=resident)
        if resident
        else None
    )
    start_checks, _resident, _org = start_problems(
        user=application.filer,
        start=start,
        today=today,
        known_resident=resident,
        identity_matched=identity is not None and identity.ok,
    )
    problems += start_checks  # warnings too (an extension filed early): shown, never blocking
    form = application_form(application)
    result = normalize_and_validate(form, application.answers, today=today)
    if resident is not None and crosscheck_blocked(user=application.filer, resident=resident):
        error = _crosscheck_throttled_error()
        problems.append(_problem(error.code, error.message, field=error.field_id, steps=["2-2"]))
    if result.errors:
        problems.append(
            _problem(
                "form_incomplete",
                _("Some answers are missing or need correcting: see the steps marked below."),
                steps=sorted(
                    {form.field(e.field_id).step for e in result.errors if form.has_field(e.field_id)}
                ),
            )
        )
    # F-02 again at submission: the identity items as they are now against the card record
    # (answers changed after step 2-2 — by the API or a bulk file — are caught here too).
    if identity is not None and not result.errors and not identity.ok:
        problems += _identity_problems(identity, form)
    problems += _filer_reason_problems(application, form, today)
    problems += _document_problems(application, form)
    options, _doc = application_receipt_options(application)
    method = application.receipt_methods.get(options.document)
    problems += [p for p in receipt_method_problems(options=options, method=method) if p.blocks]
    email_field = role_field_id("applicant.email")
    if not application.applicant_email and not application.answers.get(email_field):
        problems.append(
            _problem(
                "applicant_email_missing",
                _("Enter the applicant's e-mail address (step 2-1)."),
                field=email_field,
            )
        )
    return problems


def _document_problems(application: Application, form: FormSpec) -> list[Problem]:
    """F-04: the documents and the photo the application needs, and the state of their scans."""
    problems: list[Problem] = []
    attachments = list(application.documents.select_related("document"))

    # Held files (not yet checked for viruses) stop the submission; one removed as infected is
    # said (a warning: a missing required document blocks by itself) and no longer counts as
    # attached (ADR 0013).
    problems += [
        Problem(
            code=code,
            message=message,
            severity=Severity.BLOCK if code == "document_being_checked" else Severity.WARNING,
            field="documents",
            data={"document_type": document.document_type},
        )
        for code, message, document in documents_scan_problems(a.document for a in attachments)
    ]
    attachments = [a for a in attachments if a.document.deleted_at is None]
    roles = {a.role for a in attachments}
    types = {a.document_type for a in attachments}
    if form.organization_part_as_pdf and DocumentRole.ORGANIZATION_PART not in roles:
        problems.append(
            _problem(
                "organization_part_missing",
                _("Attach the organization's part of the application form as a PDF."),
                field="documents",
            )
        )

    for item in checklist(
        procedure=application.procedure, group=application.group, user_category=application.user_category
    ):
        if item.required and item.document_type not in types:
            problems.append(
                _problem(
                    "document_missing",
                    format_message(_("Attach this document as a PDF: %(document)s."), document=item.label),
                    field="documents",
                    document_type=item.document_type,
                )
            )
    if photo_required(application) and DocumentRole.PHOTO not in roles:
        problems.append(
            _problem(
                "photo_missing",
                _("Attach the applicant's face photo (JPEG, taken within 6 months)."),
                field="documents",
            )
        )
    return problems


def photo_required(application: Application) -> bool:
    """A face photo is needed unless the procedure issues no card or certificate with a photo:
    an employment certificate (P5) and an electronic COE need none (F-04, F-07)."""
    if application.procedure == "P5":
        return False
    return not (application.procedure == "P1" and application.receipt_methods.get("coe") == "email")


def _identity_problems(identity: CrosscheckResult, form: FormSpec) -> list[Problem]:
    """One problem for each identity item that does not match the card record, naming the item
    and the step where it is asked (never the record's value)."""
    found = []
    for problem in identity.messages:
        if not problem.blocks:
            continue
        field = _identity_problem_field(problem)
        step = form.field(field).step if form.has_field(field) else "2-2"
        found.append(
            _problem("identity_mismatch", problem.message, field=field, steps=[step], item=problem.field)
        )
    return found


def _office_for(application: Application) -> str:
    catalogue = get_catalogue()
    if application.procedure == "P1" and application.receiving_organization is not None:
        return catalogue.office_for_prefecture(application.receiving_organization.prefecture).code
    # The applicant's address as answered; else the card record's, or for a newborn the parent's.
    record = application.applicant_resident or application.parent_resident
    prefecture = application.answers.get(role_field_id("identity.prefecture")) or (
        record.prefecture if record is not None else ""
    )
    return catalogue.office_for_prefecture(prefecture).code


SUBMISSION_FIELDS = [
    "office",
    "receipt_date",
    "submitted_at",
    "submission_key",
    "provisional_number",
    "fee_yen",
    "draft_expires_at",
    "state",
    "receipt_number",
]


def application_submit(
    *,
    application_id: int,
    user: User,
    submission_key: str = "",
    ip: str | None = None,
    through_client: bool = False,
    signed: signing.CardSignature | None = None,
) -> Application:
    """Submit once: a double click or a retried request returns the same submitted application.

    Through software (``through_client``), a filer whose identity is the card (U1–U3) sends the
    card's signature over :func:`signing.signing_data` (``signed``); without it, or with another
    card's, the submission is refused (``ApplicationRefused`` with code ``signature``...).

    Atomic: the state, the provisional and formal receipt numbers, the receipt date, the history,
    the audit record and the e-mails are written together or not at all. If the formal number
    cannot be obtained, the application is still submitted with state "error (receipt number not
    obtained)" and a job retries the number.
    """
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("applicant_resident")
            .get(pk=application_id, filer=user)
        )
        application.filer = user  # the row was chosen by it: no need to read the user again
        if not lifecycle.allowed(application, "submitted", actor=user):
            if application.submitted_at is not None:
                return application  # already submitted: the same answer again
            raise ApplicationRefused(
                [_problem("not_editable", _("This application can no longer be submitted."))]
            )
        if signing.signature_required(user, through_client=through_client):
            wrong = signing.signature_problems(application, user=user, signed=signed)
            if wrong:
                raise SignatureRefused(wrong)
        today = clock.today()
        problems = application_problems(application, today=today, at_submission=True)
        if any(p.blocks for p in problems):
            raise ApplicationRefused([p for p in problems if p.blocks])
        application.office = _office_for(application)
        application.receipt_date = today
        application.submitted_at = clock.now()
        application.submission_key = submission_key[:64]
        application.provisional_number = receipts.provisional_number(today)
        application.fee_yen = _fee(application, today)
        application.draft_expires_at = None
        application.receipt_number = _receipt_number(application) or ""
        if not application.receipt_number:
            logger.warning("receipt number not obtained for application %s", application.pk)
        lifecycle.transition(
            application,
            "submitted",
            ApplicationState.SUBMITTED if application.receipt_number else ApplicationState.ERROR_RECEIPT,
            actor=user,
            fields=SUBMISSION_FIELDS,
            audit="applications.submitted",
            ip=ip,
            audit_details={"office": application.office, "procedure": application.procedure},
            mail=[_submission_mail(application)],
        )
        if application.state == ApplicationState.ERROR_RECEIPT:
            enqueue_on_commit(tasks.receipt_numbers_retry)
    return application


def _fee(application: Application, today: dt.date) -> int:
    total = 0
    for procedure in (application.procedure, *application.add_ons):
        variant = None
        if procedure == "P6":
            variant = (
                "multiple"
                if application.answers.get(role_field_id("reentry.kind")) == "multiple"
                else "single"
            )
        total += fee_for(procedure=procedure, on=today, channel="online", variant=variant)
    return total


def _submission_mail(application: Application) -> lifecycle.Mail:
    """The receipt e-mail, to the filer and to the applicant if another address (F-16)."""
    context = {
        "provisional_number": application.provisional_number,
        "receipt_number": application.receipt_number,
        "procedure": get_catalogue().procedures[application.procedure].name,
        "office": get_catalogue().offices[application.office].name,
        "receipt_date": application.receipt_date,
        "applicant_name": application.applicant_name,
    }
    filer = application.filer
    recipients = [(filer.email, f"application_received:{application.pk}:filer")]
    applicant_email = application.applicant_email or application.answers.get(role_field_id("applicant.email"))
    if applicant_email and applicant_email.lower() != (filer.email or "").lower():
        recipients.append((applicant_email, f"application_received:{application.pk}:applicant"))
    return lifecycle.Mail(
        kind="application_received", language=filer.language, context=context, recipients=tuple(recipients)
    )


def _receipt_number(application: Application) -> str | None:
    """The formal receipt number of the (locked) application, or None if it cannot be obtained
    now (the counter's row is locked or the database refused)."""
    try:
        with transaction.atomic():
            return receipts.receipt_number(
                office=application.office,
                procedure=application.procedure,
                group=application.group,
                receipt_date=application.receipt_date or clock.today(),
            )
    except DatabaseError:
        return None


def receipt_number_obtain(*, application: Application, actor: User | None, ip: str | None = None) -> bool:
    """Give the (locked) application in "error (receipt number not obtained)" its formal number
    and put it back in the submitted queue; the filer is e-mailed the number (once, whoever
    obtained it: the job or an officer). False if the number still cannot be obtained."""
    lifecycle.check(application, "receipt_number_obtained", actor=actor, to=ApplicationState.SUBMITTED)
    number = _receipt_number(application)
    if number is None:
        return False
    application.receipt_number = number
    lifecycle.transition(
        application,
        "receipt_number_obtained",
        ApplicationState.SUBMITTED,
        actor=actor,
        fields=["receipt_number"],
        audit="review.put_back" if actor is not None else None,
        ip=ip,
        mail=[
            lifecycle.Mail.to(
                application.filer.email,
                kind="receipt_number",
                language=application.filer.language,
                context={
                    "receipt_number": application.receipt_number,
                    "provisional_number": application.provisional_number,
                },
                key=f"receipt_number:{application.pk}",
            )
        ],
    )
    return True


def receipt_numbers_retry() -> int:
    """Give a formal receipt number to every application that could not get one (a job)."""
    done = 0
    for application_id in Application.objects.filter(state=ApplicationState.ERROR_RECEIPT).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            application = Application.objects.select_for_update().get(pk=application_id)
            if application.state != ApplicationState.ERROR_RECEIPT:
                continue
            done += receipt_number_obtain(application=application, actor=None)
    return done


def drafts_expire() -> dict[str, int]:
    """Warn before an unsubmitted draft expires (keyed: once), then delete the expired ones."""
    now = clock.now()
    warned = deleted = 0
    warn_before = dt.timedelta(days=settings.DRAFT_WARNING_DAYS)
    for application in Application.objects.filter(
        state__in=EDITABLE_STATES,
        draft_expires_at__isnull=False,
        draft_expires_at__lte=now + warn_before,
        draft_expires_at__gt=now,
    ).select_related("filer"):
        expires = application.draft_expires_at
        assert expires is not None  # filtered on it
        with transaction.atomic():
            email_queue(
                kind="draft_expiring",
                to=application.filer.email,
                language=application.filer.language,
                context={
                    "applicant_name": application.applicant_name or "-",
                    "procedure": get_catalogue().procedures[application.procedure].name,
                    "expires_on": expires.astimezone(clock.JST).date(),
                },
                key=f"draft_expiring:{application.pk}:{expires.date()}",
            )
        warned += 1
    for application in Application.objects.filter(state__in=EDITABLE_STATES, draft_expires_at__lte=now):
        with transaction.atomic():
            for attachment in application.documents.select_related("document"):
                document = attachment.document
                attachment.delete()
                document_delete(document=document, actor=None)
            audit_record(action="applications.draft_expired", target=application)
            application.delete()
        deleted += 1
    return {"warned": warned, "deleted": deleted}


# --- after submission -------------------------------------------------------------------------

AFTER_SUBMISSION_STATES = frozenset(lifecycle.PENDING)


def _locked_submitted(application_id: int, user: User) -> Application:
    application = Application.objects.select_for_update().get(pk=application_id, filer=user)
    if application.state not in AFTER_SUBMISSION_STATES:
        raise ApplicationRefused(
            [
                _problem(
                    "not_pending",
                    _("This is possible only while the application is submitted or under review."),
                )
            ]
        )
    return application


@transaction.atomic
def application_change_receipt_method(
    *, application: Application, user: User, method: str, ip: str | None = None
) -> Application:
    """Change how the card or certificate is received, while submitted or under review (F-07).
    A certificate of eligibility's method cannot be changed after submission."""

    application = _locked_submitted(application.pk, user)
    options, _doc = application_receipt_options(application)
    if not changeable_after_submission(options.document):
        raise ApplicationRefused(
            [
                _problem(
                    "method_fixed",
                    _("The way a certificate of eligibility is received cannot be changed after submission."),
                )
            ]
        )
    problems = receipt_method_problems(options=options, method=method)
    if any(p.blocks for p in problems):
        raise ApplicationRefused(problems)
    before = application.receipt_methods.get(options.document)
    if before == method:
        return application
    application.receipt_methods = {**application.receipt_methods, options.document: method}
    application.updated_at = clock.now()
    application.save(update_fields=["receipt_methods", "updated_at"])
    lifecycle.record(
        application,
        "receipt_method_changed",
        actor=user,
        audit="applications.receipt_method_changed",
        ip=ip,
        audit_details={"method": method},
        mail=[
            lifecycle.Mail.to(
                user.email,
                kind="receipt_method_changed",
                language=user.language,
                context={
                    "receipt_number": application.receipt_number or application.provisional_number,
                    "method": method,
                },
                key=f"receipt_method_changed:{application.pk}:{application.events.count() + 1}",
            )
        ],
        method=method,
    )
    return application


@transaction.atomic
def application_request(
    *, application: Application, user: User, kind: str, message: str, ip: str | None = None
) -> ApplicationRequest:
    """Ask the bureau to withdraw or correct a submitted application; officers act on it."""

    application = _locked_submitted(application.pk, user)
    if kind not in ApplicationRequest.Kind.values:
        raise ValueError(kind)
    if application.requests.filter(kind=kind, state=ApplicationRequest.State.OPEN).exists():
        raise ApplicationRefused(
            [_problem("request_open", _("A request of this kind is already waiting for the bureau."))]
        )
    request = ApplicationRequest.objects.create(
        application=application, kind=kind, message=message.strip()[:2000]
    )
    lifecycle.record(
        application, f"{kind}_requested", actor=user, audit=f"applications.{kind}_requested", ip=ip
    )
    return request


@transaction.atomic
def application_add_documents(
    *,
    application: Application,
    user: User,
    upload: IO[bytes],
    document_type: str,
    declared: bool,
    ip: str | None = None,
) -> ApplicationDocument:
    """An additional document for a submitted application, with the filer's declaration (F-04)."""

    application = _locked_submitted(application.pk, user)
    if not declared:
        raise ApplicationRefused(
            [
                _problem(
                    "declaration_missing", _("Confirm the declaration to add documents."), field="declared"
                )
            ]
        )
    existing = [
        d.document for d in application.documents.select_related("document") if d.document.deleted_at is None
    ]
    document = document_store_pdf(
        upload=upload, owner=user, document_type=document_type, ip=ip, existing=existing
    )
    attached = ApplicationDocument.objects.create(
        application=application, document=document, role=DocumentRole.ADDITIONAL, document_type=document_type
    )
    # Review hears of it (``application_events``) and answers the bureau's open request, if any.
    lifecycle.record(
        application,
        "document_added",
        actor=user,
        audit="applications.document_added",
        ip=ip,
        document_type=document_type,
        attachment=attached.pk,
    )
    return attached


@transaction.atomic
def application_fetch_tax_data(
    *, application: Application, user: User, fiscal_year: int, ip: str | None = None
) -> ApplicationData:
    """F-18: attach the self-applicant's own income and resident-tax data from Mynaportal."""

    application = _locked_editable(application.pk, user)
    if user.kind != "U1" or not user.card_id:
        raise ApplicationRefused(
            [
                _problem(
                    "mynaportal_not_available",
                    _(
                        "Only foreign nationals filing for themselves can fetch their own data from Mynaportal."
                    ),
                )
            ]
        )
    if fiscal_year not in mynaportal.available_years(clock.today()):
        raise ApplicationRefused(
            [_problem("mynaportal_year", _("Choose one of the listed years."), field="fiscal_year")]
        )
    try:
        data = mynaportal.client().fetch_tax_data(card_id=user.card_id, fiscal_year=fiscal_year)
    except mynaportal.MynaportalError as exc:
        raise ApplicationRefused(
            [
                _problem(
                    "mynaportal_failed",
                    _(
                        "Mynaportal did not answer with your data. Try again later, or attach a tax certificate as a PDF."
                    ),
                )
            ]
        ) from exc
    ApplicationData.objects.filter(
        application=application, kind="mynaportal_tax", payload__fiscal_year=fiscal_year
    ).delete()
    record = ApplicationData.objects.create(
        application=application, kind="mynaportal_tax", payload=data.as_dict()
    )
    audit_record(
        action="applications.mynaportal_fetched",
        actor=user,
        target=application,
        ip=ip,
        details={"fiscal_year": fiscal_year},
    )
    return record


@transaction.atomic
def application_delete_draft(*, application: Application, user: User, ip: str | None = None) -> None:
    """Delete a draft (or a row in error from a bulk file) with its files. Submitted applications
    are never deleted: ask for a withdrawal instead."""

    application = _locked_editable(application.pk, user)
    for attachment in application.documents.select_related("document"):
        document = attachment.document
        attachment.delete()
        document_delete(document=document, actor=user, ip=ip)
    audit_record(
        action="applications.draft_deleted",
        actor=user,
        target=application,
        ip=ip,
        details={"procedure": application.procedure},
    )
    application.delete()
