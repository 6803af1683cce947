"""Forms of the public catalogue pages. Choices come from the catalogue, never from code."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.loader import StatusEntry


def _entry_label(entry: StatusEntry) -> object:
    if entry.online:
        return entry.name
    # Kept in the list so the answer can say why it is excluded.
    return format_lazy(_("{status} (not online)"), status=entry.name)


def status_choices(on: dt.date) -> list[tuple[object, object]]:
    """The status entries in force on ``on``, sub-categories grouped under their status."""
    catalogue = get_catalogue()
    entries = catalogue.entries_in_force(on)
    choices: list[tuple[object, object]] = [("", _("Choose a status of residence"))]
    for status in catalogue.statuses_in_force(on):
        own = [e for e in entries if e.status_code == status.code]
        if not own:
            continue
        if len(own) == 1 and own[0].sub_code is None:
            choices.append((own[0].key, _entry_label(own[0])))
        else:
            choices.append((status.name, [(e.key, _entry_label(e)) for e in own]))
    return choices


class WhoCanFileForm(forms.Form):
    """The question of the "who can file what" page: who files, for which status of residence."""

    user_category = forms.ChoiceField(
        label=_("Who are you?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose who you are (your user category)."),
            "invalid_choice": _("Choose one of the user categories in the list."),
        },
    )
    status = forms.ChoiceField(
        label=_("Status of residence of the applicant"),
        help_text=_(
            "For a Certificate of Eligibility, change or acquisition: the status applied for. "
            "For an extension, employment certificate, re-entry or activity permission: the status held."
        ),
        error_messages={
            "required": _("Choose the applicant's status of residence."),
            "invalid_choice": _("Choose one of the statuses of residence in the list."),
        },
    )

    def __init__(self, *args: object, on: dt.date, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        catalogue = get_catalogue()
        self.fields["user_category"].choices = [
            (category.code, category.name) for category in catalogue.user_categories.values()
        ]
        self.fields["status"].choices = status_choices(on)
