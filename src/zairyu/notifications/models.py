from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock
from zairyu.notifications.constants import EmailState


class OutboundEmail(models.Model):
    """One e-mail to one recipient. It is a row before it is a message: written in the same
    transaction as the event it tells of, sent after commit, retried until the server takes it."""

    key = models.CharField(
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Idempotency key: the same event never queues the same e-mail twice."),
    )
    kind = models.CharField(max_length=64, db_index=True)
    to = models.EmailField(max_length=254)
    language = models.CharField(max_length=8, default="ja")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    state = models.CharField(max_length=16, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")

    def __str__(self) -> str:
        return f"email #{self.pk} {self.kind} ({self.state})"
