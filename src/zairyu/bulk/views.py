"""The bulk pages of agents and organization staff: templates, upload, the result of an import with
every error named by its cell, the annotated workbook, attachments by ZIP, submitting many.
Every view reads imports through ``access``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zairyu.accounts.kinds import BULK_FILING_KINDS
from zairyu.applications.constants import EDITABLE_STATES, ApplicationState
from zairyu.bulk import access, forms, services, workbook
from zairyu.bulk.columns import bulk_form, template_name
from zairyu.bulk.constants import ImportState, RowState, limit
from zairyu.bulk.parsing import FileRefused
from zairyu.bulk.zipfiles import bulk_attach_zip
from zairyu.catalogue import get_catalogue
from zairyu.core.http import applicant_required, request_ip, request_language

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _index(request: HttpRequest, *, upload_form=None, template_form=None, status: int = 200) -> HttpResponse:
    allowed, reason = services.bulk_may_file(request.user)
    initial = {k: request.GET.get(k) for k in ("procedure", "status") if request.GET.get(k)}
    return render(
        request,
        "bulk/index.html",
        {
            "allowed": allowed,
            "reason": reason,
            "template_form": template_form or forms.TemplateForm(initial=initial),
            "upload_form": upload_form or forms.UploadForm(initial=initial),
            "imports": access.bulk_imports_of(request.user)[:20],
            "max_rows": limit("MAX_ROWS"),
        },
        status=status,
    )


@applicant_required
@require_GET
def bulk_index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@applicant_required
@require_GET
def bulk_template(request: HttpRequest) -> HttpResponse:
    template_form = forms.TemplateForm(request.GET)
    if not template_form.is_valid():
        return _index(request, template_form=template_form, status=400)
    data = template_form.cleaned_data
    user_category = request.user.kind if request.user.kind in BULK_FILING_KINDS else "U4"
    try:
        form = bulk_form(
            procedure=data["procedure"],
            status=data["status"],
            user_category=user_category,
            add_ons=tuple(data["add_ons"]),
        )
    except ValueError:
        template_form.add_error(None, _("This procedure and status cannot be filed online together."))
        return _index(request, template_form=template_form, status=400)
    sheet = workbook.template_sheet(form, language=request_language(request))
    if data["format"] == "csv":
        return _download(workbook.csv_bytes(sheet), template_name(form, "csv"), CSV_TYPE)
    return _download(workbook.workbook_bytes(sheet), template_name(form, "xlsx"), XLSX_TYPE)


@applicant_required
@require_POST
def bulk_upload(request: HttpRequest) -> HttpResponse:
    upload_form = forms.UploadForm(request.POST, request.FILES)
    if upload_form.is_valid():
        data = upload_form.cleaned_data
        try:
            bulk_import = services.bulk_import_create(
                user=request.user,
                procedure=data["procedure"],
                status=data["status"],
                add_ons=data["add_ons"],
                upload=data["file"],
                ip=request_ip(request),
            )
        except FileRefused as refused:
            upload_form.add_error("file", refused.message)
        else:
            return redirect("bulk:import", public_id=bulk_import.public_id)
    return _index(request, upload_form=upload_form, status=400)


def _progress(bulk_import) -> dict[str, Any]:
    return {
        "state": bulk_import.state,
        "finished": bulk_import.finished,
        "done": bulk_import.rows_done,
        "total": bulk_import.rows_total,
        "draft": bulk_import.rows_draft,
        "error": bulk_import.rows_error,
        "refused": bulk_import.rows_refused,
        "unchanged": bulk_import.rows_unchanged,
    }


@applicant_required
@require_GET
def bulk_import_detail(request: HttpRequest, public_id) -> HttpResponse:
    bulk_import = access.bulk_import_of(request.user, public_id)
    rows = list(bulk_import.rows.select_related("application").order_by("row_number"))
    message_key = "message_en" if request_language(request) == "en" else "message_ja"
    header_key = "header_en" if request_language(request) == "en" else "header_ja"

    def listed(row, problem: dict[str, Any]) -> dict[str, Any]:
        return {
            "row": problem["row"],
            "column": problem.get("column") or "",
            "item": problem.get(header_key) or "",
            "message": problem[message_key],
            "code": problem.get("code", ""),
            "row_id": row.pk,
        }

    errors = [
        listed(row, error)
        for row in rows
        if row.state in (RowState.ERROR, RowState.REFUSED)
        for error in row.errors
    ]
    # The rows registered with a warning (an extension filed early): nothing to correct, to read.
    warnings = [
        listed(row, warning)
        for row in rows
        if row.state in (RowState.DRAFT, RowState.ERROR)
        for warning in row.warnings
    ]
    catalogue = get_catalogue()
    return render(
        request,
        "bulk/import.html",
        {
            "bulk_import": bulk_import,
            "procedure": catalogue.procedures[bulk_import.procedure].name,
            "add_ons": [catalogue.procedures[code].name for code in bulk_import.add_ons],
            "status_name": catalogue.entries[bulk_import.status].name,
            "rows": rows,
            "errors": errors,
            "warnings": warnings,
            "progress": _progress(bulk_import),
            "running": bulk_import.state in (ImportState.QUEUED, ImportState.RUNNING),
            "has_errors": any(r.state in (RowState.ERROR, RowState.REFUSED) for r in rows),
            "drafts": sum(
                1 for r in rows if r.application is not None and r.application.state in EDITABLE_STATES
            ),
            "language": request_language(request),
        },
    )


@applicant_required
@require_GET
def bulk_import_progress(request: HttpRequest, public_id) -> JsonResponse:
    bulk_import = access.bulk_import_of(request.user, public_id)
    return JsonResponse(_progress(bulk_import))


@applicant_required
@require_GET
def bulk_annotated(request: HttpRequest, public_id, kind: str) -> HttpResponse:
    bulk_import = access.bulk_import_of(request.user, public_id)
    if kind not in ("xlsx", "csv") or not bulk_import.finished:
        raise Http404
    sheet, texts = workbook.annotated_sheet(
        bulk_import, language=request_language(request), errors_only=request.GET.get("rows") == "errors"
    )
    stem = bulk_import.original_name.rsplit(".", 1)[0] or "bulk"
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:80] or "bulk"
    if kind == "csv":
        return _download(workbook.csv_bytes(sheet, errors_column=texts), f"{stem}-checked.csv", CSV_TYPE)
    return _download(workbook.workbook_bytes(sheet), f"{stem}-checked.xlsx", XLSX_TYPE)


@applicant_required
@require_POST
def bulk_delete_errors(request: HttpRequest, public_id) -> HttpResponse:
    bulk_import = access.bulk_import_of(request.user, public_id)
    chosen = request.POST.getlist("row")
    row_ids = None if request.POST.get("all") or not chosen else [int(v) for v in chosen if v.isdigit()]
    deleted = services.bulk_rows_delete(
        bulk_import=bulk_import, user=request.user, row_ids=row_ids, ip=request_ip(request)
    )
    messages.success(request, _("%(count)s rows in error were deleted.") % {"count": deleted})
    return redirect("bulk:import", public_id=public_id)


def _editable_rows(bulk_import) -> list[Any]:
    return [
        row
        for row in bulk_import.rows.select_related("application").order_by("row_number")
        if row.application is not None
    ]


@applicant_required
@require_http_methods(["GET", "POST"])
def bulk_attachments(request: HttpRequest, public_id) -> HttpResponse:
    bulk_import = access.bulk_import_of(request.user, public_id)
    zip_form = forms.ZipForm()
    results = None
    status = 200
    if request.method == "POST":
        zip_form = forms.ZipForm(request.POST, request.FILES)
        if zip_form.is_valid():
            try:
                results = bulk_attach_zip(
                    bulk_import=bulk_import,
                    user=request.user,
                    upload=zip_form.cleaned_data["file"],
                    taken_within_6_months=zip_form.cleaned_data["taken_within_6_months"],
                    ip=request_ip(request),
                )
            except FileRefused as refused:
                zip_form.add_error("file", refused.message)
                status = 400
            else:
                attached = sum(1 for r in results if r.ok)
                messages.success(
                    request, _("%(count)s files were checked and attached.") % {"count": attached}
                )
        else:
            status = 400
    from zairyu.applications.checklist import document_types

    rows = _editable_rows(bulk_import)
    return render(
        request,
        "bulk/attachments.html",
        {
            "bulk_import": bulk_import,
            "zip_form": zip_form,
            "results": results,
            "failed": [r for r in results or [] if not r.ok],
            "rows": rows,
            "document_types": document_types(),
        },
        status=status,
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def bulk_submit_view(request: HttpRequest, public_id) -> HttpResponse:
    from zairyu.applications import services as application_services
    from zairyu.applications.summary import METHOD_LABELS

    bulk_import = access.bulk_import_of(request.user, public_id)
    rows = _editable_rows(bulk_import)
    results = None
    if request.method == "POST":
        chosen = {int(v) for v in request.POST.getlist("application") if v.isdigit()}
        if not chosen:
            messages.error(request, _("Choose the applications to submit."))
        elif request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that everything is correct, then submit."))
        else:
            results = services.bulk_submit(
                bulk_import=bulk_import,
                user=request.user,
                application_ids=chosen,
                receipt_method=request.POST.get("receipt_method", ""),
                ip=request_ip(request),
            )
            ok = sum(1 for r in results if r.ok)
            if ok:
                messages.success(request, _("%(count)s applications were submitted.") % {"count": ok})
            if len(results) - ok:
                messages.error(
                    request,
                    _("%(count)s applications could not be submitted: see the reasons below.")
                    % {"count": len(results) - ok},
                )
            rows = _editable_rows(bulk_import)
    methods: list[tuple[str, Any]] = []
    pending = [r for r in rows if r.application.state in EDITABLE_STATES]
    if pending:
        options, _document = application_services.application_receipt_options(pending[0].application)
        methods = [(code, METHOD_LABELS.get(code, code)) for code in options.choices]
    return render(
        request,
        "bulk/submit.html",
        {
            "bulk_import": bulk_import,
            "rows": rows,
            "pending": pending,
            "results": results,
            "methods": methods,
            "draft_state": ApplicationState.DRAFT,
            "language": request_language(request),
        },
    )
