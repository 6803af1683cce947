"""Usage applications (F-12): the e-mail confirmation of someone filing without an account, the
organization's first (new) application, additional applications by its approved staff for a
colleague, and the officers' approval, which creates the staff account, or refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Sequence
from typing import IO, Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from zairyu.accounts.constants import TokenPurpose, UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import auth_id_generate, email_token_issue
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.organizations.access import active_memberships, organization_may_file, staff_membership
from zairyu.organizations.constants import (
    AGENT_ORGANIZATION_KINDS,
    APPROVAL_LINK_DAYS,
    VERIFICATION_LINK_HOURS,
    ApplicationKind,
    Basis,
    FilingState,
    MandateState,
    user_kind_for,
)
from zairyu.organizations.models import EmailVerification, Enrolment, StaffMembership, UsageApplication
from zairyu.organizations.services._common import (
    check_documents_scanned,
    decide,
    lock_open,
    mail,
    mail_user,
    office_for_organization,
    office_name,
    refusal_reason,
    site_url,
    store_document,
    token_hash,
)
from zairyu.organizations.services.eligibility import (
    StaffDetails,
    check_pledge,
    check_removal_block,
    check_staff,
    organization_check,
)
from zairyu.organizations.services.errors import OrganizationError
from zairyu.organizations.services.mandates import (
    MandateUpload,
    check_mandates,
    mandates_activate,
    mandates_create,
)
from zairyu.registry.constants import OrganizationCategory
from zairyu.registry.models import AgentCertificate, ReceivingOrganization


@transaction.atomic
def email_verification_request(*, email: str, language: str, ip: str | None = None) -> None:
    """Send a single-use link (24 hours) that opens the usage-application form for this address."""
    raw = secrets.token_urlsafe(32)
    verification = EmailVerification.objects.create(
        email=email.strip(),
        language=language,
        token_hash=token_hash(raw),
        expires_at=clock.now() + dt.timedelta(hours=VERIFICATION_LINK_HOURS),
    )
    audit_record(action="organizations.email_verification_sent", target=verification, ip=ip)
    mail(
        "org_email_verification",
        to=verification.email,
        language=language,
        key=f"org_email_verification:{verification.pk}",
        link=site_url(reverse("organizations:apply-organization", kwargs={"token": raw})),
        hours=VERIFICATION_LINK_HOURS,
    )


def email_verification_peek(*, raw_token: str) -> EmailVerification | None:
    """The unused, unexpired verification behind a link (it is used up by the filing)."""
    verification = EmailVerification.objects.filter(token_hash=token_hash(raw_token)).first()
    if verification is None or verification.used_at is not None or verification.expires_at <= clock.now():
        return None
    return verification


def _link_invalid() -> OrganizationError:
    return OrganizationError(
        "link_invalid",
        _("This link has expired or was already used. Ask for a new one with your e-mail address."),
    )


def usage_application_precheck(
    *, raw_token: str, corporate_number: str, organization_kind: str
) -> ReceivingOrganization:
    """Step 1 of a usage application without an account: is this organization one that may file
    a (new) usage application now, for this e-mail address?"""
    verification = email_verification_peek(raw_token=raw_token)
    if verification is None:
        raise _link_invalid()
    organization = organization_check(corporate_number=corporate_number, organization_kind=organization_kind)
    _check_not_enrolled(organization)
    _check_no_open_application(organization=organization, email=verification.email)
    return organization


def _check_not_enrolled(organization: ReceivingOrganization) -> None:
    if active_memberships(organization).exists():
        raise OrganizationError(
            "already_enrolled",
            _(
                "This organization already has approved staff. One of them files an additional "
                "usage application for you after signing in."
            ),
            field="corporate_number",
        )


def _check_no_open_application(*, organization: ReceivingOrganization, email: str) -> None:
    if UsageApplication.objects.filter(
        organization=organization, email__iexact=email.strip(), state=FilingState.SUBMITTED
    ).exists():
        raise OrganizationError(
            "already_filed",
            _(
                "A usage application for this e-mail address and organization is already waiting "
                "for review. Follow it with the link in the confirmation e-mail."
            ),
        )


@transaction.atomic
def usage_application_submit(
    *,
    raw_token: str,
    corporate_number: str,
    organization_kind: str,
    category: int,
    staff: StaffDetails,
    pledge: bool,
    supporting_document: IO[bytes],
    notifications_filed: bool = False,
    category_3_as_2: bool = False,
    category_proof_document: IO[bytes] | None = None,
    stability_facts: str = "",
    stability_document: IO[bytes] | None = None,
    mandates: Sequence[MandateUpload] = (),
    ip: str | None = None,
) -> tuple[UsageApplication, str]:
    """File a (new) usage application from a confirmed e-mail address. Returns the application and
    the raw secret of its status link (also e-mailed). ``staff.email`` is ignored: the address is
    the confirmed one."""
    verification = _verification_lock(raw_token)
    organization = organization_check(corporate_number=corporate_number, organization_kind=organization_kind)
    # Two people of one organization filing at once: the organization's row serialises them.
    organization = ReceivingOrganization.objects.select_for_update().get(pk=organization.pk)
    _check_not_enrolled(organization)
    _check_no_open_application(organization=organization, email=verification.email)
    staff = dataclasses.replace(staff, email=verification.email)
    details = _check_application(
        organization=organization,
        category=category,
        staff=staff,
        pledge=pledge,
        notifications_filed=notifications_filed,
        category_3_as_2=category_3_as_2,
        has_category_proof=category_proof_document is not None,
        stability_facts=stability_facts,
        mandates=mandates,
    )
    principals = details.pop("principals")
    raw_status = secrets.token_urlsafe(32)
    application = UsageApplication(
        kind=ApplicationKind.NEW,
        office=office_for_organization(organization),
        organization=organization,
        status_token_hash=token_hash(raw_status),
        **details,
    )
    _application_documents(
        application,
        owner=None,
        ip=ip,
        supporting=supporting_document,
        category_proof=category_proof_document if application.category_3_as_2 else None,
        stability=stability_document if application.category == 4 else None,
    )
    application.save()
    mandates_create(
        mandates, principals, agent=organization, owner=None, ip=ip, usage_application=application
    )
    verification.used_at = clock.now()
    verification.save(update_fields=["used_at"])
    audit_record(
        action="organizations.usage_application_submitted",
        target=application,
        ip=ip,
        details={"kind": application.kind, "office": application.office, "mandates": len(mandates)},
    )
    mail(
        "org_application_received",
        to=application.email,
        language=application.language,
        key=f"org_application_received:{application.pk}",
        user_name=application.full_name,
        office=office_name(application.office),
        link=site_url(reverse("organizations:status", kwargs={"token": raw_status})),
    )
    return application, raw_status


def _verification_lock(raw_token: str) -> EmailVerification:
    """The unused, unexpired verification behind a link, locked: the filing uses it up."""
    verification = (
        EmailVerification.objects.select_for_update().filter(token_hash=token_hash(raw_token)).first()
    )
    if verification is None or verification.used_at is not None or verification.expires_at <= clock.now():
        raise _link_invalid()
    return verification


def _check_application(
    *,
    organization: ReceivingOrganization,
    category: int,
    staff: StaffDetails,
    pledge: bool,
    notifications_filed: bool,
    category_3_as_2: bool,
    has_category_proof: bool,
    stability_facts: str,
    mandates: Sequence[MandateUpload],
) -> dict[str, Any]:
    """Everything that is checked before a single file is stored; returns the fields to save."""
    receiving = organization.kind not in AGENT_ORGANIZATION_KINDS
    if category not in OrganizationCategory.values:
        raise OrganizationError("category_required", _("Choose the category (1 to 4)."), field="category")
    if receiving and not notifications_filed:
        raise OrganizationError(
            "notifications_required",
            _(
                "Only organizations that file their notifications on accepting foreign nationals can "
                "be approved. Confirm that yours does."
            ),
            field="notifications_filed",
        )
    category_3_as_2 = bool(category_3_as_2 and receiving and category == 3)
    if category_3_as_2 and not has_category_proof:
        raise OrganizationError(
            "category_proof_required",
            _("Attach the proof that the organization is in category 3, to be treated as category 2."),
            field="category_proof_document",
        )
    if receiving and category == 4 and not stability_facts.strip():
        raise OrganizationError(
            "stability_required",
            _("A category 4 organization describes the facts that show its operations will be stable."),
            field="stability_facts",
        )
    check_pledge(pledge=pledge)
    certificate = check_staff(staff, organization=organization)
    check_removal_block(email=staff.email, full_name=staff.full_name, organization=organization)
    if receiving and mandates:
        raise OrganizationError(
            "mandates_not_expected", _("Only support organizations add the organizations that mandate them.")
        )
    if not receiving and not mandates:
        raise OrganizationError(
            "mandates_required",
            _("Add at least one receiving organization that mandated you, with its mandate and pledge."),
        )
    principals = check_mandates(mandates, agent=organization)
    return {
        "category": category,
        "category_3_as_2": category_3_as_2,
        "stability_facts": stability_facts.strip() if receiving and category == 4 else "",
        "notifications_filed": bool(notifications_filed and receiving),
        "pledge": True,
        **_staff_fields(staff, certificate),
        "principals": principals,
    }


def _staff_fields(staff: StaffDetails, certificate: AgentCertificate | None) -> dict[str, Any]:
    return {
        "full_name": staff.full_name.strip(),
        "email": staff.email.strip(),
        "language": staff.language,
        "department": staff.department.strip(),
        "phone": staff.phone.strip(),
        "basis": Basis.CERTIFICATE if certificate is not None else Basis.QUALIFIES,
        "agent_certificate": certificate,
        "qualification_facts": staff.qualification_facts.strip() if certificate is None else "",
    }


def _application_documents(
    application: UsageApplication,
    *,
    owner: User | None,
    ip: str | None,
    supporting: IO[bytes],
    category_proof: IO[bytes] | None = None,
    stability: IO[bytes] | None = None,
) -> None:
    application.supporting_document = store_document(
        supporting, owner=owner, document_type="usage_application", field="supporting_document", ip=ip
    )
    if category_proof is not None:
        application.category_proof_document = store_document(
            category_proof,
            owner=owner,
            document_type="category_proof",
            field="category_proof_document",
            ip=ip,
        )
    if stability is not None:
        application.stability_document = store_document(
            stability, owner=owner, document_type="stability", field="stability_document", ip=ip
        )


@transaction.atomic
def additional_application_submit(
    *,
    filer: User,
    staff: StaffDetails,
    pledge: bool,
    supporting_document: IO[bytes],
    ip: str | None = None,
) -> UsageApplication:
    """An approved, signed-in staff member files an additional usage application for a colleague."""
    membership = staff_membership(filer)
    if membership is None:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    permission = organization_may_file(filer)
    if not permission:
        raise OrganizationError("may_not_file", permission.reason)
    organization = ReceivingOrganization.objects.select_for_update().get(pk=membership.organization_id)
    enrolment = Enrolment.objects.get(organization=organization)
    if active_memberships(organization).filter(user__email__iexact=staff.email.strip()).exists():
        raise OrganizationError(
            "already_staff",
            _(
                "A staff member of your organization already uses this e-mail address. Each person needs their own."
            ),
            field="email",
        )
    _check_no_open_application(organization=organization, email=staff.email)
    check_pledge(pledge=pledge)
    certificate = check_staff(staff, organization=organization)
    check_removal_block(email=staff.email, full_name=staff.full_name, organization=organization)
    # The organization's own criteria were checked with its usage application and its reports.
    application = UsageApplication(
        kind=ApplicationKind.ADDITIONAL,
        office=enrolment.office,
        organization=organization,
        filed_by=filer,
        category=organization.category,
        category_3_as_2=enrolment.category_3_as_2,
        notifications_filed=organization.kind not in AGENT_ORGANIZATION_KINDS,
        pledge=True,
        **_staff_fields(staff, certificate),
    )
    _application_documents(application, owner=filer, ip=ip, supporting=supporting_document)
    application.save()
    audit_record(
        action="organizations.usage_application_submitted",
        actor=filer,
        target=application,
        ip=ip,
        details={"kind": application.kind, "office": application.office},
    )
    mail_user(
        filer,
        "org_application_received",
        key=f"org_application_received:{application.pk}",
        office=office_name(application.office),
        link=site_url(reverse("organizations:home")),
        colleague=application.full_name,
    )
    return application


@transaction.atomic
def usage_application_approve(*, application_id: int, officer: User, ip: str | None = None) -> User:
    """Approve a usage application: the staff member's account is created (authentication ID)
    and the link to set the password, valid 30 days, is e-mailed. Returns the new account."""
    application = lock_open(UsageApplication, pk=application_id, officer=officer)
    check_documents_scanned(application)
    organization = ReceivingOrganization.objects.select_for_update().get(pk=application.organization_id)
    check_removal_block(email=application.email, full_name=application.full_name, organization=organization)
    enrolment = Enrolment.objects.select_for_update().filter(organization=organization).first()
    has_staff = active_memberships(organization).exists()
    if enrolment is None:
        enrolment = Enrolment(organization=organization, office=application.office)
    if not has_staff:
        # A first enrolment, or a new one after the last staff member left: the office and the
        # terms are the new application's, and the validity starts again with the first password.
        enrolment.office = application.office
        enrolment.category_3_as_2 = application.category_3_as_2
        enrolment.valid_until = None
        enrolment.approved_at = clock.now()
    enrolment.save()
    user = User(
        username=auth_id_generate(),
        kind=user_kind_for(organization.kind),
        state=UserState.PENDING,
        full_name=application.full_name,
        email=application.email,
        language=application.language,
        valid_until=enrolment.valid_until,
        prefecture=organization.prefecture,
        municipality=organization.municipality,
        address_rest=organization.address_rest,
    )
    user.set_unusable_password()
    user.save()
    StaffMembership.objects.create(organization=organization, user=user, application=application)
    mandates_activate(application.new_mandates.select_for_update())
    decide(application, officer=officer, state=FilingState.APPROVED)
    audit_record(
        action="organizations.usage_application_approved",
        actor=officer,
        target=application,
        ip=ip,
        details={"user": user.pk, "kind": application.kind},
    )
    audit_record(action="accounts.registered", actor=officer, target=user, ip=ip, details={"kind": user.kind})
    raw = email_token_issue(
        user=user, purpose=TokenPurpose.SET_PASSWORD, lifetime=dt.timedelta(days=APPROVAL_LINK_DAYS)
    )
    mail_user(
        user,
        "org_application_approved",
        key=f"org_application_approved:{application.pk}",
        link=site_url(reverse("accounts:password-set", kwargs={"token": raw})),
        days=APPROVAL_LINK_DAYS,
        organization=organization.name,
    )
    return user


@transaction.atomic
def usage_application_refuse(
    *, application_id: int, officer: User, reason: str, ip: str | None = None
) -> UsageApplication:
    """Refuse a usage application with a reason, which is e-mailed (to the filer too, if a
    colleague filed it)."""
    reason = refusal_reason(reason)
    application = lock_open(UsageApplication, pk=application_id, officer=officer)
    application.new_mandates.update(state=MandateState.REFUSED)
    decide(application, officer=officer, state=FilingState.REFUSED, reason=reason)
    audit_record(
        action="organizations.usage_application_refused",
        actor=officer,
        target=application,
        ip=ip,
        details={"kind": application.kind},
    )
    context = {
        "user_name": application.full_name,
        "organization": application.organization.name,
        "reason": reason,
        "colleague": application.full_name,
    }
    mail(
        "org_application_refused",
        to=application.email,
        language=application.language,
        key=f"org_application_refused:{application.pk}",
        **context,
    )
    if application.filed_by is not None and application.filed_by.email != application.email:
        filer = application.filed_by
        mail(
            "org_application_refused",
            to=filer.email,
            language=filer.language,
            key=f"org_application_refused:{application.pk}:filer",
            **{**context, "user_name": filer.full_name},
        )
    return application
