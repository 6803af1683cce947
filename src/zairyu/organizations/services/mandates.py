"""Mandates (依頼書) of receiving organizations to a support organization: checked and stored with
a usage application, a periodic report or a change notification, and in force once approved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from zairyu.accounts.models import User
from zairyu.core import clock
from zairyu.organizations.constants import AGENT_ORGANIZATION_KINDS, MAX_MANDATES_PER_FILING, MandateState
from zairyu.organizations.models import Mandate
from zairyu.organizations.services._common import registry_organization, store_document
from zairyu.organizations.services.errors import OrganizationError
from zairyu.registry.models import ReceivingOrganization


@dataclass(frozen=True)
class MandateUpload:
    """A receiving organization that mandated a support organization: its number, the mandate
    (依頼書) and the pledge (誓約書) as PDFs."""

    corporate_number: str
    mandate: IO[bytes]
    pledge: IO[bytes]


def check_mandates(
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
        principal = registry_organization(mandate.corporate_number, field=field)
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


def mandates_create(
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
            mandate_document=store_document(
                mandate.mandate, owner=owner, document_type="mandate", field=f"mandate:{index}:mandate", ip=ip
            ),
            pledge_document=store_document(
                mandate.pledge,
                owner=owner,
                document_type="mandate_pledge",
                field=f"mandate:{index}:pledge",
                ip=ip,
            ),
            **filing,
        )


def mandates_activate(mandates: Iterable[Mandate]) -> None:
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
