"""Organizations online: what receiving organizations, public-interest corporations and
registered support organizations file with the bureau so that their staff (U5–U7) may file for
foreign nationals, and the record of their enrolment.

The organization itself is the registry's :class:`~zairyu.registry.models.ReceivingOrganization`;
this app keeps what the bureau decided about it. ``__str__`` gives numbers, never names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock
from zairyu.organizations.constants import (
    ApplicationKind,
    Basis,
    ChangeKind,
    FilingState,
    MandateState,
    MembershipEnd,
)

DOCUMENT = "documents.StoredDocument"


def _document(verbose_name: Any, *, required: bool = False) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        DOCUMENT,
        verbose_name=verbose_name,
        null=not required,
        blank=not required,
        on_delete=models.PROTECT,
        related_name="+",
    )


class EmailVerification(models.Model):
    """The single-use link that proves the e-mail address of someone filing a usage application
    without an account. Only the SHA-256 of the token is stored; it is used up by the filing."""

    email = models.EmailField(_("e-mail address"))
    language = models.CharField(max_length=8, default="ja")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"verification #{self.pk}"


class Filing(models.Model):
    """What every filing has: the office that reviews it, its state and the decision."""

    office = models.CharField(_("office"), max_length=32, db_index=True)
    state = models.CharField(
        _("state"), max_length=16, choices=FilingState.choices, default=FilingState.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=clock.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refusal_reason = models.TextField(_("reason for the refusal"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        return self.state == FilingState.SUBMITTED


class UsageApplication(Filing):
    """A usage application (利用申出) for one staff member, new or additional (F-12)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ApplicationKind.choices)
    organization = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="usage_applications"
    )
    category = models.PositiveSmallIntegerField(_("category declared"))
    category_3_as_2 = models.BooleanField(_("asks to be treated as category 2"), default=False)
    stability_facts = models.TextField(_("facts showing expected stable operations"), blank=True)
    notifications_filed = models.BooleanField(_("files the acceptance notifications"), default=False)
    pledge = models.BooleanField(_("pledge given"), default=False)

    full_name = models.CharField(_("staff member's name"), max_length=200)
    email = models.EmailField(_("staff member's e-mail address"))
    language = models.CharField(_("language of e-mails"), max_length=8, default="ja")
    department = models.CharField(_("department and position"), max_length=200, blank=True)
    phone = models.CharField(_("phone number"), max_length=20, blank=True)
    basis = models.CharField(_("basis for approval"), max_length=16, choices=Basis.choices)
    agent_certificate = models.ForeignKey(
        "registry.AgentCertificate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    qualification_facts = models.TextField(_("facts that qualify the staff member"), blank=True)

    supporting_document = _document(_("supporting documents"), required=True)
    category_proof_document = _document(_("proof of category 3"))
    stability_document = _document(_("documents on expected stability"))

    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("usage application")
        verbose_name_plural = _("usage applications")
        ordering = ["submitted_at", "id"]
        indexes = [models.Index(fields=["office", "state", "submitted_at"])]

    def __str__(self) -> str:
        return f"usage application #{self.pk}"


class Enrolment(models.Model):
    """An organization whose usage application was approved: the office it files with, how long
    its staff's IDs are valid, and what the bureau allowed it."""

    organization = models.OneToOneField(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="enrolment"
    )
    office = models.CharField(_("office"), max_length=32, db_index=True)
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Empty until the first approved staff member sets a password."),
    )
    category_3_as_2 = models.BooleanField(_("treated as category 2"), default=False)
    approved_at = models.DateTimeField(_("first approved at"), default=clock.now)

    class Meta:
        verbose_name = _("enrolled organization")
        verbose_name_plural = _("enrolled organizations")

    def __str__(self) -> str:
        return f"enrolment #{self.pk}"

    def is_expired(self, on: dt.date | None = None) -> bool:
        return self.valid_until is not None and self.valid_until < (on or clock.today())


