"""Bulk filing (F-09): many applicants in one file, checked exactly as single applications are.

A bulk file is read at once (:func:`bulk_import_create`: refused at once when it is not one), then
its rows are processed by a task (:func:`bulk_import_run`). Each row gets the verdict a single
application with the same data would get — the same start checks (``start_problems``: who may
file, scope, timing, the registry), the same form validation (``normalize_and_validate``) and the
same identity cross-check — and becomes:

- a draft application ("entered, not yet submitted") when it passes — with the start's warnings,
  if any (an extension filed early), kept on its row apart from the errors;
- an application in state "error (bulk registration)" holding what was entered, with its errors,
  when the form's checks fail (it shows in the applications list and can be deleted);
- a refused row, kept only here, when the application cannot be started at all (unknown card,
  applicant outside the filer's scope, not the time to file): nothing is created for it.

How the verdict stays the same (docs/decisions/0010-bulk.md): the common case — a row whose
start checks pass and whose identity matches the registry — is computed in batch from the same
rule functions ``start_problems`` calls, with what does not change between rows (the filer's
scope, whether their organization may file) read once per file, and written with one insert per
chunk of rows. Every other case goes through the single-application services themselves: a row
refused at the start gets its problems from ``start_problems``; a row whose identity does not
match the registry is created with ``application_create`` and saved step by step with
``application_save_step`` (which audits and throttles the mismatch). A property test compares
single and bulk verdicts over generated rows.

Crash safety: rows are written in chunks, each chunk one transaction that writes the rows'
applications, their ``BulkRow`` records (unique per import and row number) and the progress
counters together. A run holds the import by a lease; a run killed in the middle leaves whole
chunks only, and the next run (the periodic resume, every minute; a page only reads) skips the
rows already done. After ``BULK_MAX_ATTEMPTS`` runs the import is marked failed, its finished rows kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.kinds import BULK_FILING_KINDS, ORGANIZATION_STAFF_KINDS
from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications import services as applications
from zairyu.applications.constants import EDITABLE_STATES, SUBMITTED_STATES, ApplicationState
from zairyu.applications.disclosure import prefill_answers, registry_disclosure
from zairyu.applications.models import Application
from zairyu.applications.rules.crosscheck import crosscheck, identity_from_answers
from zairyu.applications.rules.procedures import ACQUISITION
from zairyu.applications.rules.results import Problem
from zairyu.applications.rules.timing import timing_problems
from zairyu.bulk.columns import (
    bulk_form,
    column_for_error,
    columns_by_field,
    file_columns,
    row_answers,
)
from zairyu.bulk.constants import (
    ORGANIZATION_COLUMN,
    PARENT_COLUMN,
    ImportState,
    RowState,
    limit,
)
from zairyu.bulk.models import BulkImport, BulkRow
from zairyu.bulk.parsing import FileRefused, ParsedFile, ParsedRow, column_letter, parse_upload
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import FieldError, FormSpec, normalize_and_validate, role_field_id
from zairyu.catalogue.formspec.values import read_date
from zairyu.catalogue.rules import combination_errors, eligibility
from zairyu.catalogue.validators import (
    CARD_NUMBER_RE,
    normalize_card_number,
    normalize_corporate_number,
    normalize_roman_name,
)
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.models import AuditEvent
from zairyu.core.tasks import enqueue_on_commit
from zairyu.documents.checks import read_bounded, sanitize_filename
from zairyu.documents.errors import DocumentRejected, lazy_format
from zairyu.documents.scanning import upload_scan
from zairyu.notifications.services import email_queue
from zairyu.registry.models import ReceivingOrganization, Resident

logger = logging.getLogger(__name__)


# --- upload -------------------------------------------------------------------------------------


def bulk_may_file(user: User) -> tuple[bool, Any]:
    """Whether ``user`` may file in bulk now, and why not."""
    if not getattr(user, "is_authenticated", False) or user.kind not in BULK_FILING_KINDS:
        return False, _(
            "Bulk filing is for lawyers, administrative scriveners and the staff of organizations. File your application on its own."
        )
    if user.kind in ORGANIZATION_STAFF_KINDS:
        from zairyu.organizations import access as organization_access

        allowed, reason = organization_access.organization_may_file(user)
        if not allowed:
            return False, reason
    return True, ""


def bulk_import_create(
    *,
    user: User,
    procedure: str,
    status: str,
    add_ons: Iterable[str] = (),
    upload: Any,
    ip: str | None = None,
    filed_via: Any = None,
) -> BulkImport:
    """Read an uploaded bulk file and queue its rows. Raises :class:`FileRefused` — at once, before
    anything is stored — for a file that is not a bulk file of this procedure and status, or that
    holds more than ``BULK_MAX_ROWS`` applicants. ``filed_via``: the API client the file came
    through (None on the web); the drafts it creates record it, as a single API filing does."""
    allowed, reason = bulk_may_file(user)
    if not allowed:
        raise FileRefused("not_allowed", reason)
    add_ons = tuple(sorted(set(add_ons)))
    form = _bulk_form_or_refuse(user=user, procedure=procedure, status=status, add_ons=add_ons)
    data = _read_upload(upload)
    name = str(getattr(upload, "name", "") or "upload")[-200:]
    scan_state = _scan_upload(data, name=name, user=user, ip=ip)
    columns = file_columns(form)
    required = {c.key for c in columns if c.required == "always" and not c.fixed_value and c.row is None}
    parsed = parse_upload(data=data, expected=[c.key for c in columns], required=required)
    return _queue_import(
        user=user,
        form=form,
        procedure=procedure,
        add_ons=add_ons,
        parsed=parsed,
        data=data,
        name=name,
        scan_state=scan_state,
        ip=ip,
        filed_via=filed_via,
    )


def _bulk_form_or_refuse(*, user: User, procedure: str, status: str, add_ons: tuple[str, ...]) -> FormSpec:
    """The form of the file's procedure and status, or :class:`FileRefused` when they do not go together."""
    try:
        return bulk_form(procedure=procedure, status=status, user_category=user.kind, add_ons=add_ons)
    except ValueError:
        raise FileRefused(
            "form",
            _("This procedure and status cannot be filed online together. Choose them again."),
        ) from None


