"""Reading applications as an officer: only the applications the officer's office received.

Views read through these functions and nothing else; an application, attachment, request or
issued document of another office is a 404, never a 403 (nothing is said about it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.http import Http404

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application, ApplicationDocument, ApplicationRequest
from zairyu.core import clock
from zairyu.documents.models import StoredDocument
from zairyu.review.constants import DocumentRequestState, IssueMethod, IssueState, Queue
from zairyu.review.models import DocumentRequest, Issue

S = ApplicationState
QUEUE_COLUMNS = (
    "id",
    "procedure",
    "add_ons",
    "status",
    "state",
    "applicant_name",
    "office",
    "receipt_number",
    "provisional_number",
    "receipt_date",
    "submitted_at",
)


def officer_office(officer: User) -> str:
    if (
        not getattr(officer, "is_authenticated", False)
        or officer.kind != UserKind.OFFICER
        or not officer.office
    ):
        raise Http404
    return officer.office


def applications_for_officer(officer: User) -> QuerySet[Application]:
    """Every application received by the officer's office (drafts were never received)."""
    return Application.objects.filter(office=officer_office(officer), submitted_at__isnull=False)


def application_for_officer(officer: User, application_id: int) -> Application:
    application = (
        applications_for_officer(officer)
        .select_related("filer", "applicant_resident", "receiving_organization", "assignment__officer")
        .filter(pk=application_id)
        .first()
    )
    if application is None:
        raise Http404
    return application


def attachment_for_officer(officer: User, application_id: int, attachment_id: int) -> ApplicationDocument:
    application = application_for_officer(officer, application_id)
    attachment = (
        application.documents.select_related("document")
        .filter(pk=attachment_id, document__deleted_at__isnull=True)
        .first()
    )
    if attachment is None:
        raise Http404
    return attachment


def issued_document_for_officer(officer: User, application_id: int) -> StoredDocument:
    application = application_for_officer(officer, application_id)
    issue = Issue.objects.select_related("document").filter(application=application).first()
    if issue is None or issue.document is None or issue.document.deleted_at is not None:
        raise Http404
    return issue.document


def request_for_officer(officer: User, request_id: int) -> ApplicationRequest:
    request = (
        ApplicationRequest.objects.select_related("application")
        .filter(pk=request_id, application__office=officer_office(officer))
        .first()
    )
    if request is None:
        raise Http404
    return request


def office_officers(officer: User) -> QuerySet[User]:
    return User.objects.filter(
        kind=UserKind.OFFICER, office=officer_office(officer), state=UserState.ACTIVE
    ).order_by("full_name", "username")


# --- queues -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    procedure: str = ""
    status: str = ""
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    older_than_days: int | None = None
    assignee: str = ""  # "", "me", "none" or an officer's id


def _open_document_request() -> QuerySet[DocumentRequest]:
    return DocumentRequest.objects.filter(application=OuterRef("pk"), state=DocumentRequestState.OPEN)


def _queue_base(officer: User, queue: str) -> QuerySet[Application]:
    applications = Application.objects.filter(office=officer_office(officer))
    if queue == Queue.SUBMITTED:
        return applications.filter(state=S.SUBMITTED)
    if queue == Queue.UNDER_REVIEW:
        return applications.filter(state=S.UNDER_REVIEW).exclude(Exists(_open_document_request()))
    if queue == Queue.WAITING_DOCUMENTS:
        return applications.filter(state=S.UNDER_REVIEW).filter(Exists(_open_document_request()))
    if queue == Queue.AWAITING_ISSUE:
        return applications.filter(state=S.AWAITING_ISSUE)
    if queue == Queue.WINDOW:
        # Driven from the few issues waiting at the window, not from every complete application.
        waiting = Issue.objects.filter(method=IssueMethod.WINDOW, state=IssueState.WAITING)
        return applications.filter(state=S.COMPLETE, pk__in=waiting.values("application_id"))
    if queue == Queue.RECEIPT_ERRORS:
        return applications.filter(state=S.ERROR_RECEIPT)
    raise Http404


def queue_filtered(officer: User, queue: str, filters: QueueFilters | None = None) -> QuerySet[Application]:
    """One work queue of the officer's office, filtered (unordered: also for counting)."""
    applications = _queue_base(officer, queue)
    filters = filters or QueueFilters()
    if filters.procedure:
        applications = applications.filter(procedure=filters.procedure)
    if filters.status:
        applications = applications.filter(status=filters.status)
    if filters.received_from:
        applications = applications.filter(receipt_date__gte=filters.received_from)
    if filters.received_to:
        applications = applications.filter(receipt_date__lte=filters.received_to)
    if filters.older_than_days is not None:
        applications = applications.filter(
            receipt_date__lte=clock.today() - dt.timedelta(days=filters.older_than_days)
        )
    if filters.assignee == "me":
        applications = applications.filter(assignment__officer=officer)
    elif filters.assignee == "none":
        applications = applications.filter(assignment__isnull=True)
    elif filters.assignee.isdigit():
        applications = applications.filter(assignment__officer_id=int(filters.assignee))
    return applications


def queue_applications(
    officer: User, queue: str, filters: QueueFilters | None = None
) -> QuerySet[Application]:
    """One work queue of the officer's office, oldest first, filtered, with the row's columns."""
    applications = queue_filtered(officer, queue, filters)
    if queue == Queue.WAITING_DOCUMENTS:
        applications = applications.annotate(
            documents_deadline=Subquery(_open_document_request().values("deadline")[:1])
        )
    # A queue row needs a few columns: not the answers (large JSON), not the assignee's row.
    return (
        applications.only(*QUEUE_COLUMNS)
        .annotate(assignee_name=F("assignment__officer__full_name"))
        .order_by("submitted_at", "pk")
    )


def queue_requests(officer: User, filters: QueueFilters | None = None) -> QuerySet[ApplicationRequest]:
    """Open withdrawal and correction requests of the office, oldest first."""
    requests = ApplicationRequest.objects.filter(
        application__office=officer_office(officer), state=ApplicationRequest.State.OPEN
    )
    filters = filters or QueueFilters()
    if filters.procedure:
        requests = requests.filter(application__procedure=filters.procedure)
    if filters.status:
        requests = requests.filter(application__status=filters.status)
    return requests.select_related("application").order_by("created_at", "pk")


def queue_counts(officer: User) -> dict[str, int]:
    """How many items wait in each queue of the officer's office (for the officer's home):
    one grouped count over the open states, and three small ones."""
    office = officer_office(officer)
    by_state = dict(
        Application.objects.filter(
            office=office, state__in=[S.SUBMITTED, S.UNDER_REVIEW, S.AWAITING_ISSUE, S.ERROR_RECEIPT]
        )
        .values_list("state")
        .annotate(n=Count("*"))
        .order_by()
    )
    waiting = _queue_base(officer, Queue.WAITING_DOCUMENTS).count()
    return {
        Queue.SUBMITTED: by_state.get(S.SUBMITTED, 0),
        Queue.UNDER_REVIEW: by_state.get(S.UNDER_REVIEW, 0) - waiting,
        Queue.WAITING_DOCUMENTS: waiting,
        Queue.AWAITING_ISSUE: by_state.get(S.AWAITING_ISSUE, 0),
        Queue.WINDOW: _queue_base(officer, Queue.WINDOW).count(),
        Queue.REQUESTS: queue_requests(officer).count(),
        Queue.RECEIPT_ERRORS: by_state.get(S.ERROR_RECEIPT, 0),
    }
