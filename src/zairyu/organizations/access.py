"""Reads with the permission check built in. Views read organizations' objects only through
these functions; the applications feature asks them what a staff member may file and for whom.

Scope (MISSION §2): staff of a receiving organization (U5) file for the foreign nationals of
their own organization; staff of a public-interest corporation (U6) or a registered support
organization (U7) for those of the receiving organizations that mandated it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.core import clock
from zairyu.organizations.constants import FilingState, MandateState
from zairyu.organizations.models import (
    ChangeNotification,
    Enrolment,
    Mandate,
    PeriodicReport,
    StaffMembership,
    UsageApplication,
)
from zairyu.registry.models import ReceivingOrganization, Resident

if TYPE_CHECKING:
    from zairyu.documents.models import StoredDocument

# --- staff and scope ----------------------------------------------------------------------------


def active_memberships(organization: ReceivingOrganization | int) -> QuerySet[StaffMembership]:
    """The approved staff of an organization: not ended, account not removed (pending included)."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    return StaffMembership.objects.filter(organization_id=organization_id, ended_at__isnull=True).exclude(
        user__state=UserState.REMOVED
    )


def staff_membership(user: Any) -> StaffMembership | None:
    """The user's active membership of an organization, or None (not staff, left, removed)."""
    if not getattr(user, "is_authenticated", False) or user.kind not in ORGANIZATION_STAFF_KINDS:
        return None
    if user.state == UserState.REMOVED:
        return None
    return (
        StaffMembership.objects.select_related("organization")
        .filter(user_id=user.pk, ended_at__isnull=True)
        .first()
    )


def staff_organization(user: Any) -> ReceivingOrganization | None:
    """The organization the user is approved staff of, or None."""
    membership = staff_membership(user)
    return membership.organization if membership is not None else None


def organizations_in_scope(user: Any) -> QuerySet[ReceivingOrganization]:
    """The organizations whose foreign nationals the user may file for: U5 their own; U6/U7 those
    with an active mandate to their organization; nobody else any."""
    organization = staff_organization(user)
    if organization is None:
        return ReceivingOrganization.objects.none()
    if user.kind == UserKind.U5:
        return ReceivingOrganization.objects.filter(pk=organization.pk)
    return ReceivingOrganization.objects.filter(
        mandates_given__agent_organization=organization, mandates_given__state=MandateState.ACTIVE
    ).distinct()


def applicant_in_scope(user: Any, resident: Resident) -> bool:
    """Whether the user may file for this resident: their affiliation is in the user's scope."""
    if resident.affiliation_id is None:
        return False
    return organizations_in_scope(user).filter(pk=resident.affiliation_id).exists()


class FilingPermission(NamedTuple):
    """The answer of :func:`organization_may_file`: true or false, with the reason to show.
    Use it as a bool (``if not organization_may_file(user)``) or unpack it
    (``allowed, reason = organization_may_file(user)``)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def organization_may_file(user: Any) -> FilingPermission:
    """Whether an organization's staff member may file applications now. False between the
    organization's expiry and the approval of its periodic report: its users can still sign in
    and read what they filed."""
    membership = staff_membership(user)
    if membership is None:
        return FilingPermission(
            False, _("Only approved staff of an organization file for its foreign nationals.")
        )
    if user.state != UserState.ACTIVE:
        return FilingPermission(False, _("Your account is not active."))
    enrolment = Enrolment.objects.filter(organization_id=membership.organization_id).first()
    if enrolment is None or enrolment.valid_until is None:
        return FilingPermission(False, _("Your organization's approval has not started yet."))
    if enrolment.valid_until < clock.today():
        return FilingPermission(
            False,
            _(
                "Your organization's approval expired on %(date)s. File the periodic report: you can "
                "file again once it is approved."
            )
            % {"date": enrolment.valid_until.isoformat()},
        )
    return FilingPermission(True)


# --- the staff member's own organization --------------------------------------------------------


def membership_for_staff(user: Any, membership_id: int) -> StaffMembership:
    """A colleague's membership, for the organization's own staff only."""
    own = staff_membership(user)
    if own is None:
        raise Http404
    membership = (
        active_memberships(own.organization_id).select_related("user").filter(pk=membership_id).first()
    )
    if membership is None:
        raise Http404
    return membership


def usage_application_by_status_token(raw_token: str) -> UsageApplication:
    """The application behind a status link (the secret is the permission)."""
    from zairyu.organizations.services import token_hash

    if not raw_token:
        raise Http404
    application = (
        UsageApplication.objects.select_related("organization")
        .filter(status_token_hash=token_hash(raw_token))
        .exclude(status_token_hash="")
        .first()
    )
    if application is None:
        raise Http404
    return application


# --- officers -----------------------------------------------------------------------------------


def _officer_office(officer: Any) -> str:
    if (
        not getattr(officer, "is_authenticated", False)
        or officer.kind != UserKind.OFFICER
        or not officer.office
    ):
        raise Http404
    office: str = officer.office
    return office


def usage_application_for_officer(officer: Any, application_id: int) -> UsageApplication:
    office = _officer_office(officer)
    application = (
        UsageApplication.objects.select_related("organization", "agent_certificate", "filed_by", "decided_by")
        .filter(pk=application_id, office=office)
        .first()
    )
    if application is None:
        raise Http404
    return application


def periodic_report_for_officer(officer: Any, report_id: int) -> PeriodicReport:
    office = _officer_office(officer)
    report = (
        PeriodicReport.objects.select_related("organization", "filed_by", "decided_by")
        .filter(pk=report_id, office=office)
        .first()
    )
    if report is None:
        raise Http404
    return report


def change_notification_for_officer(officer: Any, change_id: int) -> ChangeNotification:
    office = _officer_office(officer)
    change = (
        ChangeNotification.objects.select_related(
            "organization", "filed_by", "staff_member__user", "decided_by"
        )
        .filter(pk=change_id, office=office)
        .first()
    )
    if change is None:
        raise Http404
    return change


def enrolment_for_officer(officer: Any, enrolment_id: int) -> Enrolment:
    office = _officer_office(officer)
    enrolment = (
        Enrolment.objects.select_related("organization").filter(pk=enrolment_id, office=office).first()
    )
    if enrolment is None:
        raise Http404
    return enrolment


def membership_for_officer(officer: Any, membership_id: int) -> StaffMembership:
    """An active staff membership of an organization enrolled at the officer's office."""
    office = _officer_office(officer)
    membership = (
        StaffMembership.objects.select_related("user", "organization")
        .filter(pk=membership_id, organization__enrolment__office=office, ended_at__isnull=True)
        .exclude(user__state=UserState.REMOVED)
        .first()
    )
    if membership is None:
        raise Http404
    return membership


