"""What the filer can do once an application is submitted: change the receipt method, add
documents with a declaration, ask the bureau to withdraw or correct it."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from zairyu.applications import access, services
from zairyu.applications.forms import ReceiptMethodForm, document_type_choices
from zairyu.applications.rules.receipt import METHOD_FIXED, changeable_after_submission
from zairyu.applications.summary import METHOD_LABELS
from zairyu.applications.views.applicant import refusal_to_form
from zairyu.core.http import applicant_required, request_ip


class AdditionalDocumentForm(forms.Form):
    document_type = forms.ChoiceField(label=gettext_lazy("Kind of document"), choices=document_type_choices)
    file = forms.FileField(label=gettext_lazy("PDF file"))
    declared = forms.BooleanField(
        label=gettext_lazy(
            "I declare that this document is submitted for this application and is true and complete."
        ),
        required=True,
    )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What do you ask the bureau?"),
        choices=[
            ("correction", gettext_lazy("Correct the application")),
            ("withdrawal", gettext_lazy("Withdraw the application")),
        ],
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=gettext_lazy("Explain what should change, or why you withdraw it"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def application_manage(request: HttpRequest, public_id) -> HttpResponse:
    from zairyu.documents.errors import DocumentRejected

    application = access.application_of(request.user, public_id)
    options, _doc = services.application_receipt_options(application)
    choices = [(code, METHOD_LABELS.get(code, code)) for code in options.choices]
    method_form = ReceiptMethodForm(
        choices=choices, initial={"method": application.receipt_methods.get(options.document)}
    )
    document_form = AdditionalDocumentForm()
    request_form = RequestForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "method":
                method_form = ReceiptMethodForm(request.POST, choices=choices)
                if method_form.is_valid():
                    services.application_change_receipt_method(
                        application=application,
                        user=request.user,
                        method=method_form.cleaned_data["method"],
                        ip=request_ip(request),
                    )
                    messages.success(request, _("The receipt method was changed."))
                    return redirect("applications:detail", public_id=public_id)
            elif action == "document":
                document_form = AdditionalDocumentForm(request.POST, request.FILES)
                if document_form.is_valid():
                    services.application_add_documents(
                        application=application,
                        user=request.user,
                        upload=document_form.cleaned_data["file"],
                        document_type=document_form.cleaned_data["document_type"],
                        declared=document_form.cleaned_data["declared"],
                        ip=request_ip(request),
                    )
                    messages.success(request, _("The document was checked and added to the application."))
                    return redirect("applications:detail", public_id=public_id)
            elif action == "request":
                request_form = RequestForm(request.POST)
                if request_form.is_valid():
                    services.application_request(
                        application=application,
                        user=request.user,
                        kind=request_form.cleaned_data["kind"],
                        message=request_form.cleaned_data["message"],
                        ip=request_ip(request),
                    )
                    messages.success(
                        request, _("Your request was sent to the bureau. You will be told of the result.")
                    )
                    return redirect("applications:detail", public_id=public_id)
        except services.ApplicationRefused as refusal:
            target = {"method": method_form, "document": document_form, "request": request_form}.get(action)
            if target is not None:
                refusal_to_form(target, refusal)
        except DocumentRejected as rejected:
            document_form.add_error(None, rejected.message)
        status = 400
    return render(
        request,
        "applications/manage.html",
        {
            "application": application,
            "method_form": method_form,
            "document_form": document_form,
            "request_form": request_form,
            "options": options,
            "method_fixed": None if changeable_after_submission(options.document) else METHOD_FIXED,
            "methods": {k: METHOD_LABELS.get(v, v) for k, v in application.receipt_methods.items()},
            "requests": application.requests.all(),
        },
        status=status,
    )
