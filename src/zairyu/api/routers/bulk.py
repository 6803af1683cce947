"""API: bulk filing (F-09) — templates, uploads and their results, for the software of agents and
organization staff.

The same checks and services as the bulk pages (``zairyu.bulk``): the same forms choose the
procedure and status, ``bulk_may_file`` says who may, ``bulk_import_create`` reads the file and
queues its rows, the task checks each row exactly as a single application, and the annotated
workbook is ``workbook.annotated_sheet``. Imports are read only through ``bulk.access``: another
user's import is 404, never 403. All operations need the ``bulk`` scope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from zairyu.api.auth import OAuth2
from zairyu.api.problems import PROBLEM_MEDIA_TYPE, ApiError
from zairyu.api.schemas_common import Page, PageQuery, paginate
from zairyu.bulk import access, forms, services, workbook
from zairyu.bulk.columns import bulk_form, template_name
from zairyu.bulk.constants import ImportState, RowState
from zairyu.bulk.models import BulkImport, BulkRow
from zairyu.bulk.parsing import FileRefused
from zairyu.core.http import request_ip, request_language

router = Router()

BULK = OAuth2("bulk")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
_BINARY = {"schema": {"type": "string", "format": "binary"}}
_PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _split(values: list[str]) -> list[str]:
    """``add_ons=P6&add_ons=P7`` or ``add_ons=P6,P7``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _may_file(request: HttpRequest) -> None:
    allowed, reason = services.bulk_may_file(request.user)
    if not allowed:
        raise ApiError(403, "forbidden", reason)


def _form_problems(form) -> list[dict[str, str]]:
    """The errors of one of the bulk pages' forms, as problem items naming the parameter."""
    return [
        {
            "parameter": "status" if name == "__all__" else name,
            "code": error.code or "invalid",
            "detail": message,
        }
        for name, errors in form.errors.as_data().items()
        for error in errors
        for message in error
    ]


# --- schemas ------------------------------------------------------------------------------------


RowStateCode = Literal["draft", "error", "refused", "unchanged", "submitted", "deleted"]


class BulkTemplateQuery(Schema):
    format: Literal["xlsx", "csv"] = Field("xlsx", description="xlsx (default) or csv.")
    add_ons: list[str] = Field(
        default_factory=list, description="P6 and/or P7, with P2–P4 (repeated, or separated by commas)."
    )


class BulkImportsQuery(PageQuery):
    state: Literal["queued", "running", "done", "failed"] | None = Field(
        None, description="Only in this state."
    )


class BulkRowsQuery(PageQuery):
    page_size: int = Field(
        100,
        ge=1,
        le=settings.API_PAGE_SIZE_MAX,
        description=f"Rows per page, 1 to {settings.API_PAGE_SIZE_MAX} (default 100).",
    )
    state: RowStateCode | None = Field(
        None, description="Only the rows in this state (error: the rows in error)."
    )


class BulkAnnotatedQuery(Schema):
    rows: Literal["all", "errors"] = Field("all", description="all (default), or only the rows in error.")


class BulkProgress(Schema):
    total: int = Field(..., description="Applicants (rows) in the file.")
    done: int = Field(..., description="Rows checked so far.")
    draft: int = Field(..., description="Rows registered as draft applications.")
    error: int = Field(
        ..., description="Rows registered in state “error (bulk registration)”, with their errors."
    )
    refused: int = Field(..., description="Rows that cannot be filed (not registered), with the reason.")
    unchanged: int = Field(..., description="Rows already registered from an earlier file, unchanged.")


class BulkImportSummary(Schema):
    id: UUID = Field(..., description="The import's ID.")
    procedure: str = Field(..., description="P1–P5.")
    add_ons: list[str] = Field(..., description="P6 and/or P7, for every row.")
    status: str = Field(..., description="The status of residence (entry key).")
    group: str = Field(..., description="Its input-screen group.")
    file_kind: Literal["csv", "xlsx"] = Field(..., description="The kind of file uploaded.")
    file_name: str = Field(..., description="The file's name as uploaded.")
    state: Literal["queued", "running", "done", "failed"] = Field(
        ..., description="queued, running (see `progress`), done, or failed (the rows done so far are kept)."
    )
    finished: bool = Field(..., description="Whether the import is done or failed.")
    progress: BulkProgress = Field(..., description="The counts so far.")
    created_at: dt.datetime = Field(..., description="When the file was uploaded.")
    finished_at: dt.datetime | None = Field(None, description="When the last row was checked.")


