"""Applicant-side account pages: registration, sign-in, passwords, profile."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from zairyu.accounts import forms, services
from zairyu.accounts.cards import card_verify, challenge_for, identity_from
from zairyu.accounts.constants import CARD_KINDS, ChallengePurpose, TokenPurpose, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.core import clock
from zairyu.core.http import applicant_required, is_officer, request_ip, request_language
from zairyu.core.net import throttle_exceeded, throttle_hit

SIGN_IN_WINDOW = 15 * 60
PENDING_KEY = "pending_sign_in"


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _with_fresh_challenge(form, challenge: str, form_class):
    """Each page view gets a new challenge; the template writes it (and empty answer fields) itself,
    so a refused answer is never offered again while the form keeps its messages and typed values."""
    return form if form.is_bound else form_class(initial={"challenge": challenge})


# --- registration -------------------------------------------------------------------------------


def register_choose(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/register_choose.html", {"kinds": UserKind})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def register_card(request: HttpRequest, kind: str) -> HttpResponse:
    """U1–U3, step 1: the card signs a challenge with its signing certificate."""
    if kind not in CARD_KINDS:
        raise Http404
    form = forms.CardResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            verified = card_verify(
                request=request,
                purpose=ChallengePurpose.REGISTER,
                nonce=form.cleaned_data["challenge"],
                certificate_pem=form.cleaned_data["certificate_pem"],
                signature=form.cleaned_data["signature_bytes"],
            )
        except services.AccountError as exc:
            form.add_error(None, exc.message)
        else:
            identity, guess = identity_from(verified)
            request.session["card_registration"] = {
                "kind": kind,
                "card_id": identity.card_id,
                "name": identity.name,
                "sex": identity.sex,
                "date_of_birth": identity.date_of_birth.isoformat(),
                "address": identity.address,
                "valid_until": identity.valid_until.isoformat(),
                "guess": guess,
                "read_at": clock.now().timestamp(),
            }
            return redirect("accounts:register-card-details", kind=kind)
    challenge = challenge_for(request, ChallengePurpose.REGISTER)
    form = _with_fresh_challenge(form, challenge, forms.CardResponseForm)
    return render(
        request,
        "accounts/register_card.html",
        {
            "form": form,
            "kind": UserKind(kind),
            "challenge": challenge,
            "cert": "signing",
            "card_challenge": services.challenge_bytes(
                nonce=challenge, purpose=ChallengePurpose.REGISTER
            ).hex(),
            "bridge_url": settings.CARD_BRIDGE_URL,
        },
    )


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def register_card_details(request: HttpRequest, kind: str) -> HttpResponse:
    """U1–U3, step 2: what the card says, plus e-mail, relation and the address split for checks."""
    read = request.session.get("card_registration")
    if kind not in CARD_KINDS or not read or read["kind"] != kind:
        return (
            redirect("accounts:register-card", kind=kind)
            if kind in CARD_KINDS
            else redirect("accounts:register")
        )
    if clock.now().timestamp() - read["read_at"] > 20 * 60:
        request.session.pop("card_registration", None)
        messages.info(
            request, _("Please read your card again: the previous reading is more than 20 minutes old.")
        )
        return redirect("accounts:register-card", kind=kind)
    initial = {**read["guess"], "language": request_language(request)}
    form = forms.CardRegistrationDetailsForm(request.POST or None, kind=kind, initial=initial)
    if request.method == "POST" and form.is_valid():
        identity = services.CardIdentity(
            card_id=read["card_id"],
            name=read["name"],
            sex=read["sex"],
            date_of_birth=dt.date.fromisoformat(read["date_of_birth"]),
            address=read["address"],
            valid_until=dt.date.fromisoformat(read["valid_until"]),
        )
        try:
            user = services.user_register_with_card(
                kind=kind,
                identity=identity,
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
                relation=form.cleaned_data.get("relation", ""),
                prefecture=form.cleaned_data["prefecture"],
                municipality=form.cleaned_data["municipality"],
                address_rest=form.cleaned_data["address_rest"],
                ip=request_ip(request),
            )
        except services.AccountError as exc:
            form.add_error(None, exc.message)
        else:
            request.session.pop("card_registration", None)
            request.session["registered_auth_id"] = user.auth_id_display
            return redirect("accounts:register-done")
    return render(
        request, "accounts/register_card_details.html", {"form": form, "read": read, "kind": UserKind(kind)}
    )


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def register_agent(request: HttpRequest) -> HttpResponse:
    form = forms.AgentRegistrationForm(request.POST or None, initial={"language": request_language(request)})
    if request.method == "POST" and form.is_valid():
        if not throttle_hit(
            scope="register-agent", key=request_ip(request), limit=20, window_seconds=SIGN_IN_WINDOW
        ):
            form.add_error(None, _("Too many attempts from your network. Wait 15 minutes and try again."))
        else:
            try:
                user = services.user_register_agent(
                    number=form.cleaned_data["number"],
                    holder_name=form.cleaned_data["holder_name"],
                    expires_on=form.cleaned_data["expires_on"],
                    email=form.cleaned_data["email"],
                    language=form.cleaned_data["language"],
                    ip=request_ip(request),
                )
            except services.AccountError as exc:
                form.add_error(None, exc.message)
            else:
                request.session["registered_auth_id"] = user.auth_id_display
                return redirect("accounts:register-done")
    return render(request, "accounts/register_agent.html", {"form": form})


@require_http_methods(["GET", "POST"])
def register_window(request: HttpRequest) -> HttpResponse:
    form = forms.WindowRegistrationForm(request.POST or None, initial={"language": request_language(request)})
    if request.method == "POST" and form.is_valid():
        if not throttle_hit(
            scope="register-window", key=request_ip(request), limit=20, window_seconds=SIGN_IN_WINDOW
        ):
            form.add_error(None, _("Too many attempts from your network. Wait 15 minutes and try again."))
        else:
            user = services.user_register_window(
                full_name=form.cleaned_data["full_name"],
                email=form.cleaned_data["email"],
                language=form.cleaned_data["language"],
                ip=request_ip(request),
            )
            request.session["registered_auth_id"] = user.auth_id_display
            return redirect("accounts:register-done")
    return render(request, "accounts/register_window.html", {"form": form})


def register_done(request: HttpRequest) -> HttpResponse:
    """Shows the new authentication ID once; a reload shows it no more."""
    auth_id = request.session.pop("registered_auth_id", None)
    return render(request, "accounts/register_done.html", {"auth_id": auth_id})


# --- passwords ----------------------------------------------------------------------------------


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def password_set(request: HttpRequest, token: str) -> HttpResponse:
    peeked = services.email_token_peek(
        raw_token=token, purpose=TokenPurpose.SET_PASSWORD
    ) or services.email_token_peek(raw_token=token, purpose=TokenPurpose.RESET_PASSWORD)
    if peeked is None:
        return render(request, "accounts/link_invalid.html", status=410)
    form = forms.SetPasswordForm(request.POST or None, user=peeked.user)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.password_set_with_token(
                raw_token=token, password=form.cleaned_data["password"], ip=request_ip(request)
            )
        except services.AccountError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error("password", exc)
        else:
            logout(request)
            messages.success(request, _("Your password is set. Sign in with your ID and the new password."))
            target = (
                "staff:sign-in"
                if user.kind == UserKind.OFFICER
                else ("accounts:sign-in-card" if user.kind in CARD_KINDS else "accounts:sign-in")
            )
            return redirect(target)
    return render(
        request,
        "accounts/password_set.html",
        {"form": form, "account": peeked.user, "first": peeked.purpose == TokenPurpose.SET_PASSWORD},
    )


@require_http_methods(["GET", "POST"])
def password_forgot(request: HttpRequest) -> HttpResponse:
    form = forms.ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if throttle_hit(scope="forgot", key=request_ip(request), limit=10, window_seconds=SIGN_IN_WINDOW):
            services.password_reset_request(
                auth_id=form.cleaned_data["auth_id"], email=form.cleaned_data["email"], ip=request_ip(request)
            )
        return render(request, "accounts/check_email.html", {"what": "password"})
    return render(request, "accounts/password_forgot.html", {"form": form})


@require_http_methods(["GET", "POST"])
def id_forgot(request: HttpRequest) -> HttpResponse:
    form = forms.ForgotIdForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if throttle_hit(scope="forgot", key=request_ip(request), limit=10, window_seconds=SIGN_IN_WINDOW):
            services.auth_id_recover(email=form.cleaned_data["email"], ip=request_ip(request))
        return render(request, "accounts/check_email.html", {"what": "id"})
    return render(request, "accounts/id_forgot.html", {"form": form})


# --- sign-in ------------------------------------------------------------------------------------


def sign_in_session_begin(request: HttpRequest, user: User, *, method: str) -> None:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # rotates the session key
    now = clock.now().timestamp()
    request.session["signed_in_at"] = now
    request.session["last_activity"] = now
    request.session["auth_method"] = method
    request.session["follow_up_only"] = bool(user.kind in CARD_KINDS and method == "password")


def finish_first_factor(
    request: HttpRequest, user: User, *, method: str, next_url: str, staff: bool
) -> HttpResponse:
    """After ID + password (+ card): ask for the second factor when the user has or needs one."""
    if services.second_factor_needed(user):
        request.session.cycle_key()
        request.session[PENDING_KEY] = {
            "user": user.pk,
            "method": method,
            "next": next_url,
            "at": clock.now().timestamp(),
            "staff": staff,
        }
        return redirect("staff:otp" if staff else "accounts:otp")
    sign_in_session_begin(request, user, method=method)
    return redirect(next_url)


def _refused_by_network(request: HttpRequest) -> bool:
    return throttle_exceeded(scope="sign-in", key=request_ip(request), limit=settings.LOGIN_IP_FAILURE_LIMIT)


def sign_in_failure_count(request: HttpRequest) -> None:
    throttle_hit(
        scope="sign-in",
        key=request_ip(request),
        limit=settings.LOGIN_IP_FAILURE_LIMIT,
        window_seconds=SIGN_IN_WINDOW,
    )


def _too_many_message() -> str:
    return _("Too many failed sign-ins from your network. Wait 15 minutes and try again.")


def password_sign_in(request: HttpRequest, *, staff: bool, template: str, home: str) -> HttpResponse:
    """ID and password (then the second factor), on the applicants' page or the officers' one.
    Each page refuses the other side's accounts with the same answer as any other refusal."""
    form = forms.SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _refused_by_network(request):
            form.add_error(None, _too_many_message())
        else:
            try:
                user = services.sign_in_verify(
                    auth_id=form.cleaned_data["auth_id"],
                    password=form.cleaned_data["password"],
                    card_id=None,
                    ip=request_ip(request),
                    officer_side=staff,
                )
            except services.AccountError as exc:
                sign_in_failure_count(request)
                form.add_error(None, exc.message)
            else:
                return finish_first_factor(
                    request, user, method="password", next_url=_next_url(request, reverse(home)), staff=staff
                )
    return render(request, template, {"form": form, "next": _next_url(request, "")})


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """ID and password: U4–U8, and U1–U3 following up after their card certificate expired."""
    return password_sign_in(request, staff=False, template="accounts/sign_in.html", home="accounts:home")