def officer_queue(officer: Any) -> dict[str, QuerySet[Any]]:
    """What waits for a decision at the officer's office, oldest first."""
    office = _officer_office(officer)
    open_at_office = {"office": office, "state": FilingState.SUBMITTED}
    applications = UsageApplication.objects.filter(**open_at_office).select_related("organization")
    return {
        "new": applications.filter(kind="new").order_by("submitted_at", "pk"),
        "additional": applications.filter(kind="additional").order_by("submitted_at", "pk"),
        "reports": PeriodicReport.objects.filter(**open_at_office)
        .select_related("organization")
        .order_by("submitted_at", "pk"),
        "changes": ChangeNotification.objects.filter(**open_at_office)
        .select_related("organization")
        .order_by("submitted_at", "pk"),
    }


def officer_queue_counts(officer: Any) -> dict[str, int]:
    return {name: queryset.count() for name, queryset in officer_queue(officer).items()}


# --- attachments --------------------------------------------------------------------------------


def _document_places(document_id: Any) -> list[tuple[str, int]]:
    """(office, organization) of every filing the document is attached to."""
    places: list[tuple[str, int]] = []
    doc_fields: dict[type[UsageApplication | PeriodicReport | ChangeNotification], tuple[str, ...]] = {
        UsageApplication: ("supporting_document", "category_proof_document", "stability_document"),
        PeriodicReport: ("supporting_document", "mandates_document"),
        ChangeNotification: ("supporting_document",),
    }
    for model, fields in doc_fields.items():
        query = Q()
        for field in fields:
            query |= Q(**{f"{field}_id": document_id})
        places += list(model.objects.filter(query).values_list("office", "organization_id"))
    for mandate in Mandate.objects.filter(
        Q(mandate_document_id=document_id) | Q(pledge_document_id=document_id)
    ).select_related("usage_application", "periodic_report", "change_notification"):
        filing = mandate.usage_application or mandate.periodic_report or mandate.change_notification
        if filing is not None:
            places.append((filing.office, mandate.agent_organization_id))
    return places


def _live_document(document_id: Any) -> StoredDocument:
    from zairyu.documents.models import StoredDocument

    document = StoredDocument.objects.filter(pk=document_id, deleted_at__isnull=True).first()
    if document is None:
        raise Http404
    return document


def document_for_officer(officer: Any, document_id: Any) -> StoredDocument:
    """An attachment of a filing of the officer's office."""
    office = _officer_office(officer)
    if not any(place_office == office for place_office, _org in _document_places(document_id)):
        raise Http404
    return _live_document(document_id)


def document_for_staff(user: Any, document_id: Any) -> StoredDocument:
    """An attachment of a filing of the user's own organization."""
    organization = staff_organization(user)
    if organization is None or not any(
        org == organization.pk for _office, org in _document_places(document_id)
    ):
        raise Http404
    return _live_document(document_id)