def _read_upload(upload: Any) -> bytes:
    """The uploaded file's bytes, read with the size cap; :class:`FileRefused` when larger."""
    cap = limit("MAX_FILE_BYTES")
    try:
        return read_bounded(
            upload,
            max_bytes=cap,
            too_large_message=lazy_format(
                _(
                    "The file is larger than %(limit)s MB. One file holds at most 300 applicants; split it into several files."
                ),
                {"limit": f"{cap / 1024 / 1024:.0f}"},
            ),
        )
    except DocumentRejected as rejected:
        raise FileRefused(rejected.code, rejected.message) from None


def _scan_upload(data: bytes, *, name: str, user: User, ip: str | None) -> str:
    """Scan the file for malware; its scan state, or :class:`FileRefused` when it is refused."""
    try:
        # Scanned before the spreadsheet parser reads it (ADR 0013). The file itself is never
        # kept, only the rows read from it: with the scanner unreachable (fail open) it is read.
        return upload_scan(
            data,
            name=sanitize_filename(name, default="upload"),
            subject="bulk_file",
            actor=user,
            ip=ip,
            details={"sha256": hashlib.sha256(data).hexdigest()},
        )
    except DocumentRejected as rejected:
        raise FileRefused(rejected.code, rejected.message) from None


def _queue_import(
    *,
    user: User,
    form: FormSpec,
    procedure: str,
    add_ons: tuple[str, ...],
    parsed: ParsedFile,
    data: bytes,
    name: str,
    scan_state: str,
    ip: str | None,
    filed_via: Any,
) -> BulkImport:
    """Store the import with its parsed rows, audit the upload and queue the run, in one transaction."""
    entry = get_catalogue().entries[form.status]
    with transaction.atomic():
        bulk_import = BulkImport.objects.create(
            filer=user,
            user_category=user.kind,
            procedure=procedure,
            add_ons=list(add_ons),
            status=form.status,
            group=entry.group.code if entry.group else "",
            file_kind=parsed.kind,
            original_name=name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1],
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            columns=[[index, key] for index, key in parsed.columns],
            key_row=parsed.key_row,
            pending=[row.as_data() for row in parsed.rows],
            rows_total=len(parsed.rows),
            ip=ip,
            filed_via=filed_via,
        )
        audit_record(
            action="bulk.uploaded",
            actor=user,
            target=bulk_import,
            ip=ip,
            details={
                "procedure": procedure,
                "status": form.status,
                "rows": len(parsed.rows),
                "kind": parsed.kind,
                "sha256": bulk_import.sha256,
                "scan": scan_state,
            },
        )
        from zairyu.bulk.tasks import bulk_import_process

        enqueue_on_commit(bulk_import_process, bulk_import.pk)
    return bulk_import


# --- the start checks, for many rows ------------------------------------------------------------


@dataclass(frozen=True)
class RowStart:
    """What a row's application starts from, as the start form asks it: the applicant's card
    number (P2, P3, P5; typed for an acquisition it refuses the row), the receiving organization (P1 by staff), and for an acquisition (P4) the day of
    the birth or event (the row's own date item) and a parent's card (a child born in Japan)."""

    card_number: str = ""
    corporate_number: str = ""
    parent_card_number: str = ""
    event_date: dt.date | None = None


class StartChecks:
    """``start_problems`` for every row of one file, with what does not change between rows read
    once: the procedure and status, the filer's organization, scope and eligibility. ``check``
    answers whether a row is refused, and its warnings; the problems of a refused row come from
    ``start_problems`` itself (:meth:`problems`)."""

    def __init__(self, *, user: User, form: FormSpec, today: dt.date) -> None:
        self.user = user
        self.procedure = form.procedure
        self.status = form.status
        self.add_ons = form.add_ons
        self.today = today
        catalogue = get_catalogue()
        self.blocked_for_all = bool(combination_errors(main=self.procedure, add_ons=self.add_ons))
        self.staff = user.kind in ORGANIZATION_STAFF_KINDS
        self.scope: set[int] = set()
        if self.staff:
            from zairyu.organizations import access as organization_access

            if not organization_access.organization_may_file(user):
                self.blocked_for_all = True
            self.scope = set(organization_access.organizations_in_scope(user).values_list("pk", flat=True))
        self.scope_ids: set[int] | None = self.scope if self.staff else None
        self._eligible: dict[bool | None, bool] = {}
        if self.procedure not in catalogue.procedures or self.status not in catalogue.entries:
            self.blocked_for_all = True

    def _eligible_with(self, in_scope: bool | None) -> bool:
        if in_scope not in self._eligible:
            facts = {"applicant_in_scope": bool(in_scope)} if self.staff else {}
            ok = True
            for procedure in (self.procedure, *self.add_ons):
                verdict = eligibility(
                    user_category=self.user.kind,
                    procedure=procedure,
                    status=self.status,
                    facts=facts,
                    on=self.today,
                )
                if verdict.reasons or verdict.pending:
                    ok = False
            self._eligible[in_scope] = ok
        return self._eligible[in_scope]

    def _parties_block(
        self,
        start: RowStart,
        *,
        resident: Resident | None,
        organization: ReceivingOrganization | None,
        parent: Resident | None,
    ) -> bool:
        """A record the start needs and does not find, or one it must not have."""
        if self.procedure == ACQUISITION:
            # The applicant has no card; a parent's number typed must find the parent.
            if start.card_number.strip() or (start.parent_card_number.strip() and parent is None):
                return True
        elif self.procedure != "P1" and resident is None:
            return True
        if start.corporate_number and organization is None:
            return True
        return not start.corporate_number and self.procedure == "P1" and self.staff

    def check(
        self,
        start: RowStart,
        *,
        resident: Resident | None,
        organization: ReceivingOrganization | None,
        parent: Resident | None = None,
    ) -> tuple[bool, list[Problem]]:
        """Whether the row is refused at the start, and (when it is not) the start's warnings, as
        ``start_problems`` gives them (an extension filed early)."""
        if self.blocked_for_all or self._parties_block(
            start, resident=resident, organization=organization, parent=parent
        ):
            return True, []
        in_scope: bool | None = None
        if self.staff:
            # For a newborn, the parent's record stands in for the scope, as in the single start.
            person = resident or parent
            if person is not None:
                in_scope = person.affiliation_id is not None and person.affiliation_id in self.scope
            else:
                in_scope = organization is not None and organization.pk in self.scope
        if not self._eligible_with(in_scope):
            return True, []
        if self.procedure != ACQUISITION and resident is None:
            return False, []
        disclosure = registry_disclosure(self.user, resident, scope_ids=self.scope_ids)
        found = timing_problems(
            procedure=self.procedure,
            add_ons=self.add_ons,
            resident=resident,
            today=self.today,
            birth_or_event_date=start.event_date,
            at_submission=True,  # an acquisition starts from the day of the birth or event
            disclose_dates=disclosure.facts if resident is not None else True,
        )
        if any(p.blocks for p in found):
            return True, []
        return False, list(found)

    def start(self, start: RowStart) -> applications.Start:
        acquisition = self.procedure == ACQUISITION
        return applications.Start(
            procedure=self.procedure,
            status=self.status,
            add_ons=self.add_ons,
            card_number=start.card_number if self.procedure != "P1" else "",
            organization_corporate_number=start.corporate_number,
            facts={},
            birth_or_event_date=start.event_date,  # an acquisition's 30 days run from the row's date
            parent_card_number=start.parent_card_number if acquisition else "",
        )

    def problems(self, start: RowStart) -> list[Problem]:
        """What ``start_problems`` finds for the row: the blocking problems and the warnings."""
        problems, _resident, _organization = applications.start_problems(
            user=self.user, start=self.start(start), today=self.today
        )
        return problems


