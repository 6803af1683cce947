"""Forms of the organizations pages. They normalise and validate what was typed; the services
check it against the registry and do the writing. Files cannot be kept by a browser after a
refused form: the page says so next to each file field."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.forms import EmailPairMixin, language_choices, prefecture_choices
from zairyu.organizations.constants import (
    AGENT_ORGANIZATION_KINDS,
    MAX_MANDATES_PER_FILING,
    Basis,
    ChangeKind,
)
from zairyu.registry.constants import OrganizationCategory, OrganizationKind


def pdf_field(label, *, required: bool = True, help_text=None) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        help_text=help_text or _("One PDF of at most 10 MB, without a password."),
        widget=forms.FileInput(attrs={"accept": "application/pdf,.pdf"}),
        error_messages={
            "required": _("Choose the PDF file to attach."),
            "empty": _("The chosen file is empty. Choose the PDF again."),
        },
    )


def confirmation(label, message) -> forms.BooleanField:
    """A box that must be ticked, with a message that says why."""
    return forms.BooleanField(label=label, required=True, error_messages={"required": message})


def _corporate_number(value: str) -> str:
    from zairyu.catalogue.validators import normalize_corporate_number, validate_corporate_number

    number = normalize_corporate_number(value)
    validate_corporate_number(number)
    return number


def count_choices():
    return [(n, str(n)) for n in range(1, MAX_MANDATES_PER_FILING + 1)]


def mandate_count(value: Any, *, default: int = 1, minimum: int = 1) -> int:
    """A count of mandate rows from a query string or the session, kept within bounds."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = default
    return max(minimum, min(count, MAX_MANDATES_PER_FILING))


class EmailStartForm(EmailPairMixin):
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=language_choices)