@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def sign_in_card(request: HttpRequest) -> HttpResponse:
    """U1–U3: the card's user-authentication certificate and the ID and password (F-17)."""
    form = forms.CardSignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _refused_by_network(request):
            form.add_error(None, _too_many_message())
        else:
            try:
                verified = card_verify(
                    request=request,
                    purpose=ChallengePurpose.SIGN_IN,
                    nonce=form.cleaned_data["challenge"],
                    certificate_pem=form.cleaned_data["certificate_pem"],
                    signature=form.cleaned_data["signature_bytes"],
                )
                user = services.sign_in_verify(
                    auth_id=form.cleaned_data["auth_id"],
                    password=form.cleaned_data["password"],
                    card_id=verified.card_id,
                    ip=request_ip(request),
                    officer_side=False,
                )
            except services.AccountError as exc:
                sign_in_failure_count(request)
                form.add_error(None, exc.message)
            else:
                return finish_first_factor(
                    request,
                    user,
                    method="card",
                    next_url=_next_url(request, reverse("accounts:home")),
                    staff=False,
                )
    challenge = challenge_for(request, ChallengePurpose.SIGN_IN)
    form = _with_fresh_challenge(form, challenge, forms.CardSignInForm)
    return render(
        request,
        "accounts/sign_in_card.html",
        {
            "form": form,
            "challenge": challenge,
            "cert": "auth",
            "card_challenge": services.challenge_bytes(
                nonce=challenge, purpose=ChallengePurpose.SIGN_IN
            ).hex(),
            "bridge_url": settings.CARD_BRIDGE_URL,
            "next": _next_url(request, ""),
        },
    )


