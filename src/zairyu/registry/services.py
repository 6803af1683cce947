"""Writes to the residence registry."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.registry.demo import demo_population_build
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident

_BATCH_SIZE = 500


def _update_fields(model: type[Any], *keys: str) -> list[str]:
    """Every concrete column except the primary key, the natural key and ``created_at``."""
    skip = {"id", "created_at", *keys}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip]


@transaction.atomic
def registry_load_demo(*, seed: int, residents: int, agents: int | None = None) -> dict[str, int]:
    """Load the synthetic demo population (see :mod:`zairyu.registry.demo`) and return how many
    rows of each kind it holds.

    Idempotent: rows are upserted by their numbers (corporate number, card number, certificate
    number), so a second run with the same seed and counts on the same day changes nothing and
    adds nothing. A run on a later day moves the dates along. Rows from a run with other
    arguments are left in place (applications may point at them).
    """
    population = demo_population_build(seed=seed, residents=residents, agents=agents, today=clock.today())

    ReceivingOrganization.objects.bulk_create(
        population.organizations,
        batch_size=_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["corporate_number"],
        update_fields=_update_fields(ReceivingOrganization, "corporate_number"),
    )
    organization_ids = dict(
        ReceivingOrganization.objects.filter(
            corporate_number__in=[org.corporate_number for org in population.organizations]
        ).values_list("corporate_number", "id")
    )

    for resident in population.residents:
        corporate_number = population.resident_affiliations.get(resident.card_number)
        resident.affiliation_id = organization_ids[corporate_number] if corporate_number else None
    Resident.objects.bulk_create(
        population.residents,
        batch_size=_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["card_number"],
        update_fields=_update_fields(Resident, "card_number"),
    )

    for certificate in population.agents:
        corporate_number = population.agent_organizations.get(certificate.number)
        certificate.organization_id = organization_ids[corporate_number] if corporate_number else None
        certificate.renewed_to_id = None
    AgentCertificate.objects.bulk_create(
        population.agents,
        batch_size=_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["number"],
        update_fields=_update_fields(AgentCertificate, "number"),
    )
    if population.agent_renewals:
        numbers = [*population.agent_renewals, *population.agent_renewals.values()]
        certificate_ids = dict(
            AgentCertificate.objects.filter(number__in=numbers).values_list("number", "id")
        )
        renewed = [
            AgentCertificate(id=certificate_ids[old], renewed_to_id=certificate_ids[new])
            for old, new in population.agent_renewals.items()
        ]
        AgentCertificate.objects.bulk_update(renewed, ["renewed_to"])

    counts = {
        "organizations": len(population.organizations),
        "residents": len(population.residents),
        "agent_certificates": len(population.agents),
    }
    audit_record(action="registry.demo_loaded", details={"seed": seed, **counts})
    return counts
