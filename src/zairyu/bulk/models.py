"""A bulk file as uploaded (:class:`BulkImport`) and what became of each of its rows (:class:`BulkRow`).

A row that passed the checks is an ordinary draft application; a row that failed the form's
checks is an application in state "error (bulk registration)" holding what was entered; a row that
cannot be filed at all (unknown card, outside the filer's scope, not the time to file) is kept
only here, with its errors: it never becomes an application. See docs/decisions/0010-bulk.md.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zairyu.bulk.constants import FileKind, ImportState, RowState
from zairyu.core import clock


class BulkImport(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    filer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bulk_imports")
    user_category = models.CharField(max_length=8)
    procedure = models.CharField(_("procedure"), max_length=4)
    add_ons = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status of residence"), max_length=80)
    group = models.CharField(_("input-screen group"), max_length=4)

    file_kind = models.CharField(max_length=8, choices=FileKind.choices)
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField(default=0)
    # The file's column keys in the file's order, and its rows as read (cells as text, the cell
    # problems found while reading): what the task works from, so a resumed run needs no file.
    # Emptied when the import is finished; the rows keep what they need.
    columns = models.JSONField(default=list, blank=True)
    key_row = models.PositiveSmallIntegerField(default=5)  # the row of column keys in the file
    pending = models.JSONField(default=list, blank=True)

    state = models.CharField(max_length=16, choices=ImportState.choices, default=ImportState.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_draft = models.PositiveIntegerField(default=0)
    rows_error = models.PositiveIntegerField(default=0)
    rows_refused = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease = models.CharField(max_length=32, blank=True)  # the run that holds the import
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_summary = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    filed_via = models.ForeignKey(
        "api.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the API client the file was uploaded through, if any: the drafts it creates record it

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["filer", "-created_at"]),
            models.Index(fields=["state", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"bulk import {self.public_id}"

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.DONE, ImportState.FAILED)


class BulkRow(models.Model):
    bulk_import = models.ForeignKey(BulkImport, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()  # as the spreadsheet shows it
    # Who the row is for, to recognise it when the file comes back: the residence card number for
    # P2, P3 and P5, passport number and name for a certificate of eligibility, and for an
    # acquisition (P4, no card yet) the parent's card number, the name and the day of the event.
    natural_key = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=dict, blank=True)  # column key → the cell as text (blank cells left out)
    # [{"row", "column", "key", "code", "message_ja", "message_en"}]; "column" is a letter, or ""
    # for a problem of the whole row.
    errors = models.JSONField(default=list, blank=True)
    # What the start warns of without stopping it (an extension filed early), as ``errors`` are
    # written: the row is registered all the same, and nothing is to be corrected.
    warnings = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=RowState.choices)
    application = models.ForeignKey(
        "applications.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="bulk_rows"
    )
    applicant_label = models.CharField(max_length=200, blank=True)  # the name, as entered, for the list
    submit_errors = models.JSONField(default=list, blank=True)  # why a submission from the list failed
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["bulk_import", "row_number"]
        constraints = [
            models.UniqueConstraint(fields=["bulk_import", "row_number"], name="one_bulk_row_per_row_number")
        ]
        indexes = [models.Index(fields=["natural_key"])]

    def __str__(self) -> str:
        return f"row {self.row_number} of {self.bulk_import_id}"
