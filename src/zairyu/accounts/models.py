from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import (
    ChallengePurpose,
    OfficerRole,
    Relation,
    TokenPurpose,
    UserKind,
    UserState,
)
from zairyu.core import clock


class User(AbstractUser):
    """Every person who signs in: applicant-side users (U1–U8) and officers.

    ``username`` is the **authentication ID** (認証ID): generated, personal, never changed, never
    reused. Names, addresses and dates come from the card (U1–U3), the agent-certificate registry
    (U4), the usage application (U5–U7) or the registration form (U8, officers).
    """

    objects = UserManager()

    kind = models.CharField(_("user category"), max_length=16, choices=UserKind.choices, default=UserKind.U8)
    state = models.CharField(_("state"), max_length=16, choices=UserState.choices, default=UserState.PENDING)
    full_name = models.CharField(_("name"), max_length=200, blank=True)
    sex = models.CharField(_("sex"), max_length=1, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    prefecture = models.CharField(_("prefecture"), max_length=2, blank=True)
    municipality = models.CharField(_("municipality"), max_length=100, blank=True)
    address_rest = models.CharField(_("rest of the address"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=8, default="ja")
    valid_until = models.DateField(_("registration valid until"), null=True, blank=True)

    # U1–U3: the card the account was registered with (one card, once per user category).
    card_id = models.CharField(max_length=64, blank=True, db_index=True)
    relation = models.CharField(
        _("relation to the applicant"), max_length=32, choices=Relation.choices, blank=True
    )
    # U4: the agent certificate (申請等取次者証明書) the account stands on.
    agent_certificate = models.ForeignKey(
        "registry.AgentCertificate", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # Officers.
    office = models.CharField(_("office"), max_length=32, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=OfficerRole.choices, blank=True)

    # Sign-in protection.
    failed_logins = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_step = models.BigIntegerField(default=0)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["card_id", "kind"],
                condition=~Q(card_id="") & ~Q(state=UserState.REMOVED),
                name="one_card_once_per_category",
            ),
            models.UniqueConstraint(
                fields=["agent_certificate"],
                condition=Q(agent_certificate__isnull=False) & ~Q(state=UserState.REMOVED),
                name="one_account_per_agent_certificate",
            ),
        ]

    def __str__(self) -> str:
        return f"user {self.username}"

    @property
    def auth_id(self) -> str:
        return self.username

    @property
    def auth_id_display(self) -> str:
        return "-".join(self.username[i : i + 4] for i in range(0, len(self.username), 4))

    @property
    def is_officer(self) -> bool:
        return self.kind == UserKind.OFFICER

    @property
    def has_totp(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > clock.now()


class EmailToken(models.Model):
    """A single-use link sent by e-mail. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_tokens")
    purpose = models.CharField(max_length=32, choices=TokenPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    new_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"token #{self.pk} {self.purpose}"


class CardChallenge(models.Model):
    """A fresh single-use nonce the card signs (JPKI simulation), or the challenge of a passkey
    ceremony (WebAuthn; the purpose tells which). Bound to the browser session."""

    purpose = models.CharField(max_length=16, choices=ChallengePurpose.choices)
    nonce = models.CharField(max_length=64, unique=True)
    session_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"challenge #{self.pk} {self.purpose}"


class WebAuthnCredential(models.Model):
    """A passkey or security key (WebAuthn) the user registered as a second factor (ADR 0012).

    Only the public key is kept; ``sign_count`` follows the authenticator's counter so that a
    cloned authenticator whose counter lags behind is noticed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(_("name"), max_length=64)
    credential_id = models.CharField(max_length=1400, unique=True)  # base64url, up to 1023 bytes
    public_key = models.BinaryField()  # COSE key
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    created_at = models.DateTimeField(_("added"), default=clock.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"passkey #{self.pk} of user #{self.user_id}"