class BulkImportOut(BulkImportSummary):
    started_at: dt.datetime | None = Field(None, description="When the rows' check began.")
    failure: str | None = Field(None, description="For a failed import: why (in English).")
    rows_url: str = Field(..., description="The rows and their errors.")
    annotated_xlsx_url: str = Field(..., description="The annotated workbook (when finished).")
    annotated_csv_url: str = Field(..., description="The annotated CSV (when finished).")


class BulkImportPage(Page[BulkImportSummary]):
    """One page of the user's bulk imports, newest first."""


class BulkRowError(Schema):
    row: int = Field(..., description="The row as the spreadsheet numbers it.")
    column: str = Field(..., description="The column letter; empty for a problem of the whole row.")
    field: str = Field(..., description="The column's key (row 5 of the template); empty for the whole row.")
    item: str = Field(..., description="The column's heading, in the language asked.")
    code: str = Field(..., description="What is wrong, as a stable code.")
    detail: str = Field(..., description="What is wrong and what to do, in the language asked.")


class BulkRowOut(Schema):
    row: int = Field(..., description="The row as the spreadsheet numbers it.")
    state: RowStateCode = Field(
        ...,
        description="draft (registered), error (registered in state “error (bulk registration)”), refused "
        "(not registered), unchanged, submitted (already submitted), deleted.",
    )
    state_label: str = Field(..., description="The state in the language asked.")
    application: UUID | None = Field(
        None, description="The application the row became (GET /applications/{id}), if any."
    )
    applicant: str = Field(..., description="The applicant's name as entered.")
    errors: list[BulkRowError] = Field(..., description="The row's errors, each named by its cell.")
    submit_errors: list[str] = Field(
        default_factory=list, description="Why a submission of the row's application failed, if it did."
    )


class BulkRowPage(Page[BulkRowOut]):
    """One page of an import's rows, in file order."""


def _progress(bulk_import: BulkImport) -> BulkProgress:
    return BulkProgress(
        total=bulk_import.rows_total,
        done=bulk_import.rows_done,
        draft=bulk_import.rows_draft,
        error=bulk_import.rows_error,
        refused=bulk_import.rows_refused,
        unchanged=bulk_import.rows_unchanged,
    )


def _summary_fields(bulk_import: BulkImport) -> dict[str, Any]:
    return {
        "id": bulk_import.public_id,
        "procedure": bulk_import.procedure,
        "add_ons": list(bulk_import.add_ons),
        "status": bulk_import.status,
        "group": bulk_import.group,
        "file_kind": bulk_import.file_kind,
        "file_name": bulk_import.original_name,
        "state": bulk_import.state,
        "finished": bulk_import.finished,
        "progress": _progress(bulk_import),
        "created_at": bulk_import.created_at,
        "finished_at": bulk_import.finished_at,
    }


def _import_url(bulk_import: BulkImport, suffix: str = "") -> str:
    return reverse("api-v1:bulk_import", kwargs={"import_id": bulk_import.public_id}) + suffix


def _import_out(bulk_import: BulkImport) -> BulkImportOut:
    return BulkImportOut(
        **_summary_fields(bulk_import),
        started_at=bulk_import.started_at,
        failure=(bulk_import.error_summary or None) if bulk_import.state == ImportState.FAILED else None,
        rows_url=_import_url(bulk_import, "/rows"),
        annotated_xlsx_url=_import_url(bulk_import, "/annotated.xlsx"),
        annotated_csv_url=_import_url(bulk_import, "/annotated.csv"),
    )


# --- templates ----------------------------------------------------------------------------------


