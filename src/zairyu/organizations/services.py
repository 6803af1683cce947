"""Organizations online: usage applications (F-12), the officers' decisions, periodic reports
(F-13), change notifications, leavers and removals (F-14).

Every function that changes state is keyword-only, atomic, locks the row it changes, guards its
current state and writes an audit record. E-mails go through the outbox with idempotency keys.
Uploaded PDFs are stored inside the same transaction, after every cheaper check has passed: a
refused filing leaves no rows (the documents app purges the files of rolled-back uploads).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import hashlib
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from zairyu.accounts.constants import TokenPurpose, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.notifications.services import email_queue
from zairyu.organizations.access import active_memberships, staff_membership
from zairyu.organizations.constants import (
    AGENT_ORGANIZATION_KINDS,
    APPROVAL_LINK_DAYS,
    MAX_MANDATES_PER_FILING,
    REMOVAL_BLOCK_YEARS,
    REPORT_WINDOW_MONTHS,
    VERIFICATION_LINK_HOURS,
    ApplicationKind,
    Basis,
    ChangeKind,
    FilingState,
    MandateState,
    MembershipEnd,
    user_kind_for,
)
from zairyu.organizations.models import (
    ChangeNotification,
    EmailVerification,
    Enrolment,
    Mandate,
    PeriodicReport,
    StaffMembership,
    UsageApplication,
)
from zairyu.registry.constants import OrganizationCategory, OrganizationKind
from zairyu.registry.models import AgentCertificate, ReceivingOrganization


class OrganizationError(Exception):
    """A refused action. ``message`` is for the user; ``field`` names the form field it is about
    (``mandate:<row>:<field>`` for a row of mandates); ``code`` is for tests and the audit trail."""

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- dates --------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier); the 31st becomes the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def add_years(day: dt.date, years: int) -> dt.date:
    return add_months(day, 12 * years)


def validity_end(start: dt.date) -> dt.date:
    """The end of one validity period from ``start``: from the first password, and added to the
    old expiry by each approved report. ``ORGANIZATION_USER_VALIDITY_DAYS``: 365 in the original,
    3 × 365 since the 2026 system. Whole multiples of 365 count as calendar years, so that
    "one year" ends on the anniversary even across a 29 February; other values count days."""
    days = settings.ORGANIZATION_USER_VALIDITY_DAYS
    years, rest = divmod(days, 365)
    return add_years(start, years) if years and not rest else start + dt.timedelta(days=days)


def report_window_opens(valid_until: dt.date) -> dt.date:
    """The day the reminder goes out and the periodic report can be filed: 2 months before expiry."""
    return add_months(valid_until, -REPORT_WINDOW_MONTHS)


# --- helpers ------------------------------------------------------------------------------------


def email_normalize(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def name_key(value: str) -> str:
    """A person's name for comparison: NFKC, upper case, without spaces, commas or middle dots."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in text if not ch.isspace() and ch not in ",、・･.")


def token_hash(raw: str) -> str:
    return hashlib.sha256((raw or "").encode()).hexdigest()


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _mail(kind: str, *, to: str, language: str, key: str | None, **context: Any) -> None:
    email_queue(kind=kind, to=to, language=language, context=context, key=key)


def _mail_user(user: User, kind: str, *, key: str, **context: Any) -> None:
    _mail(
        kind,
        to=user.email,
        language=user.language,
        key=key,
        user_name=user.full_name,
        auth_id=user.auth_id_display,
        **context,
    )


def office_name(code: str) -> str:
    from zairyu.catalogue import get_catalogue

    office = get_catalogue().offices.get(code)
    return str(office.name) if office else code


def office_for_organization(organization: ReceivingOrganization) -> str:
    """The office that covers the organization's address (A3-2): it receives all its filings."""
    from zairyu.catalogue import get_catalogue

    return get_catalogue().office_for_prefecture(organization.prefecture).code


def _active_users(organization_id: int) -> list[User]:
    """The staff who receive the organization's e-mails: approved, with a password set."""
    return list(
        User.objects.filter(
            staff_membership__organization_id=organization_id,
            staff_membership__ended_at__isnull=True,
            state=UserState.ACTIVE,
        ).order_by("pk")
    )


def _staff_validity_sync(*, organization_id: int, valid_until: dt.date | None) -> int:
    """Every staff account of the organization mirrors its validity."""
    return (
        User.objects.filter(
            staff_membership__organization_id=organization_id, staff_membership__ended_at__isnull=True
        )
        .exclude(state=UserState.REMOVED)
        .update(valid_until=valid_until)
    )


