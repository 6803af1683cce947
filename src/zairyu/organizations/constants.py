"""Choices and fixed values of the organizations domain: usage applications (利用申出), periodic
reports (定期報告), change notifications and the staff of approved organizations (U5–U7)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import UserKind
from zairyu.registry.constants import OrganizationKind


class ApplicationKind(models.TextChoices):
    NEW = "new", _("Usage application")
    ADDITIONAL = "additional", _("Additional usage application")


class FilingState(models.TextChoices):
    """The state of anything an organization files with the bureau."""

    SUBMITTED = "submitted", _("Submitted, waiting for review")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class Basis(models.TextChoices):
    """What the staff member's approval stands on (利用申出人の承認要件)."""

    CERTIFICATE = "certificate", _("I hold an agent certificate")
    QUALIFIES = "qualifies", _("I meet the requirements for approval as an agent")


class MandateState(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACTIVE = "active", _("Active")
    REFUSED = "refused", _("Refused")
    ENDED = "ended", _("Ended")


class ChangeKind(models.TextChoices):
    ORGANIZATION = "organization", _("Organization's name or address")
    STAFF_NAME = "staff_name", _("A staff member's name")
    MANDATE_ADDED = "mandate_added", _("A new receiving organization we act for")


class MembershipEnd(models.TextChoices):
    LEFT = "left", _("Left the organization (reported by the organization)")
    OWN_REQUEST = "own_request", _("At the staff member's own request")
    BUREAU = "bureau", _("Approval removed by the bureau")


# The user category a staff member gets follows the kind of their organization (MISSION §1).
USER_KIND_BY_ORGANIZATION_KIND = {
    OrganizationKind.PUBLIC_INTEREST_CORPORATION: UserKind.U6,
    OrganizationKind.REGISTERED_SUPPORT_ORGANIZATION: UserKind.U7,
}

# Organizations that file for the foreigners of other organizations, on their mandate.
AGENT_ORGANIZATION_KINDS = frozenset(
    {OrganizationKind.PUBLIC_INTEREST_CORPORATION, OrganizationKind.REGISTERED_SUPPORT_ORGANIZATION}
)


def user_kind_for(organization_kind: str) -> str:
    return str(USER_KIND_BY_ORGANIZATION_KIND.get(organization_kind, str(UserKind.U5)))


# F-12: the password must be set within 30 days of the approval e-mail.
APPROVAL_LINK_DAYS = 30
# The single-use link that confirms the e-mail address of someone filing without an account.
VERIFICATION_LINK_HOURS = 24
# F-12: a removal by the bureau blocks a new usage application by the same person for a year.
REMOVAL_BLOCK_YEARS = 1
# F-13: the reminder goes out, and the periodic report can be filed, from 2 months before expiry.
REPORT_WINDOW_MONTHS = 2
# How many receiving organizations one filing may add at once (more: file again).
MAX_MANDATES_PER_FILING = 10