@router.get(
    "/templates/{procedure}/{path:status}",
    auth=BULK,
    operation_id="bulk_template",
    summary="Download a bulk template",
    description="The template of one procedure (with add-ons) and status of residence: an Excel workbook "
    "(`format=xlsx`, with drop-downs and a help sheet) or a CSV (UTF-8 with BOM), with the headings in "
    "Japanese and English and the column keys in row 5; applicants from row 6, at most 300. For "
    "lawyers, scriveners and organization staff who may file in bulk. `status` may contain a slash.",
    openapi_extra={
        "responses": {
            200: {
                "description": "The template file (Content-Disposition names it).",
                "content": {XLSX_TYPE: _BINARY, "text/csv": _BINARY},
            },
            403: {
                "description": "This user may not file in bulk.",
                "content": {PROBLEM_MEDIA_TYPE: _PROBLEM},
            },
        }
    },
)
def bulk_template(
    request: HttpRequest,
    procedure: str,
    status: str,
    query: Query[BulkTemplateQuery],
):
    _may_file(request)
    template_form = forms.TemplateForm(
        {"procedure": procedure, "status": status, "add_ons": _split(query.add_ons), "format": query.format}
    )
    if not template_form.is_valid():
        raise ApiError(422, "validation", errors=_form_problems(template_form))
    data = template_form.cleaned_data
    try:
        form = bulk_form(
            procedure=data["procedure"],
            status=data["status"],
            user_category=request.user.kind,
            add_ons=tuple(data["add_ons"]),
        )
    except ValueError:
        raise ApiError(
            422,
            "validation",
            errors=[
                {
                    "parameter": "add_ons" if data["add_ons"] else "status",
                    "code": "form",
                    "detail": _("This procedure and status cannot be filed online together."),
                }
            ],
        ) from None
    sheet = workbook.template_sheet(form, language=request_language(request))
    if data["format"] == "csv":
        return _download(workbook.csv_bytes(sheet), template_name(form, "csv"), CSV_TYPE)
    return _download(workbook.workbook_bytes(sheet), template_name(form, "xlsx"), XLSX_TYPE)


# --- imports ------------------------------------------------------------------------------------


@router.post(
    "/imports",
    response={202: BulkImportOut},
    auth=BULK,
    operation_id="bulk_import_create",
    summary="Upload a bulk file",
    description="Upload a filled template (multipart: `procedure`, `status`, `add_ons`, `file`). The file "
    "is read at once: one that is not a bulk file of this procedure and status, or holds more than 300 "
    "applicants, is refused (422, naming `file`, nothing stored). Otherwise its rows are queued and "
    "checked one by one exactly as single applications: 202 with the import and its `Location`; follow "
    "`GET /bulk/imports/{id}` until `finished`.",
    openapi_extra={
        "responses": {
            202: {"headers": {"Location": {"description": "The import.", "schema": {"type": "string"}}}},
            403: {
                "description": "This user may not file in bulk.",
                "content": {PROBLEM_MEDIA_TYPE: _PROBLEM},
            },
        }
    },
)
def bulk_import_create(
    request: HttpRequest,
    response: HttpResponse,
    procedure: Form[str],
    status: Form[str],
    file: File[UploadedFile],
    add_ons: Form[list[str] | None] = None,
):
    _may_file(request)
    upload_form = forms.UploadForm(
        {"procedure": procedure, "status": status, "add_ons": _split(add_ons or [])}, {"file": file}
    )
    if not upload_form.is_valid():
        raise ApiError(422, "validation", errors=_form_problems(upload_form))
    data = upload_form.cleaned_data
    try:
        bulk_import = services.bulk_import_create(
            user=request.user,
            procedure=data["procedure"],
            status=data["status"],
            add_ons=data["add_ons"],
            upload=data["file"],
            ip=request_ip(request) or None,
            filed_via=getattr(request, "api_client", None),
        )
    except FileRefused as refused:
        raise ApiError(
            422,
            "validation",
            errors=[{"parameter": "file", "code": refused.code, "detail": str(refused.message)}],
        ) from None
    response["Location"] = _import_url(bulk_import)
    return _import_out(bulk_import)


@router.get(
    "/imports",
    response=BulkImportPage,
    auth=BULK,
    operation_id="bulk_imports",
    summary="The user's bulk imports",
    description="The bulk files this user uploaded, newest first, paginated (at most 100 a page).",
)
def bulk_imports(request: HttpRequest, query: Query[BulkImportsQuery]):
    imports = access.bulk_imports_of(request.user).order_by("-created_at", "-id")
    if query.state:
        imports = imports.filter(state=query.state)
    items, meta = paginate(imports, query.page, query.page_size)
    return BulkImportPage(items=[BulkImportSummary(**_summary_fields(i)) for i in items], meta=meta)


@router.get(
    "/imports/{import_id}",
    response=BulkImportOut,
    auth=BULK,
    url_name="bulk_import",
    operation_id="bulk_import",
    summary="A bulk import and its progress",
    description="The import's state and counts (as the page's progress): rows checked so far, registered "
    "as drafts, in error, not registered, unchanged. An import whose run stopped is resumed by the "
    "periodic job within a minute; reading it changes nothing.",
)
def bulk_import(request: HttpRequest, import_id: UUID):
    return _import_out(access.bulk_import_of(request.user, import_id))


