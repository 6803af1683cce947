"""What the parts of the bureau's work share: the officer's office, the locked application, the lifecycle check, the audit record and the e-mail to the filer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import OfficerRole, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.rules.results import format_message
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Refused
from zairyu.core.models import AuditEvent
from zairyu.review.constants import DocumentRequestState
from zairyu.review.models import (
    Assignment,
    CertificateCounter,
    DocumentRequest,
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


def office_of(officer: User) -> str:
    if officer.kind != UserKind.OFFICER or not officer.office or officer.state != UserState.ACTIVE:
        raise ReviewRefused("not_officer", _("Only officers of a regional bureau do this."))
    return officer.office


def locked(application_id: int, officer: User) -> Application:
    """The application, locked, if it was received by the officer's office."""
    office = office_of(officer)
    application = (
        Application.objects.select_for_update()
        .filter(pk=application_id, office=office, submitted_at__isnull=False)
        .first()
    )
    if application is None:
        raise ReviewRefused("not_found", _("There is no such application at your office."))
    return application


def guard(application: Application, action: str, officer: User | None) -> None:
    """Refuse unless the lifecycle allows ``action`` in the application's state."""
    try:
        lifecycle.check(application, action, actor=officer)
    except Refused as refusal:
        raise ReviewRefused(refusal.code, refusal.message) from None


def is_supervisor(officer: User) -> bool:
    return officer.role in SUPERVISOR_ROLES


def may_work_on(application: Application, officer: User) -> None:
    """An application assigned to someone else is theirs, unless a supervisor steps in."""
    assignment = Assignment.objects.filter(application=application).select_related("officer").first()
    if assignment is not None and assignment.officer_id != officer.pk and not is_supervisor(officer):
        raise ReviewRefused(
            "assigned_elsewhere",
            format_message(
                _("This application is assigned to %(name)s. Ask a supervisor to reassign it to you."),
                name=assignment.officer.full_name or assignment.officer.username,
            ),
        )


def audit(action: str, *, officer: User | None, target: Any, ip: str | None, **details: Any) -> None:
    audit_record(
        action=f"review.{action}",
        actor=officer,
        actor_kind=AuditEvent.ActorKind.OFFICER if officer is not None else None,
        target=target,
        ip=ip,
        details=details,
    )


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def filer_mail(application: Application, email_kind: str, /, *, key: str, **context: Any) -> lifecycle.Mail:
    """The e-mail to the filer that tells of an event (given to the lifecycle, which queues it)."""
    catalogue = get_catalogue()
    office = catalogue.offices.get(application.office)
    filer = application.filer
    return lifecycle.Mail.to(
        filer.email,
        kind=email_kind,
        language=filer.language,
        context={
            "receipt_number": application.receipt_number or application.provisional_number,
            "applicant_name": application.applicant_name,
            "procedure": catalogue.procedures[application.procedure].name,
            "office": office.name if office else application.office,
            "link": site_url(reverse("applications:detail", kwargs={"public_id": application.public_id})),
            **context,
        },
        key=key,
    )


def close_open_document_requests(application: Application) -> None:
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