def _event_date(answers: dict[str, Any]) -> dt.date | None:
    """An acquisition row's date of the birth or event, as typed (the 30 days run from it)."""
    value = answers.get(role_field_id("acquisition.event_date"))
    return read_date(value) if isinstance(value, str) else None


def _acquisition_answers(
    user: User, start: RowStart, parent: Resident | None, *, scope_ids: set[int] | None
) -> dict[str, Any]:
    """What an acquisition's draft starts with, as ``application_create`` fills it in: the day
    of the birth or event; for a child born in Japan the birth as reason and date of birth, and
    the parent's address where the disclosure policy lets the parent's record fill the form."""
    if start.event_date is None:
        return {}
    answers: dict[str, Any] = {role_field_id("acquisition.event_date"): start.event_date.isoformat()}
    if parent is None:
        return answers
    answers[role_field_id("acquisition.reason")] = "birth"
    answers[role_field_id("identity.date_of_birth")] = start.event_date.isoformat()
    if registry_disclosure(user, parent, scope_ids=scope_ids).prefill:
        answers[role_field_id("identity.prefecture")] = parent.prefecture
        answers[role_field_id("identity.municipality")] = parent.municipality
        answers[role_field_id("applicant.address_street")] = parent.address_rest
    return answers


# --- one row ------------------------------------------------------------------------------------

_CELL_MESSAGES = {
    "formula": _("This cell holds a formula (“%(detail)s…”); formulas are not read. Type the value itself."),
    "excel_error": _("This cell shows an Excel error instead of a value. Type the value itself."),
    "too_long": _("This cell holds %(detail)s characters; at most %(limit)s are read. Shorten it."),
}
_DUPLICATE = _(
    "The same applicant is already in row %(row)s of this file; only that row was read. Delete one of the two rows."
)


@dataclass
class RowVerdict:
    """What a row comes to, before anything is written."""

    row: ParsedRow
    natural_key: str
    state: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    # What the start warns of without stopping it (an extension filed early): the row is a draft
    # (or in error) all the same; kept apart so that ``errors`` keeps meaning "to be corrected".
    warnings: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""
    resident: Resident | None = None
    parent: Resident | None = None  # an acquisition's parent (a child born in Japan)
    organization: ReceivingOrganization | None = None
    start: RowStart = field(default_factory=RowStart)
    existing: Application | None = None
    answers: dict[str, Any] = field(default_factory=dict)  # the row's own answers
    stored: dict[str, Any] = field(default_factory=dict)  # what the application will hold
    steps_done: list[str] = field(default_factory=list)
    slow: bool = False  # goes through the single-application services
    cell_errors: bool = False


def _rendered(message: Any) -> tuple[str, str]:
    with translation.override("ja"):
        ja = str(message)
    with translation.override("en"):
        en = str(message)
    return ja, en