@router.get(
    "/imports/{import_id}/rows",
    response=BulkRowPage,
    auth=BULK,
    operation_id="bulk_import_rows",
    summary="The rows of a bulk import",
    description="Every row as checked, in file order: its state, the application it became (if any) and "
    "its errors, each naming the row, the column letter, the column's key and what to do "
    "(`state=error`: only the rows in error).",
)
def bulk_import_rows(request: HttpRequest, import_id: UUID, query: Query[BulkRowsQuery]):
    bulk_import = access.bulk_import_of(request.user, import_id)
    rows = bulk_import.rows.select_related("application").order_by("row_number")
    if query.state:
        rows = rows.filter(state=query.state)
    items, meta = paginate(rows, query.page, query.page_size)
    return BulkRowPage(items=[_row_out(row) for row in items], meta=meta)


def _row_out(row: BulkRow) -> BulkRowOut:
    language = request_language()
    states = dict(RowState.choices)
    return BulkRowOut(
        row=row.row_number,
        state=row.state,
        state_label=str(states.get(row.state, row.state)),
        application=row.application.public_id if row.application is not None else None,
        applicant=row.applicant_label,
        errors=[
            BulkRowError(
                row=error.get("row", row.row_number),
                column=error.get("column") or "",
                field=error.get("key") or "",
                item=error.get(f"header_{language}") or "",
                code=error.get("code") or "",
                detail=error.get(f"message_{language}") or "",
            )
            for error in row.errors
        ],
        submit_errors=[
            str(item.get(language, "")) if isinstance(item, dict) else str(item) for item in row.submit_errors
        ],
    )


def _annotated(request: HttpRequest, import_id: UUID, rows: str, kind: str) -> HttpResponse:
    bulk_import = access.bulk_import_of(request.user, import_id)
    if not bulk_import.finished:
        raise ApiError(409, "conflict", _("The file is still being checked; try again when it is finished."))
    sheet, texts = workbook.annotated_sheet(
        bulk_import, language=request_language(request), errors_only=rows == "errors"
    )
    stem = bulk_import.original_name.rsplit(".", 1)[0] or "bulk"
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:80] or "bulk"
    if kind == "csv":
        return _download(workbook.csv_bytes(sheet, errors_column=texts), f"{stem}-checked.csv", CSV_TYPE)
    return _download(workbook.workbook_bytes(sheet), f"{stem}-checked.xlsx", XLSX_TYPE)


_ANNOTATED_RESPONSES = {
    409: {"description": "The file is still being checked.", "content": {PROBLEM_MEDIA_TYPE: _PROBLEM}},
}


@router.get(
    "/imports/{import_id}/annotated.xlsx",
    auth=BULK,
    operation_id="bulk_import_annotated_xlsx",
    summary="The annotated workbook",
    description="The uploaded rows as read, each wrong cell filled light red with a comment holding the "
    "message in Japanese and English, and a sheet listing every error; correct it and upload it again "
    "(rows already registered are recognised, not duplicated). `rows=errors`: only the rows in error.",
    openapi_extra={
        "responses": {
            200: {"description": "The annotated workbook.", "content": {XLSX_TYPE: _BINARY}},
            **_ANNOTATED_RESPONSES,
        }
    },
)
def bulk_import_annotated_xlsx(request: HttpRequest, import_id: UUID, query: Query[BulkAnnotatedQuery]):
    return _annotated(request, import_id, query.rows, "xlsx")


@router.get(
    "/imports/{import_id}/annotated.csv",
    auth=BULK,
    operation_id="bulk_import_annotated_csv",
    summary="The annotated CSV",
    description="The uploaded rows as read, with a last column holding each row's errors (ignored when "
    "the file comes back). `rows=errors`: only the rows in error.",
    openapi_extra={
        "responses": {
            200: {"description": "The annotated CSV (UTF-8 with BOM).", "content": {"text/csv": _BINARY}},
            **_ANNOTATED_RESPONSES,
        }
    },
)
def bulk_import_annotated_csv(request: HttpRequest, import_id: UUID, query: Query[BulkAnnotatedQuery]):
    return _annotated(request, import_id, query.rows, "csv")
