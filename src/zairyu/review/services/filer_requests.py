"""The filer's requests (withdrawal, correction) and the receipt errors officers put back."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.models import Application, ApplicationRequest
from zairyu.applications.services import receipt_number_obtain
from zairyu.core import clock
from zairyu.review.services.common import (
    ReviewRefused,
    S,
    close_open_document_requests,
    filer_mail,
    guard,
    locked,
    office_of,
)


def _locked_request(request_id: int, officer: User) -> tuple[ApplicationRequest, Application]:
    office = office_of(officer)
    application_id = (
        ApplicationRequest.objects.filter(pk=request_id, application__office=office)
        .values_list("application_id", flat=True)
        .first()
    )
    if application_id is None:
        raise ReviewRefused("not_found", _("There is no such request at your office."))
    application = locked(application_id, officer)  # the application first, as every service does
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
    guard(application, action, officer)
    request.state = ApplicationRequest.State.ACCEPTED
    request.decided_at = clock.now()
    request.decided_by = officer
    request.save(update_fields=["state", "decided_at", "decided_by"])
    audit, details = f"review.{action}", {"request": request.pk}
    withdrawn = request.kind == ApplicationRequest.Kind.WITHDRAWAL
    mail = [
        filer_mail(
            application,
            "review_request_result",
            key=f"review_request_result:{request.pk}",
            request_kind=request.get_kind_display(),
            accepted=True,
            withdrawn=withdrawn,
            reason="",
        )
    ]
    if withdrawn:
        close_open_document_requests(application)
        lifecycle.transition(
            application,
            f"{request.kind}_accepted",
            S.WITHDRAWN,
            actor=officer,
            audit=audit,
            ip=ip,
            audit_details=details,
            mail=mail,
        )
    else:
        lifecycle.record(
            application,
            f"{request.kind}_accepted",
            actor=officer,
            audit=audit,
            ip=ip,
            audit_details=details,
            mail=mail,
        )
    return request


@transaction.atomic
def application_request_decline(
    *, request_id: int, officer: User, reason: str, ip: str | None = None
) -> ApplicationRequest:
    request, application = _locked_request(request_id, officer)
    guard(application, f"{request.kind}_declined", officer)
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
        mail=[
            filer_mail(
                application,
                "review_request_result",
                key=f"review_request_result:{request.pk}",
                request_kind=request.get_kind_display(),
                accepted=False,
                withdrawn=False,
                reason=reason[:2000],
            )
        ],
    )
    return request


@transaction.atomic
def application_put_back(*, application_id: int, officer: User, ip: str | None = None) -> Application:
    """Give a formal receipt number to an application that could not get one and put it back in
    the submitted queue (the job does the same every few minutes; the e-mail goes once either way)."""
    application = locked(application_id, officer)
    guard(application, "receipt_number_obtained", officer)
    if not receipt_number_obtain(application=application, actor=officer, ip=ip):
        raise ReviewRefused(
            "still_failing", _("The receipt number still cannot be obtained. Try again later.")
        )
    return application
