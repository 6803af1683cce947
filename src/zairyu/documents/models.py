import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zairyu.core import clock
from zairyu.documents.constants import DocumentKind, ScanState


class StoredDocument(models.Model):
    """One file an applicant or an organization uploaded: a checked PDF or a re-encoded face photo.

    The file lives under ``MEDIA_ROOT/documents/<storage_name>``, a random name chosen by us; the
    name the user gave (``original_name``) is only ever displayed. Who may see a document is decided
    by the objects that refer to it (applications, usage applications), never here.

    Rows are not deleted: ``deleted_at`` is set and the file removed, so that references from
    applications and the audit trail keep pointing at something.

    ``scan_state`` is the virus scanner's word (ADR 0013). A ``pending`` file was stored while the
    scanner could not be reached: it is held — not served, not submitted — until
    ``documents_rescan_held`` scans it; an ``infected`` one was found by that rescan and deleted.
    """

    Kind = DocumentKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stored_documents",
        help_text=_("The user who uploaded the file; empty for files the system made."),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=DocumentKind.choices)
    document_type = models.CharField(
        _("document type"),
        max_length=64,
        db_index=True,
        help_text=_("A short code given by the caller, e.g. passport_copy, mandate, face_photo."),
    )
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    storage_name = models.CharField(max_length=100, unique=True, editable=False)
    content_type = models.CharField(max_length=32)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(max_length=64)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    width = models.PositiveIntegerField(_("width in pixels"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height in pixels"), null=True, blank=True)
    photo_taken_within_6_months = models.BooleanField(
        _("photo taken within the last 6 months (confirmed by the uploader)"), default=False
    )
    scan_state = models.CharField(
        _("virus check"), max_length=16, choices=ScanState.choices, default=ScanState.NOT_SCANNED
    )
    scanned_at = models.DateTimeField(_("checked for viruses at"), null=True, blank=True)
    scan_signature = models.CharField(
        _("virus found"), max_length=200, blank=True, help_text=_("The scanner's name for what it found.")
    )
    created_at = models.DateTimeField(_("uploaded at"), default=clock.now, db_index=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("stored document")
        verbose_name_plural = _("stored documents")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="documents_storeddocument_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind=DocumentKind.PHOTO) | Q(photo_taken_within_6_months=True),
                name="documents_photo_age_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(scan_state__in=ScanState.values), name="documents_scan_state_valid"
            ),
        ]
        indexes = [
            # The rescan of held files reads only these.
            models.Index(
                fields=["created_at"], condition=Q(scan_state="pending"), name="documents_scan_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} document {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_held(self) -> bool:
        """Stored while the virus scanner was unreachable and not scanned yet: not to be used."""
        return self.scan_state == ScanState.PENDING
