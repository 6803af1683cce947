"""Passkeys (WebAuthn): adding and removing them (profile, or the officers' security page) and
using one as the second step of sign-in, on both sides. The browser part is
static/zairyu/js/passkeys.js; options are fetched (POST, CSRF token) just before the browser's
prompt, the answer is posted with an ordinary form."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from zairyu.accounts import forms, services
from zairyu.accounts.models import WebAuthnCredential
from zairyu.accounts.passkeys import address_for_passkeys, relying_party
from zairyu.accounts.views.applicant import (
    PENDING_KEY,
    sign_in_failure_count,
    sign_in_pending_user,
    sign_in_session_begin,
)
from zairyu.core.http import applicant_required, officer_required, request_ip


def _session_key(request: HttpRequest) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key or ""


def _refusal(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


def _wrong_address_message(request: HttpRequest) -> str:
    return _("Passkeys work only at %(address)s. Open this page there (you will need to sign in again).") % {
        "address": address_for_passkeys(request)
    }


def passkey_page_context(request: HttpRequest) -> dict:
    rp = relying_party(request)
    return {
        "passkey_available": rp is not None,
        "passkey_address": "" if rp else address_for_passkeys(request),
    }


def passkey_management_context(request: HttpRequest, *, staff: bool) -> dict:
    side = "staff" if staff else "accounts"
    return {
        **passkey_page_context(request),
        "passkeys": list(WebAuthnCredential.objects.filter(user=request.user)),
        "passkey_add_form": forms.PasskeyAddForm(),
        "passkey_remove_form": forms.PasskeyRemoveForm(),
        "passkey_options_url": reverse(f"{side}:passkey-options"),
        "passkey_add_url": reverse(f"{side}:passkey-add"),
        "passkey_remove_view": f"{side}:passkey-remove",
    }


def _back(staff: bool) -> HttpResponse:
    return redirect("staff:security" if staff else "accounts:profile")


# --- managing passkeys --------------------------------------------------------------------------


def _registration_options(request: HttpRequest) -> HttpResponse:
    rp = relying_party(request)
    if rp is None:
        return _refusal(_wrong_address_message(request))
    options = services.passkey_registration_begin(user=request.user, rp=rp, session_key=_session_key(request))
    return HttpResponse(options, content_type="application/json")


def _add(request: HttpRequest, *, staff: bool) -> HttpResponse:
    form = forms.PasskeyAddForm(request.POST)
    rp = relying_party(request)
    if rp is None:
        messages.error(request, _wrong_address_message(request))
    elif not form.is_valid():
        messages.error(request, _("Name the passkey, then follow your browser's prompts."))
    else:
        try:
            passkey = services.passkey_register(
                user=request.user,
                name=form.cleaned_data["name"],
                credential_json=form.cleaned_data["credential"],
                rp=rp,
                session_key=_session_key(request),
                ip=request_ip(request),
            )
        except services.AccountError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The passkey “%(name)s” is added. You can use it at the second step of sign-in.")
                % {"name": passkey.name},
            )
    return _back(staff)


def _remove(request: HttpRequest, pk: int, *, staff: bool) -> HttpResponse:
    form = forms.PasskeyRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your password to remove a passkey."))
        return _back(staff)
    try:
        services.passkey_remove(
            user=request.user, passkey_id=pk, password=form.cleaned_data["password"], ip=request_ip(request)
        )
    except services.AccountError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The passkey is removed."))
    return _back(staff)


@applicant_required
@require_POST
def registration_options(request: HttpRequest) -> HttpResponse:
    return _registration_options(request)


@applicant_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    return _add(request, staff=False)


@sensitive_post_parameters()
@applicant_required
@require_POST
def remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _remove(request, pk, staff=False)


@officer_required
@require_GET
def staff_security(request: HttpRequest) -> HttpResponse:
    """The officers' page for their passkeys (applicants have them on their profile page)."""
    return render(
        request,
        "accounts/staff_security.html",
        {"account": request.user, **passkey_management_context(request, staff=True)},
    )


@officer_required
@require_POST
def staff_registration_options(request: HttpRequest) -> HttpResponse:
    return _registration_options(request)


@officer_required
@require_POST
def staff_add(request: HttpRequest) -> HttpResponse:
    return _add(request, staff=True)


@sensitive_post_parameters()
@officer_required
@require_POST
def staff_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _remove(request, pk, staff=True)


# --- the second step of sign-in -----------------------------------------------------------------


def _sign_in_options(request: HttpRequest, *, staff: bool) -> HttpResponse:
    user, _pending = sign_in_pending_user(request, staff=staff)
    if user is None:
        return _refusal(_("Please sign in again."))
    rp = relying_party(request)
    if rp is None:
        return _refusal(_wrong_address_message(request))
    options = services.passkey_sign_in_begin(user=user, rp=rp, session_key=_session_key(request))
    return HttpResponse(options, content_type="application/json")


def _sign_in(request: HttpRequest, *, staff: bool) -> HttpResponse:
    user, pending = sign_in_pending_user(request, staff=staff)
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect("staff:sign-in" if staff else "accounts:sign-in")
    form = forms.PasskeyAnswerForm(request.POST)
    rp = relying_party(request)
    if rp is None:
        messages.error(request, _wrong_address_message(request))
    elif form.is_valid():
        if services.passkey_sign_in(
            user=user,
            credential_json=form.cleaned_data["credential"],
            rp=rp,
            session_key=_session_key(request),
            ip=request_ip(request),
        ):
            request.session.pop(PENDING_KEY, None)
            sign_in_session_begin(request, user, method=pending["method"])
            return redirect(pending["next"])
        sign_in_failure_count(request)
        messages.error(
            request,
            _("The passkey was not accepted. Try again, or use another passkey or your authenticator app."),
        )
    else:
        messages.error(request, _("Use your passkey when your browser asks, then wait for the next page."))
    return redirect("staff:otp" if staff else "accounts:otp")


@require_POST
def sign_in_options(request: HttpRequest) -> HttpResponse:
    return _sign_in_options(request, staff=False)


@require_POST
def sign_in(request: HttpRequest) -> HttpResponse:
    return _sign_in(request, staff=False)


@require_POST
def staff_sign_in_options(request: HttpRequest) -> HttpResponse:
    return _sign_in_options(request, staff=True)


@require_POST
def staff_sign_in(request: HttpRequest) -> HttpResponse:
    return _sign_in(request, staff=True)
