"""The officers' portal: the work queues of the office, the review page of one application
with its actions, the attachments and issued documents, and the scorecard.

Every object is read through ``review.access`` (another office's is a 404) and every change is
a service of ``review.services`` (which looks the application up within the office again, under
a lock, and checks its state).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zairyu.accounts.constants import OfficerRole
from zairyu.applications.constants import ApplicationState, DocumentRole
from zairyu.applications.models import ApplicationRequest
from zairyu.applications.rules.crosscheck import crosscheck, identity_from_answers
from zairyu.applications.services import application_form
from zairyu.applications.summary import answers_summary, fee_lines, filing_notes, stated_facts
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.core.http import officer_required, request_ip
from zairyu.review import access, forms, services
from zairyu.review import scorecard as scorecards
from zairyu.review.constants import IssueKind, IssueMethod, IssueState, PostalItem, Queue
from zairyu.review.models import Decision, DocumentRequest, EcoeRecord, Issue, Payment, WindowCount

PAGE_SIZE = 50


def _filters(form: forms.QueueFilterForm) -> access.QueueFilters:
    if not form.is_valid():
        return access.QueueFilters()
    data = form.cleaned_data
    return access.QueueFilters(
        procedure=data.get("procedure") or "",
        status=data.get("status") or "",
        received_from=data.get("received_from"),
        received_to=data.get("received_to"),
        older_than_days=data.get("older_than_days"),
        assignee=data.get("assignee") or "",
    )


@officer_required
def queue(request: HttpRequest) -> HttpResponse:
    officers = list(access.office_officers(request.user))
    form = forms.QueueFilterForm(request.GET or None, officers=officers)
    name = request.GET.get("queue") or Queue.SUBMITTED
    if name not in Queue.values:
        name = Queue.SUBMITTED
    filters = _filters(form)
    if name == Queue.REQUESTS:
        paginator = Paginator(access.queue_requests(request.user, filters), PAGE_SIZE)
    else:
        paginator = Paginator(access.queue_applications(request.user, name, filters), PAGE_SIZE)
        # Counted without the row's joins and columns: an index-only count.
        paginator.count = access.queue_filtered(request.user, name, filters).count()
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = access.queue_counts(request.user)
    return render(
        request,
        "review/officer/queue.html",
        {
            "form": form,
            "filter_choices": _filter_choices(form),
            "queue": name,
            "queue_label": Queue(name).label,
            "tabs": [(value, label, counts[value]) for value, label in Queue.choices],
            "page": page,
            "rows": _rows(page.object_list) if name != Queue.REQUESTS else None,
            "query": query.urlencode(),
            "office": get_catalogue().offices.get(request.user.office),
        },
    )


def _rows(applications) -> list[dict[str, Any]]:
    """The queue's rows, ready to print (a queue page is rendered often: keep the template flat)."""
    today = clock.today()
    entries = get_catalogue().entries
    base = reverse("review:queue")
    rows = []
    for item in applications:
        item.age_days = (today - item.receipt_date).days if item.receipt_date else None
        entry = entries.get(item.status)
        rows.append(
            {
                "pk": item.pk,
                "url": f"{base}applications/{item.pk}/",
                "state": item.state,
                "received": item.receipt_date.isoformat() if item.receipt_date else "",
                "age": "" if item.age_days is None else item.age_days,
                "number": item.receipt_number or item.provisional_number,
                "procedures": " + ".join([item.procedure, *item.add_ons]),
                "status": str(entry.name) if entry else item.status,
                "applicant": item.applicant_name,
                "assignee": getattr(item, "assignee_name", None) or "—",
                "deadline": getattr(item, "documents_deadline", None),
            }
        )
    return rows


def _filter_choices(form: forms.QueueFilterForm) -> dict[str, Any]:
    """The filter's select options with the chosen value marked (printed by the template's own
    loop: the form widgets' per-option templates are slow for the long list of statuses)."""
    data = form.data if form.is_bound else {}

    def options(name: str) -> list[tuple[str, str, bool]]:
        chosen = str(data.get(name, ""))
        out = []
        for value, label in form.fields[name].choices:
            if isinstance(label, (list, tuple)):
                out += [(str(v), f"{value}: {text}", str(v) == chosen) for v, text in label]
            else:
                out.append((str(value), str(label), str(value) == chosen))
        return out

    return {name: options(name) for name in ("procedure", "status", "assignee")}


# --- the review page --------------------------------------------------------------------------


