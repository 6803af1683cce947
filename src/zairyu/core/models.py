from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock


class AuditEvent(models.Model):
    """Who did what, when, from where, to which object.

    ``details`` holds identifiers and codes only, never names, addresses or other personal data:
    the object itself is the place to look those up, under its own access rules.
    """

    class ActorKind(models.TextChoices):
        USER = "user", _("User")
        OFFICER = "officer", _("Officer")
        SYSTEM = "system", _("System")
        CLIENT = "client", _("API client")

    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.target_type}:{self.target_id}"
