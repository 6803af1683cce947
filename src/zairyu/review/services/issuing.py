"""Issuing the result: the e-COE, the paper COE, the employment certificate, the residence card; by post (with the items the filer sends) or at the window."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.constants import DocumentRole
from zairyu.applications.models import Application
from zairyu.applications.rules.dates import add_months, birthday
from zairyu.applications.rules.procedures import ACQUISITION
from zairyu.applications.rules.results import format_message
from zairyu.core import clock
from zairyu.documents.models import StoredDocument
from zairyu.documents.services import document_open, document_store_pdf
from zairyu.registry.constants import CARD_AGE_LIMIT
from zairyu.registry.models import Resident
from zairyu.review import signing
from zairyu.review.constants import (
    COE_VALIDITY_MONTHS,
    IssueKind,
    IssueMethod,
    IssueState,
    PaymentMethod,
    PostalItem,
)
from zairyu.review.models import (
    Decision,
    EcoeRecord,
    InvalidatedCard,
    Issue,
    Payment,
)
from zairyu.review.pdf import coe_pdf, employment_certificate_pdf
from zairyu.review.services.common import (
    CODE_ALPHABET,
    CODE_LENGTH,
    ReviewRefused,
    S,
    certificate_number,
    filer_mail,
    guard,
    locked,
    site_url,
)


def required_postal_items(issue: Issue, decision: Decision) -> list[str]:
    """What the filer must send before a postal issue (A6-5): the return envelope always, the
    fee form when there is a fee, the current card when a new card replaces it."""
    items: list[str] = [PostalItem.ENVELOPE]
    if decision.fee_yen:
        items.append(PostalItem.FEE)
    if issue.kind == IssueKind.RESIDENCE_CARD and _replaces_a_card(issue):
        items.append(PostalItem.CARD)
    return items


def _replaces_a_card(issue: Issue) -> bool:
    """A new card replaces one (a change, an extension) — not the first card of an acquisition."""
    return not Application.objects.filter(pk=issue.application_id, procedure=ACQUISITION).exists()


def missing_postal_items(issue: Issue, decision: Decision) -> list[str]:
    received: dict[str, bool] = {
        PostalItem.ENVELOPE: issue.envelope_received_on is not None,
        PostalItem.FEE: Payment.objects.filter(application_id=issue.application_id).exists(),
        PostalItem.CARD: issue.card_received_on is not None,
    }
    return [item for item in required_postal_items(issue, decision) if not received[item]]


def _store_pdf(data: bytes, *, name: str, document_type: str) -> StoredDocument:

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
    return site_url(reverse("public_review:ecoe", kwargs={"code": code}))


def ecoe_issue(
    application: Application, decision: Decision, issue: Issue, *, officer: User
) -> tuple[EcoeRecord, lifecycle.Mail]:
    """Make the electronic COE: the PDF (no photo) with its number, code and QR code, stored;
    the verification record with the hash of those exact bytes, signed; the e-mail with a link
    to download it (forwardable to the applicant abroad) and the verification page."""

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
    mail = filer_mail(
        application,
        "review_ecoe_issued",
        key=f"review_ecoe_issued:{application.pk}",
        coe_number=number,
        code=display_code(code),
        valid_until=valid_until,
        download_link=site_url(reverse("public_review:ecoe-download", kwargs={"token": token})),
        verify_link=ecoe_url(code),
    )
    return record, mail


def coe_paper_prepare(application: Application, decision: Decision, issue: Issue) -> None:
    """The paper COE for printing (with the face photo when attached), ready at the decision."""

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
    and expiry; the old card is invalidated (punched and returned to the holder, Q5-5). An
    acquisition's applicant (a child born in Japan) enters the registry now, with a first card."""
    if application.applicant_resident_id is None:
        _registry_enter(application, decision, issue)
        return
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


def _registry_enter(application: Application, decision: Decision, issue: Issue) -> None:
    """The registry record of an acquisition's applicant, from the answers the officer reviewed
    (the identity items and the address), with the status and period granted and a first card."""
    from zairyu.catalogue.formspec import role_field_id

    if application.procedure != ACQUISITION:
        raise ReviewRefused("no_record", _("This application names no registry record to update."))
    answers = application.answers

    def answer(role: str) -> str:
        return str(answers.get(role_field_id(role)) or "")

    born = dt.date.fromisoformat(answer("identity.date_of_birth"))
    resident = Resident(
        roman_name=answer("identity.roman_name"),
        kanji_name=answer("applicant.kanji_name")[:60],
        nationality=answer("identity.nationality"),
        sex={"male": "M", "female": "F"}.get(answer("identity.sex"), ""),
        date_of_birth=born,
        prefecture=answer("identity.prefecture"),
        municipality=answer("identity.municipality")[:60],
        address_rest=answer("applicant.address_street")[:200],
        status=decision.status,
        period_of_stay=decision.period_of_stay,
        stay_expires_on=decision.stay_expires_on,
        card_number=new_card_number(),
        card_expires_on=decision.stay_expires_on or clock.today(),
    )
    resident.card_expires_on = _card_expiry(resident, decision)
    resident.full_clean()
    resident.save()
    application.applicant_resident = resident
    application.save(update_fields=["applicant_resident"])
    issue.new_card_number = resident.card_number
    issue.new_card_expires_on = resident.card_expires_on


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
    application = locked(application_id, officer)
    guard(application, "postal_items_received", officer)
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
    lifecycle.record(
        application,
        "postal_reminder_sent",
        actor=officer,
        audit="review.postal_reminder_sent",
        mail=[
            filer_mail(
                application,
                "review_post_reminder",
                key=f"review_post_reminder:{issue.pk}",
                due_on=issue.documents_due_on,
                items=[PostalItem(item).label for item in missing],
            )
        ],
    )
    return True


@transaction.atomic
def postal_reminder_send(*, application_id: int, officer: User, ip: str | None = None) -> Issue:
    """The officer records that 14 days passed without the envelope, fee form or card: the
    filer is reminded (once)."""
    application = locked(application_id, officer)
    guard(application, "postal_reminder_sent", officer)
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
    application = locked(application_id, officer)
    guard(application, "issued_by_post", officer)
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
        mail=[
            filer_mail(
                application,
                "review_card_issued",
                key=f"review_card_issued:{application.pk}",
                kind=IssueKind(issue.kind).label,
                tracking_number=issue.tracking_number,
                new_card_number=issue.new_card_number,
                new_card_expires_on=issue.new_card_expires_on,
            )
        ],
    )
    return issue


@transaction.atomic
def issue_at_window(
    *, application_id: int, officer: User, fee_stamps_received: bool = False, ip: str | None = None
) -> Issue:
    """Hand over at the window what a window receipt was decided for (the application is
    complete already): a new card, the stamp in the passport, or the employment certificate.
    The fee is paid with revenue stamps handed in now, unless it was paid online."""
    application = locked(application_id, officer)
    guard(application, "handed_over_at_window", officer)
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