def _identity(application) -> tuple[Any, Any]:
    resident = application.applicant_resident
    if resident is None:
        return None, None
    answers = application.answers or {}
    return resident, crosscheck(entered=identity_from_answers(answers), resident=resident)


def _page(request: HttpRequest, application, *, status: int = 200, **bound: Any) -> HttpResponse:
    officer = request.user
    state = application.state
    decision = Decision.objects.filter(application=application).prefetch_related("add_ons").first()
    issue = Issue.objects.filter(application=application).first()
    open_request = DocumentRequest.objects.filter(application=application, state="open").first()
    resident, check = _identity(application)
    attachments = list(
        application.documents.select_related("document").filter(document__deleted_at__isnull=True)
    )
    catalogue = get_catalogue()
    officers = list(access.office_officers(officer))
    context: dict[str, Any] = {
        "application": application,
        "procedures": [catalogue.procedures[code] for code in (application.procedure, *application.add_ons)],
        "status_entry": catalogue.entries.get(application.status),
        "office": catalogue.offices.get(application.office),
        "summary": answers_summary(application, application_form(application)),
        "attachments": attachments,
        "photo": next((a for a in attachments if a.role == DocumentRole.PHOTO), None),
        "data": application.data.all(),
        "resident": resident,
        "resident_status": catalogue.entries.get(resident.status) if resident else None,
        "crosscheck": check,
        "events": application.events.select_related("actor"),
        "requests": application.requests.select_related("decided_by"),
        "document_requests": application.document_requests.select_related("requested_by", "answer__document"),
        "open_request": open_request,
        "decision": decision,
        "issue": issue,
        "payment": Payment.objects.filter(application=application).first(),
        "ecoe": EcoeRecord.objects.filter(issue=issue).first() if issue else None,
        "fees": fee_lines(application),
        "assignment": getattr(application, "assignment", None),
        "age_days": (clock.today() - application.receipt_date).days if application.receipt_date else None,
        "is_supervisor": officer.role in (OfficerRole.SUPERVISOR, OfficerRole.ADMINISTRATOR),
        "receipt_methods": application.receipt_methods,
        "stated_facts": stated_facts(application),
        "filing_notes": filing_notes(application),
        "can_take_up": state == ApplicationState.SUBMITTED,
        "can_review": state == ApplicationState.UNDER_REVIEW,
        "can_put_back": state == ApplicationState.ERROR_RECEIPT,
        "postal": issue is not None
        and issue.method == IssueMethod.POST
        and issue.state == IssueState.WAITING
        and state == ApplicationState.AWAITING_ISSUE,
        "window": issue is not None
        and issue.method == IssueMethod.WINDOW
        and issue.state == IssueState.WAITING
        and state == ApplicationState.COMPLETE,
        "today": clock.today(),
        "assign_form": bound.get("assign_form")
        or forms.AssignForm(
            officers=officers,
            initial={"assignee": getattr(getattr(application, "assignment", None), "officer_id", "")},
        ),
        "document_request_form": bound.get("document_request_form") or forms.DocumentRequestForm(),
        "decision_form": bound.get("decision_form") or forms.DecisionForm(application=application),
        "postal_form": bound.get("postal_form") or forms.PostalItemsForm(),
        "post_form": bound.get("post_form") or forms.PostForm(),
        "window_form": bound.get("window_form") or forms.WindowHandOverForm(),
        "decline_forms": bound.get("decline_forms") or {},
    }
    if context["postal"]:
        context["required_items"] = [
            (item, PostalItem(item).label) for item in services.required_postal_items(issue, decision)
        ]
        context["missing_items"] = set(services.missing_postal_items(issue, decision))
        context["overdue"] = issue.documents_due_on is not None and clock.today() > issue.documents_due_on
    return render(request, "review/officer/application.html", context, status=status)


@officer_required
def application(request: HttpRequest, application_id: int) -> HttpResponse:
    return _page(request, access.application_for_officer(request.user, application_id))


def _refused(request: HttpRequest, application, refused: services.ReviewRefused, form=None, name: str = ""):
    """Show a refusal: on the bound form when the input is at fault, else as a message."""
    if form is not None and refused.errors:
        for field, message in refused.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return _page(request, application, status=400, **{name: form})
    messages.error(request, refused.message)
    return redirect("review:application", application_id=application.pk)


