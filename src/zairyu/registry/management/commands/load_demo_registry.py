"""``manage.py load_demo_registry``: load the synthetic demo population; safe to run again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser, no_translations
from django.db.models import Q

from zairyu.core import clock
from zairyu.registry.constants import AgentHolderKind, OrganizationKind
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident
from zairyu.registry.services import registry_load_demo


class Command(BaseCommand):
    help = (
        "Load the synthetic demo population into the residence registry: residents in all 47 "
        "prefectures, receiving organizations and agent certificates. Running it again with the "
        "same seed updates the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=settings.DEMO_SEED, help="random seed (DEMO_SEED)")
        parser.add_argument(
            "--residents",
            type=int,
            default=settings.DEMO_RESIDENTS,
            help="number of residents (DEMO_RESIDENTS)",
        )
        parser.add_argument("--agents", type=int, default=None, help="number of agent certificates (200)")

    @no_translations
    def handle(self, *args: Any, seed: int, residents: int, agents: int | None, **options: Any) -> None:
        counts = registry_load_demo(seed=seed, residents=residents, agents=agents)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo registry loaded (seed {seed}): {counts['residents']} residents, "
                f"{counts['organizations']} organizations, {counts['agent_certificates']} agent certificates."
            )
        )
        self.stdout.write("Examples for demos (synthetic people):")
        for line in demo_examples(today=clock.today()):
            self.stdout.write(f"  {line}")


def _resident_line(label: str, resident: Resident | None) -> str | None:
    if resident is None:
        return None
    stay = resident.stay_expires_on.isoformat() if resident.stay_expires_on else "indefinite"
    return (
        f"{label}: card {resident.card_number}, {resident.roman_name}, born {resident.date_of_birth}, "
        f"{resident.status}, stay until {stay}, card until {resident.card_expires_on}"
    )


def demo_examples(*, today: dt.date) -> list[str]:
    """A handful of records worth showing: one per kind of demo case."""
    residents = Resident.objects.order_by("card_number")
    soon = today + dt.timedelta(days=90)
    cases = [
        ("Extension due (engineer)", Q(status="engineer_humanities", stay_expires_on__range=(today, soon))),
        ("Extension due (student)", Q(status="student", stay_expires_on__range=(today, soon))),
        ("Change of status (student → work)", Q(status="student", stay_expires_on__gt=soon)),
        (
            "Permanent resident, card renewal due",
            Q(status="permanent_resident", card_expires_on__range=(today, soon)),
        ),
        ("Technical intern", Q(status__startswith="technical_intern_training/", stay_expires_on__gt=today)),
        ("Highly skilled professional", Q(status__startswith="highly_skilled_professional/")),
        ("Stay expired (special period)", Q(stay_expires_on__lt=today)),
        ("Abroad on re-entry", Q(abroad_on_reentry=True)),
        ("Move-in notified today", Q(move_in_notified_on=today)),
    ]
    lines = [_resident_line(label, residents.filter(query).first()) for label, query in cases]
    for kind in OrganizationKind:
        org = ReceivingOrganization.objects.filter(kind=kind).order_by("corporate_number").first()
        if org is not None:
            lines.append(
                f"Organization ({kind.label}): {org.corporate_number} {org.name}, category {org.category}"
            )
    certificates = AgentCertificate.objects.order_by("number")
    for kind in AgentHolderKind:
        cert = certificates.filter(holder_kind=kind, issued_on__lte=today, expires_on__gte=today).first()
        if cert is not None:
            lines.append(f"Agent certificate ({kind.label}, valid): {cert.number} {cert.holder_name}")
    expired = certificates.filter(expires_on__lt=today, renewed_to__isnull=True).first()
    if expired is not None:
        lines.append(f"Agent certificate (expired): {expired.number}, expired {expired.expires_on}")
    renewed = certificates.filter(renewed_to__isnull=False).select_related("renewed_to").first()
    if renewed is not None and renewed.renewed_to is not None:
        lines.append(f"Agent certificate (renewed): {renewed.number} → {renewed.renewed_to.number}")
    return [line for line in lines if line]
