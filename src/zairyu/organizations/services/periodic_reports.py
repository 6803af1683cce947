"""Periodic reports (定期報告, F-13): the organization reports who still works there (and, for a
support organization, whom it acts for) from 2 months before expiry; approval extends the
validity by one period. The reminders of reports that are due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from zairyu.accounts.constants import UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import user_remove
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.organizations.access import active_memberships, staff_membership
from zairyu.organizations.constants import (
    AGENT_ORGANIZATION_KINDS,
    REPORT_WINDOW_MONTHS,
    FilingState,
    MandateState,
    MembershipEnd,
)
from zairyu.organizations.models import Enrolment, Mandate, PeriodicReport, StaffMembership
from zairyu.organizations.services._common import (
    active_users,
    check_documents_scanned,
    decide,
    lock_open,
    mail_user,
    membership_end,
    refusal_reason,
    site_url,
    store_document,
)
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.mandates import (
    MandateUpload,
    check_mandates,
    mandates_activate,
    mandates_create,
)
from zairyu.organizations.services.validity import (
    add_months,
    report_window_opens,
    staff_validity_sync,
    validity_end,
)
from zairyu.registry.models import ReceivingOrganization


@transaction.atomic
def periodic_report_submit(
    *,
    filer: User,
    staff_continuing: Iterable[int],
    mandates_continuing: Iterable[int] = (),
    new_mandates: Sequence[MandateUpload] = (),
    supporting_document: IO[bytes] | None = None,
    mandates_document: IO[bytes] | None = None,
    note: str = "",
    ip: str | None = None,
) -> PeriodicReport:
    """File the organization's periodic report: from 2 months before expiry, or late.

    ``staff_continuing``: the memberships (ids) still working there; the others are removed as
    leavers when the report is approved. Support organizations: ``mandates_continuing`` (ids of
    active mandates still in force), the mandates of all of them in ``mandates_document``, and
    the mandate and pledge of each new receiving organization."""
    membership = staff_membership(filer)
    if membership is None or filer.state != UserState.ACTIVE:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    organization = ReceivingOrganization.objects.select_for_update().get(pk=membership.organization_id)
    enrolment = Enrolment.objects.select_for_update().get(organization=organization)
    today = clock.today()
    expiry = _check_report_window(organization=organization, enrolment=enrolment, today=today)
    continuing = set(staff_continuing) | {membership.pk}  # the filer reports themself as staying
    staff = _report_staff(organization, continuing=continuing)
    mandates, principals = _report_mandates(
        organization,
        continuing=set(mandates_continuing),
        new_mandates=new_mandates,
        mandates_document=mandates_document,
    )
    if enrolment.category_3_as_2 and supporting_document is None:
        raise OrganizationError(
            "category_proof_required",
            _("Your organization is treated as category 2: attach the proof that it is still in category 3."),
            field="supporting_document",
        )
    report = PeriodicReport(
        organization=organization,
        office=enrolment.office,
        filed_by=filer,
        expiry_at_filing=expiry,
        staff=staff,
        mandates=mandates,
        note=note.strip(),
    )
    if supporting_document is not None:
        report.supporting_document = store_document(
            supporting_document,
            owner=filer,
            document_type="periodic_report",
            field="supporting_document",
            ip=ip,
        )
    if mandates_document is not None:
        report.mandates_document = store_document(
            mandates_document, owner=filer, document_type="mandates", field="mandates_document", ip=ip
        )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:  # a colleague's report got in first
        raise OrganizationError(
            "report_open", _("A periodic report of your organization is already waiting for review.")
        ) from exc
    mandates_create(new_mandates, principals, agent=organization, owner=filer, ip=ip, periodic_report=report)
    audit_record(
        action="organizations.periodic_report_submitted",
        actor=filer,
        target=report,
        ip=ip,
        details={"late": today > expiry, "new_mandates": len(new_mandates)},
    )
    return report


def _check_report_window(
    *, organization: ReceivingOrganization, enrolment: Enrolment, today: dt.date
) -> dt.date:
    """A report is filed once the approval started, from 2 months before expiry, one at a time.
    Returns the expiry (``enrolment.valid_until``) the window was checked against."""
    if enrolment.valid_until is None:
        raise OrganizationError("not_started", _("The organization's approval has not started yet."))
    opens = report_window_opens(enrolment.valid_until)
    if today < opens:
        raise OrganizationError(
            "too_early",
            _("The periodic report can be filed from %(date)s (2 months before %(until)s).")
            % {"date": opens.isoformat(), "until": enrolment.valid_until.isoformat()},
        )
    if PeriodicReport.objects.filter(organization=organization, state=FilingState.SUBMITTED).exists():
        raise OrganizationError(
            "report_open", _("A periodic report of your organization is already waiting for review.")
        )
    return enrolment.valid_until


def _report_staff(organization: ReceivingOrganization, *, continuing: set[int]) -> list[dict[str, Any]]:
    """The report's list of the organization's staff, each marked as staying or not."""
    return [
        {
            "membership": m.pk,
            "name": m.user.full_name,
            "auth_id": m.user.auth_id_display,
            "continues": m.pk in continuing,
        }
        for m in active_memberships(organization).select_related("user").order_by("pk")
    ]


def _report_mandates(
    organization: ReceivingOrganization,
    *,
    continuing: set[int],
    new_mandates: Sequence[MandateUpload],
    mandates_document: IO[bytes] | None,
) -> tuple[list[dict[str, Any]], list[ReceivingOrganization]]:
    """A support organization's mandates in force, each marked as continuing or not, and the
    principals of its new mandates; a receiving organization reports none."""
    if organization.kind not in AGENT_ORGANIZATION_KINDS:
        if new_mandates:
            raise OrganizationError(
                "mandates_not_expected",
                _("Only support organizations add the organizations that mandate them."),
            )
        return [], []
    mandates = [
        {
            "mandate": m.pk,
            "corporate_number": m.principal.corporate_number,
            "name": m.principal.name,
            "continues": m.pk in continuing,
        }
        for m in organization.mandates_held.filter(state=MandateState.ACTIVE).select_related("principal")
    ]
    if mandates_document is None:
        raise OrganizationError(
            "mandates_document_required",
            _("Attach the mandates of every receiving organization you act for now, in one PDF."),
            field="mandates_document",
        )
    if not any(m["continues"] for m in mandates) and not new_mandates:
        raise OrganizationError(
            "mandates_required", _("A support organization reports at least one receiving organization.")
        )
    return mandates, check_mandates(new_mandates, agent=organization)


@transaction.atomic
def periodic_report_approve(*, report_id: int, officer: User, ip: str | None = None) -> PeriodicReport:
    """Approve a periodic report: the organization's validity becomes the old expiry + one
    period, early or late, for every staff account; leavers it names are removed; mandates no
    longer in force end and new ones start. Every user of the organization is e-mailed."""
    report = lock_open(PeriodicReport, pk=report_id, officer=officer)
    check_documents_scanned(report)
    enrolment = Enrolment.objects.select_for_update().get(organization_id=report.organization_id)
    old_until = enrolment.valid_until or report.expiry_at_filing
    enrolment.valid_until = validity_end(old_until)
    enrolment.save(update_fields=["valid_until"])
    for entry in report.staff:
        if entry["continues"]:
            continue
        membership = (
            StaffMembership.objects.select_for_update()
            .filter(pk=entry["membership"], organization_id=report.organization_id, ended_at__isnull=True)
            .first()
        )
        if membership is not None:
            membership_end(membership, reason=MembershipEnd.LEFT, actor=officer)
            user_remove(user=membership.user, actor=officer, reason=MembershipEnd.LEFT, ip=ip)
    ended = [entry["mandate"] for entry in report.mandates if not entry["continues"]]
    Mandate.objects.filter(
        pk__in=ended, agent_organization_id=report.organization_id, state=MandateState.ACTIVE
    ).update(state=MandateState.ENDED, ended_at=clock.now())
    mandates_activate(report.new_mandates.select_for_update())
    report.new_valid_until = enrolment.valid_until
    report.save(update_fields=["new_valid_until"])
    decide(report, officer=officer, state=FilingState.APPROVED)
    staff_validity_sync(organization_id=report.organization_id, valid_until=enrolment.valid_until)
    audit_record(
        action="organizations.periodic_report_approved",
        actor=officer,
        target=report,
        ip=ip,
        details={"from": old_until.isoformat(), "until": enrolment.valid_until.isoformat()},
    )
    for user in active_users(report.organization_id):
        mail_user(
            user,
            "org_report_approved",
            key=f"org_report_result:{report.pk}:{user.pk}",
            organization=report.organization.name,
            until=enrolment.valid_until.isoformat(),
        )
    return report


@transaction.atomic
def periodic_report_refuse(
    *, report_id: int, officer: User, reason: str, ip: str | None = None
) -> PeriodicReport:
    reason = refusal_reason(reason)
    report = lock_open(PeriodicReport, pk=report_id, officer=officer)
    report.new_mandates.update(state=MandateState.REFUSED)
    decide(report, officer=officer, state=FilingState.REFUSED, reason=reason)
    audit_record(action="organizations.periodic_report_refused", actor=officer, target=report, ip=ip)
    until = Enrolment.objects.get(organization_id=report.organization_id).valid_until
    for user in active_users(report.organization_id):
        mail_user(
            user,
            "org_report_refused",
            key=f"org_report_result:{report.pk}:{user.pk}",
            organization=report.organization.name,
            reason=reason,
            until=until.isoformat() if until else "",
        )
    return report


def report_reminders_send() -> int:
    """E-mail every user of an organization whose validity ends within 2 months that its periodic
    report is due — once per user and period (keyed), however often the job runs. Organizations
    that already filed their report are not reminded."""
    today = clock.today()
    enrolments = Enrolment.objects.filter(
        valid_until__gte=today,
        valid_until__lte=add_months(today, REPORT_WINDOW_MONTHS) + dt.timedelta(days=3),
    ).select_related("organization")
    reminded = 0
    for enrolment in enrolments:
        assert enrolment.valid_until is not None  # the query asks for valid_until__gte=today
        if report_window_opens(enrolment.valid_until) > today:
            continue
        if PeriodicReport.objects.filter(
            organization_id=enrolment.organization_id, state=FilingState.SUBMITTED
        ).exists():
            continue
        for user in active_users(enrolment.organization_id):
            with transaction.atomic():
                mail_user(
                    user,
                    "org_report_reminder",
                    key=f"org_report_reminder:{enrolment.organization_id}:{enrolment.valid_until}:{user.pk}",
                    organization=enrolment.organization.name,
                    until=enrolment.valid_until.isoformat(),
                    link=site_url(reverse("organizations:report")),
                )
            reminded += 1
    return reminded
