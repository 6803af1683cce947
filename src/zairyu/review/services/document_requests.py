"""Asking the filer for more documents, and the answer when they add one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.models import Application, ApplicationDocument
from zairyu.applications.rules.results import format_message
from zairyu.core import clock
from zairyu.review.constants import DocumentRequestState
from zairyu.review.models import DocumentRequest
from zairyu.review.services.common import (
    MAX_DOCUMENT_REQUEST_DAYS,
    ReviewRefused,
    filer_mail,
    guard,
    locked,
    may_work_on,
    site_url,
)


@transaction.atomic
def documents_request(
    *, application_id: int, officer: User, message: str, deadline: dt.date, ip: str | None = None
) -> DocumentRequest:
    """Ask the filer for additional documents (a message and a deadline); they upload them
    online with a declaration (F-04). The application stays under review, waiting."""
    application = locked(application_id, officer)
    guard(application, "documents_requested", officer)
    may_work_on(application, officer)
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
        mail=[
            filer_mail(
                application,
                "review_documents_requested",
                key=f"review_documents_requested:{request.pk}",
                message=request.message,
                deadline=deadline,
                upload_link=site_url(
                    reverse("applications:manage", kwargs={"public_id": application.public_id})
                ),
            )
        ],
        deadline=deadline.isoformat(),
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
