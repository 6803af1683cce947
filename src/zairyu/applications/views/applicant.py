"""The applicant's side: start, the steps, documents, receipt method, confirmation, submission,
the list and the detail page. Every view reads applications through ``access``."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from zairyu.applications import access, forms, mynaportal, services
from zairyu.applications.checklist import checklist
from zairyu.applications.constants import EDITABLE_STATES, DocumentRole
from zairyu.applications.summary import METHOD_LABELS, answers_summary, fee_lines
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import django_form_class, role_field_id
from zairyu.catalogue.rules import window_only
from zairyu.core import clock
from zairyu.core.http import applicant_required, request_ip
from zairyu.documents.checks import format_size
from zairyu.documents.errors import DocumentRejected
from zairyu.documents.scanning import held_message


def refusal_to_form(form, refusal: services.ApplicationRefused) -> None:
    for problem in refusal.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message)


def _may_file(request: HttpRequest) -> bool:
    category = get_catalogue().user_categories.get(request.user.kind)
    return category is not None and category.files_online and not request.session.get("follow_up_only")


# The search is kept in the session, never in the address: a name in a query string would land in
# the access logs of the server and the proxies, in the browser's history and in Referer headers.
SEARCH_SESSION_KEY = "application_search"


def _search_filter(applications, data: dict[str, Any]):
    if data.get("q"):
        applications = applications.filter(
            Q(applicant_name__icontains=data["q"])
            | Q(receipt_number__icontains=data["q"])
            | Q(provisional_number__icontains=data["q"])
        )
    if data.get("state"):
        applications = applications.filter(state=data["state"])
    if data.get("procedure"):
        applications = applications.filter(procedure=data["procedure"])
    if data.get("submitted_from"):
        applications = applications.filter(receipt_date__gte=data["submitted_from"])
    if data.get("submitted_to"):
        applications = applications.filter(receipt_date__lte=data["submitted_to"])
    return applications


@applicant_required
@require_http_methods(["GET", "POST"])
def application_list(request: HttpRequest) -> HttpResponse:
    """The user's applications; the search is a POST kept in the session, then a redirect here
    (``?page=`` is all the address ever carries)."""
    saved = request.session.get(SEARCH_SESSION_KEY) or {}
    active = forms.SearchForm(saved) if saved else None
    if active is not None and not active.is_valid():  # e.g. a procedure no longer offered
        request.session.pop(SEARCH_SESSION_KEY, None)
        active = None
    status = 200
    if request.method == "POST":
        if "clear" in request.POST:
            request.session.pop(SEARCH_SESSION_KEY, None)
            return redirect("applications:list")
        search = forms.SearchForm(request.POST)
        if search.is_valid():
            request.session[SEARCH_SESSION_KEY] = {
                name: value.isoformat() if hasattr(value, "isoformat") else value
                for name, value in search.cleaned_data.items()
                if value not in (None, "")
            }
            return redirect("applications:list")
        status = 400  # the errors are shown; the list stays as the last search left it
    else:
        search = active or forms.SearchForm()
    applications = access.applications_of(request.user).select_related("applicant_resident")
    if active is not None:
        applications = _search_filter(applications, active.cleaned_data)
    page = Paginator(applications.order_by("-updated_at", "-id"), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/list.html",
        {"search": search, "searching": active is not None, "page": page, "may_file": _may_file(request)},
        status=status,
    )


def _warnings_key(start: services.Start) -> str:
    """What the filer saw the warnings for: "start anyway" holds only for the same start (a
    changed card number or procedure is warned about afresh). No personal data: a digest."""
    text = "|".join((start.procedure, start.status, ",".join(sorted(start.add_ons)), start.card_number))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@applicant_required
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest) -> HttpResponse:
    if not _may_file(request):
        if request.session.get("follow_up_only"):
            messages.info(request, _("Your account cannot file applications online."))
        else:  # the user category does not file online: the rule's words, as the API gives them
            messages.info(request, window_only().message)
        return redirect("applications:list")
    copy_from = None
    if request.GET.get("copy"):
        copy_from = access.application_of(request.user, request.GET["copy"])
    initial: dict[str, Any] = {}
    if copy_from is not None:
        initial = {
            "procedure": copy_from.procedure,
            "status": copy_from.status,
            "add_ons": copy_from.add_ons,
            "card_number": copy_from.applicant_resident.card_number if copy_from.applicant_resident else "",
        }
    form = forms.StartForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        start = services.Start(
            procedure=form.cleaned_data["procedure"],
            status=form.cleaned_data["status"],
            add_ons=tuple(form.cleaned_data["add_ons"]),
            card_number=form.cleaned_data.get("card_number", ""),
            organization_corporate_number=form.cleaned_data.get("organization", ""),
            facts=form.facts(),
            fact_reasons=form.fact_reasons(),
            birth_or_event_date=form.cleaned_data.get("birth_or_event_date"),
            parent_card_number=(form.cleaned_data.get("parent_card_number") or "").strip().upper(),
        )
        try:
            application = services.application_create(
                user=request.user,
                start=start,
                ip=request_ip(request),
                copy_from=copy_from,
                stop_at_warnings=request.POST.get("warnings_seen") != _warnings_key(start),
            )
        except services.ApplicationWarned as warned:
            return render(
                request,
                "applications/new.html",
                {
                    "form": form,
                    "copy_from": copy_from,
                    "warnings": warned.problems,
                    "warnings_key": _warnings_key(start),
                },
            )
        except services.ApplicationRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            duplicates = services.duplicate_drafts(user=request.user, application=application)
            if duplicates:
                messages.warning(
                    request,
                    _(
                        "You already have an unsubmitted application for this applicant and procedure. You can continue it from your list."
                    ),
                )
            form_spec = services.application_form(application)
            return redirect("applications:step", public_id=application.public_id, step=form_spec.step_ids[0])
    return render(request, "applications/new.html", {"form": form, "copy_from": copy_from})


def _step_nav(application, form_spec, current: str) -> list[dict[str, Any]]:
    nav = [
        {
            "id": step.id,
            "title": step.title,
            "done": step.id in application.steps_done,
            "current": step.id == current,
        }
        for step in form_spec.steps
    ]
    return nav


def _raw_answers(bound_form) -> dict[str, Any]:
    """What the user typed in one step: fields by id, repeatable sections as lists of rows."""
    answers: dict[str, Any] = {}
    for name, field in bound_form.fields.items():
        if not field.disabled:
            answers[name] = bound_form[name].value()
    for section_id, formset in bound_form.formsets.items():
        formset.is_valid()
        answers[section_id] = [
            {name: row[name].value() for name in row.fields}
            for row in formset.forms
            if any(row[name].value() not in (None, "", False) for name in row.fields)
        ]
    return answers


def _initial(answers: dict[str, Any]) -> dict[str, Any]:
    """Stored answers as the generated form's widgets expect them (yes/no radios take text)."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else value
        for key, value in answers.items()
    }


