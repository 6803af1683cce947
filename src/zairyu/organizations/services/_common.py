"""What the modules of the organizations services share: e-mails, offices, stored documents, the
officers' decisions on a filing, the registry's organizations and the end of a membership."""

from __future__ import annotations

import hashlib
import unicodedata
from typing import IO, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.validators import normalize_corporate_number, validate_corporate_number
from zairyu.core import clock
from zairyu.documents.constants import ScanState
from zairyu.documents.errors import DocumentRejected
from zairyu.documents.models import StoredDocument
from zairyu.documents.services import document_store_pdf
from zairyu.notifications.services import email_queue
from zairyu.organizations.constants import FilingState
from zairyu.organizations.models import Filing, StaffMembership
from zairyu.organizations.services.errors import OrganizationError
from zairyu.registry.models import ReceivingOrganization

FilingT = TypeVar("FilingT", bound=Filing)


def email_normalize(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip().lower()


def name_key(value: str) -> str:
    """A person's name for comparison: NFKC, upper case, without spaces, commas or middle dots."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in text if not ch.isspace() and ch not in ",、・･.")


def token_hash(raw: str) -> str:
    return hashlib.sha256((raw or "").encode()).hexdigest()


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def mail(kind: str, *, to: str, language: str, key: str | None, **context: Any) -> None:
    email_queue(kind=kind, to=to, language=language, context=context, key=key)


def mail_user(user: User, kind: str, *, key: str, **context: Any) -> None:
    mail(
        kind,
        to=user.email,
        language=user.language,
        key=key,
        user_name=user.full_name,
        auth_id=user.auth_id_display,
        **context,
    )


def office_name(code: str) -> str:
    office = get_catalogue().offices.get(code)
    return str(office.name) if office else code


def office_for_organization(organization: ReceivingOrganization) -> str:
    """The office that covers the organization's address (A3-2): it receives all its filings."""
    return get_catalogue().office_for_prefecture(organization.prefecture).code


def active_users(organization_id: int) -> list[User]:
    """The staff who receive the organization's e-mails: approved, with a password set."""
    return list(
        User.objects.filter(
            staff_membership__organization_id=organization_id,
            staff_membership__ended_at__isnull=True,
            state=UserState.ACTIVE,
        ).order_by("pk")
    )


def store_document(
    upload: IO[bytes], *, owner: User | None, document_type: str, field: str, ip: str | None
) -> StoredDocument:
    try:
        return document_store_pdf(upload=upload, owner=owner, document_type=document_type, ip=ip)
    except DocumentRejected as exc:
        raise OrganizationError(f"document_{exc.code}", str(exc.message), field=field) from exc


def check_documents_scanned(filing: Any) -> None:
    """No decision on a filing whose files are held for the virus check or were removed as
    infected (ADR 0013): the officer has not seen what the filer sent."""
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


def registry_organization(corporate_number: str, *, field: str) -> ReceivingOrganization:
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


def lock_open(model: type[FilingT], *, pk: int, officer: User) -> FilingT:
    """The filing, locked, if it belongs to the officer's office and is still open."""
    if officer.kind != UserKind.OFFICER or not officer.office:
        raise OrganizationError("not_officer", _("Only officers decide on filings."))
    filing = model._default_manager.select_for_update().filter(pk=pk, office=officer.office).first()
    if filing is None:
        raise OrganizationError("not_found", _("There is no such item at your office."))
    if filing.state != FilingState.SUBMITTED:
        raise OrganizationError(
            "already_decided",
            _("This item was already decided (%(state)s); nothing was changed.")
            % {"state": FilingState(filing.state).label},
        )
    return filing


def refusal_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise OrganizationError(
            "reason_required",
            _("Give the reason for the refusal: it is sent to the applicant."),
            field="reason",
        )
    return reason


def decide(filing: Filing, *, officer: User, state: str, reason: str = "") -> None:
    filing.state, filing.decided_at, filing.decided_by = state, clock.now(), officer
    filing.refusal_reason = reason
    filing.save(update_fields=["state", "decided_at", "decided_by", "refusal_reason"])


def membership_end(membership: StaffMembership, *, reason: str, actor: User | None, note: str = "") -> None:
    membership.ended_at, membership.end_reason = clock.now(), reason
    membership.ended_by, membership.end_note = actor, note
    membership.save(update_fields=["ended_at", "end_reason", "ended_by", "end_note"])