class OrganizationStepForm(forms.Form):
    corporate_number = forms.CharField(
        label=_("Corporate number of the organization"),
        max_length=30,
        help_text=_("13 digits, as on the National Tax Agency's corporate number site."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    kind = forms.ChoiceField(label=_("Kind of organization"), choices=())
    category = forms.TypedChoiceField(
        label=_("Category of the organization"), coerce=int, choices=(), widget=forms.RadioSelect
    )
    mandate_count = forms.TypedChoiceField(
        label=_("Number of receiving organizations that mandated you"),
        coerce=int,
        choices=count_choices,
        initial=1,
        required=False,
        help_text=_(
            "Only public-interest corporations and registered support organizations: you will attach "
            "a mandate and a pledge for each. More can be added after approval."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Choose"))] + list(OrganizationKind.choices)
        self.fields["category"].choices = list(OrganizationCategory.choices)

    def clean_corporate_number(self) -> str:
        return _corporate_number(self.cleaned_data["corporate_number"])


class StaffFieldsForm(forms.Form):
    """The staff member and what their approval stands on."""

    full_name = forms.CharField(label=_("Staff member's name"), max_length=200)
    department = forms.CharField(label=_("Department and position"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone number at work"), max_length=20, required=False)
    basis = forms.ChoiceField(
        label=_("The approval stands on"), choices=Basis.choices, widget=forms.RadioSelect
    )
    agent_certificate_number = forms.CharField(
        label=_("Agent certificate number"),
        max_length=20,
        required=False,
        help_text=_("If you hold an agent certificate: the 12 digits printed on it."),
    )
    qualification_facts = forms.CharField(
        label=_("How the staff member meets the requirements"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "If you do not hold a certificate: the facts that meet the requirements for approval as an "
            "agent (for example the training course attended, and when)."
        ),
    )

    def clean_agent_certificate_number(self) -> str:
        from zairyu.catalogue.validators import (
            normalize_agent_certificate_number,
            validate_agent_certificate_number,
        )

        value = normalize_agent_certificate_number(self.cleaned_data.get("agent_certificate_number", ""))
        if value:
            validate_agent_certificate_number(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        basis = data.get("basis")
        if (
            basis == Basis.CERTIFICATE
            and not data.get("agent_certificate_number")
            and "agent_certificate_number" not in self.errors
        ):
            self.add_error("agent_certificate_number", _("Enter the number of your agent certificate."))
        if basis == Basis.QUALIFIES and not (data.get("qualification_facts") or "").strip():
            self.add_error("qualification_facts", _("Describe how the staff member meets the requirements."))
        return data


class UsageApplicationForm(StaffFieldsForm):
    """Step 2 of a usage application: shaped by the organization's kind and category (step 1)."""

    notifications_filed = confirmation(
        _(
            "The organization files its notifications on accepting foreign nationals (and on their "
            "employment, where it must)"
        ),
        _("Tick this box: only organizations that file these notifications can be approved."),
    )
    category_3_as_2 = forms.BooleanField(
        label=_("We ask to be treated as category 2, and attach the proof that we are in category 3"),
        required=False,
    )
    category_proof_document = pdf_field(_("Proof of category 3"), required=False)
    stability_facts = forms.CharField(
        label=_("Facts that show the organization's operations will be stable"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For example the business plan, capital and financing, and the first contracts."),
    )
    stability_document = pdf_field(_("Documents on the expected stability (optional)"), required=False)
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=language_choices)
    supporting_document = pdf_field(
        _("Supporting documents"),
        help_text=_(
            "The documents on the checklist of the usage application, in one PDF of at most 10 MB "
            "without a password."
        ),
    )
    pledge = confirmation(
        _(
            "We pledge to use the online system only as the guidance allows, and to report changes, "
            "leavers and the periodic report on time"
        ),
        _("Tick the pledge: a usage application cannot be approved without it."),
    )

    def __init__(self, *args: Any, organization_kind: str, category: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.receiving = organization_kind not in AGENT_ORGANIZATION_KINDS
        self.category = category
        if not self.receiving:
            del self.fields["notifications_filed"]
        if not (self.receiving and category == 3):
            del self.fields["category_3_as_2"], self.fields["category_proof_document"]
        if not (self.receiving and category == 4):
            del self.fields["stability_facts"], self.fields["stability_document"]
        else:
            self.fields["stability_facts"].required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("category_3_as_2") and not data.get("category_proof_document"):
            self.add_error(
                "category_proof_document",
                _("Attach the proof of category 3, or untick the request to be treated as category 2."),
            )
        return data

    def sections(self) -> list[tuple[Any, list[forms.BoundField]]]:
        def pick(*names: str) -> list[forms.BoundField]:
            return [self[name] for name in names if name in self.fields]

        organization = pick(
            "notifications_filed",
            "category_3_as_2",
            "category_proof_document",
            "stability_facts",
            "stability_document",
        )
        sections = []
        if organization:
            sections.append((_("The organization"), organization))
        sections += [
            (_("The staff member"), pick("full_name", "department", "phone", "language")),
            (
                _("Basis for approval"),
                pick("basis", "agent_certificate_number", "qualification_facts"),
            ),
            (_("Documents and pledge"), pick("supporting_document", "pledge")),
        ]
        return sections


class MandateForm(forms.Form):
    """One receiving organization that mandated a support organization."""

    corporate_number = forms.CharField(
        label=_("Corporate number of the receiving organization"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    mandate_document = pdf_field(_("Its mandate (request to file online for it)"))
    pledge_document = pdf_field(_("Its pledge"))

    def clean_corporate_number(self) -> str:
        return _corporate_number(self.cleaned_data["corporate_number"])


def mandate_forms(count: int, data=None, files=None) -> list[MandateForm]:
    return [MandateForm(data, files, prefix=f"mandate-{index}") for index in range(count)]


class AdditionalApplicationForm(EmailPairMixin, StaffFieldsForm):
    """An approved staff member files for a colleague."""

    language = forms.ChoiceField(label=_("Language of the colleague's e-mails"), choices=language_choices)
    supporting_document = pdf_field(
        _("Supporting documents"),
        help_text=_(
            "The documents on the checklist of the additional usage application, in one PDF of at most "
            "10 MB without a password."
        ),
    )
    pledge = confirmation(
        _("We pledge that this colleague will use the online system only as the guidance allows"),
        _("Tick the pledge: a usage application cannot be approved without it."),
    )
    field_order = [
        "full_name",
        "email",
        "email_again",
        "department",
        "phone",
        "language",
        "basis",
        "agent_certificate_number",
        "qualification_facts",
        "supporting_document",
        "pledge",
    ]


class PeriodicReportForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the bureau (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        memberships: list[Any],
        mandates: list[Any],
        agent: bool,
        needs_proof: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.staff_names = []
        for membership in memberships:
            name = f"staff_{membership.pk}"
            self.fields[name] = forms.BooleanField(
                label=f"{membership.user.full_name} ({membership.user.auth_id_display})",
                required=False,
                initial=True,
            )
            self.staff_names.append(name)
        self.mandate_names = []
        for mandate in mandates:
            name = f"mandate_{mandate.pk}"
            self.fields[name] = forms.BooleanField(
                label=f"{mandate.principal.name} ({mandate.principal.corporate_number})",
                required=False,
                initial=True,
            )
            self.mandate_names.append(name)
        self.fields["supporting_document"] = pdf_field(
            _("Supporting documents") if needs_proof else _("Supporting documents (optional)"),
            required=needs_proof,
            help_text=_("Organizations treated as category 2: the proof that they are still in category 3.")
            if needs_proof
            else None,
        )
        if agent:
            self.fields["mandates_document"] = pdf_field(
                _("Mandates of every receiving organization you act for now"),
                help_text=_("All of them, in one PDF of at most 10 MB without a password."),
            )

    def staff_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.staff_names]

    def mandate_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.mandate_names]

    def document_fields(self) -> list[forms.BoundField]:
        return [
            self[name] for name in ("supporting_document", "mandates_document", "note") if name in self.fields
        ]

    def continuing(self, prefix: str) -> list[int]:
        return [
            int(name.removeprefix(prefix))
            for name, value in self.cleaned_data.items()
            if name.startswith(prefix) and value
        ]


class ChangeNotificationForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What changed"),
        choices=[
            (ChangeKind.ORGANIZATION.value, ChangeKind.ORGANIZATION.label),
            (ChangeKind.STAFF_NAME.value, ChangeKind.STAFF_NAME.label),
        ],
        widget=forms.RadioSelect,
    )
    new_name = forms.CharField(
        label=_("New name"),
        max_length=200,
        required=False,
        help_text=_("The organization's new name, or the staff member's new name."),
    )
    staff_member = forms.TypedChoiceField(
        label=_("Staff member whose name changed"), coerce=int, choices=(), required=False
    )
    new_prefecture = forms.ChoiceField(label=_("New address: prefecture"), choices=(), required=False)
    new_municipality = forms.CharField(
        label=_("New address: city, ward, town or village"), max_length=60, required=False
    )
    new_address_rest = forms.CharField(label=_("New address: the rest"), max_length=200, required=False)
    supporting_document = pdf_field(
        _("Proof of the change"),
        help_text=_("For example the certificate of registered matters, in one PDF of at most 10 MB."),
    )

    def __init__(self, *args: Any, memberships: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff_member"].choices = [("", _("Choose"))] + [
            (m.pk, f"{m.user.full_name} ({m.user.auth_id_display})") for m in memberships
        ]
        self.fields["new_prefecture"].choices = prefecture_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind == ChangeKind.STAFF_NAME:
            if not data.get("staff_member"):
                self.add_error("staff_member", _("Choose the staff member whose name changed."))
            if not (data.get("new_name") or "").strip():
                self.add_error("new_name", _("Enter the new name."))
        elif kind == ChangeKind.ORGANIZATION:
            address = [data.get(f) for f in ("new_prefecture", "new_municipality", "new_address_rest")]
            if not (data.get("new_name") or "").strip() and not any(address):
                self.add_error("new_name", _("Enter the new name, the new address, or both."))
            elif any(address) and not all(address):
                for name, value in zip(
                    ("new_prefecture", "new_municipality", "new_address_rest"), address, strict=True
                ):
                    if not value:
                        self.add_error(name, _("Give the whole new address."))
        return data


class ErrorsForm(forms.Form):
    """No fields: holds the errors of a page whose fields are all in sub-forms."""


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(
        required=True, error_messages={"required": _("Tick the box to confirm, or go back.")}
    )

    def __init__(self, *args: Any, label: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = label


# --- officers -----------------------------------------------------------------------------------


class ApproveForm(forms.Form):
    """Approval: every criterion of the checklist ticked."""

    def __init__(self, *args: Any, checklist: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in checklist:
            self.fields[f"check_{item.code}"] = forms.BooleanField(
                label=item.label,
                required=True,
                error_messages={"required": _("Confirm this criterion before approving.")},
            )
        self.checklist = checklist

    def rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(item, self[f"check_{item.code}"]) for item in self.checklist]


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the refusal"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the applicant by e-mail: say what is missing or wrong and what they can do."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for the refusal."))
        return reason


class BureauRemovalForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for removing the approval"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the staff member. They cannot file a new usage application for a year."),
    )
