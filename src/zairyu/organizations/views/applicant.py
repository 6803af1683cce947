"""The organizations' side: the usage application without an account (e-mail confirmation, then
the form), its status link, and the pages of approved staff (U5–U7): their organization,
additional applications, the periodic report, change notifications, leavers and their own removal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zairyu.core import clock
from zairyu.core.http import applicant_required, request_ip, request_language
from zairyu.core.net import throttle_hit
from zairyu.organizations import access, forms, services
from zairyu.organizations.constants import AGENT_ORGANIZATION_KINDS, ChangeKind, FilingState, MandateState
from zairyu.organizations.models import (
    ChangeNotification,
    Enrolment,
    Mandate,
    PeriodicReport,
    StaffMembership,
    UsageApplication,
)
from zairyu.registry.constants import OrganizationKind

THROTTLE_WINDOW = 15 * 60
SESSION_KEY = "organization_application"


def apply_error(exc: services.OrganizationError, form, mandates: list[forms.MandateForm] = ()) -> None:
    """Put a service's refusal next to the field it is about, or at the top of the form."""
    field = exc.field or ""
    if field.startswith("mandate:"):
        _, index, name = field.split(":")
        name = {"mandate": "mandate_document", "pledge": "pledge_document"}.get(name, name)
        mandates[int(index)].add_error(name, exc.message)
        return
    form.add_error(field if field in form.fields else None, exc.message)


def mandate_uploads(mandates: list[forms.MandateForm]) -> list[services.MandateUpload]:
    return [
        services.MandateUpload(
            corporate_number=m.cleaned_data["corporate_number"],
            mandate=m.cleaned_data["mandate_document"],
            pledge=m.cleaned_data["pledge_document"],
        )
        for m in mandates
    ]


def prefecture_name(code: str) -> str:
    from zairyu.catalogue import get_catalogue

    prefecture = get_catalogue().prefectures.get(code)
    return str(prefecture.name) if prefecture else code


def staff_details(data: dict[str, Any], *, email: str = "") -> services.StaffDetails:
    return services.StaffDetails(
        full_name=data["full_name"],
        email=data.get("email") or email,
        language=data["language"],
        department=data.get("department", ""),
        phone=data.get("phone", ""),
        basis=data["basis"],
        agent_certificate_number=data.get("agent_certificate_number", ""),
        qualification_facts=data.get("qualification_facts", ""),
    )


# --- the usage application, without an account --------------------------------------------------


@require_http_methods(["GET", "POST"])
def apply_start(request: HttpRequest) -> HttpResponse:
    """Step 0: the filer's e-mail address, confirmed by a single-use link."""
    form = forms.EmailStartForm(request.POST or None, initial={"language": request_language(request)})
    if request.method == "POST" and form.is_valid():
        if not throttle_hit(
            scope="org-verify", key=request_ip(request), limit=10, window_seconds=THROTTLE_WINDOW
        ):
            form.add_error(None, _("Too many requests from your network. Wait 15 minutes and try again."))
        else:
            services.email_verification_request(
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
                ip=request_ip(request),
            )
            return render(
                request, "organizations/apply_check_email.html", {"email": form.cleaned_data["email"]}
            )
    return render(request, "organizations/apply_start.html", {"form": form})


def _link_invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "organizations/link_invalid.html", status=410)


@require_http_methods(["GET", "POST"])
def apply_organization(request: HttpRequest, token: str) -> HttpResponse:
    """Step 1: which organization (checked against the registry)."""
    verification = services.email_verification_peek(raw_token=token)
    if verification is None:
        return _link_invalid(request)
    saved = request.session.get(SESSION_KEY) or {}
    initial = saved if saved.get("token") == services.token_hash(token) else {}
    form = forms.OrganizationStepForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            organization = services.usage_application_precheck(
                raw_token=token, corporate_number=data["corporate_number"], organization_kind=data["kind"]
            )
        except services.OrganizationError as exc:
            apply_error(exc, form)
        else:
            request.session[SESSION_KEY] = {
                "token": services.token_hash(token),
                "organization": organization.pk,
                "corporate_number": organization.corporate_number,
                "kind": organization.kind,
                "category": data["category"],
                "mandate_count": forms.mandate_count(data.get("mandate_count")),
            }
            return redirect("organizations:apply-details", token=token)
    return render(
        request, "organizations/apply_organization.html", {"form": form, "email": verification.email}
    )