def sign_in_pending_user(request: HttpRequest, *, staff: bool) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING_KEY) or {}
    if not pending or pending.get("staff") != staff or clock.now().timestamp() - pending.get("at", 0) > 300:
        return None, {}
    user = User.objects.filter(pk=pending["user"], state=UserState.ACTIVE).first()
    return user, pending


@require_http_methods(["GET", "POST"])
def otp(request: HttpRequest, *, staff: bool = False) -> HttpResponse:
    """The second step: a TOTP code or a passkey, or enrolment of an authenticator app when the
    category requires a second factor and none exists. The key shown for enrolment stays the same
    (reloads, wrong codes) until it is confirmed or the user asks for a new one."""
    user, pending = sign_in_pending_user(request, staff=staff)
    sign_in_url = "staff:sign-in" if staff else "accounts:sign-in"
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect(sign_in_url)
    has_passkeys = services.has_passkeys(user)
    enrolling = not user.has_totp and not has_passkeys
    if enrolling and request.method == "POST" and request.POST.get("new_key"):
        services.totp_begin(user=user, renew=True, ip=request_ip(request))
        messages.info(
            request, _("Here is a new key. Scan this QR code again: the previous key no longer works.")
        )
        return redirect(request.path)
    if enrolling and not user.totp_secret:
        services.totp_begin(user=user)
        user.refresh_from_db()
    code_accepted = enrolling or user.has_totp
    form = forms.OtpForm(request.POST or None)
    if request.method == "POST" and code_accepted and form.is_valid():
        code = form.cleaned_data["code"]
        ok = (
            services.totp_confirm(user=user, code=code, ip=request_ip(request))
            if enrolling
            else services.totp_verify(user=user, code=code, ip=request_ip(request))
        )
        if ok:
            request.session.pop(PENDING_KEY, None)
            sign_in_session_begin(request, user, method=pending["method"])
            return redirect(pending["next"])
        sign_in_failure_count(request)
        form.add_error("code", _("This code is not correct or was used already. Enter the current code."))
    context = {
        "form": form,
        "enrolling": enrolling,
        "staff": staff,
        "code_accepted": code_accepted,
        "has_passkeys": has_passkeys,
    }
    if has_passkeys:
        from zairyu.accounts.views.passkeys import passkey_page_context

        context.update(passkey_page_context(request))
    if enrolling:
        from zairyu.accounts.totp import provisioning_qr_svg_data_uri, provisioning_uri

        uri = provisioning_uri(user)
        context.update({"secret": user.totp_secret, "qr": provisioning_qr_svg_data_uri(uri)})
    return render(request, "accounts/otp.html", context)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    staff = is_officer(request.user)
    logout(request)  # flushes the session server-side
    messages.info(request, _("You have signed out."))
    return redirect("staff:sign-in" if staff else "home")