class RowChecker:
    """Everything needed to judge the rows of one import, read once."""

    def __init__(self, bulk_import: BulkImport, rows: list[ParsedRow]) -> None:
        self.bulk_import = bulk_import
        self.user = bulk_import.filer
        self.today = clock.today()
        self.form = bulk_form(
            procedure=bulk_import.procedure,
            status=bulk_import.status,
            user_category=bulk_import.user_category,
            add_ons=tuple(bulk_import.add_ons),
        )
        self.columns = {c.key: c for c in file_columns(self.form, today=self.today)}
        # The form's fields and sections by id, with their step (FormSpec walks its tree on each ask).
        self.step_of = {f.id: f.step for f in self.form.fields}
        self.step_of.update({s.id: s.step for s in self.form.sections})
        # The columns code reads by meaning: the fields of the catalogue's roles.
        self.card_field = role_field_id("identity.card_number")
        self.name_field = role_field_id("identity.roman_name")
        self.passport_field = role_field_id("applicant.passport_number")
        self.event_field = role_field_id("acquisition.event_date")
        self.has_roman_name = self.name_field in self.step_of
        # A start problem names an item of the start form (``Start``), not a field of the catalogue;
        # the file has the column of that item.
        self.start_columns = {
            "card_number": self.card_field,
            "organization": ORGANIZATION_COLUMN,
            "parent_card_number": PARENT_COLUMN,
            "birth_or_event_date": self.event_field,
        }
        self.letters = {key: column_letter(index) for index, key in bulk_import.columns}
        self.file_columns = [self.columns[key] for _i, key in bulk_import.columns if key in self.columns]
        self.by_field = columns_by_field(self.file_columns)
        self.starts = StartChecks(user=self.user, form=self.form, today=self.today)
        self.p1 = self.form.procedure == "P1"
        self.acquisition = self.form.procedure == ACQUISITION
        self._read_records(rows)
        self.first_row: dict[str, int] = {}
        for row in rows:
            key = self.natural_key(row.cells)
            if key:
                self.first_row.setdefault(key, row.number)
        self._read_known(bulk_import)
        self.scope_ids = self.starts.scope_ids

    def _read_records(self, rows: list[ParsedRow]) -> None:
        """The registry's records the file names (applicants, parents) and its organizations, at once."""
        cards = {
            normalize_card_number(r.cells.get(key, ""))
            for r in rows
            for key in (self.card_field, PARENT_COLUMN)
        }
        self.residents = {
            resident.card_number: resident
            for resident in Resident.objects.filter(
                card_number__in=[c for c in cards if CARD_NUMBER_RE.fullmatch(c)]
            )
        }
        numbers = {normalize_corporate_number(r.cells.get(ORGANIZATION_COLUMN, "")) for r in rows}
        self.organizations = {
            o.corporate_number: o
            for o in ReceivingOrganization.objects.filter(corporate_number__in=numbers - {""})
        }

    def _read_known(self, bulk_import: BulkImport) -> None:
        """Rows of earlier files of the same filer, procedure and status: recognised, not duplicated."""
        self.known: dict[str, BulkRow] = {}
        earlier = (
            BulkRow.objects.filter(
                bulk_import__filer=self.user,
                bulk_import__procedure=bulk_import.procedure,
                bulk_import__status=bulk_import.status,
                bulk_import__add_ons=bulk_import.add_ons,
                natural_key__in=list(self.first_row),
                application__isnull=False,
            )
            .exclude(bulk_import=bulk_import)
            .select_related("application")
            .order_by("-id")
        )
        for known in earlier:
            self.known.setdefault(known.natural_key, known)

    def natural_key(self, cells: dict[str, str]) -> str:
        if self.p1:
            passport = "".join(cells.get(self.passport_field, "").split()).upper().replace("-", "")
            name = normalize_roman_name(cells.get(self.name_field, ""))
            return f"passport:{passport}:{name}" if passport and name else ""
        if self.acquisition:
            # No card yet: the child by name, the day of the birth or event and the parent's card.
            name = normalize_roman_name(cells.get(self.name_field, ""))
            event = read_date(cells.get(self.event_field, ""))
            parent = normalize_card_number(cells.get(PARENT_COLUMN, ""))
            return f"acquisition:{parent}:{name}:{event.isoformat()}" if name and event else ""
        card = normalize_card_number(cells.get(self.card_field, ""))
        return f"card:{card}" if card else ""

    def error(self, row: int, key: str, code: str, message: Any) -> dict[str, Any]:
        column = self.columns.get(key)
        ja, en = _rendered(message)
        return {
            "row": row,
            "column": self.letters.get(key, "") if column else "",
            "key": key if column else "",
            "header_ja": column.header.ja if column else "",
            "header_en": column.header.en if column else "",
            "code": code,
            "message_ja": ja,
            "message_en": en,
        }

    def start_error(self, row: int, problem: Problem) -> dict[str, Any]:
        """A problem of the start, on the column of the start form's item it names."""
        return self.error(row, self.start_columns.get(problem.field or "", ""), problem.code, problem.message)

    def field_error(self, row: int, error: FieldError) -> dict[str, Any]:
        column = column_for_error(self.by_field, error.field_id, error.row)
        return self.error(row, column.key if column else "", error.code, error.message)

    def _cell_errors(self, row: ParsedRow) -> list[dict[str, Any]]:
        found = []
        for key, code, detail in row.problems:
            message = lazy_format(_CELL_MESSAGES[code], {"detail": detail, "limit": limit("CELL_MAX_CHARS")})
            found.append(self.error(row.number, key, f"cell_{code}", message))
        return found

    def _steps_with_errors(self, errors: list[FieldError]) -> set[str]:
        steps = set()
        for error in errors:
            if error.field_id in self.step_of:
                steps.add(self.step_of[error.field_id])
            else:
                steps.update(self.form.step_ids)
        return steps

    def _recognised(
        self, verdict: RowVerdict, cell_errors: list[dict[str, Any]]
    ) -> tuple[bool, Application | None]:
        """Whether the row is decided by what came before it — a duplicate of an earlier row of this
        file, or the same applicant's application from an earlier file that is submitted or
        unchanged — and that application (still editable: the row updates it)."""
        row, key = verdict.row, verdict.natural_key
        if key and self.first_row.get(key, row.number) != row.number:
            verdict.errors = cell_errors + [
                self.error(
                    row.number, "", "duplicate_row", lazy_format(_DUPLICATE, {"row": self.first_row[key]})
                )
            ]
            return True, None
        known = self.known.get(key) if key else None
        existing = known.application if known is not None else None
        if existing is not None and existing.state not in EDITABLE_STATES:
            verdict.state = RowState.SUBMITTED if existing.state in SUBMITTED_STATES else RowState.REFUSED
            verdict.existing = existing
            return True, existing
        if (
            known is not None
            and existing is not None
            and existing.state == ApplicationState.DRAFT
            and known.raw == row.cells
            and not cell_errors
        ):
            verdict.state = RowState.UNCHANGED
            verdict.existing = existing
            return True, existing
        return False, existing

    def _row_start(self, verdict: RowVerdict) -> None:
        """What the row starts from, and the records it names (read once for the file)."""
        cells = verdict.row.cells
        start = RowStart(
            card_number=cells.get(self.card_field, "") if not self.p1 else "",
            corporate_number=verdict.start.corporate_number,
            parent_card_number=cells.get(PARENT_COLUMN, "") if self.acquisition else "",
            event_date=_event_date(verdict.answers) if self.acquisition else None,
        )
        verdict.start = start
        card = normalize_card_number(start.card_number)
        # An acquisition's applicant has no record: a card number typed for them refuses the row.
        verdict.resident = self.residents.get(card) if card and not self.acquisition else None
        parent = normalize_card_number(start.parent_card_number)
        verdict.parent = self.residents.get(parent) if parent else None
        number = normalize_corporate_number(start.corporate_number)
        verdict.organization = self.organizations.get(number) if number else None

    def _started(self, verdict: RowVerdict, cell_errors: list[dict[str, Any]]) -> bool:
        """Whether the row's application may start; a refused row gets ``start_problems``' own
        problems, a row that may start its warnings."""
        blocked, warnings = self.starts.check(
            verdict.start, resident=verdict.resident, organization=verdict.organization, parent=verdict.parent
        )
        number = verdict.row.number
        if blocked:
            problems = self.starts.problems(verdict.start)
            refusing = [p for p in problems if p.blocks]
            if refusing:
                verdict.errors = cell_errors + [self.start_error(number, p) for p in refusing]
                return False
            logger.warning("bulk start checks refused row %s that start_problems accepts", number)
            verdict.slow = True
            warnings = problems
        verdict.warnings = [self.start_error(number, p) for p in warnings]
        return True

    def judge(self, row: ParsedRow) -> RowVerdict:
        answers, corporate_number = row_answers(self.file_columns, row.cells)
        cell_errors = self._cell_errors(row)
        label = str(row.cells.get(self.name_field, "")).strip()[:200]
        verdict = RowVerdict(
            row=row,
            natural_key=self.natural_key(row.cells),
            state=RowState.REFUSED,
            label=label,
            answers=answers,
            start=RowStart(corporate_number=corporate_number),
        )
        decided, existing = self._recognised(verdict, cell_errors)
        if decided:
            return verdict
        self._row_start(verdict)
        if not self._started(verdict, cell_errors):
            return verdict
        verdict.existing, resident = existing, verdict.resident
        if existing is not None:
            base = dict(existing.answers)
        else:
            # The disclosure policy: only a proven link (the organization's own people) pre-fills.
            disclosure = registry_disclosure(self.user, resident, scope_ids=self.scope_ids)
            base = prefill_answers(disclosure, resident)
            if self.acquisition:
                base.update(
                    _acquisition_answers(self.user, verdict.start, verdict.parent, scope_ids=self.scope_ids)
                )
        merged = {**base, **answers}
        result = normalize_and_validate(self.form, merged, today=self.today)
        failing_steps = self._steps_with_errors(result.errors)
        verdict.stored = {**merged, **result.cleaned}
        # As the single steps do: the identity is cross-checked when step 2-2 is saved clean.
        checked = resident is not None and "2-2" in self.form.step_ids and "2-2" not in failing_steps
        if checked and not crosscheck(entered=identity_from_answers(verdict.stored), resident=resident).ok:
            verdict.slow = True  # the single steps audit and throttle a mismatch: let them
        verdict.steps_done = sorted(set(self.form.step_ids) - failing_steps)
        verdict.errors = cell_errors + [self.field_error(row.number, e) for e in result.errors]
        verdict.cell_errors = bool(cell_errors)
        verdict.state = RowState.ERROR if verdict.errors else RowState.DRAFT
        name = verdict.stored.get(self.name_field) if self.has_roman_name else None
        verdict.label = str(name or label)[:200]
        return verdict

    # --- the single-application services, for the rows that need them -------------------------

    def run_single(self, verdict: RowVerdict) -> None:
        """Create (or update) the row's application with the single services, step by step."""
        row = verdict.row
        cell_errors = [e for e in verdict.errors if e["code"].startswith("cell_")]
        application = verdict.existing
        if application is None:
            try:
                application = applications.application_create(
                    user=self.user,
                    start=self.starts.start(verdict.start),
                    ip=self.bulk_import.ip,
                    filed_via=self.bulk_import.filed_via,
                )
            except applications.ApplicationRefused as refusal:
                verdict.state = RowState.REFUSED
                verdict.warnings = []
                verdict.errors = cell_errors + [self.start_error(row.number, p) for p in refusal.problems]
                return
        errors: list[FieldError] = []
        for step in self.form.step_ids:
            result = applications.application_save_step(
                application=application,
                user=self.user,
                step=step,
                answers=verdict.answers,
                ip=self.bulk_import.ip,
            )
            errors += result.errors
        application.refresh_from_db()
        verdict.errors = cell_errors + [self.field_error(row.number, e) for e in errors]
        verdict.state = RowState.ERROR if verdict.errors else RowState.DRAFT
        state = ApplicationState.ERROR_BULK if verdict.errors else ApplicationState.DRAFT
        if application.state != state:
            lifecycle.transition(application, "bulk_checked", state, actor=self.user)
        verdict.existing = application
        verdict.label = (application.applicant_name or verdict.label)[:200]


