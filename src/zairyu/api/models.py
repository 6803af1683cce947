"""The API's own records: registered clients, users' authorisations, idempotency keys and the
webhook outbox. Tokens and grants are django-oauth-toolkit's (``oauth2_provider``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock


class ApiClient(models.Model):
    """Software of a vendor that acts for users: registered by the vendor, approved by an officer.

    The OAuth side (client id, hashed secret, redirect URIs) is the ``oauth2_provider`` application;
    this record is what Zairyu knows of the vendor and whether the client may be used at all.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    oauth_application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="zairyu_client"
    )
    name = models.CharField(_("software name"), max_length=120)
    vendor_name = models.CharField(_("vendor"), max_length=200)
    vendor_corporate_number = models.CharField(_("vendor's corporate number"), max_length=13, blank=True)
    contact_email = models.EmailField(_("contact e-mail address"))
    description = models.TextField(_("what the software does"), max_length=2000, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    webhook_url = models.URLField(_("status callback URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(max_length=64, blank=True)  # HMAC key, shown to the vendor once
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def client_id(self) -> str:
        return self.oauth_application.client_id

    @property
    def usable(self) -> bool:
        return self.state == self.State.APPROVED


class Authorisation(models.Model):
    """A user's consent: this client may act for me with these scopes until ``expires_at``.

    Every API call checks it, so revoking it (or its expiry) stops the next call even if an access
    token is still unexpired; revoking also deletes the client's tokens for the user.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="authorisations")
    scopes = models.JSONField(default=list)
    granted_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "client"])]

    def __str__(self) -> str:
        return f"{self.client_id} for {self.user_id}"

    def active(self, at=None) -> bool:
        at = at or clock.now()
        return self.revoked_at is None and self.expires_at > at


class IdempotencyRecord(models.Model):
    """One ``Idempotency-Key`` of one client and user: the request's fingerprint and, once
    finished, the response to give again for a repeat."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    operation = models.CharField(max_length=80)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    finished = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(blank=True, default=b"")
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "user", "key"], name="one_record_per_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"


class WebhookDelivery(models.Model):
    """The webhook outbox: written in the transaction that changed the application's state,
    delivered after commit and retried with back-off until delivered or given up."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Given up")

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(unique=True)
    event_type = models.CharField(max_length=60)
    application = models.ForeignKey(
        "applications.Application", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
