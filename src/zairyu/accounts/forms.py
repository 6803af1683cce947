"""Forms of the accounts pages. They validate and normalise input; services do the writing."""

from __future__ import annotations

import base64
import binascii
import json

from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import RELATIONS_BY_KIND, Relation, UserKind
from zairyu.catalogue import get_catalogue

MAX_CERTIFICATE_CHARS = 8000
MAX_SIGNATURE_CHARS = 1024


def language_choices():
    return [("ja", "日本語"), ("en", "English")]


def prefecture_choices():
    return [("", _("Choose a prefecture"))] + [
        (code, str(prefecture.name)) for code, prefecture in get_catalogue().prefectures.items()
    ]


class EmailPairMixin(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    email_again = forms.EmailField(label=_("E-mail address again"), max_length=254)

    def clean(self):
        data = super().clean()
        if (
            data.get("email")
            and data.get("email_again")
            and data["email"].lower() != data["email_again"].lower()
        ):
            self.add_error("email_again", _("The two e-mail addresses differ. Type the same address twice."))
        return data


class CardResponseForm(forms.Form):
    """The card's answer to a challenge: filled in by the page's script from the local card bridge,
    or pasted as the JSON printed by ``python -m zairyu.jpki.card sign``."""

    challenge = forms.CharField(widget=forms.HiddenInput, max_length=64)
    certificate = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_CERTIFICATE_CHARS)
    signature = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_SIGNATURE_CHARS)
    card_response = forms.CharField(
        label=_("Or paste the answer of the card program"),
        required=False,
        max_length=MAX_CERTIFICATE_CHARS + MAX_SIGNATURE_CHARS + 200,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_(
            "Output of: python -m zairyu.jpki.card sign --card YOUR.card.json --cert … --challenge …"
        ),
    )

    def clean(self):
        data = super().clean()
        certificate, signature = data.get("certificate") or "", data.get("signature") or ""
        pasted = (data.get("card_response") or "").strip()
        if pasted and not (certificate and signature):
            try:
                parsed = json.loads(pasted)
                certificate, signature = str(parsed["certificate"]), str(parsed["signature"])
            except (ValueError, KeyError, TypeError):
                raise forms.ValidationError(
                    _(
                        "The pasted answer is not what the card program prints. Copy all of it, braces included."
                    ),
                    code="card_response",
                ) from None
        if not certificate or not signature:
            raise forms.ValidationError(
                _(
                    "Read your My Number Card first: connect the card reader, start the card program and enter your PIN."
                ),
                code="card_missing",
            )
        try:
            data["signature_bytes"] = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise forms.ValidationError(
                _("The card's answer is damaged. Read the card again."), code="card_damaged"
            ) from None
        if len(certificate) > MAX_CERTIFICATE_CHARS:
            raise forms.ValidationError(
                _("The card's answer is damaged. Read the card again."), code="card_damaged"
            )
        data["certificate_pem"] = certificate
        return data


class CardRegistrationDetailsForm(EmailPairMixin):
    relation = forms.ChoiceField(label=_("Your relation to the applicant"), choices=(), required=False)
    prefecture = forms.ChoiceField(label=_("Prefecture"), choices=())
    municipality = forms.CharField(label=_("City, ward, town or village"), max_length=100)
    address_rest = forms.CharField(label=_("Rest of the address"), max_length=200)
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=language_choices)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["prefecture"].choices = prefecture_choices()
        relations = RELATIONS_BY_KIND.get(UserKind(kind), ())
        if relations:
            self.fields["relation"].required = True
            self.fields["relation"].choices = [("", _("Choose"))] + [(r.value, r.label) for r in relations]
        else:
            del self.fields["relation"]

    def clean_relation(self):
        value = self.cleaned_data.get("relation", "")
        if value and value not in Relation.values:
            raise forms.ValidationError(_("Choose one of the listed relations."))
        return value


class AgentRegistrationForm(EmailPairMixin):
    number = forms.CharField(
        label=_("Agent certificate number"),
        max_length=20,
        help_text=_("The 12 digits printed on your notification certificate (届出済証明書)."),
    )
    holder_name = forms.CharField(label=_("Name as on the certificate"), max_length=200)
    expires_on = forms.DateField(
        label=_("Expiry date of the certificate"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("As printed on the certificate, e.g. 2027-03-31."),
    )
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=language_choices)

    def clean_number(self):
        from zairyu.catalogue.validators import (
            normalize_agent_certificate_number,
            validate_agent_certificate_number,
        )

        value = normalize_agent_certificate_number(self.cleaned_data["number"])
        validate_agent_certificate_number(value)
        return value


class WindowRegistrationForm(EmailPairMixin):
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=language_choices)


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters. Avoid common passwords; a long phrase is good."),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords differ. Type the same password twice."))
        elif password:
            try:
                validate_password(password, self.user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data

    @staticmethod
    def rules() -> list[str]:
        return password_validators_help_texts()


class ChangePasswordForm(SetPasswordForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "password", "password_again"]


class SignInForm(forms.Form):
    auth_id = forms.CharField(
        label=_("Authentication ID"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CardSignInForm(SignInForm, CardResponseForm):
    pass


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("6-digit code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasskeyAnswerForm(forms.Form):
    """What ``navigator.credentials.get()`` answered, as JSON (filled in by passkeys.js)."""

    credential = forms.CharField(widget=forms.HiddenInput, max_length=16_000)


class PasskeyAddForm(PasskeyAnswerForm):
    name = forms.CharField(
        label=_("Name of the passkey"),
        max_length=64,
        help_text=_("So you can tell your passkeys apart, e.g. “office laptop” or “blue security key”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    field_order = ["name", "credential"]


class PasskeyRemoveForm(forms.Form):
    password = forms.CharField(
        label=_("Your password, to confirm"),
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ForgotPasswordForm(forms.Form):
    auth_id = forms.CharField(label=_("Authentication ID"), max_length=40)
    email = forms.EmailField(label=_("Registered e-mail address"), max_length=254)


class ForgotIdForm(forms.Form):
    email = forms.EmailField(label=_("Registered e-mail address"), max_length=254)


class ChangeEmailForm(EmailPairMixin):
    pass


class ChangeAddressForm(forms.Form):
    prefecture = forms.ChoiceField(label=_("Prefecture"), choices=())
    municipality = forms.CharField(label=_("City, ward, town or village"), max_length=100)
    address_rest = forms.CharField(label=_("Rest of the address"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prefecture"].choices = prefecture_choices()


class RemoveAccountForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account is removed at once and my ID can never be used again."),
        required=True,
    )


class UnlockForm(forms.Form):
    auth_id = forms.CharField(label=_("Authentication ID of the account to unlock"), max_length=40)


class SecondFactorResetForm(forms.Form):
    auth_id = forms.CharField(label=_("Authentication ID of the account"), max_length=40)
    confirm = forms.BooleanField(
        label=_("I have confirmed who the user is, and they lost their authenticator app and passkeys."),
        required=True,
    )