# --- the task -----------------------------------------------------------------------------------


class _LeaseLost(Exception):
    """Another run took the import over (this one was thought dead): stop without writing."""


def _claim(import_id: int, lease: str) -> bool:
    now = clock.now()
    stale = now - dt.timedelta(seconds=limit("STALE_SECONDS"))
    return bool(
        BulkImport.objects.filter(pk=import_id)
        .filter(Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, heartbeat_at__lt=stale))
        .update(
            state=ImportState.RUNNING,
            lease=lease,
            attempts=F("attempts") + 1,
            heartbeat_at=now,
            started_at=now,
        )
    )


def bulk_import_run(*, import_id: int) -> str:
    """Process the rows of an import not processed yet; safe to run again at any time (a run that
    finds the import held by a live run, or finished, does nothing). Returns the state it leaves."""
    lease = uuid.uuid4().hex
    if not _claim(import_id, lease):
        return BulkImport.objects.filter(pk=import_id).values_list("state", flat=True).first() or "missing"
    bulk_import = BulkImport.objects.select_related("filer").get(pk=import_id)
    if bulk_import.attempts > limit("MAX_ATTEMPTS"):
        _finish(bulk_import, lease, failed=_("The import was interrupted too often and has stopped."))
        return ImportState.FAILED
    try:
        _process(bulk_import, lease)
    except _LeaseLost:
        return "lost"
    except Exception:
        logger.exception("bulk import %s failed", bulk_import.pk)
        _finish(
            bulk_import,
            lease,
            failed=_("An internal error stopped the import. The rows listed below were registered."),
        )
        return ImportState.FAILED
    _finish(bulk_import, lease)
    return ImportState.DONE


