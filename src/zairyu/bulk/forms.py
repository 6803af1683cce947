"""Forms of the bulk pages: which template, the upload, the ZIP of attachments."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from zairyu.applications.forms import add_on_choices, main_procedure_choices, status_choices
from zairyu.bulk.constants import FileKind


class KindForm(forms.Form):
    """Which procedure and status: one bulk file holds one procedure and one input screen (F-09)."""

    procedure = forms.ChoiceField(label=_("Procedure"), choices=())
    status = forms.ChoiceField(
        label=_("Status of residence"),
        choices=(),
        help_text=_("The status applied for (certificate of eligibility, change) or held (extension)."),
    )
    add_ons = forms.MultipleChoiceField(
        label=_("Applied for at the same time, for every row"),
        choices=(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = main_procedure_choices()
        self.fields["status"].choices = status_choices()
        self.fields["add_ons"].choices = add_on_choices()


class TemplateForm(KindForm):
    format = forms.ChoiceField(
        label=_("File format"), choices=FileKind.choices, initial=FileKind.XLSX, widget=forms.RadioSelect
    )


class UploadForm(KindForm):
    file = forms.FileField(
        label=_("Bulk file (Excel .xlsx or CSV)"),
        help_text=_("The template filled in: at most 300 applicants, one per row, from row 6."),
    )


class ZipForm(forms.Form):
    file = forms.FileField(
        label=_("ZIP file of photos and PDFs"),
        help_text=_(
            "Each file named <residence card number>_<kind>.<ext>, e.g. AB12345678CD_photo.jpg, AB12345678CD_passport_copy.pdf (or row6_photo.jpg)."
        ),
    )
    taken_within_6_months = forms.BooleanField(
        label=_("The photos in this ZIP file were taken within the last 6 months."), required=False
    )