@require_http_methods(["GET", "POST"])
def apply_details(request: HttpRequest, token: str) -> HttpResponse:
    """Step 2: the staff member, the basis, the documents and pledge (and the mandates)."""
    from zairyu.registry.models import ReceivingOrganization

    verification = services.email_verification_peek(raw_token=token)
    if verification is None:
        return _link_invalid(request)
    saved = request.session.get(SESSION_KEY) or {}
    if saved.get("token") != services.token_hash(token):
        return redirect("organizations:apply-organization", token=token)
    organization = ReceivingOrganization.objects.get(pk=saved["organization"])
    agent = organization.kind in AGENT_ORGANIZATION_KINDS
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = forms.UsageApplicationForm(
        data,
        files,
        organization_kind=organization.kind,
        category=saved["category"],
        initial={"language": verification.language},
    )
    mandates = forms.mandate_forms(saved["mandate_count"], data, files) if agent else []
    if request.method == "POST" and all([form.is_valid()] + [m.is_valid() for m in mandates]):
        cleaned = form.cleaned_data
        try:
            application, raw_status = services.usage_application_submit(
                raw_token=token,
                corporate_number=organization.corporate_number,
                organization_kind=organization.kind,
                category=saved["category"],
                staff=staff_details(cleaned, email=verification.email),
                pledge=cleaned["pledge"],
                supporting_document=cleaned["supporting_document"],
                notifications_filed=cleaned.get("notifications_filed", False),
                category_3_as_2=cleaned.get("category_3_as_2", False),
                category_proof_document=cleaned.get("category_proof_document"),
                stability_facts=cleaned.get("stability_facts", ""),
                stability_document=cleaned.get("stability_document"),
                mandates=mandate_uploads(mandates),
                ip=request_ip(request),
            )
        except services.OrganizationError as exc:
            apply_error(exc, form, mandates)
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                _(
                    "Your usage application was filed. We e-mailed you this page's link: keep it to follow the review."
                ),
            )
            return redirect("organizations:status", token=raw_status)
    return render(
        request,
        "organizations/apply_details.html",
        {
            "form": form,
            "mandates": mandates,
            "organization": organization,
            "kind_label": OrganizationKind(organization.kind).label,
            "category": saved["category"],
            "email": verification.email,
        },
        status=400 if request.method == "POST" else 200,
    )


def application_status(request: HttpRequest, token: str) -> HttpResponse:
    """The state of a usage application, for whoever holds its status link."""
    application = access.usage_application_by_status_token(token)
    return render(
        request,
        "organizations/status.html",
        {
            "application": application,
            "office": services.office_name(application.office),
            "mandates": application.new_mandates.select_related("principal"),
        },
    )