# --- input --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffDetails:
    """The staff member a usage application is for, and what their approval stands on."""

    full_name: str
    email: str
    language: str = "ja"
    department: str = ""
    phone: str = ""
    basis: str = Basis.QUALIFIES
    agent_certificate_number: str = ""
    qualification_facts: str = ""


@dataclass(frozen=True)
class MandateUpload:
    """A receiving organization that mandated a support organization: its number, the mandate
    (依頼書) and the pledge (誓約書) as PDFs."""

    corporate_number: str
    mandate: IO[bytes]
    pledge: IO[bytes]


def _store(upload: IO[bytes], *, owner: User | None, document_type: str, field: str, ip: str | None):
    from zairyu.documents.errors import DocumentRejected
    from zairyu.documents.services import document_store_pdf

    try:
        return document_store_pdf(upload=upload, owner=owner, document_type=document_type, ip=ip)
    except DocumentRejected as exc:
        raise OrganizationError(f"document_{exc.code}", str(exc.message), field=field) from exc


def _check_documents_scanned(filing: Any) -> None:
    """No decision on a filing whose files are held for the virus check or were removed as
    infected (ADR 0013): the officer has not seen what the filer sent."""
    from zairyu.documents.constants import ScanState
    from zairyu.documents.models import StoredDocument

    ids = [
        getattr(filing, field.attname)
        for field in filing._meta.concrete_fields
        if field.is_relation and field.related_model is StoredDocument
    ]
    for mandate in filing.new_mandates.all():
        ids += [mandate.mandate_document_id, mandate.pledge_document_id]
    documents = StoredDocument.objects.filter(
        pk__in=[pk for pk in ids if pk], scan_state__in=[ScanState.PENDING, ScanState.INFECTED]
    )
    for document in documents.order_by("created_at"):
        if document.scan_state == ScanState.PENDING:
            raise OrganizationError(
                "document_being_checked",
                _(
                    "The file “%(name)s” of this filing is still being checked for viruses. Decide "
                    "again in a few minutes."
                )
                % {"name": document.original_name},
            )
        raise OrganizationError(
            "document_infected",
            _(
                "The file “%(name)s” of this filing was removed because a virus or other malware was "
                "found in it. Refuse the filing, giving this as the reason, so that it is filed again "
                "with a clean copy."
            )
            % {"name": document.original_name},
        )


def _registry_organization(corporate_number: str, *, field: str) -> ReceivingOrganization:
    from zairyu.registry.validators import normalize_corporate_number, validate_corporate_number

    number = normalize_corporate_number(corporate_number)
    try:
        validate_corporate_number(number)
    except ValidationError as exc:
        raise OrganizationError("corporate_number_invalid", " ".join(exc.messages), field=field) from exc
    organization = ReceivingOrganization.objects.filter(corporate_number=number).first()
    if organization is None:
        raise OrganizationError(
            "organization_unknown",
            _(
                "No organization with the corporate number %(number)s is in the bureau's registry. Check "
                "the number; if it is right, the organization must first be known to the bureau "
                "(for example through its notifications on accepting foreign nationals)."
            )
            % {"number": number},
            field=field,
        )
    return organization


def organization_check(*, corporate_number: str, organization_kind: str) -> ReceivingOrganization:
    """The registry's organization for a corporate number, if it is of the kind the filer says."""
    organization = _registry_organization(corporate_number, field="corporate_number")
    if organization.kind != organization_kind:
        raise OrganizationError(
            "kind_mismatch",
            _(
                "The bureau's registry lists this organization as: %(kind)s. Choose that kind, or "
                "contact the bureau if the registry is wrong."
            )
            % {"kind": OrganizationKind(organization.kind).label},
            field="kind",
        )
    return organization


