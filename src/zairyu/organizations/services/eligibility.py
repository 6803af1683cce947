"""Whether an organization and a staff member may be approved: the organization is in the bureau's
registry and of the kind the filer says, the staff member's approval stands on an agent
certificate or on facts, and the bureau did not remove the person's approval within a year."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from zairyu.catalogue.validators import normalize_agent_certificate_number
from zairyu.core import clock
from zairyu.organizations.constants import REMOVAL_BLOCK_YEARS, Basis, MembershipEnd
from zairyu.organizations.models import StaffMembership
from zairyu.organizations.services._common import email_normalize, name_key, registry_organization
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.validity import add_years
from zairyu.registry.constants import OrganizationKind
from zairyu.registry.models import AgentCertificate, ReceivingOrganization


@dataclass(frozen=True)
class StaffDetails:
    """The staff member a usage application is for, and what their approval stands on."""

    full_name: str
    email: str
    language: str = "ja"
    department: str = ""
    phone: str = ""
    basis: str = Basis.QUALIFIES
    agent_certificate_number: str = ""
    qualification_facts: str = ""


def organization_check(*, corporate_number: str, organization_kind: str) -> ReceivingOrganization:
    """The registry's organization for a corporate number, if it is of the kind the filer says."""
    organization = registry_organization(corporate_number, field="corporate_number")
    if organization.kind != organization_kind:
        raise OrganizationError(
            "kind_mismatch",
            _(
                "The bureau's registry lists this organization as: %(kind)s. Choose that kind, or "
                "contact the bureau if the registry is wrong."
            )
            % {"kind": OrganizationKind(organization.kind).label},
            field="kind",
        )
    return organization


def removal_block_until(*, email: str, full_name: str, organization: ReceivingOrganization) -> dt.date | None:
    """The day from which someone whose approval the bureau removed may apply again, if that is
    still ahead. A person is matched by e-mail address, or by name within the same organization.
    Removals at the person's own request and leaving the job do not block (expansion-2022)."""
    today = clock.today()
    recent = clock.now() - dt.timedelta(days=366 * REMOVAL_BLOCK_YEARS + 1)
    candidates = (
        StaffMembership.objects.filter(end_reason=MembershipEnd.BUREAU, ended_at__gte=recent)
        .filter(Q(user__email__iexact=email.strip()) | Q(organization=organization))
        .select_related("user")
    )
    blocked_until = None
    for membership in candidates:
        same_email = email_normalize(membership.user.email) == email_normalize(email)
        same_person_here = membership.organization_id == organization.pk and name_key(
            membership.user.full_name
        ) == name_key(full_name)
        if not (same_email or same_person_here):
            continue
        assert membership.ended_at is not None  # the query asks for ended_at__gte=recent
        until = add_years(membership.ended_at.astimezone(clock.JST).date(), REMOVAL_BLOCK_YEARS)
        if until > today and (blocked_until is None or until > blocked_until):
            blocked_until = until
    return blocked_until


def check_removal_block(*, email: str, full_name: str, organization: ReceivingOrganization) -> None:
    until = removal_block_until(email=email, full_name=full_name, organization=organization)
    if until is not None:
        raise OrganizationError(
            "removal_block",
            _(
                "The bureau removed this person's approval less than a year ago. A new usage "
                "application can be filed from %(date)s."
            )
            % {"date": until.isoformat()},
        )


def check_staff(staff: StaffDetails, *, organization: ReceivingOrganization) -> AgentCertificate | None:
    if not staff.full_name.strip():
        raise OrganizationError("name_required", _("Enter the staff member's name."), field="full_name")
    if staff.basis == Basis.CERTIFICATE:
        number = normalize_agent_certificate_number(staff.agent_certificate_number)
        certificate = AgentCertificate.objects.filter(number=number).first()
        if certificate is not None:
            certificate = certificate.latest_renewal()
        if (
            certificate is None
            or certificate.holder_kind != "organization_staff"
            or certificate.organization_id != organization.pk
        ):
            raise OrganizationError(
                "certificate_unknown",
                _(
                    "No agent certificate with this number is registered for staff of this "
                    "organization. Check the 12 digits on the certificate, or choose that you meet "
                    "the requirements and describe how."
                ),
                field="agent_certificate_number",
            )
        if not certificate.is_valid_on(clock.today()):
            raise OrganizationError(
                "certificate_expired",
                _("This agent certificate expired on %(date)s. Renew it, or describe how you qualify.")
                % {"date": certificate.expires_on.isoformat()},
                field="agent_certificate_number",
            )
        return certificate
    if staff.basis == Basis.QUALIFIES:
        if not staff.qualification_facts.strip():
            raise OrganizationError(
                "facts_required",
                _("Describe how the staff member meets the requirements for approval as an agent."),
                field="qualification_facts",
            )
        return None
    raise OrganizationError("basis_required", _("Choose what the approval stands on."), field="basis")


def check_pledge(*, pledge: bool) -> None:
    if not pledge:
        raise OrganizationError("pledge_required", _("The pledge must be given."), field="pledge")