# --- approved staff -----------------------------------------------------------------------------


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as approved staff of an organization; the membership is passed to the view."""

    @applicant_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        membership = access.staff_membership(request.user)
        if membership is None:
            return render(request, "organizations/not_staff.html", status=403)
        return view(request, membership, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _organization_context(membership: StaffMembership) -> dict[str, Any]:
    organization = membership.organization
    enrolment = Enrolment.objects.get(organization=organization)
    opens = services.report_window_opens(enrolment.valid_until) if enrolment.valid_until else None
    open_report = PeriodicReport.objects.filter(
        organization=organization, state=FilingState.SUBMITTED
    ).first()
    return {
        "membership": membership,
        "organization": organization,
        "kind_label": OrganizationKind(organization.kind).label,
        "prefecture": prefecture_name(organization.prefecture),
        "enrolment": enrolment,
        "office": services.office_name(enrolment.office),
        "agent": organization.kind in AGENT_ORGANIZATION_KINDS,
        "report_opens": opens,
        "report_open": open_report,
        "can_report": opens is not None and clock.today() >= opens and open_report is None,
        "expired": enrolment.is_expired(),
    }


@staff_required
def home(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    organization = membership.organization
    context = _organization_context(membership)
    context.update(
        {
            "permission": access.organization_may_file(request.user),
            "staff": access.active_memberships(organization).select_related("user").order_by("started_at"),
            "mandates": Mandate.objects.filter(agent_organization=organization)
            .exclude(state=MandateState.REFUSED)
            .select_related("principal")
            .order_by("state", "principal__name"),
            "applications": UsageApplication.objects.filter(organization=organization).order_by(
                "-submitted_at"
            ),
            "reports": PeriodicReport.objects.filter(organization=organization).order_by("-submitted_at"),
            "changes": ChangeNotification.objects.filter(organization=organization).order_by("-submitted_at"),
        }
    )
    return render(request, "organizations/home.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def additional_application(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    """An additional usage application for a colleague."""
    permission = access.organization_may_file(request.user)
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = forms.AdditionalApplicationForm(data, files, initial={"language": request.user.language})
    if request.method == "POST" and form.is_valid():
        try:
            services.additional_application_submit(
                filer=request.user,
                staff=staff_details(form.cleaned_data),
                pledge=form.cleaned_data["pledge"],
                supporting_document=form.cleaned_data["supporting_document"],
                ip=request_ip(request),
            )
        except services.OrganizationError as exc:
            apply_error(exc, form)
        else:
            messages.success(request, _("The additional usage application was filed. The bureau reviews it."))
            return redirect("organizations:home")
    return render(
        request,
        "organizations/additional.html",
        {**_organization_context(membership), "form": form, "permission": permission},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def periodic_report(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    """The periodic report: from 2 months before expiry, or late."""
    context = _organization_context(membership)
    organization, enrolment = membership.organization, context["enrolment"]
    memberships = list(access.active_memberships(organization).select_related("user").order_by("started_at"))
    active_mandates = list(
        organization.mandates_held.filter(state=MandateState.ACTIVE).select_related("principal")
    )
    count = forms.mandate_count(request.GET.get("new", 0), default=0, minimum=0) if context["agent"] else 0
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = forms.PeriodicReportForm(
        data,
        files,
        memberships=[m for m in memberships if m.pk != membership.pk],
        mandates=active_mandates,
        agent=context["agent"],
        needs_proof=enrolment.category_3_as_2,
    )
    new_mandates = forms.mandate_forms(count, data, files)
    if request.method == "POST" and all([form.is_valid()] + [m.is_valid() for m in new_mandates]):
        try:
            services.periodic_report_submit(
                filer=request.user,
                staff_continuing=form.continuing("staff_"),
                mandates_continuing=form.continuing("mandate_"),
                new_mandates=mandate_uploads(new_mandates),
                supporting_document=form.cleaned_data.get("supporting_document"),
                mandates_document=form.cleaned_data.get("mandates_document"),
                note=form.cleaned_data["note"],
                ip=request_ip(request),
            )
        except services.OrganizationError as exc:
            apply_error(exc, form, new_mandates)
        else:
            messages.success(request, _("The periodic report was filed. Every user is e-mailed the result."))
            return redirect("organizations:home")
    new_validity = services.validity_end(enrolment.valid_until) if enrolment.valid_until else None
    return render(
        request,
        "organizations/report.html",
        {
            **context,
            "form": form,
            "new_mandates": new_mandates,
            "count": count,
            "count_choices": range(0, 11),
            "new_validity": new_validity,
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def change_notification(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    """A change of the organization's name or address, or of a staff member's name."""
    memberships = list(
        access.active_memberships(membership.organization).select_related("user").order_by("started_at")
    )
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = forms.ChangeNotificationForm(data, files, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        try:
            services.change_notification_submit(
                filer=request.user,
                kind=cleaned["kind"],
                supporting_document=cleaned["supporting_document"],
                new_name=cleaned.get("new_name", ""),
                new_prefecture=cleaned.get("new_prefecture", ""),
                new_municipality=cleaned.get("new_municipality", ""),
                new_address_rest=cleaned.get("new_address_rest", ""),
                staff_membership_id=cleaned.get("staff_member") or None,
                ip=request_ip(request),
            )
        except services.OrganizationError as exc:
            apply_error(exc, form)
        else:
            messages.success(request, _("The change notification was filed. The bureau reviews it."))
            return redirect("organizations:home")
    return render(
        request,
        "organizations/change.html",
        {**_organization_context(membership), "form": form},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def mandates_add(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    """A support organization adds receiving organizations that mandated it, between reports."""
    context = _organization_context(membership)
    if not context["agent"]:
        return render(request, "organizations/not_staff.html", status=403)
    count = forms.mandate_count(request.GET.get("count", 1))
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    mandates = forms.mandate_forms(count, data, files)
    form = forms.ErrorsForm(data)  # carries the errors that concern no row
    if request.method == "POST" and all(m.is_valid() for m in mandates):
        try:
            services.change_notification_submit(
                filer=request.user,
                kind=ChangeKind.MANDATE_ADDED,
                new_mandates=mandate_uploads(mandates),
                ip=request_ip(request),
            )
        except services.OrganizationError as exc:
            apply_error(exc, form, mandates)
        else:
            messages.success(
                request, _("The new receiving organizations were sent to the bureau for review.")
            )
            return redirect("organizations:home")
    return render(
        request,
        "organizations/mandates_add.html",
        {**context, "form": form, "mandates": mandates, "count": count, "count_choices": range(1, 11)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def staff_left(request: HttpRequest, membership: StaffMembership, membership_id: int) -> HttpResponse:
    """Report that a colleague left: their ID is removed at once."""
    leaver = access.membership_for_staff(request.user, membership_id)
    form = forms.ConfirmForm(
        request.POST or None,
        label=_("%(name)s has left our organization (or no longer files for it).")
        % {"name": leaver.user.full_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_report_left(reporter=request.user, membership_id=leaver.pk, ip=request_ip(request))
        except services.OrganizationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(name)s's ID was removed.") % {"name": leaver.user.full_name})
            return redirect("organizations:home")
    return render(request, "organizations/staff_left.html", {"form": form, "leaver": leaver})


@staff_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest, membership: StaffMembership) -> HttpResponse:
    """A staff member ends their own approval, at once."""
    form = forms.ConfirmForm(
        request.POST or None,
        label=_("I understand that my approval and my ID are removed at once and cannot be used again."),
    )
    if request.method == "POST" and form.is_valid():
        services.staff_remove_own(user=request.user, ip=request_ip(request))
        logout(request)
        messages.info(request, _("Your approval was removed. Thank you for using the service."))
        return redirect("home")
    return render(request, "organizations/leave.html", {"form": form, "membership": membership})


@staff_required
def document(request: HttpRequest, membership: StaffMembership, document_id: UUID) -> HttpResponse:
    """An attachment of one of the organization's own filings."""
    return document_serve(request, access.document_for_staff(request.user, document_id))


def document_serve(request: HttpRequest, stored: Any) -> HttpResponse:
    from zairyu.documents.errors import DocumentUnavailable
    from zairyu.documents.views import document_response

    try:
        return document_response(request, stored, inline=request.GET.get("download") != "1")
    except DocumentUnavailable as exc:
        raise Http404 from exc