# --- signed-in pages ----------------------------------------------------------------------------


@applicant_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/home.html",
        {"account": request.user, "follow_up_only": request.session.get("follow_up_only")},
    )


def _profile_page(request: HttpRequest, status: int = 200, **overrides) -> HttpResponse:
    from zairyu.accounts.views.passkeys import passkey_management_context

    user: User = request.user
    context = {
        "account": user,
        "email_form": forms.ChangeEmailForm(),
        "address_form": forms.ChangeAddressForm(
            initial={
                "prefecture": user.prefecture,
                "municipality": user.municipality,
                "address_rest": user.address_rest,
            }
        ),
        "password_form": forms.ChangePasswordForm(user=user),
        "remove_form": forms.RemoveAccountForm(),
        "can_change_address": user.kind in (UserKind.U1, UserKind.U2, UserKind.U3, UserKind.U4),
        **passkey_management_context(request, staff=False),
        **overrides,
    }
    return render(request, "accounts/profile.html", context, status=status)


@applicant_required
def profile(request: HttpRequest) -> HttpResponse:
    return _profile_page(request)


@applicant_required
@require_POST
def profile_email(request: HttpRequest) -> HttpResponse:
    form = forms.ChangeEmailForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, 400, email_form=form)
    services.email_change_request(
        user=request.user, new_email=form.cleaned_data["email"], ip=request_ip(request)
    )
    messages.success(
        request,
        _("We sent a confirmation link to the new address. The change takes effect when you open it."),
    )
    return redirect("accounts:profile")


