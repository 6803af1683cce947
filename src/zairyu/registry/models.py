"""The residence registry: the bureau's own records that applications are checked against.

Residents (holders of a residence card), the organizations they work or study at, and the
agents (lawyers, administrative scriveners, organization staff) who may file for them.

``__str__`` gives a number, never a name or an address: objects end up in logs and audit rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import validators as v
from zairyu.core import clock
from zairyu.registry.constants import (
    INDEFINITE_STAY_STATUSES,
    AgentHolderKind,
    OrganizationCategory,
    OrganizationKind,
    Sex,
)


class NormalizingModel(models.Model):
    """Base of the registry's models: timestamps, and text fields normalised before they are
    validated, so that ``full_clean()`` accepts ``ab12345678cd`` and stores ``AB12345678CD``.
    Bulk writes bypass this: pass canonical values (the demo loader does)."""

    normalizers: ClassVar[dict[str, Callable[[object], str]]] = {}

    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        skipped = set(exclude or ())
        for name, normalize in self.normalizers.items():
            value = getattr(self, name)
            if name not in skipped and isinstance(value, str):
                setattr(self, name, normalize(value))
        super().clean_fields(exclude=exclude)


class ReceivingOrganization(NormalizingModel):
    """An organization that receives foreign nationals: employer, school, supervising
    organization of technical interns, public interest corporation or registered support
    organization. Identified by its corporate number (法人番号)."""

    normalizers: ClassVar[dict[str, Callable[[object], str]]] = {
        "corporate_number": v.normalize_corporate_number,
        "prefecture": v.normalize_prefecture,
        "phone": v.normalize_phone_number,
    }

    corporate_number = models.CharField(
        _("corporate number"), max_length=13, unique=True, validators=[v.validate_corporate_number]
    )
    name = models.CharField(_("name"), max_length=200)
    prefecture = models.CharField(_("prefecture"), max_length=2, validators=[v.validate_prefecture])
    municipality = models.CharField(_("municipality"), max_length=60)
    address_rest = models.CharField(_("rest of the address"), max_length=200)
    phone = models.CharField(_("phone number"), max_length=20, validators=[v.validate_phone_number])
    category = models.PositiveSmallIntegerField(_("category"), choices=OrganizationCategory.choices)
    kind = models.CharField(_("kind"), max_length=40, choices=OrganizationKind.choices)

    class Meta:
        verbose_name = _("receiving organization")
        verbose_name_plural = _("receiving organizations")
        ordering = ["corporate_number"]
        indexes = [
            models.Index(fields=["kind", "prefecture"], name="registry_org_kind_pref_idx"),
            models.Index(fields=["prefecture"], name="registry_org_pref_idx"),
        ]

    def __str__(self) -> str:
        # A corporate number identifies a corporation, not a person.
        return f"Organization {self.corporate_number}"


class Resident(NormalizingModel):
    """A mid- to long-term resident as the registry knows them, keyed by residence card number."""

    normalizers: ClassVar[dict[str, Callable[[object], str]]] = {
        "roman_name": v.normalize_roman_name,
        "nationality": v.normalize_nationality,
        "prefecture": v.normalize_prefecture,
        "card_number": v.normalize_card_number,
        "status": v.normalize_status,
        "period_of_stay": v.normalize_period_of_stay,
    }

    roman_name = models.CharField(
        _("name (roman letters)"),
        max_length=v.ROMAN_NAME_MAX_LENGTH,
        validators=[v.validate_roman_name],
        help_text=_(
            "As printed on the residence card: capitals, family name first, one space between parts."
        ),
    )
    kanji_name = models.CharField(_("name (kanji)"), max_length=60, blank=True)
    nationality = models.CharField(
        _("nationality or region"),
        max_length=3,
        validators=[v.validate_nationality],
        help_text=_("ISO 3166-1 alpha-3 code, e.g. VNM."),
    )
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))

    prefecture = models.CharField(_("prefecture"), max_length=2, validators=[v.validate_prefecture])
    municipality = models.CharField(_("municipality"), max_length=60)
    address_rest = models.CharField(_("rest of the address"), max_length=200)
    move_in_notified_on = models.DateField(_("move-in notified on"), null=True, blank=True)

    card_number = models.CharField(
        _("residence card number"), max_length=12, unique=True, validators=[v.validate_card_number]
    )
    card_expires_on = models.DateField(_("card expires on"))
    status = models.CharField(
        _("status of residence"),
        max_length=64,
        validators=[v.validate_status],
        help_text=_("A catalogue entry key, e.g. engineer_humanities or highly_skilled_professional/1a."),
    )
    period_of_stay = models.CharField(
        _("period of stay"),
        max_length=8,
        blank=True,
        validators=[v.validate_period_of_stay],
        help_text=_("5Y, 3Y, 1Y, 6M, 4Y3M …; blank for an indefinite stay (permanent residents)."),
    )
    stay_expires_on = models.DateField(_("period of stay expires on"), null=True, blank=True)
    abroad_on_reentry = models.BooleanField(_("abroad on a re-entry permit"), default=False)
    affiliation = models.ForeignKey(
        ReceivingOrganization,
        verbose_name=_("affiliation"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="residents",
        help_text=_("The organization the resident works or studies at, from affiliation notifications."),
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["card_number"]
        indexes = [
            models.Index(fields=["prefecture"], name="registry_res_pref_idx"),
            models.Index(fields=["status"], name="registry_res_status_idx"),
            models.Index(fields=["stay_expires_on"], name="registry_res_stay_exp_idx"),
        ]

    def __str__(self) -> str:
        return f"Resident {self.pk}" if self.pk else "Resident (unsaved)"

    @property
    def has_indefinite_stay(self) -> bool:
        return self.status in INDEFINITE_STAY_STATUSES

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[Any]] = {}
        today = clock.today()
        if self.has_indefinite_stay:
            if self.period_of_stay:
                errors.setdefault("period_of_stay", []).append(
                    ValidationError(
                        _("Leave the period of stay blank for an indefinite stay."), code="period_not_blank"
                    )
                )
            if self.stay_expires_on is not None:
                errors.setdefault("stay_expires_on", []).append(
                    ValidationError(_("An indefinite stay has no expiry date."), code="stay_expiry_not_blank")
                )
        elif self.status:
            if not self.period_of_stay:
                errors.setdefault("period_of_stay", []).append(
                    ValidationError(_("Enter the period of stay, e.g. 3Y."), code="period_required")
                )
            if self.stay_expires_on is None:
                errors.setdefault("stay_expires_on", []).append(
                    ValidationError(
                        _("Enter the date the period of stay expires."), code="stay_expiry_required"
                    )
                )
            elif self.card_expires_on and self.card_expires_on > self.stay_expires_on:
                errors.setdefault("card_expires_on", []).append(
                    ValidationError(
                        _("A residence card cannot be valid beyond the period of stay (%(date)s)."),
                        code="card_outlives_stay",
                        params={"date": self.stay_expires_on.isoformat()},
                    )
                )
        if self.date_of_birth and self.date_of_birth > today:
            errors.setdefault("date_of_birth", []).append(
                ValidationError(_("The date of birth cannot be in the future."), code="birth_in_future")
            )
        if self.move_in_notified_on:
            if self.move_in_notified_on > today:
                errors.setdefault("move_in_notified_on", []).append(
                    ValidationError(
                        _("The move-in notification cannot be in the future."), code="move_in_future"
                    )
                )
            elif self.date_of_birth and self.move_in_notified_on < self.date_of_birth:
                errors.setdefault("move_in_notified_on", []).append(
                    ValidationError(
                        _("The move-in notification cannot be before birth."), code="move_in_before_birth"
                    )
                )
        if errors:
            raise ValidationError(errors)


class AgentCertificate(NormalizingModel):
    """An agent's certificate (申請等取次者証明書, or 届出済証明書 for lawyers and scriveners who
    notified the bureau): the holder may file applications for others while it is valid.

    A renewal is a new certificate with a new number, not a later expiry on the old row: the
    old row keeps the history applications were filed under, and ``renewed_to`` points to its
    successor so that someone typing the old number can be told which one replaced it.
    """

    normalizers: ClassVar[dict[str, Callable[[object], str]]] = {
        "number": v.normalize_agent_certificate_number,
        "office_prefecture": v.normalize_prefecture,
    }

    number = models.CharField(
        _("certificate number"), max_length=12, unique=True, validators=[v.validate_agent_certificate_number]
    )
    holder_name = models.CharField(
        _("holder's name"), max_length=100, help_text=_("In roman letters or kanji, as registered.")
    )
    holder_kind = models.CharField(_("holder is a"), max_length=32, choices=AgentHolderKind.choices)
    organization = models.ForeignKey(
        ReceivingOrganization,
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="agent_certificates",
        help_text=_("For organization staff: the organization they file for."),
    )
    office_name = models.CharField(_("office name"), max_length=200)
    office_prefecture = models.CharField(
        _("office prefecture"), max_length=2, validators=[v.validate_prefecture]
    )
    office_municipality = models.CharField(_("office municipality"), max_length=60)
    office_address_rest = models.CharField(_("rest of the office address"), max_length=200)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    renewed_to = models.OneToOneField(
        "self",
        verbose_name=_("renewed to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renewed_from",
        help_text=_("The certificate issued to replace this one."),
    )

    class Meta:
        verbose_name = _("agent certificate")
        verbose_name_plural = _("agent certificates")
        ordering = ["number"]
        indexes = [models.Index(fields=["expires_on"], name="registry_agent_expires_idx")]

    def __str__(self) -> str:
        return f"Agent certificate {self.number}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, list[Any]] = {}
        if self.issued_on and self.expires_on and self.expires_on < self.issued_on:
            errors.setdefault("expires_on", []).append(
                ValidationError(
                    _("A certificate cannot expire before it is issued."), code="expires_before_issue"
                )
            )
        if self.holder_kind == AgentHolderKind.ORGANIZATION_STAFF and self.organization_id is None:
            errors.setdefault("organization", []).append(
                ValidationError(
                    _("Give the organization its staff member files for."), code="organization_required"
                )
            )
        if self.renewed_to_id is not None:
            if self.pk is not None and self.renewed_to_id == self.pk:
                errors.setdefault("renewed_to", []).append(
                    ValidationError(_("A certificate cannot renew itself."), code="renewed_to_self")
                )
            elif (
                self.renewed_to is not None and self.issued_on and self.renewed_to.issued_on < self.issued_on
            ):
                errors.setdefault("renewed_to", []).append(
                    ValidationError(
                        _("The renewal must be issued after this certificate."), code="renewal_before"
                    )
                )
        if errors:
            raise ValidationError(errors)

    def is_valid_on(self, day: date) -> bool:
        """Whether the holder may file with this certificate on ``day``."""
        return self.issued_on <= day <= self.expires_on

    def latest_renewal(self) -> AgentCertificate:
        """The certificate at the end of the renewal chain: this one if it was never renewed.
        Whoever holds on to a certificate (an agent's account) follows renewals with this."""
        current, seen = self, {self.pk}
        while current.renewed_to_id is not None and current.renewed_to_id not in seen:
            assert current.renewed_to is not None
            current = current.renewed_to
            seen.add(current.pk)
        return current