def _process(bulk_import: BulkImport, lease: str) -> None:
    rows = [ParsedRow.from_data(data) for data in bulk_import.pending]
    done = set(bulk_import.rows.values_list("row_number", flat=True))
    todo = [row for row in rows if row.number not in done]
    if not todo:
        return
    checker = RowChecker(bulk_import, rows)
    size = max(1, limit("CHUNK_ROWS"))
    for start in range(0, len(todo), size):
        chunk = todo[start : start + size]
        verdicts = [checker.judge(row) for row in chunk]
        with transaction.atomic():
            # The import's row is locked (not loaded: its pending rows are large) while the chunk
            # is written, and only if this run still holds it.
            held = BulkImport.objects.select_for_update().filter(pk=bulk_import.pk, lease=lease)
            if held.values_list("pk", flat=True).first() is None:
                raise _LeaseLost
            _store(checker, bulk_import, verdicts)


def _store(checker: RowChecker, bulk_import: BulkImport, verdicts: list[RowVerdict]) -> None:
    """Write one chunk: applications, their history and audit, the rows, the progress. Runs in the
    chunk's transaction; each step below writes the whole chunk at once."""
    now = clock.now()
    stamp = _stamp(now)  # one for the chunk: Django resolves a copy of it for each row
    expires = now + dt.timedelta(days=settings.DRAFT_LIFETIME_DAYS)
    entry = get_catalogue().entries[checker.form.status]

    for verdict in verdicts:
        if verdict.slow:
            checker.run_single(verdict)

    fast = [v for v in verdicts if not v.slow and v.state in (RowState.DRAFT, RowState.ERROR)]
    updates = [v for v in fast if v.existing is not None]
    if updates:
        _store_updates(checker, bulk_import, updates, now=now, stamp=stamp, expires=expires)
    # Taken after the updates: a row whose application was deleted since it was checked is
    # refused there (``existing`` None) and must not get a new application here.
    creates = [v for v in fast if v.existing is None and v.state in (RowState.DRAFT, RowState.ERROR)]
    if creates:
        group = entry.group.code if entry.group else ""
        _store_creates(checker, bulk_import, creates, group=group, now=now, stamp=stamp, expires=expires)
    _store_rows(bulk_import, verdicts, stamp=stamp)
    _store_progress(bulk_import, verdicts, now=now)


def _store_updates(
    checker: RowChecker,
    bulk_import: BulkImport,
    updates: list[RowVerdict],
    *,
    now: dt.datetime,
    stamp: Any,
    expires: dt.datetime,
) -> None:
    """The rows of applications already made by an earlier file: those still editable are updated
    (one lock, one update and one history insert for the chunk); the others are submitted or gone."""
    user = checker.user
    locked = Application.objects.select_for_update().in_bulk([v.existing.pk for v in updates if v.existing])
    before = {pk: application.state for pk, application in locked.items()}
    for verdict in updates:
        application = locked.get(verdict.existing.pk) if verdict.existing else None
        if application is None or application.state not in EDITABLE_STATES:
            verdict.state = RowState.SUBMITTED if application is not None else RowState.REFUSED
            verdict.existing = application
            continue
        _apply(application, verdict, now=now, expires=expires, roman_name=checker.has_roman_name)
        lifecycle.set_state(application, "bulk_updated", _row_state(verdict), actor=user)
        verdict.existing = application
    changed = [
        v.existing for v in updates if v.existing is not None and v.state in (RowState.DRAFT, RowState.ERROR)
    ]
    Application.objects.bulk_update(
        changed,
        [
            "answers",
            "steps_done",
            "state",
            "applicant_name",
            "applicant_email",
            "updated_at",
            "draft_expires_at",
        ],
    )
    lifecycle.record_in_bulk(
        [(a, before.get(a.pk, "")) for a in changed],
        "bulk_updated",
        actor=user,
        at=stamp,
        when=now,
        details={"bulk_import": str(bulk_import.public_id)},
    )


