"""The filer's side of the bureau's work: paying the fee online, downloading the e-COE.
Applications are read through ``applications.access`` (another user's is a 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zairyu.applications import access
from zairyu.core.http import applicant_required, request_ip
from zairyu.review import services
from zairyu.review.constants import IssueKind, IssueState
from zairyu.review.models import Decision, Issue, Payment


@applicant_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, public_id) -> HttpResponse:
    application = access.application_of(request.user, public_id)
    decision = Decision.objects.filter(application=application).first()
    issue = Issue.objects.filter(application=application, state=IssueState.WAITING).first()
    if decision is None or issue is None or not decision.fee_yen:
        raise Http404
    if Payment.objects.filter(application=application).exists():
        messages.info(request, _("The fee is already paid."))
        return redirect("applications:detail", public_id=public_id)
    if request.method == "POST":
        try:
            payment = services.payment_pay_online(
                application=application, user=request.user, ip=request_ip(request)
            )
        except services.ReviewRefused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("The fee of %(yen)s yen is paid (receipt %(receipt)s). No revenue stamps are needed.")
                % {"yen": intcomma(payment.amount_yen), "receipt": payment.receipt_id},
            )
            return redirect("applications:detail", public_id=public_id)
    return render(request, "review/applicant/pay.html", {"application": application, "decision": decision})


@applicant_required
def ecoe_pdf(request: HttpRequest, public_id) -> HttpResponse:
    """The filer's copy of the electronic COE."""
    from zairyu.documents.views import document_response

    application = access.application_of(request.user, public_id)
    issue = (
        Issue.objects.select_related("document")
        .filter(application=application, kind=IssueKind.ECOE, state=IssueState.ISSUED)
        .first()
    )
    if issue is None or issue.document is None:
        raise Http404
    return document_response(request, issue.document, inline=request.GET.get("download") != "1")
