"""Choices and limits of bulk filing (F-09)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be processed")
    RUNNING = "running", _("Being processed")
    DONE = "done", _("Processed")
    FAILED = "failed", _("Failed")


class RowState(models.TextChoices):
    """What became of one row of a bulk file."""

    DRAFT = "draft", _("Registered: entered, not yet submitted")
    ERROR = "error", _("Error (bulk registration)")
    REFUSED = "refused", _("Not registered: cannot be filed")
    UNCHANGED = "unchanged", _("Already registered, unchanged")
    SUBMITTED = "submitted", _("Already submitted: not registered again")
    DELETED = "deleted", _("Deleted")


class FileKind(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (.xlsx)"


# The spreadsheet layout: rows 1–3 say what each column is (Japanese, English, format), row 4 is
# a filled example, row 5 holds the column keys the file is read by, and applicants start at row 6.
HEADER_JA_ROW = 1
HEADER_EN_ROW = 2
HELP_ROW = 3
EXAMPLE_ROW = 4
KEY_ROW = 5
FIRST_DATA_ROW = 6
# The key row is looked for within the first rows, so that a user who deleted the example row or
# added a title line above the headers is still understood.
KEY_ROW_SEARCH = 12

# The column of a P1 (certificate of eligibility) file filed by organization staff: the receiving
# organization, as its corporate number. Not a question of the form: the start of the application.
ORGANIZATION_COLUMN = "organization_corporate_number"
# The column of an acquisition of status (P4) for a child born in Japan: the residence card number
# of a parent living in Japan, from which the single start begins too (ADR 0017). Not a question of
# the form either; blank for another event (loss of Japanese nationality).
PARENT_COLUMN = "parent_card_number"
# A column the annotated CSV adds (the errors of the row); ignored when the file comes back.
ERRORS_COLUMN = "_errors"

DEFAULTS = {
    "MAX_ROWS": 300,  # F-09: at most 300 applicants per file
    "MAX_FILE_BYTES": 5 * 1024 * 1024,  # a bulk CSV or XLSX as uploaded
    "XLSX_MAX_UNPACKED_BYTES": 30 * 1024 * 1024,  # all parts of an XLSX, uncompressed
    "XLSX_MAX_PARTS": 200,
    "MAX_COLUMNS": 400,
    "CELL_MAX_CHARS": 2000,  # the longest answer of the catalogue is 1000 characters
    "SCAN_MAX_ROWS": 5000,  # rows read at most from a sheet, blank ones included
    "ZIP_MAX_BYTES": 200 * 1024 * 1024,
    "ZIP_MAX_UNPACKED_BYTES": 400 * 1024 * 1024,
    "ZIP_MAX_FILES": 1000,
    "ZIP_MAX_RATIO": 100,  # uncompressed / compressed, for entries above 1 MB
    "CHUNK_ROWS": 150,  # rows written per transaction
    "STALE_SECONDS": 120,  # a running import without news for this long was interrupted
    "MAX_ATTEMPTS": 3,
}


def limit(name: str) -> int:
    """A limit of bulk filing: ``settings.BULK_<NAME>`` when set, else the default above."""
    return int(getattr(settings, f"BULK_{name}", DEFAULTS[name]))