def _store_creates(
    checker: RowChecker,
    bulk_import: BulkImport,
    creates: list[RowVerdict],
    *,
    group: str,
    now: dt.datetime,
    stamp: Any,
    expires: dt.datetime,
) -> None:
    """The rows without an application: one insert for their applications, one for their history
    and one for their audit."""
    user = checker.user
    form = checker.form
    new = []
    for verdict in creates:
        application = Application(
            filer=user,
            user_category=user.kind,
            procedure=form.procedure,
            add_ons=sorted(form.add_ons),
            status=form.status,
            group=group,
            applicant_resident=verdict.resident,
            parent_resident=verdict.parent,
            receiving_organization=verdict.organization,
            applicant_name=verdict.label,
            facts={},
            created_at=stamp,
            filed_via_id=bulk_import.filed_via_id,
        )
        _apply(application, verdict, now=now, expires=expires, roman_name=checker.has_roman_name)
        lifecycle.set_state(application, "created", _row_state(verdict), actor=user)
        new.append(application)
    Application.objects.bulk_create(new)
    for verdict, application in zip(creates, new, strict=True):
        application.created_at = now
        verdict.existing = application
    # The webhook outbox hears of these too, and lets "created" pass, as for a single new
    # draft (the client that uploaded the file reads its rows).
    lifecycle.record_in_bulk(
        [(a, "") for a in new],
        "created",
        actor=user,
        at=stamp,
        when=now,
        details={"bulk_import": str(bulk_import.public_id)},
    )
    _audit_created(checker, bulk_import, new, stamp=stamp)


def _audit_created(
    checker: RowChecker, bulk_import: BulkImport, new: list[Application], *, stamp: Any
) -> None:
    """As ``audit_record`` writes it for a single application, one insert for the chunk."""
    form = checker.form
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                at=stamp,
                action="applications.created",
                actor_id=checker.user.pk,
                actor_kind=AuditEvent.ActorKind.USER,
                target_type=Application._meta.label_lower,
                target_id=str(a.pk),
                ip=bulk_import.ip,
                details={
                    "procedure": form.procedure,
                    "status": form.status,
                    "bulk_import": bulk_import.pk,
                },
            )
            for a in new
        ]
    )


def _store_rows(bulk_import: BulkImport, verdicts: list[RowVerdict], *, stamp: Any) -> None:
    """The chunk's ``BulkRow`` records, one insert."""
    BulkRow.objects.bulk_create(
        [
            BulkRow(
                bulk_import_id=bulk_import.pk,
                row_number=v.row.number,
                natural_key=v.natural_key[:200],
                # What was typed, refused cells included (written back, made inert, in the
                # annotated file); never read as answers.
                raw={**v.row.cells, **v.row.refused},
                errors=v.errors,
                # A warning is read with the draft it came with (a row refused since has none).
                warnings=v.warnings if v.state in (RowState.DRAFT, RowState.ERROR) else [],
                state=v.state,
                application_id=v.existing.pk if v.existing is not None else None,
                applicant_label=v.label,
                created_at=stamp,
            )
            for v in verdicts
        ]
    )


def _store_progress(bulk_import: BulkImport, verdicts: list[RowVerdict], *, now: dt.datetime) -> None:
    """The import's counters moved on by the chunk, one update."""
    counts = {state: sum(1 for v in verdicts if v.state == state) for state in RowState.values}
    BulkImport.objects.filter(pk=bulk_import.pk).update(
        rows_done=F("rows_done") + len(verdicts),
        rows_draft=F("rows_draft") + counts[RowState.DRAFT],
        rows_error=F("rows_error") + counts[RowState.ERROR],
        rows_refused=F("rows_refused") + counts[RowState.REFUSED],
        rows_unchanged=F("rows_unchanged") + counts[RowState.UNCHANGED] + counts[RowState.SUBMITTED],
        heartbeat_at=now,
    )


def _stamp(now: dt.datetime) -> Any:
    """A timestamp for a row inserted in bulk. On PostgreSQL, Django 5.2 inserts rows of plain
    values through ``UNNEST`` of arrays, which sends each JSON column as a text array escaped
    character by character (two to three times slower for these JSON-heavy rows, measured); an
    expression in the row makes it use ``VALUES`` instead. The time is still the one clock's."""
    if connection.vendor == "postgresql":
        return Value(now, output_field=DateTimeField())
    return now


def _row_state(verdict: RowVerdict) -> str:
    return ApplicationState.ERROR_BULK if verdict.errors else ApplicationState.DRAFT


def _apply(
    application: Application, verdict: RowVerdict, *, now: dt.datetime, expires: dt.datetime, roman_name: bool
) -> None:
    """What ``application_save_step`` stores, for all steps at once."""
    application.answers = verdict.stored
    application.steps_done = verdict.steps_done
    name_field, email_field = role_field_id("identity.roman_name"), role_field_id("applicant.email")
    if roman_name and verdict.stored.get(name_field):
        application.applicant_name = str(verdict.stored[name_field])[:200]
    if verdict.stored.get(email_field):
        application.applicant_email = str(verdict.stored[email_field])[:254]
    application.updated_at = now
    application.draft_expires_at = expires


def _finish(bulk_import: BulkImport, lease: str, *, failed: Any = None) -> None:
    with transaction.atomic():
        locked = (
            BulkImport.objects.select_for_update(of=("self",))
            .filter(pk=bulk_import.pk, lease=lease)
            .select_related("filer")
            .defer("pending")
            .first()
        )
        if locked is None:
            return
        locked.state = ImportState.FAILED if failed else ImportState.DONE
        locked.finished_at = clock.now()
        locked.heartbeat_at = locked.finished_at
        fields = ["state", "finished_at", "heartbeat_at"]
        if failed:
            locked.error_summary = _rendered(failed)[1]
            fields.append("error_summary")
        else:
            locked.pending = []  # the rows hold what is needed from now on
            fields.append("pending")
        locked.save(update_fields=fields)
        audit_record(
            action="bulk.processed" if not failed else "bulk.failed",
            actor=None,
            target=locked,
            details={
                "rows": locked.rows_total,
                "draft": locked.rows_draft,
                "error": locked.rows_error,
                "refused": locked.rows_refused,
                "unchanged": locked.rows_unchanged,
            },
        )
        _result_email(locked, failed=failed)


