from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationState(models.TextChoices):
    """What the user sees (F-06), plus the officers' internal states that map onto them."""

    DRAFT = "draft", _("Entered, not yet submitted")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    AWAITING_ISSUE = "awaiting_issue", _("Awaiting issue")
    COMPLETE = "complete", _("Complete")
    ERROR_BULK = "error_bulk", _("Error (bulk registration)")
    ERROR_RECEIPT = "error_receipt", _("Error (receipt number not obtained)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


SUBMITTED_STATES = frozenset(
    {
        ApplicationState.SUBMITTED,
        ApplicationState.UNDER_REVIEW,
        ApplicationState.AWAITING_ISSUE,
        ApplicationState.COMPLETE,
        ApplicationState.ERROR_RECEIPT,
        ApplicationState.WITHDRAWN,
    }
)
EDITABLE_STATES = frozenset({ApplicationState.DRAFT, ApplicationState.ERROR_BULK})


class DocumentRole(models.TextChoices):
    SUPPORTING = "supporting", _("Supporting document")
    PHOTO = "photo", _("Face photo")
    ORGANIZATION_PART = "organization_part", _("Organization's part (PDF)")
    ADDITIONAL = "additional", _("Additional document requested by the bureau")