def removal_block_until(*, email: str, full_name: str, organization: ReceivingOrganization) -> dt.date | None:
    """The day from which someone whose approval the bureau removed may apply again, if that is
    still ahead. A person is matched by e-mail address, or by name within the same organization.
    Removals at the person's own request and leaving the job do not block (expansion-2022)."""
    today = clock.today()
    recent = clock.now() - dt.timedelta(days=366 * REMOVAL_BLOCK_YEARS + 1)
    candidates = (
        StaffMembership.objects.filter(end_reason=MembershipEnd.BUREAU, ended_at__gte=recent)
        .filter(Q(user__email__iexact=email.strip()) | Q(organization=organization))
        .select_related("user")
    )
    blocked_until = None
    for membership in candidates:
        same_email = email_normalize(membership.user.email) == email_normalize(email)
        same_person_here = membership.organization_id == organization.pk and name_key(
            membership.user.full_name
        ) == name_key(full_name)
        if not (same_email or same_person_here):
            continue
        until = add_years(membership.ended_at.astimezone(clock.JST).date(), REMOVAL_BLOCK_YEARS)
        if until > today and (blocked_until is None or until > blocked_until):
            blocked_until = until
    return blocked_until


def _check_removal_block(*, email: str, full_name: str, organization: ReceivingOrganization) -> None:
    until = removal_block_until(email=email, full_name=full_name, organization=organization)
    if until is not None:
        raise OrganizationError(
            "removal_block",
            _(
                "The bureau removed this person's approval less than a year ago. A new usage "
                "application can be filed from %(date)s."
            )
            % {"date": until.isoformat()},
        )


def _check_staff(staff: StaffDetails, *, organization: ReceivingOrganization) -> AgentCertificate | None:
    if not staff.full_name.strip():
        raise OrganizationError("name_required", _("Enter the staff member's name."), field="full_name")
    if staff.basis == Basis.CERTIFICATE:
        from zairyu.registry.validators import normalize_agent_certificate_number

        number = normalize_agent_certificate_number(staff.agent_certificate_number)
        certificate = AgentCertificate.objects.filter(number=number).first()
        if certificate is not None:
            certificate = certificate.latest_renewal()
        if (
            certificate is None
            or certificate.holder_kind != "organization_staff"
            or certificate.organization_id != organization.pk
        ):
            raise OrganizationError(
                "certificate_unknown",
                _(
                    "No agent certificate with this number is registered for staff of this "
                    "organization. Check the 12 digits on the certificate, or choose that you meet "
                    "the requirements and describe how."
                ),
                field="agent_certificate_number",
            )
        if not certificate.is_valid_on(clock.today()):
            raise OrganizationError(
                "certificate_expired",
                _("This agent certificate expired on %(date)s. Renew it, or describe how you qualify.")
                % {"date": certificate.expires_on.isoformat()},
                field="agent_certificate_number",
            )
        return certificate
    if staff.basis == Basis.QUALIFIES:
        if not staff.qualification_facts.strip():
            raise OrganizationError(
                "facts_required",
                _("Describe how the staff member meets the requirements for approval as an agent."),
                field="qualification_facts",
            )
        return None
    raise OrganizationError("basis_required", _("Choose what the approval stands on."), field="basis")


def _check_mandates(
    mandates: Sequence[MandateUpload], *, agent: ReceivingOrganization
) -> list[ReceivingOrganization]:
    if len(mandates) > MAX_MANDATES_PER_FILING:
        raise OrganizationError(
            "too_many_mandates",
            _("At most %(count)d receiving organizations at once; add the others afterwards.")
            % {"count": MAX_MANDATES_PER_FILING},
        )
    principals: list[ReceivingOrganization] = []
    for index, mandate in enumerate(mandates):
        field = f"mandate:{index}:corporate_number"
        principal = _registry_organization(mandate.corporate_number, field=field)
        if principal.pk == agent.pk or principal.kind in AGENT_ORGANIZATION_KINDS:
            raise OrganizationError(
                "principal_not_receiving",
                _(
                    "Organization %(number)s is not a receiving organization: only employers, schools "
                    "and supervising organizations mandate a support organization."
                )
                % {"number": principal.corporate_number},
                field=field,
            )
        if principal in principals:
            raise OrganizationError(
                "principal_twice",
                _("Organization %(number)s is listed twice.") % {"number": principal.corporate_number},
                field=field,
            )
        principals.append(principal)
    return principals


def _mandates_create(
    mandates: Sequence[MandateUpload],
    principals: Sequence[ReceivingOrganization],
    *,
    agent: ReceivingOrganization,
    owner: User | None,
    ip: str | None,
    **filing: Any,
) -> None:
    for index, (mandate, principal) in enumerate(zip(mandates, principals, strict=True)):
        Mandate.objects.create(
            agent_organization=agent,
            principal=principal,
            mandate_document=_store(
                mandate.mandate, owner=owner, document_type="mandate", field=f"mandate:{index}:mandate", ip=ip
            ),
            pledge_document=_store(
                mandate.pledge,
                owner=owner,
                document_type="mandate_pledge",
                field=f"mandate:{index}:pledge",
                ip=ip,
            ),
            **filing,
        )


