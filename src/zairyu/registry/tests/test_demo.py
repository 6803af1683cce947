import datetime as dt
import re
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import translation

from zairyu.catalogue import get_catalogue
from zairyu.core.clock import JST
from zairyu.core.models import AuditEvent
from zairyu.registry.constants import (
    INDEFINITE_STAY_STATUSES,
    AgentHolderKind,
    OrganizationCategory,
    OrganizationKind,
)
from zairyu.registry.demo import demo_population_build, municipality_stem
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident
from zairyu.registry.services import registry_load_demo

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)
SEED = 1234
RESIDENTS = 90  # enough for one resident per prefecture and per online status entry


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(dt.datetime(2026, 6, 15, 10, 0, tzinfo=JST), tick=False):
        yield


def _snapshot():
    residents = sorted(
        Resident.objects.values_list(
            "card_number",
            "roman_name",
            "kanji_name",
            "nationality",
            "sex",
            "date_of_birth",
            "prefecture",
            "municipality",
            "address_rest",
            "move_in_notified_on",
            "card_expires_on",
            "status",
            "period_of_stay",
            "stay_expires_on",
            "abroad_on_reentry",
            "affiliation__corporate_number",
        )
    )
    organizations = sorted(
        ReceivingOrganization.objects.values_list(
            "corporate_number",
            "name",
            "prefecture",
            "municipality",
            "address_rest",
            "phone",
            "category",
            "kind",
        )
    )
    certificates = sorted(
        AgentCertificate.objects.values_list(
            "number",
            "holder_name",
            "holder_kind",
            "organization__corporate_number",
            "office_name",
            "office_prefecture",
            "office_municipality",
            "office_address_rest",
            "issued_on",
            "expires_on",
            "renewed_to__number",
        )
    )
    return residents, organizations, certificates


@pytest.fixture
def loaded():
    return registry_load_demo(seed=SEED, residents=RESIDENTS)


def test_loading_twice_gives_the_same_rows(loaded):
    first = _snapshot()
    ids = sorted(Resident.objects.values_list("id", flat=True))
    again = registry_load_demo(seed=SEED, residents=RESIDENTS)
    assert again == loaded
    assert _snapshot() == first
    assert sorted(Resident.objects.values_list("id", flat=True)) == ids  # updated in place
    assert loaded == {
        "organizations": ReceivingOrganization.objects.count(),
        "residents": Resident.objects.count(),
        "agent_certificates": AgentCertificate.objects.count(),
    }
    assert loaded["residents"] == RESIDENTS
    assert loaded["agent_certificates"] == 200
    assert loaded["organizations"] == 20  # 10% of 90 is less than one of each kind in each category
    assert AuditEvent.objects.filter(action="registry.demo_loaded").count() == 2


def test_loading_repairs_changed_rows(loaded):
    resident = Resident.objects.order_by("card_number").first()
    snapshot = _snapshot()
    Resident.objects.filter(pk=resident.pk).update(roman_name="CHANGED NAME", prefecture="01")
    registry_load_demo(seed=SEED, residents=RESIDENTS)
    assert _snapshot() == snapshot


def test_another_seed_gives_other_people(loaded):
    before = set(Resident.objects.values_list("card_number", flat=True))
    registry_load_demo(seed=SEED + 1, residents=RESIDENTS)
    assert Resident.objects.count() == 2 * RESIDENTS
    assert not before & set(
        Resident.objects.exclude(card_number__in=before).values_list("card_number", flat=True)
    )


def test_demo_covers_every_prefecture_status_kind_and_category(loaded):
    catalogue = get_catalogue()
    assert set(Resident.objects.values_list("prefecture", flat=True)) == set(catalogue.prefectures)
    online_in_force = {entry.key for entry in catalogue.entries_in_force(TODAY, online_only=True)}
    statuses = set(Resident.objects.values_list("status", flat=True))
    assert online_in_force <= statuses
    assert "permanent_resident" in statuses
    assert not statuses & {"diplomat", "temporary_visitor"}  # no residence card
    pairs = set(ReceivingOrganization.objects.values_list("kind", "category"))
    assert pairs == {
        (kind, category) for kind in OrganizationKind.values for category in OrganizationCategory.values
    }


def test_every_demo_row_is_valid(loaded):
    for obj in (
        *Resident.objects.all(),
        *ReceivingOrganization.objects.all(),
        *AgentCertificate.objects.all(),
    ):
        obj.full_clean()


def test_demo_dates_make_good_demo_cases(loaded):
    today = TODAY
    limited = Resident.objects.exclude(status__in=INDEFINITE_STAY_STATUSES)
    expiries = list(limited.values_list("stay_expires_on", flat=True))
    assert min(expiries) >= today - dt.timedelta(days=30)
    assert max(expiries) <= today + dt.timedelta(days=3 * 365)
    soon = [day for day in expiries if today <= day <= today + dt.timedelta(days=90)]
    assert len(soon) >= 0.15 * len(expiries)
    assert any(day < today for day in expiries)
    for resident in limited:
        assert resident.card_expires_on <= resident.stay_expires_on
    for resident in Resident.objects.filter(status__in=INDEFINITE_STAY_STATUSES):
        assert resident.stay_expires_on is None and resident.period_of_stay == ""
        assert resident.card_expires_on <= today + dt.timedelta(days=7 * 365)


