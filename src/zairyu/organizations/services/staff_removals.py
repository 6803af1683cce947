"""Leavers and removals (F-14): the organization reports that a staff member left, a staff member
ends their own approval, or the bureau removes it (which blocks a new application for a year)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import user_remove
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.organizations.access import staff_membership
from zairyu.organizations.constants import REMOVAL_BLOCK_YEARS, MembershipEnd
from zairyu.organizations.models import StaffMembership
from zairyu.organizations.services._common import mail_user, membership_end, refusal_reason
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.validity import add_years


@transaction.atomic
def staff_report_left(*, reporter: User, membership_id: int, ip: str | None = None) -> None:
    """The organization reports that a staff member left: their ID is removed at once (their
    sessions end with it) and they are e-mailed. Leaving does not block a later application."""
    own = staff_membership(reporter)
    if own is None or reporter.state != UserState.ACTIVE:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    membership = (
        StaffMembership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, organization_id=own.organization_id, ended_at__isnull=True)
        .first()
    )
    if membership is None or membership.user.state == UserState.REMOVED:
        raise OrganizationError("not_found", _("There is no such staff member in your organization."))
    if membership.pk == own.pk:
        raise OrganizationError("own_membership", _("To end your own approval, use 'Remove my approval'."))
    membership_end(membership, reason=MembershipEnd.LEFT, actor=reporter)
    audit_record(
        action="organizations.staff_left",
        actor=reporter,
        target=membership,
        ip=ip,
        details={"user": membership.user_id},
    )
    user_remove(user=membership.user, actor=reporter, reason=MembershipEnd.LEFT, ip=ip)


@transaction.atomic
def staff_remove_own(*, user: User, ip: str | None = None) -> None:
    """A staff member ends their own approval (A10-4): at once, without blocking a later one."""
    membership = StaffMembership.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
    if membership is None:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    membership_end(membership, reason=MembershipEnd.OWN_REQUEST, actor=user)
    audit_record(action="organizations.staff_removed_own", actor=user, target=membership, ip=ip)
    user_remove(user=user, actor=user, reason=MembershipEnd.OWN_REQUEST, ip=ip)


@transaction.atomic
def staff_remove_by_bureau(
    *, membership_id: int, officer: User, reason: str, ip: str | None = None
) -> dt.date:
    """An officer removes a staff member's approval. Unlike leaving or an own request, this
    blocks a new usage application by the same person for a year; returns the day they may
    apply again. The e-mail says why and from when."""
    reason = refusal_reason(reason)
    if officer.kind != UserKind.OFFICER:
        raise OrganizationError("not_officer", _("Only officers decide on filings."))
    membership = (
        StaffMembership.objects.select_for_update()
        .select_related("user", "organization__enrolment")
        .filter(pk=membership_id, organization__enrolment__office=officer.office, ended_at__isnull=True)
        .first()
    )
    if membership is None or membership.user.state == UserState.REMOVED:
        raise OrganizationError("not_found", _("There is no such staff member at your office."))
    membership_end(membership, reason=MembershipEnd.BUREAU, actor=officer, note=reason)
    may_apply_from = add_years(clock.today(), REMOVAL_BLOCK_YEARS)
    audit_record(
        action="organizations.staff_removed_by_bureau",
        actor=officer,
        target=membership,
        ip=ip,
        details={"user": membership.user_id, "until": may_apply_from.isoformat()},
    )
    # Queued under the key ``user_remove`` uses for its generic notice, so that this e-mail, which
    # says why and until when, is the only one the person gets.
    mail_user(
        membership.user,
        "org_approval_removed",
        key=f"removed:{membership.user_id}",
        reason=reason,
        may_apply_from=may_apply_from.isoformat(),
        organization=membership.organization.name,
    )
    user_remove(user=membership.user, actor=officer, reason=MembershipEnd.BUREAU, ip=ip)
    return may_apply_from
