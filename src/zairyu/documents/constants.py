from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    """What a stored file is; decides the checks it went through and the Content-Type it is served with."""

    PDF = "pdf", _("PDF document")
    PHOTO = "photo", _("Face photo")


CONTENT_TYPES = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.PHOTO: "image/jpeg",
}

EXTENSIONS = {
    DocumentKind.PDF: ".pdf",
    DocumentKind.PHOTO: ".jpg",
}

# The document type the face photo is stored under (callers name the others, e.g. "passport_copy").
PHOTO_DOCUMENT_TYPE = "face_photo"


class ScanState(models.TextChoices):
    """What the virus scanner (clamd, ADR 0013) said about a stored file."""

    CLEAN = "clean", _("Checked: no virus found")
    PENDING = "pending", _("Being checked for viruses")
    INFECTED = "infected", _("Removed: a virus was found")
    # Accepted without a scan: no scanner is configured (the embedded default), or a file this
    # system made itself (an issued certificate), which no user uploaded.
    NOT_SCANNED = "not_scanned", _("Not checked for viruses (no scanner configured)")