def test_demo_affiliations_fit_the_status(loaded):
    students = Resident.objects.filter(status="student", affiliation__isnull=False)
    workers = Resident.objects.filter(
        status__in=["engineer_humanities", "specified_skilled_worker/i", "technical_intern_training/2b"],
        affiliation__isnull=False,
    )
    assert students.exists() and workers.exists()
    assert set(students.values_list("affiliation__kind", flat=True)) == {OrganizationKind.SCHOOL}
    assert set(workers.values_list("affiliation__kind", flat=True)) == {OrganizationKind.EMPLOYER}
    family = Resident.objects.filter(
        status__in=["dependent", "permanent_resident", "spouse_or_child_of_japanese"]
    )
    assert not family.filter(affiliation__isnull=False).exists()


def test_demo_agent_certificates(loaded):
    certificates = AgentCertificate.objects.all()
    assert {c.holder_kind for c in certificates} == set(AgentHolderKind.values)
    expired = [c for c in certificates if not c.is_valid_on(TODAY)]
    assert 2 <= len(expired) <= 20
    renewed = certificates.filter(renewed_to__isnull=False)
    assert renewed.exists()
    for certificate in renewed:
        assert certificate.renewed_to.is_valid_on(TODAY)
        assert certificate.renewed_to.holder_name == certificate.holder_name
    staff = certificates.filter(holder_kind=AgentHolderKind.ORGANIZATION_STAFF)
    assert not staff.filter(organization__isnull=True).exists()


def test_demo_names_fit_the_nationality():
    population = demo_population_build(seed=7, residents=600, today=TODAY)
    by_nationality = {}
    for resident in population.residents:
        by_nationality.setdefault(resident.nationality, []).append(resident)
    assert {"CHN", "VNM", "PHL", "BRA"} <= set(by_nationality)
    assert all(r.kanji_name for r in by_nationality["CHN"])
    assert not any(r.kanji_name for r in by_nationality["VNM"] + by_nationality["BRA"])
    assert any(" VAN " in r.roman_name or " THI " in r.roman_name for r in by_nationality["VNM"])
    weights = sorted(by_nationality, key=lambda code: -len(by_nationality[code]))
    assert weights[0] == "CHN"
    tokyo = sum(1 for r in population.residents if r.prefecture == "13")
    assert tokyo == max(
        sum(1 for r in population.residents if r.prefecture == code) for code in get_catalogue().prefectures
    )


def test_building_is_reproducible_and_pure():
    first = demo_population_build(seed=3, residents=120, agents=30, today=TODAY)
    second = demo_population_build(seed=3, residents=120, agents=30, today=TODAY)
    assert [r.roman_name for r in first.residents] == [r.roman_name for r in second.residents]
    assert [r.address_rest for r in first.residents] == [r.address_rest for r in second.residents]
    assert first.resident_affiliations == second.resident_affiliations
    assert [a.number for a in first.agents] == [a.number for a in second.agents]
    assert len(first.agents) == 30
    assert not Resident.objects.exists()


@pytest.mark.parametrize(
    ("municipality", "stem"),
    [
        ("名古屋市中区", "名古屋"),
        ("四日市市", "四日市"),
        ("市川市", "市川"),
        ("邑楽郡大泉町", "大泉"),
        ("新宿区", "新宿"),
        ("さいたま市浦和区", "さいたま"),
    ],
)
def test_municipality_stem(municipality, stem):
    assert municipality_stem(municipality) == stem


def test_command_prints_counts_and_examples():
    out = StringIO()
    with translation.override("en"):
        call_command("load_demo_registry", "--seed", "99", "--residents", "70", "--agents", "40", stdout=out)
    text = out.getvalue()
    assert "70 residents" in text and "40 agent certificates" in text
    assert "Organization (Employer)" in text and "Agent certificate (expired)" in text
    printed = set(re.findall(r"card ([A-Z]{2}[0-9]{8}[A-Z]{2})", text))
    assert printed and Resident.objects.filter(card_number__in=printed).count() == len(printed)
    call_command(
        "load_demo_registry", "--seed", "99", "--residents", "70", "--agents", "40", stdout=StringIO()
    )
    assert Resident.objects.count() == 70 and AgentCertificate.objects.count() == 40


def test_command_defaults_come_from_settings():
    call_command("load_demo_registry", stdout=StringIO())
    assert Resident.objects.count() == settings.DEMO_RESIDENTS
    event = AuditEvent.objects.get(action="registry.demo_loaded")
    assert event.details["seed"] == settings.DEMO_SEED
