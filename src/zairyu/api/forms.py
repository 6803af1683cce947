"""Forms of the API's web pages: a vendor registers a client, an officer decides on it, a user
consents to a client's request."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zairyu.api.services import AUTHORISATION_PERIODS_DAYS

MAX_REDIRECT_URIS = 10
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def is_loopback(host: str | None) -> bool:
    """127.0.0.1, [::1] or localhost: a native application's callback on this very computer
    (RFC 8252 §7.3); any port may then be used at the time of the request."""
    if not host:
        return False
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be a redirect URI, in words for the vendor; None when it can."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return str(_("“%(uri)s” is not a web address.") % {"uri": uri})
    if parts.scheme not in ("https", "http") or not host:
        return str(
            _("“%(uri)s” is not a web address; give a full address such as https://example.com/callback.")
            % {"uri": uri}
        )
    if "#" in uri:
        return str(_("“%(uri)s” has a fragment (#…); a redirect URI must not have one.") % {"uri": uri})
    if "@" in parts.netloc:
        return str(
            _("“%(uri)s” has a user name or password in it; remove it (…@ before the host).") % {"uri": uri}
        )
    if parts.scheme == "http" and settings.PRODUCTION and not is_loopback(host):
        return str(
            _(
                "“%(uri)s” uses http. Use https, or http only on this computer's loopback address "
                "(http://127.0.0.1/…) for a desktop program."
            )
            % {"uri": uri}
        )
    if not is_loopback(host):
        try:
            URLValidator(schemes=["http", "https"])(uri)
        except ValidationError:
            return str(_("“%(uri)s” is not a valid web address.") % {"uri": uri})
    return None


class ClientRegisterForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the software"),
        max_length=120,
        help_text=_("As users will see it on the consent page, e.g. “Example HR cloud”."),
    )
    vendor_name = forms.CharField(label=_("Vendor (company or person)"), max_length=200)
    vendor_corporate_number = forms.CharField(
        label=_("Vendor's corporate number (optional)"),
        required=False,
        max_length=40,
        help_text=_("13 digits, as published by the National Tax Agency."),
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail address"),
        help_text=_("Officers use it to reach you about the approval and about problems with the software."),
    )
    description = forms.CharField(
        label=_("What the software does"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who uses it and for which applications. It helps the officer who approves it."),
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=_(
            "One per line: where the user's browser is sent back after consenting. https, or "
            "http://127.0.0.1/… (any port) for a desktop program."
        ),
    )
    client_type = forms.ChoiceField(
        label=_("Kind of client"),
        choices=[
            ("confidential", _("Confidential: runs on a server and can keep a client secret")),
            ("public", _("Public: a desktop or mobile program; no secret, PKCE only")),
        ],
        initial="confidential",
        widget=forms.RadioSelect,
    )

    def clean_vendor_corporate_number(self) -> str:
        from zairyu.catalogue.validators import normalize_corporate_number, validate_corporate_number

        value = self.cleaned_data.get("vendor_corporate_number") or ""
        if not value.strip():
            return ""
        number = normalize_corporate_number(value)
        validate_corporate_number(number)
        return number

    def clean_redirect_uris(self) -> list[str]:
        lines = [line.strip() for line in (self.cleaned_data.get("redirect_uris") or "").splitlines()]
        uris = list(dict.fromkeys(line for line in lines if line))
        if not uris:
            raise ValidationError(_("Give at least one redirect URI."), code="required")
        if len(uris) > MAX_REDIRECT_URIS:
            raise ValidationError(
                _("Give at most %(count)d redirect URIs.") % {"count": MAX_REDIRECT_URIS}, code="too_many"
            )
        problems = [problem for problem in map(redirect_uri_problem, uris) if problem]
        if problems:
            raise ValidationError(problems)
        return uris


class ClientDecisionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("approve", _("Approve")),
            ("reject", _("Reject")),
            ("suspend", _("Suspend")),
        ]
    )
    note = forms.CharField(
        label=_("Note (shown to other officers; required to reject or suspend)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if data.get("action") in ("reject", "suspend") and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why, for the vendor and the other officers."))
        return data


class ConsentForm(forms.Form):
    """The consent page: the client's request travels in hidden fields (checked again by oauthlib
    when the code is issued), the user's choice in ``scopes`` and ``days``."""

    client_id = forms.CharField(widget=forms.HiddenInput, max_length=200)
    redirect_uri = forms.CharField(widget=forms.HiddenInput, max_length=2000)
    response_type = forms.CharField(widget=forms.HiddenInput, max_length=40)
    state = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)
    code_challenge = forms.CharField(widget=forms.HiddenInput, max_length=200)
    code_challenge_method = forms.CharField(widget=forms.HiddenInput, max_length=10)
    requested = forms.CharField(widget=forms.HiddenInput, max_length=500)
    scopes = forms.MultipleChoiceField(
        label=_("What the software may do for you"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    days = forms.TypedChoiceField(
        label=_("For how long"),
        coerce=int,
        initial=30,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, grantable: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = grantable
        self.fields["days"].choices = [
            (days, ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
            for days in AUTHORISATION_PERIODS_DAYS
        ]

    def clean_scopes(self) -> list[str]:
        chosen = self.cleaned_data.get("scopes") or []
        if not chosen:
            raise ValidationError(
                _("Tick at least one thing the software may do, or choose “Deny”."), code="required"
            )
        return chosen
