"""Change notifications: the organization's name or address, a staff member's name, or a new
receiving organization that mandated a support organization; applied when an officer approves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from zairyu.accounts.constants import UserState
from zairyu.accounts.models import User
from zairyu.core.audit import audit_record
from zairyu.organizations.access import active_memberships, staff_membership
from zairyu.organizations.constants import AGENT_ORGANIZATION_KINDS, ChangeKind, FilingState, MandateState
from zairyu.organizations.models import ChangeNotification, Enrolment
from zairyu.organizations.services._common import (
    check_documents_scanned,
    decide,
    lock_open,
    mail_user,
    office_for_organization,
    refusal_reason,
    store_document,
)
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.mandates import (
    MandateUpload,
    check_mandates,
    mandates_activate,
    mandates_create,
)
from zairyu.registry.models import ReceivingOrganization


@transaction.atomic
def change_notification_submit(
    *,
    filer: User,
    kind: str,
    supporting_document: IO[bytes] | None = None,
    new_name: str = "",
    new_prefecture: str = "",
    new_municipality: str = "",
    new_address_rest: str = "",
    staff_membership_id: int | None = None,
    new_mandates: Sequence[MandateUpload] = (),
    ip: str | None = None,
) -> ChangeNotification:
    """Notify the bureau of a change: the organization's name or address, a staff member's name,
    or (support organizations) a new receiving organization that mandated it."""
    membership = staff_membership(filer)
    if membership is None or filer.state != UserState.ACTIVE:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    organization = membership.organization
    enrolment = Enrolment.objects.get(organization=organization)
    change = ChangeNotification(organization=organization, office=enrolment.office, kind=kind, filed_by=filer)
    principals: list[ReceivingOrganization] = []
    if kind == ChangeKind.ORGANIZATION:
        address = (new_prefecture, new_municipality.strip(), new_address_rest.strip())
        if any(address) and not all(address):
            raise OrganizationError(
                "address_incomplete",
                _("Give the whole new address: prefecture, municipality and the rest."),
                field="new_municipality",
            )
        if not new_name.strip() and not any(address):
            raise OrganizationError(
                "nothing_changed", _("Enter the new name, the new address, or both."), field="new_name"
            )
        change.new_name = new_name.strip()
        change.new_prefecture, change.new_municipality, change.new_address_rest = address
    elif kind == ChangeKind.STAFF_NAME:
        members = active_memberships(organization)
        change.staff_member = members.filter(pk=staff_membership_id).first() if staff_membership_id else None
        if change.staff_member is None:
            raise OrganizationError(
                "staff_unknown", _("Choose a staff member of your organization."), field="staff_member"
            )
        if not new_name.strip():
            raise OrganizationError("name_required", _("Enter the new name."), field="new_name")
        change.new_name = new_name.strip()
    elif kind == ChangeKind.MANDATE_ADDED:
        if organization.kind not in AGENT_ORGANIZATION_KINDS:
            raise OrganizationError(
                "not_agent", _("Only support organizations add the organizations that mandate them.")
            )
        if not new_mandates:
            raise OrganizationError("mandates_required", _("Add at least one receiving organization."))
        principals = check_mandates(new_mandates, agent=organization)
    else:
        raise OrganizationError("kind_required", _("Choose what changed."), field="kind")
    if kind != ChangeKind.MANDATE_ADDED and supporting_document is None:
        raise OrganizationError(
            "document_required",
            _("Attach a document that proves the change (for example the register's certificate)."),
            field="supporting_document",
        )
    if supporting_document is not None:
        change.supporting_document = store_document(
            supporting_document,
            owner=filer,
            document_type="change_notification",
            field="supporting_document",
            ip=ip,
        )
    change.save()
    mandates_create(
        new_mandates, principals, agent=organization, owner=filer, ip=ip, change_notification=change
    )
    audit_record(
        action="organizations.change_submitted", actor=filer, target=change, ip=ip, details={"kind": kind}
    )
    return change


@transaction.atomic
def change_notification_approve(
    *, change_id: int, officer: User, ip: str | None = None
) -> ChangeNotification:
    """Apply the change: the registry's record of the organization (a move to another office's
    area moves the organization to that office), the staff member's name, or the new mandates."""
    change = lock_open(ChangeNotification, pk=change_id, officer=officer)
    check_documents_scanned(change)
    details: dict[str, Any] = {"kind": change.kind}
    if change.kind == ChangeKind.ORGANIZATION:
        organization = ReceivingOrganization.objects.select_for_update().get(pk=change.organization_id)
        if change.new_name:
            organization.name = change.new_name
        if change.new_prefecture:
            organization.prefecture = change.new_prefecture
            organization.municipality = change.new_municipality
            organization.address_rest = change.new_address_rest
        organization.save()
        office = office_for_organization(organization)
        moved = (
            Enrolment.objects.filter(organization=organization).exclude(office=office).update(office=office)
        )
        details["office"] = office if moved else None
    elif change.kind == ChangeKind.STAFF_NAME and change.staff_member is not None:
        User.objects.filter(pk=change.staff_member.user_id).update(full_name=change.new_name)
        details["user"] = change.staff_member.user_id
    elif change.kind == ChangeKind.MANDATE_ADDED:
        mandates_activate(change.new_mandates.select_for_update())
    decide(change, officer=officer, state=FilingState.APPROVED)
    audit_record(action="organizations.change_approved", actor=officer, target=change, ip=ip, details=details)
    _change_result_mail(change)
    return change


@transaction.atomic
def change_notification_refuse(
    *, change_id: int, officer: User, reason: str, ip: str | None = None
) -> ChangeNotification:
    reason = refusal_reason(reason)
    change = lock_open(ChangeNotification, pk=change_id, officer=officer)
    change.new_mandates.update(state=MandateState.REFUSED)
    decide(change, officer=officer, state=FilingState.REFUSED, reason=reason)
    audit_record(action="organizations.change_refused", actor=officer, target=change, ip=ip)
    _change_result_mail(change)
    return change


def _change_result_mail(change: ChangeNotification) -> None:
    filer = User.objects.get(pk=change.filed_by_id)
    mail_user(
        filer,
        "org_change_result",
        key=f"org_change_result:{change.pk}",
        approved=change.state == FilingState.APPROVED,
        what=ChangeKind(change.kind).label,
        reason=change.refusal_reason,
        organization=change.organization.name,
    )
