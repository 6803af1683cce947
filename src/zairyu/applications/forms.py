"""Forms of the application pages that are not generated from the form catalogue."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.applications.constants import ApplicationState
from zairyu.catalogue import get_catalogue
from zairyu.core import clock


def document_type_choices():
    from zairyu.applications.checklist import document_types

    return [(code, str(label)) for code, label in document_types().items()]


def main_procedure_choices():
    return [(code, str(p.name)) for code, p in get_catalogue().procedures.items() if not p.add_on]


def start_procedure_choices():
    """Every procedure, the add-ons too: someone who wants only a re-entry permit looks for it here,
    and choosing it alone is answered with what to choose instead (``catalogue.rules.add_on_alone``)."""
    choices = []
    for code, procedure in get_catalogue().procedures.items():
        label = str(procedure.name)
        if procedure.add_on:
            label = _("%(procedure)s (online only together with another procedure)") % {"procedure": label}
        choices.append((code, str(label)))
    return choices


def add_on_choices():
    return [(code, str(p.name)) for code, p in get_catalogue().procedures.items() if p.add_on]


def status_choices():
    """Every status in force, those filed only at the window marked so: a holder looks for their
    own status, and choosing it is answered with where to file (``catalogue.rules``)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    catalogue = get_catalogue()
    for entry in catalogue.entries_in_force(clock.today()):
        label = str(entry.name)
        if not entry.online:
            label = str(_("%(status)s (at the window only)") % {"status": label})
        groups.setdefault(str(entry.status_name), []).append((entry.key, label))
    return [("", _("Choose a status of residence"))] + [
        (label, items) if len(items) > 1 else items[0] for label, items in groups.items()
    ]


class StartForm(forms.Form):
    procedure = forms.ChoiceField(
        label=_("What do you want to apply for?"), choices=(), widget=forms.RadioSelect
    )
    status = forms.ChoiceField(
        label=_("Status of residence"),
        choices=(),
        help_text=_(
            "The status applied for (certificate of eligibility, change, acquisition) or held (extension, employment certificate)."
        ),
    )
    add_ons = forms.MultipleChoiceField(
        label=_("Apply at the same time for"),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Online, a re-entry permit or a permission for another activity goes with a change, an "
            "extension or an acquisition chosen above. For one of them on its own, apply at the "
            "window of the regional immigration bureau."
        ),
    )
    card_number = forms.CharField(
        label=_("The applicant's residence card number"),
        max_length=20,
        required=False,
        help_text=_(
            "Not for a certificate of eligibility or an acquisition. 2 letters, 8 digits, 2 letters, e.g. AB12345678CD."
        ),
    )
    birth_or_event_date = forms.DateField(
        label=_("Acquisition only: the date of the birth or of the event"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "A child born in Japan, or someone who lost Japanese nationality, has no residence card: "
            "an acquisition is filed within 30 days of the birth or event, without a card number."
        ),
    )
    parent_card_number = forms.CharField(
        label=_("Acquisition for a child born in Japan: a parent's residence card number"),
        max_length=20,
        required=False,
        help_text=_("The card of the father or mother living in Japan, e.g. AB12345678CD."),
    )
    organization = forms.CharField(
        label=_("Corporate number of the receiving organization"),
        max_length=20,
        required=False,
        help_text=_(
            "Organization staff: for a certificate of eligibility, the 13-digit corporate number of the organization receiving the applicant."
        ),
    )
    consulted_bureau = forms.BooleanField(
        label=_(
            "I have consulted the regional immigration bureau before filing (self-applicants: certificate of eligibility and acquisition)."
        ),
        required=False,
    )
    relative_lives_in_japan = forms.BooleanField(label=_("I (the relative) live in Japan."), required=False)
    # A relative (U3) files a change, extension or acquisition for an applicant under 16 — the
    # registry's date of birth decides, on the filing day — or for one who cannot apply in person:
    # only that is the filer's word, with the reason, which the officer reads.
    applicant_unable = forms.BooleanField(
        label=_("The applicant cannot apply in person because of illness or another reason."),
        required=False,
        help_text=_(
            "Not needed for an applicant under 16: their age is taken from the date of birth in the "
            "registry on the day you file."
        ),
    )
    applicant_unable_reason = forms.CharField(
        label=_("Why the applicant cannot apply in person"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Needed when you tick the box above; the immigration officer reads it. At most 500 characters."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = start_procedure_choices()
        self.fields["status"].choices = status_choices()
        self.fields["add_ons"].choices = add_on_choices()
        kind = getattr(user, "kind", "")
        if kind != "U1":
            del self.fields["consulted_bureau"]
        if kind != "U3":
            del self.fields["relative_lives_in_japan"]
            del self.fields["applicant_unable"]
            del self.fields["applicant_unable_reason"]
        if kind not in ORGANIZATION_STAFF_KINDS:
            del self.fields["organization"]

    def facts(self) -> dict[str, bool]:
        return {
            name: bool(self.cleaned_data.get(name))
            for name in ("consulted_bureau", "relative_lives_in_japan", "applicant_unable")
            if name in self.fields and self.cleaned_data.get(name)
        }

    def fact_reasons(self) -> dict[str, str]:
        """The reason given for a stated fact whose condition asks one."""
        text = (self.cleaned_data.get("applicant_unable_reason") or "").strip()
        return {"applicant_unable": text} if "applicant_unable_reason" in self.fields and text else {}


class DocumentUploadForm(forms.Form):
    document_type = forms.ChoiceField(label=_("Kind of document"), choices=document_type_choices)
    file = forms.FileField(
        label=_("PDF file"), help_text=_("One PDF per document, at most 10 MB; no password or restrictions.")
    )


class PhotoUploadForm(forms.Form):
    photo = forms.FileField(
        label=_("Face photo (JPEG)"),
        help_text=_(
            "At most 50 KB, portrait 4:3 (4 cm × 3 cm), at least 240 × 320 pixels, taken within the last 6 months."
        ),
    )
    taken_within_6_months = forms.BooleanField(
        label=_("This photo was taken within the last 6 months."), required=True
    )


class OrganizationPartForm(forms.Form):
    file = forms.FileField(
        label=_("Organization's part of the application form (PDF)"),
        help_text=_("Filled in and signed by the employer or school; one PDF."),
    )


class ReceiptMethodForm(forms.Form):
    method = forms.ChoiceField(
        label=_("How do you want to receive the result?"), choices=(), widget=forms.RadioSelect
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = choices


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Applicant or receipt number"), required=False, max_length=100)
    state = forms.ChoiceField(label=_("Status"), required=False, choices=())
    procedure = forms.ChoiceField(label=_("Procedure"), required=False, choices=())
    submitted_from = forms.DateField(
        label=_("Submitted from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(
        label=_("Submitted until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All"))] + list(ApplicationState.choices)
        self.fields["procedure"].choices = [("", _("All"))] + main_procedure_choices()
