"""The approval criteria an officer goes through before deciding, one checklist per filing.

The criteria are those of the usage-application guidance as revised in 2022 (expansion-2022):
for the organization, the agent requirements, the notifications on accepting foreign nationals,
the pledge, stable operations in category 3 and expected stability in category 4; for the staff
member, an agent certificate or meeting its requirements, and no removal by the bureau within a
year. What the system can check itself is marked ok or a problem; the rest is for the officer.
Every item must be ticked to approve.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from zairyu.core import clock
from zairyu.organizations.constants import AGENT_ORGANIZATION_KINDS, ApplicationKind, Basis, ChangeKind
from zairyu.organizations.models import ChangeNotification, PeriodicReport, UsageApplication
from zairyu.registry.constants import OrganizationKind

OK, PROBLEM, JUDGE = "ok", "problem", "judge"


@dataclass(frozen=True)
class CheckItem:
    code: str
    label: str
    status: str  # ok, problem (found by the system) or judge (for the officer)
    detail: str = ""


def _mandate_items(mandates) -> list[CheckItem]:
    return [
        CheckItem(
            f"mandate_{mandate.pk}",
            _("Mandate and pledge of %(name)s (%(number)s)")
            % {"name": mandate.principal.name, "number": mandate.principal.corporate_number},
            JUDGE,
            _("A receiving organization in the registry: %(kind)s, category %(category)s.")
            % {
                "kind": OrganizationKind(mandate.principal.kind).label,
                "category": mandate.principal.category,
            },
        )
        for mandate in mandates.select_related("principal")
    ]


def _registry_item(organization) -> CheckItem:
    return CheckItem(
        "registry",
        _("The organization is in the registry with this corporate number and kind"),
        OK,
        f"{organization.corporate_number} · {OrganizationKind(organization.kind).label}",
    )


def _receiving_items(application: UsageApplication) -> list[CheckItem]:
    """A new receiving organization: its notifications, and the stability its category calls for."""
    items = [
        CheckItem(
            "notifications",
            _(
                "The organization files its notifications on accepting foreign nationals (and on "
                "their employment, where it must)"
            ),
            JUDGE,
            _("Confirmed by the applicant."),
        )
    ]
    if application.category == 3:
        items.append(
            CheckItem(
                "category_3",
                _("Category 3: the organization's operations are stable and continuing"),
                JUDGE,
                _("Asks to be treated as category 2; proof of category 3 attached.")
                if application.category_3_as_2
                else "",
            )
        )
    if application.category == 4:
        items.append(
            CheckItem(
                "category_4",
                _("Category 4: the organization's operations are expected to be stable"),
                JUDGE,
                application.stability_facts,
            )
        )
    return items


def _new_organization_items(application: UsageApplication) -> list[CheckItem]:
    """A first application: the category declared, then the receiving organization or the mandates."""
    organization = application.organization
    items = [
        CheckItem(
            "category",
            _("The category declared is the organization's"),
            OK if application.category == organization.category else PROBLEM,
            _("Declared: category %(declared)s; registry: category %(registry)s.")
            % {"declared": application.category, "registry": organization.category},
        )
    ]
    if organization.kind not in AGENT_ORGANIZATION_KINDS:
        items += _receiving_items(application)
    else:
        items += _mandate_items(application.new_mandates.all())
    return items


def _agent_item(application: UsageApplication) -> CheckItem:
    """The staff member: an agent certificate the system checks, or the requirements for the officer."""
    from zairyu.organizations.services import name_key

    if application.basis == Basis.CERTIFICATE and application.agent_certificate is not None:
        certificate = application.agent_certificate
        valid = certificate.is_valid_on(clock.today())
        same_name = name_key(certificate.holder_name) == name_key(application.full_name)
        return CheckItem(
            "agent",
            _("The staff member holds an agent certificate"),
            OK if valid and same_name else PROBLEM,
            _("Certificate %(number)s of %(holder)s, valid until %(until)s.")
            % {
                "number": certificate.number,
                "holder": certificate.holder_name,
                "until": certificate.expires_on.isoformat(),
            },
        )
    return CheckItem(
        "agent",
        _("The staff member meets the requirements for approval as an agent"),
        JUDGE,
        application.qualification_facts,
    )


def _removal_item(application: UsageApplication) -> CheckItem:
    from zairyu.organizations.services import removal_block_until

    blocked = removal_block_until(
        email=application.email, full_name=application.full_name, organization=application.organization
    )
    return CheckItem(
        "removal",
        _("No approval of this person was removed by the bureau within the last year"),
        OK if blocked is None else PROBLEM,
        "" if blocked is None else _("Blocked until %(date)s.") % {"date": blocked.isoformat()},
    )


def usage_application_checklist(application: UsageApplication) -> list[CheckItem]:
    items = [_registry_item(application.organization)]
    if application.kind == ApplicationKind.NEW:
        items += _new_organization_items(application)
    items.append(CheckItem("pledge", _("The pledge was given"), OK))
    items.append(_agent_item(application))
    items.append(_removal_item(application))
    items.append(CheckItem("documents", _("The supporting documents are complete and consistent"), JUDGE))
    return items


def periodic_report_checklist(report: PeriodicReport) -> list[CheckItem]:
    leaving = [entry["name"] for entry in report.staff if not entry["continues"]]
    items = [
        CheckItem(
            "staff",
            _("The list of current staff is confirmed"),
            JUDGE,
            (_("Reported as having left (removed on approval): %(names)s.") % {"names": ", ".join(leaving)})
            if leaving
            else _("All approved staff continue."),
        ),
        CheckItem(
            "timing",
            _("The report was filed in time, or its lateness is accepted"),
            OK if report.submitted_at.astimezone(clock.JST).date() <= report.expiry_at_filing else JUDGE,
            _("Filed on %(filed)s; the approval ran until %(until)s.")
            % {
                "filed": report.submitted_at.astimezone(clock.JST).date().isoformat(),
                "until": report.expiry_at_filing.isoformat(),
            },
        ),
    ]
    enrolment = getattr(report.organization, "enrolment", None)
    if enrolment is not None and enrolment.category_3_as_2:
        items.append(
            CheckItem(
                "category_3", _("Proof that the organization is still in category 3 is attached"), JUDGE
            )
        )
    if report.organization.kind in AGENT_ORGANIZATION_KINDS:
        ended = [entry["name"] for entry in report.mandates if not entry["continues"]]
        items.append(
            CheckItem(
                "mandates",
                _("The mandates of every receiving organization acted for are attached"),
                JUDGE,
                (_("No longer acting for: %(names)s.") % {"names": ", ".join(ended)}) if ended else "",
            )
        )
        items += _mandate_items(report.new_mandates.all())
    return items


def change_notification_checklist(change: ChangeNotification) -> list[CheckItem]:
    if change.kind == ChangeKind.MANDATE_ADDED:
        return _mandate_items(change.new_mandates.all())
    return [CheckItem("proof", _("The supporting document proves the change"), JUDGE)]
