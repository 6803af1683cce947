from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.applications.constants import ApplicationState, DocumentRole
from zairyu.core import clock


class Application(models.Model):
    """One application (with its add-ons) from draft to decision.

    ``answers`` holds the normalised answers keyed by the form catalogue's field ids; the form
    catalogue (``zairyu.catalogue.formspec``) is the only description of what they mean.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications")
    user_category = models.CharField(_("user category"), max_length=8)
    procedure = models.CharField(_("procedure"), max_length=4)
    add_ons = models.JSONField(_("filed together with"), default=list, blank=True)
    status = models.CharField(_("status of residence"), max_length=80)
    group = models.CharField(_("input-screen group"), max_length=4)
    state = models.CharField(
        _("state"), max_length=20, choices=ApplicationState.choices, default=ApplicationState.DRAFT
    )

    applicant_resident = models.ForeignKey(
        "registry.Resident", null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    # An acquisition for a child born in Japan: the parent in the registry named at the start (the
    # child has no record until the permission is issued).
    parent_resident = models.ForeignKey(
        "registry.Resident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children_applications",
    )
    receiving_organization = models.ForeignKey(
        "registry.ReceivingOrganization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    applicant_name = models.CharField(_("applicant's name"), max_length=200, blank=True)
    applicant_email = models.EmailField(_("applicant's e-mail address"), blank=True)
    answers = models.JSONField(default=dict, blank=True)
    facts = models.JSONField(
        default=dict, blank=True
    )  # what the filer stated for the matrix (F-01 / MISSION §2)
    fact_reasons = models.JSONField(
        default=dict, blank=True
    )  # fact code → the reason the filer gave for it (the matrix asks one: "cannot apply in person"); the officer sees it
    steps_done = models.JSONField(default=list, blank=True)
    receipt_methods = models.JSONField(default=dict, blank=True)
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_via = models.ForeignKey(
        "api.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )  # the API client that created it for the filer, if any (its webhook hears of status changes)

    office = models.CharField(_("receiving office"), max_length=32, blank=True)
    provisional_number = models.CharField(_("provisional receipt number"), max_length=40, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=40, blank=True)
    receipt_date = models.DateField(_("receipt date"), null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_key = models.CharField(max_length=64, blank=True)
    fee_yen = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    draft_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt_number"], condition=~Q(receipt_number=""), name="unique_receipt_number"
            ),
        ]
        indexes = [
            models.Index(fields=["filer", "state"]),
            models.Index(fields=["filer", "-created_at", "-id"], name="application_filer_newest"),
            models.Index(fields=["office", "state", "submitted_at"]),
        ]

    def __str__(self) -> str:
        return f"application {self.public_id}"


class ApplicationDocument(models.Model):
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    document = models.ForeignKey("documents.StoredDocument", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=DocumentRole.choices)
    document_type = models.CharField(max_length=64)
    added_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["added_at", "id"]

    def __str__(self) -> str:
        return f"document {self.document_id} of {self.application_id}"


class ReceiptCounter(models.Model):
    """The next serial of an office in a year. Incremented under a row lock in the submitting
    transaction, so numbers are unique and gap-free: a rolled-back submission takes its number back."""

    office = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["office", "year"], name="one_counter_per_office_year")]

    def __str__(self) -> str:
        return f"{self.office} {self.year}: {self.last_serial}"


class ApplicationEvent(models.Model):
    """The history of an application: every state change and who made it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=40)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.application_id}"


class ApplicationRequest(models.Model):
    """A request of the filer about a submitted application — withdraw it, or correct something —
    which the officers act on (the original: phone the bureau)."""

    class Kind(models.TextChoices):
        WITHDRAWAL = "withdrawal", _("Withdrawal")
        CORRECTION = "correction", _("Correction")

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the bureau")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.TextField(max_length=2000)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(default=clock.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"], condition=Q(state="open"), name="one_open_request_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} request on {self.application_id}"


class ApplicationData(models.Model):
    """Data attached instead of a document, e.g. income and resident tax from Mynaportal (F-18)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="data")
    kind = models.CharField(max_length=32)
    payload = models.JSONField()
    fetched_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["fetched_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} data of {self.application_id}"