@applicant_required
@require_http_methods(["GET", "POST"])
def application_step(request: HttpRequest, public_id, step: str) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:detail", public_id=public_id)
    form_spec = services.application_form(application)
    if step not in form_spec.step_ids:
        raise Http404
    form_class = django_form_class(form_spec, step)
    other = dict(application.answers.items())
    if request.method == "POST":
        bound = form_class(request.POST, answers=other, today=clock.today())
        bound.is_valid()
        raw = _raw_answers(bound)
        result = services.application_save_step(
            application=application, user=request.user, step=step, answers=raw, ip=request_ip(request)
        )
        application.refresh_from_db()
        step_fields = {f.id for f in form_spec.step(step).fields}
        for error in result.errors:
            if error.field_id in bound.fields:
                if not bound.has_error(error.field_id):
                    bound.add_error(error.field_id, str(error.message))
            elif error.field_id not in step_fields:
                # e.g. the identity cross-check at 2-2 names an item entered at 2-1
                bound.add_error(None, str(error.message))
        if "autosave" in request.POST:
            return HttpResponse(status=204)  # saved in the background; the page stays as it is
        if result.changes:
            changes = ", ".join(
                f"{form_spec.field(c.field_id).label} → {c.after}"
                for c in result.changes
                if form_spec.has_field(c.field_id)
            )
            messages.info(
                request,
                _("We adjusted some entries to the required format; please check them: %(changes)s")
                % {"changes": changes},
            )
        if not result.errors:
            if "draft" in request.POST:
                messages.success(request, _("Saved. You can continue later, from any device."))
                return redirect("applications:list")
            ids = form_spec.step_ids
            index = ids.index(step)
            if index + 1 < len(ids):
                return redirect("applications:step", public_id=public_id, step=ids[index + 1])
            return redirect("applications:documents", public_id=public_id)
        if "draft" in request.POST:
            messages.info(
                request, _("Saved as it is. Some entries still need correcting before you can submit.")
            )
            return redirect("applications:list")
        form = bound
    else:
        form = form_class(initial=_initial(application.answers), answers=other, today=clock.today())
    step_spec = form_spec.step(step)
    sections = [
        {
            "spec": section,
            "fields": [form[f.id] for f in section.fields if f.id in form.fields]
            if not section.repeatable
            else [],
            "formset": form.formsets.get(section.id) if section.repeatable else None,
        }
        for section in step_spec.sections
    ]
    return render(
        request,
        "applications/step.html",
        {
            "application": application,
            "form": form,
            "sections": sections,
            "step": step_spec,
            "nav": _step_nav(application, form_spec, step),
            "form_spec": form_spec,
            "type_from_card": _type_from_card(request.user, application, step_spec),
        },
    )


