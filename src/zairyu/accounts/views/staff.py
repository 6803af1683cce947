"""The officers' side: a separate sign-in (ID, password, second factor) and the officer home."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from zairyu.accounts import forms, services, signals
from zairyu.accounts.constants import OfficerRole, UserKind
from zairyu.accounts.models import User
from zairyu.accounts.views.applicant import otp, password_sign_in
from zairyu.catalogue import get_catalogue
from zairyu.core.http import officer_required, request_ip


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    return password_sign_in(request, staff=True, template="accounts/staff_sign_in.html", home="staff:home")


def staff_otp(request: HttpRequest) -> HttpResponse:
    return otp(request, staff=True)


@officer_required
def home(request: HttpRequest) -> HttpResponse:
    """The officer's office and the work queues of their office: organizations and review add
    theirs (``organization_queue``, ``application_queue``) through ``signals.officer_home``."""
    office = get_catalogue().offices.get(request.user.office)
    prefectures = [get_catalogue().prefectures[code] for code in office.prefectures] if office else []
    context = {
        "account": request.user,
        "office": office,
        "prefectures": prefectures,
        "unlock_form": forms.UnlockForm(),
        "second_factor_form": forms.SecondFactorResetForm(prefix="factor"),
        "can_unlock": request.user.role in (OfficerRole.SUPERVISOR, OfficerRole.ADMINISTRATOR),
    }
    if office:
        for _receiver, queues in signals.officer_home.send(sender=User, officer=request.user):
            context.update(queues)
    return render(request, "accounts/staff_home.html", context)


@officer_required
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    form = forms.UnlockForm(request.POST)
    if request.user.role not in (OfficerRole.SUPERVISOR, OfficerRole.ADMINISTRATOR):
        return render(request, "accounts/forbidden.html", status=403)
    if form.is_valid():
        target = (
            User.objects.filter(username=services.auth_id_normalize(form.cleaned_data["auth_id"]))
            .exclude(kind=UserKind.OFFICER)
            .first()
        )
        if target is None:
            messages.error(request, _("No applicant-side account has this ID."))
        else:
            services.user_unlock(user=target, actor=request.user, ip=request_ip(request))
            messages.success(request, _("The account is unlocked."))
    return redirect("staff:home")


@officer_required
@require_POST
def second_factor_reset(request: HttpRequest) -> HttpResponse:
    """Recovery of an applicant-side account that lost every second factor (ADR 0012)."""
    if request.user.role not in (OfficerRole.SUPERVISOR, OfficerRole.ADMINISTRATOR):
        return render(request, "accounts/forbidden.html", status=403)
    form = forms.SecondFactorResetForm(request.POST, prefix="factor")
    if not form.is_valid():
        messages.error(request, _("Enter the ID and confirm that you checked who the user is."))
        return redirect("staff:home")
    target = (
        User.objects.filter(username=services.auth_id_normalize(form.cleaned_data["auth_id"]))
        .exclude(kind=UserKind.OFFICER)
        .first()
    )
    if target is None:
        messages.error(request, _("No applicant-side account has this ID."))
    else:
        services.second_factor_reset(user=target, actor=request.user, ip=request_ip(request))
        messages.success(
            request,
            _(
                "The authenticator app and passkeys of the account are removed. It sets up a new app at the next sign-in."
            ),
        )
    return redirect("staff:home")