def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            services.email_change_confirm(raw_token=token, ip=request_ip(request))
        except services.AccountError:
            return render(request, "accounts/link_invalid.html", status=410)
        messages.success(request, _("Your e-mail address is changed."))
        return redirect("accounts:profile" if request.user.is_authenticated else "accounts:sign-in")
    if services.email_token_peek(raw_token=token, purpose=TokenPurpose.CONFIRM_EMAIL) is None:
        return render(request, "accounts/link_invalid.html", status=410)
    # Confirm with a POST so that mail scanners that open links do not confirm for the user.
    return render(request, "accounts/email_confirm.html")


@applicant_required
@require_POST
def profile_address(request: HttpRequest) -> HttpResponse:
    form = forms.ChangeAddressForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, 400, address_form=form)
    try:
        services.address_change(user=request.user, ip=request_ip(request), **form.cleaned_data)
    except services.AccountError as exc:
        form.add_error(None, exc.message)
        return _profile_page(request, 400, address_form=form)
    messages.success(request, _("Your address is changed."))
    return redirect("accounts:profile")


@sensitive_post_parameters()
@applicant_required
@require_POST
def profile_password(request: HttpRequest) -> HttpResponse:
    form = forms.ChangePasswordForm(request.POST, user=request.user)
    if not form.is_valid():
        return _profile_page(request, 400, password_form=form)
    try:
        user = services.password_change(
            user=request.user,
            old_password=form.cleaned_data["old_password"],
            new_password=form.cleaned_data["password"],
            ip=request_ip(request),
        )
    except services.AccountError as exc:
        form.add_error("old_password", exc.message)
        return _profile_page(request, 400, password_form=form)
    update_session_auth_hash(request, user)  # this session stays; every other one ends
    messages.success(request, _("Your password is changed. Your other sessions were signed out."))
    return redirect("accounts:profile")


@applicant_required
@require_POST
def profile_remove(request: HttpRequest) -> HttpResponse:
    form = forms.RemoveAccountForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, 400, remove_form=form)
    services.user_remove(user=request.user, actor=request.user, reason="own_request", ip=request_ip(request))
    logout(request)
    messages.info(request, _("Your account was removed. Thank you for using the service."))
    return redirect("home")