def _result_email(bulk_import: BulkImport, *, failed: Any) -> None:
    user = bulk_import.filer
    if not user.email:
        return
    language = "en" if (user.language or "ja").startswith("en") else "ja"
    message_key = "message_en" if language == "en" else "message_ja"
    errors = []
    for row in bulk_import.rows.filter(state__in=[RowState.ERROR, RowState.REFUSED]).order_by("row_number")[
        :20
    ]:
        for error in row.errors[:3]:
            errors.append(
                {"row": error["row"], "column": error["column"] or "-", "message": error[message_key]}
            )
    # The rows registered with a warning (an extension filed early): the first ones, to read.
    warned = bulk_import.rows.filter(state__in=[RowState.DRAFT, RowState.ERROR]).exclude(warnings=[])
    warnings = [
        {"row": warning["row"], "message": warning[message_key]}
        for row in warned.order_by("row_number")[:20]
        for warning in row.warnings[:3]
    ]
    from django.urls import reverse

    email_queue(
        kind="bulk_import_result",
        to=user.email,
        language=language,
        context={
            "file_name": bulk_import.original_name,
            "rows_total": bulk_import.rows_total,
            "rows_draft": bulk_import.rows_draft,
            "rows_error": bulk_import.rows_error,
            "rows_refused": bulk_import.rows_refused,
            "rows_unchanged": bulk_import.rows_unchanged,
            "failed": bool(failed),
            "errors": errors,
            "warnings": warnings,
            "url": settings.SITE_URL.rstrip("/") + reverse("bulk:import", args=[bulk_import.public_id]),
        },
        key=f"bulk_import_result:{bulk_import.pk}",
    )


def bulk_imports_resume() -> int:
    """Queue again the imports whose run was lost (a killed worker, a restarted server)."""
    from zairyu.bulk.tasks import bulk_import_process

    stale = clock.now() - dt.timedelta(seconds=limit("STALE_SECONDS"))
    ids = list(
        BulkImport.objects.filter(
            Q(state=ImportState.RUNNING, heartbeat_at__lt=stale)
            | Q(state=ImportState.QUEUED, created_at__lt=stale)
        ).values_list("pk", flat=True)[:50]
    )
    for import_id in ids:
        enqueue_on_commit(bulk_import_process, import_id)
    return len(ids)


def bulk_import_is_stale(bulk_import: BulkImport) -> bool:
    stale = clock.now() - dt.timedelta(seconds=limit("STALE_SECONDS"))
    if bulk_import.state == ImportState.RUNNING:
        return bulk_import.heartbeat_at is None or bulk_import.heartbeat_at < stale
    return bulk_import.state == ImportState.QUEUED and bulk_import.created_at < stale


# --- after the import ---------------------------------------------------------------------------


@transaction.atomic
def bulk_rows_delete(
    *, bulk_import: BulkImport, user: User, row_ids: Iterable[int] | None = None, ip: str | None = None
) -> int:
    """Delete rows in error (F-09): their applications in state "error (bulk registration)" go,
    the rows stay in the import's record as deleted. ``row_ids`` None: every row in error."""
    from zairyu.documents.services import document_delete

    rows = bulk_import.rows.select_for_update().filter(state__in=[RowState.ERROR, RowState.REFUSED])
    if row_ids is not None:
        rows = rows.filter(pk__in=list(row_ids))
    deleted = 0
    for row in rows:
        if row.application_id is not None:
            application = (
                Application.objects.select_for_update().filter(pk=row.application_id, filer=user).first()
            )
            if application is None or application.state != ApplicationState.ERROR_BULK:
                continue  # fixed and saved since, or submitted: not an error any more
            for attachment in application.documents.select_related("document"):
                document = attachment.document
                attachment.delete()
                document_delete(document=document, actor=user, ip=ip)
            audit_record(action="applications.deleted", actor=user, target=application, ip=ip)
            application.delete()
        row.state = RowState.DELETED
        row.application = None
        row.save(update_fields=["state", "application"])
        deleted += 1
    if deleted:
        audit_record(
            action="bulk.rows_deleted", actor=user, target=bulk_import, ip=ip, details={"rows": deleted}
        )
    return deleted


@dataclass
class SubmitResult:
    application: Application
    ok: bool
    messages: list[Any] = field(default_factory=list)


def bulk_submit(
    *,
    bulk_import: BulkImport,
    user: User,
    application_ids: Iterable[int],
    receipt_method: str = "",
    ip: str | None = None,
) -> list[SubmitResult]:
    """Submit the chosen applications of an import, each on its own (``application_submit``:
    its own transaction and receipt number). One that fails a check stays a draft, with the reason."""
    wanted = set(application_ids)
    rows = list(
        bulk_import.rows.filter(application_id__in=wanted, application__filer=user)
        .select_related("application")
        .order_by("row_number")
    )
    results: list[SubmitResult] = []
    for row in rows:
        application = row.application
        assert application is not None  # filtered on application_id above
        problems: list[Any] = []
        try:
            if receipt_method and application.state in EDITABLE_STATES:
                options, _document = applications.application_receipt_options(application)
                if not application.receipt_methods.get(options.document):
                    applications.application_set_receipt_method(
                        application=application, user=user, method=receipt_method, ip=ip
                    )
            application = applications.application_submit(
                application_id=application.pk,
                user=user,
                submission_key=f"bulk:{bulk_import.public_id.hex[:16]}:{application.pk}",
                ip=ip,
            )
        except applications.ApplicationRefused as refusal:
            problems = [p.message for p in refusal.problems]
        application.refresh_from_db()
        ok = not problems and application.submitted_at is not None
        row.submit_errors = [dict(zip(("ja", "en"), _rendered(m), strict=True)) for m in problems]
        row.save(update_fields=["submit_errors"])
        results.append(SubmitResult(application=application, ok=ok, messages=problems))
    if results:
        audit_record(
            action="bulk.submitted",
            actor=user,
            target=bulk_import,
            ip=ip,
            details={"submitted": sum(r.ok for r in results), "failed": sum(not r.ok for r in results)},
        )
    return results