def _type_from_card(user, application, step_spec) -> bool:
    """Say on the step with the identity items why they are not filled in (ADR 0014)."""
    from zairyu.applications.disclosure import registry_disclosure

    if application.applicant_resident is None:
        return False
    name_field = role_field_id("identity.roman_name")
    if not any(f.id == name_field for section in step_spec.sections for f in section.fields):
        return False
    return not registry_disclosure(user, application.applicant_resident).prefill


def _mynaportal_fetch(request: HttpRequest, application: Any) -> None:
    """F-18: the self-applicant's own tax data attached from Mynaportal, or why not."""
    try:
        year = int(request.POST.get("fiscal_year", ""))
        services.application_fetch_tax_data(
            application=application, user=request.user, fiscal_year=year, ip=request_ip(request)
        )
    except (ValueError, services.ApplicationRefused) as exc:
        problems = exc.problems if isinstance(exc, services.ApplicationRefused) else []
        for problem in problems or [None]:
            messages.error(request, problem.message if problem else _("Choose one of the listed years."))
    else:
        messages.success(request, _("Your income and resident-tax data from Mynaportal is attached."))


UPLOAD_FORMS = {
    "document": forms.DocumentUploadForm,
    "photo": forms.PhotoUploadForm,
    "organization_part": forms.OrganizationPartForm,
}


def _attach(request: HttpRequest, application: Any, kind: str, bound: Any) -> Any:
    """The file of a valid upload form of ``kind`` attached (checked and scanned by the service)."""
    if kind == "photo":
        role, document_type, upload = DocumentRole.PHOTO, "face_photo", bound.cleaned_data["photo"]
    elif kind == "organization_part":
        role, document_type, upload = (
            DocumentRole.ORGANIZATION_PART,
            "organization_part",
            bound.cleaned_data["file"],
        )
    else:
        role, document_type, upload = (
            DocumentRole.SUPPORTING,
            bound.cleaned_data["document_type"],
            bound.cleaned_data["file"],
        )
    return services.application_attach(
        application=application,
        user=request.user,
        upload=upload,
        role=role,
        document_type=document_type,
        ip=request_ip(request),
        **({"taken_within_6_months": True} if kind == "photo" else {}),
    )


