"""What a filer (and the officer reviewing) reads back of an application: every answer with the
catalogue's labels, and the fees. Used by the confirmation page, the application's page and the
officer's review page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zairyu.applications.models import Application
from zairyu.applications.rules.results import format_message
from zairyu.applications.rules.timing import timing_problems
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for
from zairyu.catalogue.formspec import FormSpec, choices_for, role_field_id
from zairyu.core import clock

# How the result of the application is handed over (the receipt method), as the filer chose it.
METHOD_LABELS = {
    "email": gettext_lazy("By e-mail (electronic certificate of eligibility, no photo)"),
    "post": gettext_lazy("By post"),
    "window": gettext_lazy("At the bureau window"),
}


def fee_lines(application: Application) -> list[dict[str, Any]]:
    """The fee of each procedure filed, online and at the window, on today's date (F-08)."""
    today = clock.today()
    lines = []
    for code in (application.procedure, *application.add_ons):
        variant = None
        if code == "P6":
            variant = (
                "multiple"
                if application.answers.get(role_field_id("reentry.kind")) == "multiple"
                else "single"
            )
        lines.append(
            {
                "procedure": get_catalogue().procedures[code].name,
                "online": fee_for(procedure=code, on=today, channel="online", variant=variant),
                "window": fee_for(procedure=code, on=today, channel="window", variant=variant),
            }
        )
    return lines


def answers_summary(application: Application, form_spec: FormSpec) -> list[dict[str, Any]]:
    """Everything entered, by step and section, with the catalogue's labels."""

    def display(spec: Any, value: Any) -> str:
        if value in (None, "", []):
            return ""
        if (
            spec.type in ("choice", "multi_choice", "country", "prefecture", "status_of_residence")
            or spec.choices
        ):
            labels = {c.code: str(c.label) for c in choices_for(spec)}
            if isinstance(value, list):
                return ", ".join(labels.get(v, str(v)) for v in value)
            return labels.get(str(value), str(value))
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        return str(value)

    steps = []
    for step in form_spec.steps:
        sections = []
        for section in step.sections:
            if section.repeatable:
                rows = application.answers.get(section.id) or []
                items = [
                    {
                        "label": f"{section.title} {n}",
                        "value": "; ".join(
                            f"{spec.label}: {display(spec, row.get(spec.id))}"
                            for spec in section.fields
                            if row.get(spec.id) not in (None, "")
                        ),
                    }
                    for n, row in enumerate(rows, start=1)
                ]
            else:
                items = [
                    {"label": spec.label, "value": display(spec, application.answers.get(spec.id))}
                    for spec in section.fields
                    if application.answers.get(spec.id) not in (None, "", [])
                ]
            if items:
                sections.append({"title": section.title, "items": items})
        steps.append({"id": step.id, "title": step.title, "sections": sections})
    return steps


def stated_facts(application: Application) -> list[dict[str, Any]]:
    """What the filer stated for the matrix, each with the condition's text (in the reader's
    language) and the reason given where the condition asks one: for the officer's review."""
    conditions = get_catalogue().conditions
    return [
        {
            "code": code,
            "text": conditions[code].text if code in conditions else code,
            "reason": (application.fact_reasons or {}).get(code, ""),
        }
        for code, value in sorted((application.facts or {}).items())
        if value and code in conditions and conditions[code].kind == "fact"
    ]


def filing_notes(application: Application) -> list[dict[str, Any]]:
    """The warnings the filer was shown (and could go past), as they stood on the day of filing:
    for the officer's review. Today one: an extension filed long before the three-month mark
    (F-01), with the end of the period of stay and the first advised day."""
    resident = application.applicant_resident
    if application.submitted_at is None or resident is None:
        return []
    filed = timezone.localdate(application.submitted_at)
    found = timing_problems(
        procedure=application.procedure,
        add_ons=tuple(application.add_ons),
        resident=resident,
        today=filed,
    )
    notes = []
    for problem in found:
        if problem.code != "extension_too_early":
            continue
        expiry, earliest = problem.data["stay_expires_on"], problem.data["earliest"]
        notes.append(
            {
                "code": problem.code,
                "text": format_message(
                    _(
                        "Filed on %(filed)s, %(days)s days before the period of stay ends (%(expiry)s). "
                        "An extension is normally filed from %(earliest)s."
                    ),
                    filed=filed.isoformat(),
                    days=(expiry - filed).days,
                    expiry=expiry.isoformat(),
                    earliest=earliest.isoformat(),
                ),
            }
        )
    return notes
