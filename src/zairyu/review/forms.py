"""The officers' forms: they validate input; the services decide and change."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from zairyu.applications.forms import main_procedure_choices
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.formspec import role_field_id
from zairyu.core import clock
from zairyu.review.constants import DOCUMENT_REQUEST_DAYS, Outcome, Queue
from zairyu.review.services import AddOnOutcome

DATE = {"type": "date"}


def _status_choices(*, blank: str) -> list:
    groups: dict[str, list[tuple[str, str]]] = {}
    for entry in get_catalogue().entries_in_force(clock.today()):
        groups.setdefault(str(entry.status_name), []).append((entry.key, str(entry.name)))
    return [("", blank)] + [(label, items) if len(items) > 1 else items[0] for label, items in groups.items()]


def _all_procedure_choices(*, blank: str) -> list:
    return [("", blank)] + [(code, f"{code} {p.name}") for code, p in get_catalogue().procedures.items()]


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(label=_("Queue"), choices=Queue.choices, required=False)
    procedure = forms.ChoiceField(label=_("Procedure"), required=False, choices=())
    status = forms.ChoiceField(label=_("Status of residence"), required=False, choices=())
    received_from = forms.DateField(
        label=_("Received from"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    received_to = forms.DateField(
        label=_("Received until"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    older_than_days = forms.IntegerField(
        label=_("Waiting at least (days)"), required=False, min_value=0, max_value=3650
    )
    assignee = forms.ChoiceField(label=_("Assigned to"), required=False, choices=())

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].choices = [("", _("All"))] + main_procedure_choices()
        self.fields["status"].choices = _status_choices(blank=str(_("All")))
        self.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("me", _("Me")),
            ("none", _("Nobody yet")),
        ] + [(str(o.pk), o.full_name or o.username) for o in officers]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assign to"), choices=())

    def __init__(self, *args, officers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(str(o.pk), o.full_name or o.username) for o in officers]


class DocumentRequestForm(forms.Form):
    message = forms.CharField(
        label=_("Which documents are needed, and why"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The filer receives this by e-mail and sees it on the application's page."),
    )
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"deadline": clock.today() + dt.timedelta(days=DOCUMENT_REQUEST_DAYS)})
        super().__init__(*args, **kwargs)


class DecisionForm(forms.Form):
    """Permit (status, period, expiry) or deny (reason); and for each add-on filed with it, its
    own outcome. The add-on fields are made for the application's add-ons only."""

    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices, widget=forms.RadioSelect)
    status = forms.ChoiceField(label=_("Status of residence granted"), required=False, choices=())
    period_of_stay = forms.CharField(
        label=_("Period of stay granted"),
        required=False,
        max_length=8,
        help_text=_("5Y, 3Y, 1Y, 6M, 3M or 90D."),
    )
    stay_expires_on = forms.DateField(
        label=_("New period of stay expires on"), required=False, widget=forms.DateInput(attrs=DATE)
    )
    reason = forms.CharField(
        label=_("Reason for a denial"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the filer."),
    )

    def __init__(self, *args, application, **kwargs):
        initial = kwargs.setdefault("initial", {})
        answers = application.answers or {}
        initial.setdefault("status", application.status)
        initial.setdefault("period_of_stay", answers.get(role_field_id("stay.desired_period")) or "")
        super().__init__(*args, **kwargs)
        self.application = application
        self.fields["status"].choices = _status_choices(blank=str(_("Choose")))
        catalogue = get_catalogue()
        self.add_on_codes = list(application.add_ons)
        for code in self.add_on_codes:
            name = catalogue.procedures[code].name
            self.fields[f"{code}_outcome"] = forms.ChoiceField(
                label=name, choices=Outcome.choices, widget=forms.RadioSelect, required=False
            )
            if code == "P6":
                self.fields["P6_reentry_kind"] = forms.ChoiceField(
                    label=_("Re-entry permit"),
                    choices=[("single", _("Single")), ("multiple", _("Multiple"))],
                    required=False,
                    initial=answers.get(role_field_id("reentry.kind")) or "single",
                )
                self.fields["P6_valid_until"] = forms.DateField(
                    label=_("Re-entry permit valid until"),
                    required=False,
                    widget=forms.DateInput(attrs=DATE),
                    help_text=_("Blank: until the period of stay ends."),
                )
            if code == "P7":
                self.fields["P7_conditions"] = forms.CharField(
                    label=_("Conditions of the activity permission"),
                    required=False,
                    max_length=200,
                    initial=_("Up to 28 hours a week"),
                )
            self.fields[f"{code}_reason"] = forms.CharField(
                label=_("Reason if denied"), required=False, max_length=2000
            )

    def add_on_outcomes(self) -> dict[str, AddOnOutcome]:
        data = self.cleaned_data
        return {
            code: AddOnOutcome(
                outcome=data.get(f"{code}_outcome") or "",
                reason=data.get(f"{code}_reason") or "",
                reentry_kind=data.get("P6_reentry_kind") or "" if code == "P6" else "",
                valid_until=data.get("P6_valid_until") if code == "P6" else None,
                conditions=data.get("P7_conditions") or "" if code == "P7" else "",
            )
            for code in self.add_on_codes
        }

    def add_on_groups(self):
        """The add-on fields per procedure, for the template."""
        return [
            (
                get_catalogue().procedures[code].name,
                [self[name] for name in self.fields if name.startswith(f"{code}_")],
            )
            for code in self.add_on_codes
        ]


class PostalItemsForm(forms.Form):
    envelope = forms.BooleanField(label=_("Return envelope with postage"), required=False)
    fee_form = forms.BooleanField(label=_("Fee form with revenue stamps"), required=False)
    card = forms.BooleanField(label=_("Current residence card"), required=False)


class PostForm(forms.Form):
    tracking_number = forms.CharField(label=_("Tracking number of the registered mail"), max_length=40)


class WindowHandOverForm(forms.Form):
    fee_stamps_received = forms.BooleanField(
        label=_("The fee form with its revenue stamps was handed in"), required=False
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class WindowCountForm(forms.Form):
    office = forms.ChoiceField(label=_("Office"), choices=())
    month = forms.DateField(
        label=_("Month"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
    )
    procedure = forms.ChoiceField(label=_("Procedure"), choices=())
    count = forms.IntegerField(label=_("Applications filed at the window"), min_value=0, max_value=10_000_000)

    def __init__(self, *args, offices, **kwargs):
        super().__init__(*args, **kwargs)
        catalogue = get_catalogue()
        self.fields["office"].choices = [(code, str(catalogue.offices[code].name)) for code in offices]
        self.fields["procedure"].choices = _all_procedure_choices(blank=str(_("Choose")))


class WindowCountImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns office,month,procedure,count — e.g. tokyo,2025-04,P3,1234. UTF-8."),
    )