def _done(request: HttpRequest, application, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("review:application", application_id=application.pk)


@officer_required
@require_POST
def take_up(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    try:
        services.application_take_up(
            application_id=application.pk, officer=request.user, ip=request_ip(request)
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused)
    return _done(request, application, _("Taken up: the application is under review and assigned to you."))


@officer_required
@require_POST
def assign(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.AssignForm(request.POST, officers=list(access.office_officers(request.user)))
    if not form.is_valid():
        return _page(request, application, status=400, assign_form=form)
    try:
        services.application_assign(
            application_id=application.pk,
            officer=request.user,
            assignee_id=int(form.cleaned_data["assignee"]),
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused, form, "assign_form")
    return _done(request, application, _("The application was reassigned."))


@officer_required
@require_POST
def request_documents(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.DocumentRequestForm(request.POST)
    if not form.is_valid():
        return _page(request, application, status=400, document_request_form=form)
    try:
        services.documents_request(
            application_id=application.pk,
            officer=request.user,
            message=form.cleaned_data["message"],
            deadline=form.cleaned_data["deadline"],
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused, form, "document_request_form")
    return _done(request, application, _("The filer was asked for the documents by e-mail."))


@officer_required
@require_POST
def decide(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.DecisionForm(request.POST, application=application)
    if not form.is_valid():
        return _page(request, application, status=400, decision_form=form)
    data = form.cleaned_data
    try:
        decision = services.application_decide(
            application_id=application.pk,
            officer=request.user,
            outcome=data["outcome"],
            status=data.get("status") or "",
            period_of_stay=data.get("period_of_stay") or "",
            stay_expires_on=data.get("stay_expires_on"),
            reason=data.get("reason") or "",
            add_ons=form.add_on_outcomes(),
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused, form, "decision_form")
    application.refresh_from_db()
    if not decision.permitted:
        text = _("Denied. The filer was e-mailed the reason.")
    elif application.state == ApplicationState.AWAITING_ISSUE:
        text = _("Permitted. The filer was e-mailed what to send; the result waits for it.")
    elif Issue.objects.filter(application=application, kind=IssueKind.ECOE).exists():
        text = _("Permitted. The electronic certificate of eligibility was issued and e-mailed.")
    else:
        text = _("Permitted. The filer was e-mailed what to bring to the window.")
    return _done(request, application, text)


@officer_required
@require_POST
def postal_items(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.PostalItemsForm(request.POST)
    form.is_valid()
    try:
        services.postal_items_record(
            application_id=application.pk,
            officer=request.user,
            envelope=form.cleaned_data.get("envelope", False),
            fee_form=form.cleaned_data.get("fee_form", False),
            card=form.cleaned_data.get("card", False),
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused)
    return _done(request, application, _("Recorded what arrived."))


@officer_required
@require_POST
def remind(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    try:
        services.postal_reminder_send(
            application_id=application.pk, officer=request.user, ip=request_ip(request)
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused)
    return _done(request, application, _("The filer was reminded by e-mail."))


@officer_required
@require_POST
def issue_post(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.PostForm(request.POST)
    if not form.is_valid():
        return _page(request, application, status=400, post_form=form)
    try:
        services.issue_by_post(
            application_id=application.pk,
            officer=request.user,
            tracking_number=form.cleaned_data["tracking_number"],
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused, form, "post_form")
    return _done(request, application, _("Issued and posted. The filer was e-mailed the tracking number."))


@officer_required
@require_POST
def issue_window(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    form = forms.WindowHandOverForm(request.POST)
    form.is_valid()
    try:
        services.issue_at_window(
            application_id=application.pk,
            officer=request.user,
            fee_stamps_received=form.cleaned_data.get("fee_stamps_received", False),
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused, form, "window_form")
    return _done(request, application, _("Handed over at the window; the registry is updated."))


@officer_required
@require_POST
def put_back(request: HttpRequest, application_id: int) -> HttpResponse:
    application = access.application_for_officer(request.user, application_id)
    try:
        services.application_put_back(
            application_id=application.pk, officer=request.user, ip=request_ip(request)
        )
    except services.ReviewRefused as refused:
        return _refused(request, application, refused)
    return _done(
        request, application, _("The receipt number was obtained; the application is back in the queue.")
    )


@officer_required
@require_POST
def request_accept(request: HttpRequest, request_id: int) -> HttpResponse:
    item = access.request_for_officer(request.user, request_id)
    try:
        services.application_request_accept(request_id=item.pk, officer=request.user, ip=request_ip(request))
    except services.ReviewRefused as refused:
        return _refused(request, item.application, refused)
    if item.kind == ApplicationRequest.Kind.WITHDRAWAL:
        return _done(request, item.application, _("The application is withdrawn; the filer was e-mailed."))
    return _done(request, item.application, _("The correction is accepted; the filer was e-mailed."))


@officer_required
@require_POST
def request_decline(request: HttpRequest, request_id: int) -> HttpResponse:
    item = access.request_for_officer(request.user, request_id)
    form = forms.DeclineForm(request.POST, prefix=f"decline-{item.pk}")
    if not form.is_valid():
        return _page(request, item.application, status=400, decline_forms={item.pk: form})
    try:
        services.application_request_decline(
            request_id=item.pk,
            officer=request.user,
            reason=form.cleaned_data["reason"],
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        return _refused(request, item.application, refused)
    return _done(request, item.application, _("The request was declined; the filer was e-mailed the reason."))


@officer_required
def attachment(request: HttpRequest, application_id: int, attachment_id: int) -> HttpResponse:
    from zairyu.documents.views import document_response

    item = access.attachment_for_officer(request.user, application_id, attachment_id)
    return document_response(request, item.document, inline=request.GET.get("download") != "1")


@officer_required
def issued_document(request: HttpRequest, application_id: int) -> HttpResponse:
    from zairyu.documents.views import document_response

    document = access.issued_document_for_officer(request.user, application_id)
    return document_response(request, document, inline=request.GET.get("download") != "1")


@officer_required
def form_pdf(request: HttpRequest, application_id: int) -> HttpResponse:
    from zairyu.applications.pdf import application_form_pdf

    application = access.application_for_officer(request.user, application_id)
    response = HttpResponse(application_form_pdf(application, language="ja"), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="application-{application.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- scorecard --------------------------------------------------------------------------------


def _scorecard_page(request: HttpRequest, *, status: int = 200, **bound: Any) -> HttpResponse:
    officer = request.user
    own = access.officer_office(officer)
    administrator = officer.role == OfficerRole.ADMINISTRATOR
    offices = list(get_catalogue().offices) if administrator else [own]
    scope = request.GET.get("scope", "office")
    card = scorecards.scorecard(office=None if scope == "all" else own)
    return render(
        request,
        "review/officer/scorecard.html",
        {
            "card": card,
            "charts": scorecards.charts(card),
            "scope": scope,
            "office": get_catalogue().offices.get(own),
            "count_form": bound.get("count_form")
            or forms.WindowCountForm(offices=offices, initial={"office": own}),
            "import_form": bound.get("import_form") or forms.WindowCountImportForm(),
            "import_errors": bound.get("import_errors") or [],
            "recent_counts": WindowCount.objects.filter(office__in=offices).select_related("entered_by")[:24],
        },
        status=status,
    )


@officer_required
def scorecard(request: HttpRequest) -> HttpResponse:
    return _scorecard_page(request)


@officer_required
@require_POST
def window_count(request: HttpRequest) -> HttpResponse:
    officer = request.user
    offices = list(get_catalogue().offices) if officer.role == OfficerRole.ADMINISTRATOR else [officer.office]
    form = forms.WindowCountForm(request.POST, offices=offices)
    if not form.is_valid():
        return _scorecard_page(request, status=400, count_form=form)
    data = form.cleaned_data
    try:
        services.window_count_set(
            officer=officer,
            office=data["office"],
            month=data["month"],
            procedure=data["procedure"],
            count=data["count"],
            ip=request_ip(request),
        )
    except services.ReviewRefused as refused:
        for field, message in (refused.errors or {"": refused.message}).items():
            form.add_error(field or None, message)
        return _scorecard_page(request, status=400, count_form=form)
    messages.success(request, _("The window count was saved."))
    return redirect("review:scorecard")


@officer_required
@require_POST
def window_count_import(request: HttpRequest) -> HttpResponse:
    officer = request.user
    form = forms.WindowCountImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _scorecard_page(request, status=400, import_form=form)
    allowed = set(get_catalogue().offices) if officer.role == OfficerRole.ADMINISTRATOR else {officer.office}
    upload = form.cleaned_data["file"]
    rows, errors = scorecards.parse_window_counts(
        upload.read(scorecards.CSV_MAX_BYTES + 1), allowed_offices=allowed
    )
    if errors:
        return _scorecard_page(request, status=400, import_form=form, import_errors=errors)
    services.window_counts_import(officer=officer, rows=rows, ip=request_ip(request))
    messages.success(request, _("%(count)s window counts were imported.") % {"count": len(rows)})
    return redirect("review:scorecard")