def _documents_page(
    request: HttpRequest, application: Any, form_spec: Any, bound_forms: dict[str, Any], status: int
) -> HttpResponse:
    attachments = list(
        application.documents.select_related("document").filter(document__deleted_at__isnull=True)
    )
    return render(
        request,
        "applications/documents.html",
        {
            "application": application,
            "attachments": attachments,
            "document_form": bound_forms.get("document") or forms.DocumentUploadForm(),
            "photo_form": bound_forms.get("photo") or forms.PhotoUploadForm(),
            "org_part_form": bound_forms.get("organization_part") or forms.OrganizationPartForm(),
            "needs_org_part": form_spec.organization_part_as_pdf,
            "needs_photo": services.photo_required(application),
            "checklist": checklist(
                procedure=application.procedure,
                group=application.group,
                user_category=application.user_category,
            ),
            "attached_types": {a.document_type for a in attachments},
            "mynaportal_years": mynaportal.available_years(clock.today())
            if request.user.kind == "U1"
            else [],
            "data": application.data.all(),
            "total_size": format_size(sum(a.document.size for a in attachments)),
            "nav": _step_nav(application, form_spec, ""),
        },
        status=status,
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def application_documents(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:detail", public_id=public_id)
    form_spec = services.application_form(application)
    if request.method != "POST":
        return _documents_page(request, application, form_spec, {}, 200)
    kind = request.POST.get("upload")
    if kind == "mynaportal":
        _mynaportal_fetch(request, application)
        return redirect("applications:documents", public_id=public_id)
    form_class = UPLOAD_FORMS.get(kind or "")
    if form_class is None:
        raise Http404
    bound = form_class(request.POST, request.FILES)
    if bound.is_valid():
        try:
            attached = _attach(request, application, kind or "", bound)
        except DocumentRejected as rejected:
            bound.add_error(None, rejected.message)
        else:
            if attached.document.is_held:  # the virus scanner was unreachable (ADR 0013)
                messages.info(request, held_message(attached.document.original_name))
            else:
                messages.success(request, _("The file was checked and attached."))
            return redirect("applications:documents", public_id=public_id)
    return _documents_page(request, application, form_spec, {kind or "document": bound}, 400)


@applicant_required
@require_POST
def application_detach(request: HttpRequest, public_id, attachment_id: int) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if not application.documents.filter(pk=attachment_id).exists():
        raise Http404
    services.application_detach(
        application=application, user=request.user, attachment_id=attachment_id, ip=request_ip(request)
    )
    messages.success(request, _("The file was removed."))
    return redirect("applications:documents", public_id=public_id)


@applicant_required
def application_document(request: HttpRequest, public_id, attachment_id: int) -> HttpResponse:
    from zairyu.documents.views import document_response

    application = access.application_of(request.user, public_id)
    attachment = application.documents.select_related("document").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return document_response(request, attachment.document, inline=request.GET.get("download") != "1")


@applicant_required
@require_http_methods(["GET", "POST"])
def application_receipt(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:detail", public_id=public_id)
    options, document_labels = services.application_receipt_options(application)
    choices = [(code, METHOD_LABELS.get(code, code)) for code in options.choices]
    current = application.receipt_methods.get(options.document)
    form = forms.ReceiptMethodForm(
        request.POST or None, choices=choices, initial={"method": current or options.default}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_set_receipt_method(
                application=application,
                user=request.user,
                method=form.cleaned_data["method"],
                ip=request_ip(request),
            )
        except services.ApplicationRefused as refusal:
            refusal_to_form(form, refusal)
        else:
            return redirect("applications:confirm", public_id=public_id)
    form_spec = services.application_form(application)
    return render(
        request,
        "applications/receipt.html",
        {
            "application": application,
            "form": form,
            "options": options,
            "nav": _step_nav(application, form_spec, ""),
        },
    )


@applicant_required
def application_confirm(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:detail", public_id=public_id)
    form_spec = services.application_form(application)
    problems = services.application_problems(application, today=clock.today(), at_submission=True)
    if not request.session.get(f"submit-key-{application.pk}"):
        request.session[f"submit-key-{application.pk}"] = secrets.token_urlsafe(16)
    return render(
        request,
        "applications/confirm.html",
        {
            "application": application,
            "summary": answers_summary(application, form_spec),
            "problems": [p for p in problems if p.blocks],
            "warnings": [p for p in problems if not p.blocks],
            "fees": fee_lines(application),
            "attachments": application.documents.select_related("document").filter(
                document__deleted_at__isnull=True
            ),
            "data": application.data.all(),
            "submit_key": request.session[f"submit-key-{application.pk}"],
            "receipt_methods": {k: METHOD_LABELS.get(v, v) for k, v in application.receipt_methods.items()},
            "nav": _step_nav(application, form_spec, ""),
        },
    )


@applicant_required
@require_POST
def application_submit(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that everything is correct, then submit."))
        return redirect("applications:confirm", public_id=public_id)
    try:
        services.application_submit(
            application_id=application.pk,
            user=request.user,
            submission_key=request.POST.get("submission_key", ""),
            ip=request_ip(request),
        )
    except services.ApplicationRefused as refusal:
        for problem in refusal.problems:
            messages.error(request, problem.message)
        return redirect("applications:confirm", public_id=public_id)
    return redirect("applications:detail", public_id=public_id)


@applicant_required
def application_detail(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    form_spec = services.application_form(application)
    return render(
        request,
        "applications/detail.html",
        {
            "application": application,
            "summary": answers_summary(application, form_spec),
            "fees": fee_lines(application),
            "attachments": application.documents.select_related("document").filter(
                document__deleted_at__isnull=True
            ),
            "events": application.events.all(),
            "data": application.data.all(),
            "office": get_catalogue().offices.get(application.office),
            "receipt_methods": {k: METHOD_LABELS.get(v, v) for k, v in application.receipt_methods.items()},
            "editable": application.state in EDITABLE_STATES,
            "first_step": form_spec.step_ids[0],
        },
    )