class StaffMembership(models.Model):
    """An approved staff member (one account, one organization). Active while not ended and the
    account is not removed."""

    organization = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="staff_memberships"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_membership"
    )
    application = models.OneToOneField(
        UsageApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="membership"
    )
    started_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, choices=MembershipEnd.choices, blank=True)
    end_note = models.TextField(_("reason given by the bureau"), blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        indexes = [models.Index(fields=["end_reason", "ended_at"])]

    def __str__(self) -> str:
        return f"membership #{self.pk}"

    @property
    def is_active(self) -> bool:
        from zairyu.accounts.constants import UserState

        return self.ended_at is None and self.user.state != UserState.REMOVED


class PeriodicReport(Filing):
    """The periodic report (定期報告) of one organization (F-13): its current staff and, for
    support organizations, the receiving organizations it acts for."""

    organization = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="periodic_reports"
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expiry_at_filing = models.DateField(_("validity when filed"))
    new_valid_until = models.DateField(_("new validity"), null=True, blank=True)
    staff = models.JSONField(_("staff as reported"), default=list, help_text=_("[{membership, continues}]"))
    mandates = models.JSONField(
        _("mandates as reported"), default=list, help_text=_("[{mandate, continues}]")
    )
    note = models.TextField(_("note"), blank=True)
    supporting_document = _document(_("supporting documents"))
    mandates_document = _document(_("mandates of every receiving organization"))

    class Meta:
        verbose_name = _("periodic report")
        verbose_name_plural = _("periodic reports")
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(state=FilingState.SUBMITTED),
                name="one_open_report_per_organization",
            )
        ]

    def __str__(self) -> str:
        return f"periodic report #{self.pk}"


class ChangeNotification(Filing):
    """A change notification (F-14): the organization's name or address, a staff member's name,
    or (support organizations) a new receiving organization that mandated it."""

    organization = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="change_notifications"
    )
    kind = models.CharField(_("what changed"), max_length=16, choices=ChangeKind.choices)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    new_name = models.CharField(_("new name"), max_length=200, blank=True)
    new_prefecture = models.CharField(_("new prefecture"), max_length=2, blank=True)
    new_municipality = models.CharField(_("new municipality"), max_length=60, blank=True)
    new_address_rest = models.CharField(_("new rest of the address"), max_length=200, blank=True)
    staff_member = models.ForeignKey(
        StaffMembership, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    supporting_document = _document(_("supporting documents"))

    class Meta:
        verbose_name = _("change notification")
        verbose_name_plural = _("change notifications")
        ordering = ["submitted_at", "id"]

    def __str__(self) -> str:
        return f"change notification #{self.pk}"


class Mandate(models.Model):
    """A receiving organization's mandate (依頼) to a public-interest corporation or a registered
    support organization to file for its foreign nationals, with the pledge for it. Filed in a
    usage application, a periodic report or a change notification, and active once approved."""

    agent_organization = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="mandates_held"
    )
    principal = models.ForeignKey(
        "registry.ReceivingOrganization", on_delete=models.PROTECT, related_name="mandates_given"
    )
    state = models.CharField(max_length=16, choices=MandateState.choices, default=MandateState.PENDING)
    mandate_document = _document(_("mandate"))
    pledge_document = _document(_("pledge"))
    usage_application = models.ForeignKey(
        UsageApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="new_mandates"
    )
    periodic_report = models.ForeignKey(
        PeriodicReport, null=True, blank=True, on_delete=models.PROTECT, related_name="new_mandates"
    )
    change_notification = models.ForeignKey(
        ChangeNotification, null=True, blank=True, on_delete=models.PROTECT, related_name="new_mandates"
    )
    created_at = models.DateTimeField(default=clock.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent_organization", "principal"],
                condition=Q(state=MandateState.ACTIVE),
                name="one_active_mandate_per_pair",
            )
        ]

    def __str__(self) -> str:
        return f"mandate #{self.pk}"
