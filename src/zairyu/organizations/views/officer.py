"""The officers' side: a queue per office of usage applications, additional applications,
periodic reports and change notifications, oldest first; each with its checklist, its
attachments and the decision. Officers see only their own office's items (others are 404)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zairyu.core.http import officer_required, request_ip
from zairyu.organizations import access, checklists, forms, services
from zairyu.organizations.constants import FilingState, MandateState
from zairyu.organizations.models import (
    ChangeNotification,
    Enrolment,
    Mandate,
    PeriodicReport,
    StaffMembership,
    UsageApplication,
)
from zairyu.organizations.views.applicant import document_serve, prefecture_name
from zairyu.registry.constants import OrganizationKind


@dataclass(frozen=True)
class Attachment:
    label: Any
    document: Any


@dataclass(frozen=True)
class FilingKind:
    """How one kind of filing is read, checked and decided."""

    name: str
    title: Any
    template: str
    read: Callable[[Any, int], Any]
    checklist: Callable[[Any], list[checklists.CheckItem]]
    approve: Callable[..., Any]
    refuse: Callable[..., Any]
    id_argument: str


def _mandate_attachments(mandates) -> list[Attachment]:
    out = []
    for mandate in mandates.select_related("principal", "mandate_document", "pledge_document"):
        label = f"{mandate.principal.name} ({mandate.principal.corporate_number})"
        if mandate.mandate_document is not None:
            out.append(
                Attachment(
                    _("Mandate of %(organization)s") % {"organization": label}, mandate.mandate_document
                )
            )
        if mandate.pledge_document is not None:
            out.append(
                Attachment(_("Pledge of %(organization)s") % {"organization": label}, mandate.pledge_document)
            )
    return out


def _attachments(filing: Any) -> list[Attachment]:
    fields = [
        ("supporting_document", _("Supporting documents")),
        ("category_proof_document", _("Proof of category 3")),
        ("stability_document", _("Documents on the expected stability")),
        ("mandates_document", _("Mandates of every receiving organization")),
    ]
    out = [
        Attachment(label, getattr(filing, name))
        for name, label in fields
        if getattr(filing, name, None) is not None
    ]
    return out + _mandate_attachments(filing.new_mandates.all())


KINDS = {
    "application": FilingKind(
        name="application",
        title=gettext_lazy("Usage application"),
        template="organizations/officer/application.html",
        read=access.usage_application_for_officer,
        checklist=checklists.usage_application_checklist,
        approve=lambda filing, officer, ip: services.usage_application_approve(
            application_id=filing.pk, officer=officer, ip=ip
        ),
        refuse=lambda filing, officer, reason, ip: services.usage_application_refuse(
            application_id=filing.pk, officer=officer, reason=reason, ip=ip
        ),
        id_argument="application_id",
    ),
    "report": FilingKind(
        name="report",
        title=gettext_lazy("Periodic report"),
        template="organizations/officer/report.html",
        read=access.periodic_report_for_officer,
        checklist=checklists.periodic_report_checklist,
        approve=lambda filing, officer, ip: services.periodic_report_approve(
            report_id=filing.pk, officer=officer, ip=ip
        ),
        refuse=lambda filing, officer, reason, ip: services.periodic_report_refuse(
            report_id=filing.pk, officer=officer, reason=reason, ip=ip
        ),
        id_argument="report_id",
    ),
    "change": FilingKind(
        name="change",
        title=gettext_lazy("Change notification"),
        template="organizations/officer/change.html",
        read=access.change_notification_for_officer,
        checklist=checklists.change_notification_checklist,
        approve=lambda filing, officer, ip: services.change_notification_approve(
            change_id=filing.pk, officer=officer, ip=ip
        ),
        refuse=lambda filing, officer, reason, ip: services.change_notification_refuse(
            change_id=filing.pk, officer=officer, reason=reason, ip=ip
        ),
        id_argument="change_id",
    ),
}


def _extra_context(kind: FilingKind, filing: Any) -> dict[str, Any]:
    organization = filing.organization
    context: dict[str, Any] = {
        "organization": organization,
        "organization_kind": OrganizationKind(organization.kind).label,
        "prefecture": prefecture_name(organization.prefecture),
        "enrolment": Enrolment.objects.filter(organization=organization).first(),
        "office": services.office_name(filing.office),
    }
    if kind.name == "report":
        enrolment = context["enrolment"]
        base = enrolment.valid_until if enrolment and enrolment.valid_until else filing.expiry_at_filing
        context["new_validity"] = services.validity_end(base)
        context["mandates"] = filing.new_mandates.select_related("principal")
    elif kind.name == "application":
        context["mandates"] = filing.new_mandates.select_related("principal")
        context["membership"] = (
            StaffMembership.objects.filter(application=filing).select_related("user").first()
        )
    else:
        context["mandates"] = filing.new_mandates.select_related("principal")
        context["new_prefecture"] = prefecture_name(filing.new_prefecture) if filing.new_prefecture else ""
    return context


def _detail_page(
    request: HttpRequest,
    kind: FilingKind,
    filing: Any,
    *,
    approve_form: forms.ApproveForm | None = None,
    refuse_form: forms.RefuseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    checklist = kind.checklist(filing)
    return render(
        request,
        kind.template,
        {
            "kind": kind,
            "filing": filing,
            "checklist": checklist,
            "approve_form": approve_form or forms.ApproveForm(checklist=checklist),
            "refuse_form": refuse_form or forms.RefuseForm(),
            "attachments": _attachments(filing),
            "open": filing.state == FilingState.SUBMITTED,
            **_extra_context(kind, filing),
        },
        status=status,
    )


def _detail(kind_name: str) -> Callable[..., HttpResponse]:
    kind = KINDS[kind_name]

    @officer_required
    def view(request: HttpRequest, **kwargs: int) -> HttpResponse:
        return _detail_page(request, kind, kind.read(request.user, kwargs[kind.id_argument]))

    view.__name__ = f"{kind_name}_detail"
    return view


def _approve(kind_name: str) -> Callable[..., HttpResponse]:
    kind = KINDS[kind_name]

    @officer_required
    @require_POST
    def view(request: HttpRequest, **kwargs: int) -> HttpResponse:
        filing = kind.read(request.user, kwargs[kind.id_argument])
        form = forms.ApproveForm(request.POST, checklist=kind.checklist(filing))
        if not form.is_valid():
            return _detail_page(request, kind, filing, approve_form=form, status=400)
        try:
            result = kind.approve(filing, request.user, request_ip(request))
        except services.OrganizationError as exc:
            messages.error(request, exc.message)
            return redirect(f"staff_organizations:{kind.name}", **{kind.id_argument: filing.pk})
        if kind.name == "application":
            messages.success(
                request,
                _("Approved. The account %(auth_id)s was created and the password link e-mailed.")
                % {"auth_id": result.auth_id_display},
            )
        else:
            messages.success(request, _("Approved. The organization's users are e-mailed."))
        return redirect("staff_organizations:queue")

    view.__name__ = f"{kind_name}_approve"
    return view


def _refuse(kind_name: str) -> Callable[..., HttpResponse]:
    kind = KINDS[kind_name]

    @officer_required
    @require_POST
    def view(request: HttpRequest, **kwargs: int) -> HttpResponse:
        filing = kind.read(request.user, kwargs[kind.id_argument])
        form = forms.RefuseForm(request.POST)
        if not form.is_valid():
            return _detail_page(request, kind, filing, refuse_form=form, status=400)
        try:
            kind.refuse(filing, request.user, form.cleaned_data["reason"], request_ip(request))
        except services.OrganizationError as exc:
            messages.error(request, exc.message)
            return redirect(f"staff_organizations:{kind.name}", **{kind.id_argument: filing.pk})
        messages.success(request, _("Refused. The reason was e-mailed."))
        return redirect("staff_organizations:queue")

    view.__name__ = f"{kind_name}_refuse"
    return view


application_detail, application_approve, application_refuse = (
    _detail("application"),
    _approve("application"),
    _refuse("application"),
)
report_detail, report_approve, report_refuse = _detail("report"), _approve("report"), _refuse("report")
change_detail, change_approve, change_refuse = _detail("change"), _approve("change"), _refuse("change")


@officer_required
def queue(request: HttpRequest) -> HttpResponse:
    queues = access.officer_queue(request.user)
    return render(
        request,
        "organizations/officer/queue.html",
        {
            "queues": queues,
            "office": services.office_name(request.user.office),
            "recent": UsageApplication.objects.filter(office=request.user.office)
            .exclude(state=FilingState.SUBMITTED)
            .select_related("organization")
            .order_by("-decided_at")[:10],
        },
    )


@officer_required
def organizations(request: HttpRequest) -> HttpResponse:
    enrolments = Enrolment.objects.filter(office=request.user.office).select_related("organization")
    rows = [
        (enrolment, access.active_memberships(enrolment.organization_id).count())
        for enrolment in enrolments.order_by("organization__name")
    ]
    return render(
        request,
        "organizations/officer/organizations.html",
        {"rows": rows, "office": services.office_name(request.user.office)},
    )


def _organization_page(
    request: HttpRequest,
    enrolment: Enrolment,
    *,
    removal_forms: dict[int, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = enrolment.organization
    memberships = list(
        StaffMembership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("-started_at")
    )
    removal_forms = removal_forms or {}
    return render(
        request,
        "organizations/officer/organization.html",
        {
            "enrolment": enrolment,
            "organization": organization,
            "organization_kind": OrganizationKind(organization.kind).label,
            "prefecture": prefecture_name(organization.prefecture),
            "office": services.office_name(enrolment.office),
            "staff": [
                (m, removal_forms.get(m.pk) or forms.BureauRemovalForm(prefix=f"remove-{m.pk}"))
                for m in memberships
            ],
            "mandates": Mandate.objects.filter(agent_organization=organization)
            .exclude(state__in=[MandateState.PENDING, MandateState.REFUSED])
            .select_related("principal"),
            "applications": UsageApplication.objects.filter(organization=organization).order_by(
                "-submitted_at"
            ),
            "reports": PeriodicReport.objects.filter(organization=organization).order_by("-submitted_at"),
            "changes": ChangeNotification.objects.filter(organization=organization).order_by("-submitted_at"),
        },
        status=status,
    )


@officer_required
def organization(request: HttpRequest, enrolment_id: int) -> HttpResponse:
    return _organization_page(request, access.enrolment_for_officer(request.user, enrolment_id))


@officer_required
@require_POST
def staff_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Remove a staff member's approval (the bureau's decision, with a reason)."""
    membership = access.membership_for_officer(request.user, membership_id)
    enrolment = Enrolment.objects.select_related("organization").get(
        organization_id=membership.organization_id
    )
    form = forms.BureauRemovalForm(request.POST, prefix=f"remove-{membership.pk}")
    if not form.is_valid():
        return _organization_page(request, enrolment, removal_forms={membership.pk: form}, status=400)
    try:
        until = services.staff_remove_by_bureau(
            membership_id=membership.pk,
            officer=request.user,
            reason=form.cleaned_data["reason"],
            ip=request_ip(request),
        )
    except services.OrganizationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The approval was removed. The person may file a new usage application from %(date)s.")
            % {"date": until.isoformat()},
        )
    return redirect("staff_organizations:organization", enrolment_id=enrolment.pk)


@officer_required
def document(request: HttpRequest, document_id: UUID) -> HttpResponse:
    """An attachment of a filing of the officer's office."""
    return document_serve(request, access.document_for_officer(request.user, document_id))