def _mandates_activate(mandates: Iterable[Mandate]) -> None:
    now = clock.now()
    for mandate in mandates:
        # A renewed mandate replaces the one in force for the same pair.
        Mandate.objects.filter(
            agent_organization_id=mandate.agent_organization_id,
            principal_id=mandate.principal_id,
            state=MandateState.ACTIVE,
        ).update(state=MandateState.ENDED, ended_at=now)
        mandate.state, mandate.activated_at = MandateState.ACTIVE, now
        mandate.save(update_fields=["state", "activated_at"])


def _check_pledge(*, pledge: bool) -> None:
    if not pledge:
        raise OrganizationError("pledge_required", _("The pledge must be given."), field="pledge")


# --- filing without an account: e-mail confirmation -------------------------------------------


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
    _mail(
        "org_email_verification",
        to=verification.email,
        language=language,
        key=f"org_email_verification:{verification.pk}",
        link=_site_url(reverse("organizations:apply-organization", kwargs={"token": raw})),
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


# --- usage applications -------------------------------------------------------------------------


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
    verification = (
        EmailVerification.objects.select_for_update().filter(token_hash=token_hash(raw_token)).first()
    )
    if verification is None or verification.used_at is not None or verification.expires_at <= clock.now():
        raise _link_invalid()
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
    _mandates_create(
        mandates,
        principals,
        agent=organization,
        owner=None,
        ip=ip,
        usage_application=application,
    )
    verification.used_at = clock.now()
    verification.save(update_fields=["used_at"])
    audit_record(
        action="organizations.usage_application_submitted",
        target=application,
        ip=ip,
        details={"kind": application.kind, "office": application.office, "mandates": len(mandates)},
    )
    _mail(
        "org_application_received",
        to=application.email,
        language=application.language,
        key=f"org_application_received:{application.pk}",
        user_name=application.full_name,
        office=office_name(application.office),
        link=_site_url(reverse("organizations:status", kwargs={"token": raw_status})),
    )
    return application, raw_status


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
    _check_pledge(pledge=pledge)
    certificate = _check_staff(staff, organization=organization)
    _check_removal_block(email=staff.email, full_name=staff.full_name, organization=organization)
    if receiving and mandates:
        raise OrganizationError(
            "mandates_not_expected", _("Only support organizations add the organizations that mandate them.")
        )
    if not receiving and not mandates:
        raise OrganizationError(
            "mandates_required",
            _("Add at least one receiving organization that mandated you, with its mandate and pledge."),
        )
    principals = _check_mandates(mandates, agent=organization)
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
    application.supporting_document = _store(
        supporting, owner=owner, document_type="usage_application", field="supporting_document", ip=ip
    )
    if category_proof is not None:
        application.category_proof_document = _store(
            category_proof,
            owner=owner,
            document_type="category_proof",
            field="category_proof_document",
            ip=ip,
        )
    if stability is not None:
        application.stability_document = _store(
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
    from zairyu.organizations.access import organization_may_file

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
    _check_pledge(pledge=pledge)
    certificate = _check_staff(staff, organization=organization)
    _check_removal_block(email=staff.email, full_name=staff.full_name, organization=organization)
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
    _mail_user(
        filer,
        "org_application_received",
        key=f"org_application_received:{application.pk}",
        office=office_name(application.office),
        link=_site_url(reverse("organizations:home")),
        colleague=application.full_name,
    )
    return application


def _lock_open(model, *, pk: int, officer: User):
    """The filing, locked, if it belongs to the officer's office and is still open."""
    if officer.kind != UserKind.OFFICER or not officer.office:
        raise OrganizationError("not_officer", _("Only officers decide on filings."))
    filing = model.objects.select_for_update().filter(pk=pk, office=officer.office).first()
    if filing is None:
        raise OrganizationError("not_found", _("There is no such item at your office."))
    if filing.state != FilingState.SUBMITTED:
        raise OrganizationError(
            "already_decided",
            _("This item was already decided (%(state)s); nothing was changed.")
            % {"state": FilingState(filing.state).label},
        )
    return filing


def _refusal_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OrganizationError(
            "reason_required",
            _("Give the reason for the refusal: it is sent to the applicant."),
            field="reason",
        )
    return reason


def _decide(filing, *, officer: User, state: str, reason: str = "") -> None:
    filing.state, filing.decided_at, filing.decided_by = state, clock.now(), officer
    filing.refusal_reason = reason
    filing.save(update_fields=["state", "decided_at", "decided_by", "refusal_reason"])


@transaction.atomic
def usage_application_approve(*, application_id: int, officer: User, ip: str | None = None) -> User:
    """Approve a usage application: the staff member's account is created (authentication ID)
    and the link to set the password, valid 30 days, is e-mailed. Returns the new account."""
    from zairyu.accounts.services import auth_id_generate, email_token_issue

    application = _lock_open(UsageApplication, pk=application_id, officer=officer)
    _check_documents_scanned(application)
    organization = ReceivingOrganization.objects.select_for_update().get(pk=application.organization_id)
    _check_removal_block(email=application.email, full_name=application.full_name, organization=organization)
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
    _mandates_activate(application.new_mandates.select_for_update())
    _decide(application, officer=officer, state=FilingState.APPROVED)
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
    _mail_user(
        user,
        "org_application_approved",
        key=f"org_application_approved:{application.pk}",
        link=_site_url(reverse("accounts:password-set", kwargs={"token": raw})),
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
    reason = _refusal_reason(reason)
    application = _lock_open(UsageApplication, pk=application_id, officer=officer)
    application.new_mandates.update(state=MandateState.REFUSED)
    _decide(application, officer=officer, state=FilingState.REFUSED, reason=reason)
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
    _mail(
        "org_application_refused",
        to=application.email,
        language=application.language,
        key=f"org_application_refused:{application.pk}",
        **context,
    )
    if application.filed_by is not None and application.filed_by.email != application.email:
        filer = application.filed_by
        _mail(
            "org_application_refused",
            to=filer.email,
            language=filer.language,
            key=f"org_application_refused:{application.pk}:filer",
            **{**context, "user_name": filer.full_name},
        )
    return application


# --- validity -----------------------------------------------------------------------------------


def staff_first_password_set(*, user: User) -> dt.date:
    """Called by ``accounts.services.password_set_with_token`` (inside its transaction) when a
    staff member sets their first password. The first of an organization starts its validity;
    every staff account mirrors it. Returns the user's new ``valid_until``."""
    membership = StaffMembership.objects.filter(user=user, ended_at__isnull=True).first()
    if membership is None:  # an account made outside a usage application (none should exist)
        return user.valid_until or validity_end(clock.today())
    enrolment = Enrolment.objects.select_for_update().get(organization_id=membership.organization_id)
    if enrolment.valid_until is None:
        enrolment.valid_until = validity_end(clock.today())
        enrolment.save(update_fields=["valid_until"])
        _staff_validity_sync(organization_id=enrolment.organization_id, valid_until=enrolment.valid_until)
        audit_record(
            action="organizations.validity_started",
            actor=user,
            target=enrolment,
            details={"until": enrolment.valid_until.isoformat()},
        )
    return enrolment.valid_until


# --- periodic reports ---------------------------------------------------------------------------


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
    continuing = set(staff_continuing) | {membership.pk}  # the filer reports themself as staying
    staff = [
        {
            "membership": m.pk,
            "name": m.user.full_name,
            "auth_id": m.user.auth_id_display,
            "continues": m.pk in continuing,
        }
        for m in active_memberships(organization).select_related("user").order_by("pk")
    ]
    agent = organization.kind in AGENT_ORGANIZATION_KINDS
    mandates: list[dict[str, Any]] = []
    principals: list[ReceivingOrganization] = []
    if agent:
        kept = set(mandates_continuing)
        mandates = [
            {
                "mandate": m.pk,
                "corporate_number": m.principal.corporate_number,
                "name": m.principal.name,
                "continues": m.pk in kept,
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
        principals = _check_mandates(new_mandates, agent=organization)
    elif new_mandates:
        raise OrganizationError(
            "mandates_not_expected", _("Only support organizations add the organizations that mandate them.")
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
        expiry_at_filing=enrolment.valid_until,
        staff=staff,
        mandates=mandates,
        note=note.strip(),
    )
    if supporting_document is not None:
        report.supporting_document = _store(
            supporting_document,
            owner=filer,
            document_type="periodic_report",
            field="supporting_document",
            ip=ip,
        )
    if mandates_document is not None:
        report.mandates_document = _store(
            mandates_document, owner=filer, document_type="mandates", field="mandates_document", ip=ip
        )
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError as exc:  # a colleague's report got in first
        raise OrganizationError(
            "report_open", _("A periodic report of your organization is already waiting for review.")
        ) from exc
    _mandates_create(new_mandates, principals, agent=organization, owner=filer, ip=ip, periodic_report=report)
    audit_record(
        action="organizations.periodic_report_submitted",
        actor=filer,
        target=report,
        ip=ip,
        details={"late": today > enrolment.valid_until, "new_mandates": len(new_mandates)},
    )
    return report


@transaction.atomic
def periodic_report_approve(*, report_id: int, officer: User, ip: str | None = None) -> PeriodicReport:
    """Approve a periodic report: the organization's validity becomes the old expiry + one
    period, early or late, for every staff account; leavers it names are removed; mandates no
    longer in force end and new ones start. Every user of the organization is e-mailed."""
    from zairyu.accounts.services import user_remove

    report = _lock_open(PeriodicReport, pk=report_id, officer=officer)
    _check_documents_scanned(report)
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
            _membership_end(membership, reason=MembershipEnd.LEFT, actor=officer)
            user_remove(user=membership.user, actor=officer, reason=MembershipEnd.LEFT, ip=ip)
    ended = [entry["mandate"] for entry in report.mandates if not entry["continues"]]
    Mandate.objects.filter(
        pk__in=ended, agent_organization_id=report.organization_id, state=MandateState.ACTIVE
    ).update(state=MandateState.ENDED, ended_at=clock.now())
    _mandates_activate(report.new_mandates.select_for_update())
    report.new_valid_until = enrolment.valid_until
    report.save(update_fields=["new_valid_until"])
    _decide(report, officer=officer, state=FilingState.APPROVED)
    _staff_validity_sync(organization_id=report.organization_id, valid_until=enrolment.valid_until)
    audit_record(
        action="organizations.periodic_report_approved",
        actor=officer,
        target=report,
        ip=ip,
        details={"from": old_until.isoformat(), "until": enrolment.valid_until.isoformat()},
    )
    for user in _active_users(report.organization_id):
        _mail_user(
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
    reason = _refusal_reason(reason)
    report = _lock_open(PeriodicReport, pk=report_id, officer=officer)
    report.new_mandates.update(state=MandateState.REFUSED)
    _decide(report, officer=officer, state=FilingState.REFUSED, reason=reason)
    audit_record(action="organizations.periodic_report_refused", actor=officer, target=report, ip=ip)
    until = Enrolment.objects.get(organization_id=report.organization_id).valid_until
    for user in _active_users(report.organization_id):
        _mail_user(
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
        if report_window_opens(enrolment.valid_until) > today:
            continue
        if PeriodicReport.objects.filter(
            organization_id=enrolment.organization_id, state=FilingState.SUBMITTED
        ).exists():
            continue
        for user in _active_users(enrolment.organization_id):
            with transaction.atomic():
                _mail_user(
                    user,
                    "org_report_reminder",
                    key=f"org_report_reminder:{enrolment.organization_id}:{enrolment.valid_until}:{user.pk}",
                    organization=enrolment.organization.name,
                    until=enrolment.valid_until.isoformat(),
                    link=_site_url(reverse("organizations:report")),
                )
            reminded += 1
    return reminded


# --- change notifications -----------------------------------------------------------------------


@transaction.atomic
def change_notification_submit(
    *,
    filer: User,
    kind: str,
    supporting_document: IO[bytes] | None = None,
    new_name: str = "",
    new_prefecture: str = "",
    new_municipality: str = "",
    new_address_rest: str = "",
    staff_membership_id: int | None = None,
    new_mandates: Sequence[MandateUpload] = (),
    ip: str | None = None,
) -> ChangeNotification:
    """Notify the bureau of a change: the organization's name or address, a staff member's name,
    or (support organizations) a new receiving organization that mandated it."""
    membership = staff_membership(filer)
    if membership is None or filer.state != UserState.ACTIVE:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    organization = membership.organization
    enrolment = Enrolment.objects.get(organization=organization)
    change = ChangeNotification(organization=organization, office=enrolment.office, kind=kind, filed_by=filer)
    principals: list[ReceivingOrganization] = []
    if kind == ChangeKind.ORGANIZATION:
        address = (new_prefecture, new_municipality.strip(), new_address_rest.strip())
        if any(address) and not all(address):
            raise OrganizationError(
                "address_incomplete",
                _("Give the whole new address: prefecture, municipality and the rest."),
                field="new_municipality",
            )
        if not new_name.strip() and not any(address):
            raise OrganizationError(
                "nothing_changed", _("Enter the new name, the new address, or both."), field="new_name"
            )
        change.new_name = new_name.strip()
        change.new_prefecture, change.new_municipality, change.new_address_rest = address
    elif kind == ChangeKind.STAFF_NAME:
        change.staff_member = active_memberships(organization).filter(pk=staff_membership_id).first()
        if change.staff_member is None:
            raise OrganizationError(
                "staff_unknown", _("Choose a staff member of your organization."), field="staff_member"
            )
        if not new_name.strip():
            raise OrganizationError("name_required", _("Enter the new name."), field="new_name")
        change.new_name = new_name.strip()
    elif kind == ChangeKind.MANDATE_ADDED:
        if organization.kind not in AGENT_ORGANIZATION_KINDS:
            raise OrganizationError(
                "not_agent", _("Only support organizations add the organizations that mandate them.")
            )
        if not new_mandates:
            raise OrganizationError("mandates_required", _("Add at least one receiving organization."))
        principals = _check_mandates(new_mandates, agent=organization)
    else:
        raise OrganizationError("kind_required", _("Choose what changed."), field="kind")
    if kind != ChangeKind.MANDATE_ADDED and supporting_document is None:
        raise OrganizationError(
            "document_required",
            _("Attach a document that proves the change (for example the register's certificate)."),
            field="supporting_document",
        )
    if supporting_document is not None:
        change.supporting_document = _store(
            supporting_document,
            owner=filer,
            document_type="change_notification",
            field="supporting_document",
            ip=ip,
        )
    change.save()
    _mandates_create(
        new_mandates, principals, agent=organization, owner=filer, ip=ip, change_notification=change
    )
    audit_record(
        action="organizations.change_submitted", actor=filer, target=change, ip=ip, details={"kind": kind}
    )
    return change


@transaction.atomic
def change_notification_approve(
    *, change_id: int, officer: User, ip: str | None = None
) -> ChangeNotification:
    """Apply the change: the registry's record of the organization (a move to another office's
    area moves the organization to that office), the staff member's name, or the new mandates."""
    change = _lock_open(ChangeNotification, pk=change_id, officer=officer)
    _check_documents_scanned(change)
    details: dict[str, Any] = {"kind": change.kind}
    if change.kind == ChangeKind.ORGANIZATION:
        organization = ReceivingOrganization.objects.select_for_update().get(pk=change.organization_id)
        if change.new_name:
            organization.name = change.new_name
        if change.new_prefecture:
            organization.prefecture = change.new_prefecture
            organization.municipality = change.new_municipality
            organization.address_rest = change.new_address_rest
        organization.save()
        office = office_for_organization(organization)
        moved = (
            Enrolment.objects.filter(organization=organization).exclude(office=office).update(office=office)
        )
        details["office"] = office if moved else None
    elif change.kind == ChangeKind.STAFF_NAME and change.staff_member is not None:
        User.objects.filter(pk=change.staff_member.user_id).update(full_name=change.new_name)
        details["user"] = change.staff_member.user_id
    elif change.kind == ChangeKind.MANDATE_ADDED:
        _mandates_activate(change.new_mandates.select_for_update())
    _decide(change, officer=officer, state=FilingState.APPROVED)
    audit_record(action="organizations.change_approved", actor=officer, target=change, ip=ip, details=details)
    _change_result_mail(change)
    return change


@transaction.atomic
def change_notification_refuse(
    *, change_id: int, officer: User, reason: str, ip: str | None = None
) -> ChangeNotification:
    reason = _refusal_reason(reason)
    change = _lock_open(ChangeNotification, pk=change_id, officer=officer)
    change.new_mandates.update(state=MandateState.REFUSED)
    _decide(change, officer=officer, state=FilingState.REFUSED, reason=reason)
    audit_record(action="organizations.change_refused", actor=officer, target=change, ip=ip)
    _change_result_mail(change)
    return change


def _change_result_mail(change: ChangeNotification) -> None:
    filer = User.objects.get(pk=change.filed_by_id)
    _mail_user(
        filer,
        "org_change_result",
        key=f"org_change_result:{change.pk}",
        approved=change.state == FilingState.APPROVED,
        what=ChangeKind(change.kind).label,
        reason=change.refusal_reason,
        organization=change.organization.name,
    )


# --- leavers and removals -----------------------------------------------------------------------


def _membership_end(membership: StaffMembership, *, reason: str, actor: User | None, note: str = "") -> None:
    membership.ended_at, membership.end_reason = clock.now(), reason
    membership.ended_by, membership.end_note = actor, note
    membership.save(update_fields=["ended_at", "end_reason", "ended_by", "end_note"])


@transaction.atomic
def staff_report_left(*, reporter: User, membership_id: int, ip: str | None = None) -> None:
    """The organization reports that a staff member left: their ID is removed at once (their
    sessions end with it) and they are e-mailed. Leaving does not block a later application."""
    from zairyu.accounts.services import user_remove

    own = staff_membership(reporter)
    if own is None or reporter.state != UserState.ACTIVE:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    membership = (
        StaffMembership.objects.select_for_update()
        .select_related("user")
        .filter(pk=membership_id, organization_id=own.organization_id, ended_at__isnull=True)
        .first()
    )
    if membership is None or membership.user.state == UserState.REMOVED:
        raise OrganizationError("not_found", _("There is no such staff member in your organization."))
    if membership.pk == own.pk:
        raise OrganizationError("own_membership", _("To end your own approval, use 'Remove my approval'."))
    _membership_end(membership, reason=MembershipEnd.LEFT, actor=reporter)
    audit_record(
        action="organizations.staff_left",
        actor=reporter,
        target=membership,
        ip=ip,
        details={"user": membership.user_id},
    )
    user_remove(user=membership.user, actor=reporter, reason=MembershipEnd.LEFT, ip=ip)


@transaction.atomic
def staff_remove_own(*, user: User, ip: str | None = None) -> None:
    """A staff member ends their own approval (A10-4): at once, without blocking a later one."""
    from zairyu.accounts.services import user_remove

    membership = StaffMembership.objects.select_for_update().filter(user=user, ended_at__isnull=True).first()
    if membership is None:
        raise OrganizationError("not_staff", _("Only approved staff of an organization can do this."))
    _membership_end(membership, reason=MembershipEnd.OWN_REQUEST, actor=user)
    audit_record(action="organizations.staff_removed_own", actor=user, target=membership, ip=ip)
    user_remove(user=user, actor=user, reason=MembershipEnd.OWN_REQUEST, ip=ip)


@transaction.atomic
def staff_remove_by_bureau(
    *, membership_id: int, officer: User, reason: str, ip: str | None = None
) -> dt.date:
    """An officer removes a staff member's approval. Unlike leaving or an own request, this
    blocks a new usage application by the same person for a year; returns the day they may
    apply again. The e-mail says why and from when."""
    from zairyu.accounts.services import user_remove

    reason = _refusal_reason(reason)
    if officer.kind != UserKind.OFFICER:
        raise OrganizationError("not_officer", _("Only officers decide on filings."))
    membership = (
        StaffMembership.objects.select_for_update()
        .select_related("user", "organization__enrolment")
        .filter(pk=membership_id, organization__enrolment__office=officer.office, ended_at__isnull=True)
        .first()
    )
    if membership is None or membership.user.state == UserState.REMOVED:
        raise OrganizationError("not_found", _("There is no such staff member at your office."))
    _membership_end(membership, reason=MembershipEnd.BUREAU, actor=officer, note=reason)
    may_apply_from = add_years(clock.today(), REMOVAL_BLOCK_YEARS)
    audit_record(
        action="organizations.staff_removed_by_bureau",
        actor=officer,
        target=membership,
        ip=ip,
        details={"user": membership.user_id, "until": may_apply_from.isoformat()},
    )
    # Queued under the key ``user_remove`` uses for its generic notice, so that this e-mail, which
    # says why and until when, is the only one the person gets.
    _mail_user(
        membership.user,
        "org_approval_removed",
        key=f"removed:{membership.user_id}",
        reason=reason,
        may_apply_from=may_apply_from.isoformat(),
        organization=membership.organization.name,
    )
    user_remove(user=membership.user, actor=officer, reason=MembershipEnd.BUREAU, ip=ip)
    return may_apply_from
