"""The bureau's side of an application: who works on it, what was asked, what was decided,
how the result was handed over, what was paid, and the window counts of the scorecard.

Everything is keyed by the application; the application keeps only the state the user sees
(F-06). "Waiting for additional documents" is an application under review with an open
:class:`DocumentRequest`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock
from zairyu.review.constants import (
    DocumentRequestState,
    IssueKind,
    IssueMethod,
    IssueState,
    Outcome,
    PaymentMethod,
)


class Assignment(models.Model):
    """The officer an application is assigned to (the one who took it up, or a supervisor's choice)."""

    application = models.OneToOneField(
        "applications.Application", primary_key=True, on_delete=models.CASCADE, related_name="assignment"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    assigned_at = models.DateTimeField(default=clock.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"assignment of {self.application_id} to {self.officer_id}"


class DocumentRequest(models.Model):
    """Additional documents asked of the filer, with a message and a deadline (F-04)."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.CASCADE, related_name="document_requests"
    )
    message = models.TextField(_("what is needed"), max_length=2000)
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        max_length=16, choices=DocumentRequestState.choices, default=DocumentRequestState.OPEN
    )
    requested_at = models.DateTimeField(default=clock.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.ForeignKey(
        "applications.ApplicationDocument", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(state="open"), name="review_one_open_document_request"
            )
        ]
        indexes = [models.Index(fields=["application", "state"], name="review_docreq_app_state")]

    def __str__(self) -> str:
        return f"document request {self.pk} on {self.application_id}"


class Decision(models.Model):
    """The decision on an application: one per application (the database says so too).

    ``office``, ``procedure`` and the day counts are copied here so that the scorecard reads
    processing times from this table alone.
    """

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="decision"
    )
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices)
    status = models.CharField(_("status of residence granted"), max_length=80, blank=True)
    period_of_stay = models.CharField(_("period of stay granted"), max_length=8, blank=True)
    stay_expires_on = models.DateField(_("period of stay expires on"), null=True, blank=True)
    reason = models.TextField(_("reason for the denial"), max_length=2000, blank=True)
    fee_yen = models.PositiveIntegerField(_("fee (yen)"), default=0)
    fee_lines = models.JSONField(default=list, blank=True)  # [{procedure, variant, yen}]
    fee_channel = models.CharField(max_length=8, default="online")
    fee_on = models.DateField(_("fee schedule of"))
    decided_at = models.DateTimeField(default=clock.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    office = models.CharField(max_length=32)
    procedure = models.CharField(max_length=4)
    days_to_decision = models.PositiveIntegerField(default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    days_to_issue = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["office", "decided_at"], name="review_decision_office_at"),
            models.Index(fields=["decided_at"], name="review_decision_at"),
            models.Index(fields=["issued_at"], name="review_decision_issued_at"),
        ]

    def __str__(self) -> str:
        return f"decision {self.pk} ({self.outcome}) on {self.application_id}"

    @property
    def permitted(self) -> bool:
        return self.outcome == Outcome.PERMIT


class AddOnDecision(models.Model):
    """The own outcome of a re-entry permit (P6) or an activity permission (P7) filed with it."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="add_ons")
    procedure = models.CharField(max_length=4)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    reason = models.TextField(max_length=2000, blank=True)
    reentry_kind = models.CharField(max_length=8, blank=True)  # P6: single or multiple
    valid_until = models.DateField(null=True, blank=True)  # P6
    conditions = models.CharField(max_length=200, blank=True)  # P7, e.g. up to 28 hours a week

    class Meta:
        ordering = ["procedure"]
        constraints = [
            models.UniqueConstraint(fields=["decision", "procedure"], name="review_one_outcome_per_add_on")
        ]

    def __str__(self) -> str:
        return f"{self.procedure} {self.outcome} in decision {self.decision_id}"

    @property
    def permitted(self) -> bool:
        return self.outcome == Outcome.PERMIT


class Issue(models.Model):
    """How a permission is handed over (F-07), and what the officers recorded on the way."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="issue"
    )
    kind = models.CharField(max_length=24, choices=IssueKind.choices)
    method = models.CharField(max_length=8, choices=IssueMethod.choices)
    state = models.CharField(max_length=8, choices=IssueState.choices, default=IssueState.WAITING)
    documents_due_on = models.DateField(_("documents due on"), null=True, blank=True)
    envelope_received_on = models.DateField(null=True, blank=True)
    fee_form_received_on = models.DateField(null=True, blank=True)
    card_received_on = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    certificate_number = models.CharField(max_length=40, blank=True)  # COE or employment certificate
    document = models.ForeignKey(
        "documents.StoredDocument", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tracking_number = models.CharField(_("tracking number"), max_length=40, blank=True)
    new_card_number = models.CharField(max_length=12, blank=True)
    new_card_expires_on = models.DateField(null=True, blank=True)
    old_card_number = models.CharField(max_length=12, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        indexes = [models.Index(fields=["method", "state", "documents_due_on"], name="review_issue_due")]

    def __str__(self) -> str:
        return f"issue {self.pk} ({self.kind}, {self.state}) of {self.application_id}"


class EcoeRecord(models.Model):
    """The verification record of an electronic COE: the SHA-256 of the exact PDF bytes and the
    system's signature over (COE number, hash, issue date, code). The public page finds it by
    ``code`` (printed on the PDF and in its QR code)."""

    issue = models.OneToOneField(Issue, on_delete=models.PROTECT, related_name="ecoe")
    code = models.CharField(max_length=32, unique=True)
    coe_number = models.CharField(max_length=40, unique=True)
    sha256 = models.CharField(max_length=64)
    issued_on = models.DateField()
    valid_until = models.DateField()
    status = models.CharField(max_length=80)
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=200)
    download_token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"e-COE record {self.coe_number}"


class CertificateCounter(models.Model):
    """Gap-free serials of certificate numbers per kind, office and year (locked like receipts)."""

    kind = models.CharField(max_length=24)
    office = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "office", "year"], name="review_one_counter_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.office} {self.year}: {self.last_serial}"


class InvalidatedCard(models.Model):
    """A residence card replaced by a new one: its chip is punched and it goes back to the holder
    (Q5-5). A card number listed here is no longer valid."""

    card_number = models.CharField(max_length=12, unique=True)
    resident = models.ForeignKey("registry.Resident", on_delete=models.PROTECT, related_name="+")
    issue = models.ForeignKey(Issue, on_delete=models.PROTECT, related_name="+")
    invalidated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"invalidated card {self.card_number}"


class Payment(models.Model):
    """The fee of a permission: revenue stamps on the fee form (recorded by an officer) or an
    electronic payment through the configured provider (F-08; a survey wish)."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="payment"
    )
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    amount_yen = models.PositiveIntegerField()
    provider = models.CharField(max_length=200, blank=True)
    receipt_id = models.CharField(max_length=80, blank=True)
    paid_at = models.DateTimeField(default=clock.now)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"payment {self.pk} ({self.method}) of {self.application_id}"


class WindowCount(models.Model):
    """Applications filed at the window, per office, month and procedure: the denominator's
    other half of the online usage rate (F-20). Entered by officers or imported from CSV."""

    office = models.CharField(max_length=32)
    month = models.DateField(help_text=_("The first day of the month."))
    procedure = models.CharField(max_length=4)
    count = models.PositiveIntegerField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entered_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-month", "office", "procedure"]
        constraints = [
            models.UniqueConstraint(fields=["office", "month", "procedure"], name="review_one_window_count"),
        ]

    def __str__(self) -> str:
        return f"{self.office} {self.month:%Y-%m} {self.procedure}: {self.count}"


class ScorecardMonth(models.Model):
    """A closed month whose figures are summarised in :class:`MonthlyFigure`. A month's figures
    do not change once it is over: an application counts in the month it was received, a
    decision in the month it was made, an issue in the month it was issued."""

    month = models.DateField(unique=True)
    computed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"scorecard month {self.month:%Y-%m}"


class MonthlyFigure(models.Model):
    """Online applications, decisions and issues of an office, month and procedure."""

    month = models.DateField()
    office = models.CharField(max_length=32)
    procedure = models.CharField(max_length=4)
    online = models.PositiveIntegerField(default=0)
    decisions = models.PositiveIntegerField(default=0)
    decision_days = models.PositiveBigIntegerField(default=0)
    issues = models.PositiveIntegerField(default=0)
    issue_days = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "office", "procedure"], name="review_one_figure_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.office} {self.month:%Y-%m} {self.procedure}"
