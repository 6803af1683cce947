"""The synthetic demo population of the registry: residents, organizations, agent certificates.

Nothing here is a real person. Everything is drawn from ``random.Random`` and Faker seeded from
one number, so the same seed, counts and day give the same rows; the write side
(:func:`zairyu.registry.services.registry_load_demo`) upserts them by their numbers, which makes
loading idempotent. The mix (prefectures, nationalities, statuses, names) is data, in
``data/demo.yaml``.

Building is pure: no database access, so it can be tested and timed on its own.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from faker import Faker

from zairyu.catalogue import get_catalogue
from zairyu.catalogue.loader import StatusEntry
from zairyu.catalogue.reference import municipalities, nationalities, read_data
from zairyu.catalogue.validators import corporate_number_with_check_digit, normalize_roman_name
from zairyu.registry.constants import (
    AGENT_CERTIFICATE_YEARS,
    CARD_AGE_LIMIT,
    INDEFINITE_STAY_CARD_YEARS,
    INDEFINITE_STAY_STATUSES,
    AgentHolderKind,
    OrganizationCategory,
    OrganizationKind,
    Sex,
)
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident

# Shares of the population with a property worth demonstrating.
EXPIRY_SOON_SHARE = 0.3  # stay (or card) expiring between a month ago and three months ahead
ABROAD_SHARE = 0.03
MOVE_IN_TODAY_SHARE = 0.02
MOVE_IN_UNKNOWN_SHARE = 0.03
AFFILIATION_SHARE = 0.95  # of residents whose status has an organization
SAME_PREFECTURE_SHARE = 0.85  # of affiliations, where the prefecture has a fitting organization
FOREIGN_STAFF_SHARE = 0.2  # of agent certificates held by organization staff

# The organization a status's screen group points to, as an affiliation kind. Interns are
# affiliated with the company they train at, not the supervising organization.
_AFFILIATION_BY_PART = {
    "employer": OrganizationKind.EMPLOYER,
    "school": OrganizationKind.SCHOOL,
    "host": OrganizationKind.PUBLIC_INTEREST_CORPORATION,
    "supervising_organization": OrganizationKind.EMPLOYER,
}

_EMPLOYER_TRADES = (
    "製作所",
    "工業",
    "電機",
    "食品",
    "建設",
    "物流",
    "介護サービス",
    "ホテルズ",
    "商事",
    "システムズ",
    "精工",
    "農園",
    "水産",
    "ソフトウェア",
    "フーズ",
)
_SUPERVISING_TRADES = ("農業", "建設業", "食品製造業", "縫製業", "機械金属", "介護")

DEMO_DIR = Path(__file__).resolve().parent / "data"  # demo.yaml: the demo population


# --- configuration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusProfile:
    key: str
    weight: float
    periods: tuple[str, ...]
    ages: tuple[tuple[int, int], ...]
    female: float
    affiliation: str | None
    nationalities: tuple[tuple[str, ...], tuple[float, ...]] | None


@dataclass(frozen=True)
class DemoConfig:
    prefectures: tuple[tuple[str, ...], tuple[float, ...]]
    nationalities: tuple[tuple[str, ...], tuple[float, ...]]
    status_defaults: dict[str, Any]
    statuses: dict[str, dict[str, Any]]
    name_sources: dict[str, dict[str, Any]]
    han: dict[str, list[list[str]]]
    name_lists: dict[str, dict[str, Any]]
    organizations: dict[str, Any]
    agents: dict[str, Any]


def _weights(mapping: dict[Any, Any]) -> tuple[tuple[str, ...], tuple[float, ...]]:
    items = [(str(key), float(weight)) for key, weight in mapping.items() if float(weight) > 0]
    return tuple(k for k, _ in items), tuple(w for _, w in items)


@cache
def demo_config() -> DemoConfig:
    raw = read_data("demo.yaml", DEMO_DIR)
    known = nationalities()
    unknown = [code for code in raw["nationalities"] if code not in known]
    unknown += [code for code in raw["name_sources"] if code not in known]
    if unknown:
        raise ValueError(f"demo.yaml: nationalities not in nationalities.yaml: {unknown}")
    return DemoConfig(
        prefectures=_weights(raw["prefectures"]),
        nationalities=_weights(raw["nationalities"]),
        status_defaults=raw["status_defaults"],
        statuses=raw["statuses"],
        name_sources=raw["name_sources"],
        han=raw["han"],
        name_lists=raw["name_lists"],
        organizations=raw["organizations"],
        agents=raw["agents"],
    )


def status_profile(entry: StatusEntry, config: DemoConfig | None = None) -> StatusProfile:
    """The demo profile of a catalogue entry: defaults, then the status's, then the entry's own."""
    config = config or demo_config()
    merged: dict[str, Any] = dict(config.status_defaults)
    if entry.family:
        merged["ages"] = config.status_defaults["family_ages"]
    for key in (entry.status_code, entry.key):
        merged.update(config.statuses.get(key) or {})
    if "affiliation" in merged:
        affiliation = merged["affiliation"]
    else:
        part = entry.group.organization_part if entry.group else "none"
        affiliation = _AFFILIATION_BY_PART.get(part)
    mix = merged.get("nationalities")
    return StatusProfile(
        key=entry.key,
        weight=float(merged.get("weight", 0.1)),
        periods=() if entry.key in INDEFINITE_STAY_STATUSES else tuple(str(p) for p in merged["periods"]),
        ages=tuple((int(lo), int(hi)) for lo, hi in merged["ages"]),
        female=float(merged["female"]),
        affiliation=str(affiliation) if affiliation else None,
        nationalities=_weights(mix) if mix else None,
    )


# --- helpers ------------------------------------------------------------------------------------


def add_years(day: dt.date, years: int) -> dt.date:
    """The same date ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def period_days(code: str) -> int:
    match = re.fullmatch(r"(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?", code)
    if not code or match is None:
        raise ValueError(code)
    years, months, days = (int(part or 0) for part in match.groups())
    return years * 365 + months * 30 + days


def _pick(rng: random.Random, weighted: tuple[tuple[str, ...], tuple[float, ...]]) -> str:
    return rng.choices(weighted[0], weights=weighted[1])[0]


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _seeded_faker(locale: str, seed: str) -> Faker:
    fake = _faker(locale)
    fake.seed_instance(f"{seed}:{locale}")
    return fake


def municipality_stem(municipality: str) -> str:
    """The place name an organization would be named after: 名古屋市中区 → 名古屋, 邑楽郡大泉町 → 大泉."""
    name = municipality.split("郡")[-1]
    ward = re.fullmatch(r"(.+?市)(.+区)", name)
    if ward:
        name = ward.group(1)
    return name[:-1] if len(name) >= 2 and name[-1] in "市区町村" else name


# --- names --------------------------------------------------------------------------------------


class NameMaker:
    """Makes a (roman name, kanji name) pair fitting a nationality and sex."""

    def __init__(self, *, seed: str, config: DemoConfig) -> None:
        self.seed = seed
        self.config = config
        self._fakers: dict[str, Faker] = {}

    def _fake(self, locale: str) -> Faker:
        if locale not in self._fakers:
            self._fakers[locale] = _seeded_faker(locale, self.seed)
        return self._fakers[locale]

    def make(self, rng: random.Random, nationality: str, sex: str) -> tuple[str, str]:
        source = self.config.name_sources.get(nationality) or {"faker": "en_US"}
        female = sex == Sex.FEMALE
        kanji = ""
        if "han" in source:
            roman, kanji = self._han(rng, source["han"], female)
        elif "list" in source:
            roman = self._from_list(rng, self.config.name_lists[source["list"]], female)
        else:
            fake = self._fake(source["faker"])
            family = fake.last_name_female() if female else fake.last_name_male()
            given = fake.first_name_female() if female else fake.first_name_male()
            if source.get("middle") == "vietnamese":
                middle = ("THI" if female else "VAN") if rng.random() < 0.5 else fake.middle_name()
                given = f"{middle} {given}"
            roman = given if rng.random() < float(source.get("mononym", 0)) else f"{family} {given}"
        if source.get("middle") == "family" and "list" in source:
            roman = f"{roman} {rng.choice(self.config.name_lists[source['list']]['family'])}"
        return normalize_roman_name(roman), kanji

    def _han(self, rng: random.Random, system: str, female: bool) -> tuple[str, str]:
        column = 1 if system == "pinyin" else 2
        family = rng.choice(self.config.han["family"])
        pool = self.config.han["given_female" if female else "given_male"]
        given = rng.sample(pool, 1 if rng.random() < 0.3 else 2)
        joiner = "" if system == "pinyin" else "-"
        roman = f"{family[column]} {joiner.join(part[column] for part in given)}"
        return roman, family[0] + "".join(part[0] for part in given)

    @staticmethod
    def _from_list(rng: random.Random, names: dict[str, Any], female: bool) -> str:
        given_pool: Sequence[str] = names["given_female" if female else "given_male"]
        if names.get("syllables"):
            return " ".join(rng.sample(list(given_pool), rng.choice((2, 2, 3))))
        family = str(rng.choice(names["family"]))
        if female and names.get("feminine_suffix"):
            family += names["feminine_suffix"]
        return f"{family} {rng.choice(given_pool)}"


# --- the population -----------------------------------------------------------------------------


@dataclass
class DemoPopulation:
    """Unsaved rows; links between them are by natural key, resolved to ids when writing."""

    organizations: list[ReceivingOrganization] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    resident_affiliations: dict[str, str] = field(default_factory=dict)  # card number -> corporate number
    agents: list[AgentCertificate] = field(default_factory=list)
    agent_organizations: dict[str, str] = field(default_factory=dict)  # certificate -> corporate number
    agent_renewals: dict[str, str] = field(default_factory=dict)  # old certificate -> new certificate


@dataclass(frozen=True)
class _AgentHolder:
    """A certificate holder of the demo and their office, as every certificate of theirs names them."""

    name: str
    kind: str
    organization: ReceivingOrganization | None
    office_name: str
    prefecture: str
    municipality: str
    address_rest: str

    def certificate(self, number: str, *, issued_on: dt.date, expires_on: dt.date) -> AgentCertificate:
        return AgentCertificate(
            number=number,
            holder_name=self.name,
            holder_kind=self.kind,
            office_name=self.office_name,
            office_prefecture=self.prefecture,
            office_municipality=self.municipality,
            office_address_rest=self.address_rest,
            issued_on=issued_on,
            expires_on=expires_on,
        )


class _Builder:
    def __init__(self, *, seed: int, today: dt.date) -> None:
        self.seed = seed
        self.today = today
        self.config = demo_config()
        self.catalogue = get_catalogue()
        self.population = DemoPopulation()
        self.pending_affiliations: list[tuple[str, str, str]] = []

    def begin(self, part: str) -> random.Random:
        """A fresh random stream for one part, with Faker reseeded for it too, so that e.g. more
        organizations do not reshuffle the residents."""
        self.ja = _seeded_faker("ja_JP", f"{self.seed}:{part}")
        self.names = NameMaker(seed=f"{self.seed}:{part}", config=self.config)
        return random.Random(f"{self.seed}:{part}")

    # addresses

    def address(self, rng: random.Random, prefecture: str) -> tuple[str, str]:
        municipality = rng.choice(municipalities()[prefecture])
        rest = f"{self.ja.town()}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}番{rng.randint(1, 20)}号"
        if rng.random() < 0.5:
            rest += f" {self.ja.building_name()}{rng.randint(1, 12)}{rng.randint(1, 9):02d}"
        return municipality, rest

    def phone(self, rng: random.Random, prefecture: str) -> str:
        if prefecture == "13":
            return f"03-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        if prefecture == "27":
            return f"06-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
        return f"0{rng.randint(11, 99)}{rng.randint(1, 9)}-{rng.randint(10, 99)}-{rng.randint(0, 9999):04d}"

    # organizations

    def organizations(self, count: int) -> None:
        rng = self.begin("organizations")
        kinds = _weights(self.config.organizations["kinds"])
        categories = _weights(self.config.organizations["categories"])
        grid = [
            (kind, category) for kind in OrganizationKind.values for category in OrganizationCategory.values
        ]
        used: set[str] = set()
        for index in range(max(count, len(grid))):
            if index < len(grid):
                kind, category = grid[index]
            else:
                kind, category = _pick(rng, kinds), int(_pick(rng, categories))
            prefecture = _pick(rng, self.config.prefectures)
            municipality, rest = self.address(rng, prefecture)
            number = ""
            while not number or number in used:
                type_code = (
                    "01"
                    if kind in (OrganizationKind.EMPLOYER, OrganizationKind.REGISTERED_SUPPORT_ORGANIZATION)
                    else "05"
                )
                number = corporate_number_with_check_digit(
                    f"{rng.randint(100, 9999):04d}{type_code}{rng.randint(0, 999999):06d}"
                )
            used.add(number)
            self.population.organizations.append(
                ReceivingOrganization(
                    corporate_number=number,
                    name=self.organization_name(rng, kind, municipality),
                    prefecture=prefecture,
                    municipality=municipality,
                    address_rest=rest,
                    phone=self.phone(rng, prefecture),
                    category=category,
                    kind=kind,
                )
            )

    def organization_name(self, rng: random.Random, kind: str, municipality: str) -> str:
        stem = municipality_stem(municipality)
        family = self.ja.last_name()
        if kind == OrganizationKind.EMPLOYER:
            form = rng.choices(("株式会社", "有限会社", "合同会社"), weights=(75, 15, 10))[0]
            name = f"{family}{rng.choice(_EMPLOYER_TRADES)}"
            return f"{form}{name}" if rng.random() < 0.6 else f"{name}{form}"
        if kind == OrganizationKind.SCHOOL:
            return rng.choice(
                (
                    f"{stem}日本語学校",
                    f"{stem}国際外語学院",
                    f"学校法人{family}学園 {stem}情報ビジネス専門学校",
                    f"学校法人{family}学園 {stem}福祉専門学校",
                    f"学校法人{family}学園 {stem}大学",
                    f"学校法人{family}学園 {stem}国際大学",
                )
            )
        if kind == OrganizationKind.SUPERVISING_ORGANIZATION:
            return rng.choice(
                (f"{stem}{rng.choice(_SUPERVISING_TRADES)}事業協同組合", f"協同組合{stem}国際交流センター")
            )
        if kind == OrganizationKind.PUBLIC_INTEREST_CORPORATION:
            return rng.choice(
                (
                    f"公益財団法人{stem}国際交流協会",
                    f"公益社団法人{stem}産業振興会",
                    f"公益財団法人{stem}国際研修協力会",
                )
            )
        return rng.choice(
            (
                f"株式会社{family}グローバルサポート",
                f"一般社団法人{stem}外国人材支援センター",
                f"{family}人材支援合同会社",
            )
        )

    # residents

    def resident_profiles(self) -> tuple[list[StatusProfile], list[StatusProfile]]:
        """(coverage, weighted): every online entry in force and permanent residents once, then
        all entries in force with a weight, for drawing the rest."""
        entries = self.catalogue.entries_in_force(self.today)
        profiles = {entry.key: status_profile(entry, self.config) for entry in entries}
        coverage = [profiles[e.key] for e in entries if e.online or e.key == "permanent_resident"]
        weighted = [profile for profile in profiles.values() if profile.weight > 0]
        return coverage, weighted

    def residents(self, count: int) -> None:
        rng = self.begin("residents")
        coverage, weighted = self.resident_profiles()
        rng.shuffle(coverage)
        prefecture_order = sorted(self.catalogue.prefectures)
        rng.shuffle(prefecture_order)
        status_weights = [profile.weight for profile in weighted]
        used: set[str] = set()
        for index in range(count):
            prefecture = (
                prefecture_order[index]
                if index < len(prefecture_order)
                else _pick(rng, self.config.prefectures)
            )
            profile = (
                coverage[index] if index < len(coverage) else rng.choices(weighted, weights=status_weights)[0]
            )
            self.resident(rng, profile, prefecture, used)

    def resident(self, rng: random.Random, profile: StatusProfile, prefecture: str, used: set[str]) -> None:
        today = self.today
        nationality = _pick(rng, profile.nationalities or self.config.nationalities)
        sex = Sex.FEMALE if rng.random() < profile.female else Sex.MALE
        roman_name, kanji_name = self.names.make(rng, nationality, sex)
        low, high = rng.choice(profile.ages)
        born = today - dt.timedelta(days=rng.randint(low, high) * 365 + rng.randint(0, 364))
        municipality, rest = self.address(rng, prefecture)

        card_number = ""
        while not card_number or card_number in used:
            letters = string.ascii_uppercase
            card_number = (
                "".join(rng.choices(letters, k=2))
                + f"{rng.randrange(10**8):08d}"
                + "".join(rng.choices(letters, k=2))
            )
        used.add(card_number)

        soon = rng.random() < EXPIRY_SOON_SHARE
        if profile.periods:
            period = rng.choice(profile.periods)
            length = min(period_days(period), 3 * 365)
            offset = rng.randint(-30, min(90, length)) if soon or length <= 91 else rng.randint(91, length)
            stay_expires_on: dt.date | None = today + dt.timedelta(days=offset)
            card_expires_on = stay_expires_on
        else:
            period, stay_expires_on = "", None
            days = INDEFINITE_STAY_CARD_YEARS * 365 - 1
            card_expires_on = today + dt.timedelta(
                days=rng.randint(-20, 90) if soon else rng.randint(91, days)
            )
        sixteenth = add_years(born, CARD_AGE_LIMIT)
        if today < sixteenth < card_expires_on:
            card_expires_on = sixteenth

        draw = rng.random()
        if draw < MOVE_IN_TODAY_SHARE:
            move_in: dt.date | None = today
        elif draw < MOVE_IN_TODAY_SHARE + MOVE_IN_UNKNOWN_SHARE:
            move_in = None
        else:
            move_in = max(born, today - dt.timedelta(days=rng.randint(30, 3650)))

        resident = Resident(
            roman_name=roman_name,
            kanji_name=kanji_name,
            nationality=nationality,
            sex=sex,
            date_of_birth=born,
            prefecture=prefecture,
            municipality=municipality,
            address_rest=rest,
            move_in_notified_on=move_in,
            card_number=card_number,
            card_expires_on=card_expires_on,
            status=profile.key,
            period_of_stay=period,
            stay_expires_on=stay_expires_on,
            abroad_on_reentry=rng.random() < ABROAD_SHARE,
        )
        self.population.residents.append(resident)
        if profile.affiliation and rng.random() < AFFILIATION_SHARE:
            self.pending_affiliations.append((card_number, profile.affiliation, prefecture))

    def affiliations(self) -> None:
        rng = self.begin("affiliations")
        by_kind: dict[str, list[str]] = {}
        by_kind_prefecture: dict[tuple[str, str], list[str]] = {}
        for org in self.population.organizations:
            by_kind.setdefault(org.kind, []).append(org.corporate_number)
            by_kind_prefecture.setdefault((org.kind, org.prefecture), []).append(org.corporate_number)
        for card_number, kind, prefecture in self.pending_affiliations:
            local = by_kind_prefecture.get((kind, prefecture))
            pool = local if local and rng.random() < SAME_PREFECTURE_SHARE else by_kind.get(kind)
            if pool:
                self.population.resident_affiliations[card_number] = rng.choice(pool)

    # agent certificates

    def agents(self, count: int) -> None:
        rng = self.begin("agents")
        config = self.config.agents
        kinds = _weights(config["kinds"])
        expired = max(2, round(count * float(config["expired_share"]))) if count >= 4 else 0
        renewed = expired // 2
        base = count - renewed
        expired_indices = set(rng.sample(range(base), min(expired, base)))
        staff_organizations = [
            org
            for org in self.population.organizations
            if org.kind != OrganizationKind.PUBLIC_INTEREST_CORPORATION or rng.random() < 0.5
        ]
        used: set[str] = set()

        def new_number() -> str:
            number = ""
            while not number or number in used:
                number = f"{rng.randrange(10**11, 10**12)}"
            used.add(number)
            return number

        renew_left = renewed
        for index in range(base):
            holder = self.agent_holder(rng, _pick(rng, kinds), staff_organizations)
            issued_on, expires_on = self.agent_validity(rng, expired=index in expired_indices)
            certificate = holder.certificate(new_number(), issued_on=issued_on, expires_on=expires_on)
            self.population.agents.append(certificate)
            if holder.organization is not None:
                self.population.agent_organizations[certificate.number] = holder.organization.corporate_number
            if index in expired_indices and renew_left:
                renew_left -= 1
                renewal_issued = expires_on - dt.timedelta(days=rng.randint(0, 30))
                renewal = holder.certificate(
                    new_number(),
                    issued_on=renewal_issued,
                    expires_on=add_years(renewal_issued, AGENT_CERTIFICATE_YEARS) - dt.timedelta(days=1),
                )
                self.population.agents.append(renewal)
                self.population.agent_renewals[certificate.number] = renewal.number
                if holder.organization is not None:
                    self.population.agent_organizations[renewal.number] = holder.organization.corporate_number

    def agent_holder(
        self, rng: random.Random, kind: str, staff_organizations: list[ReceivingOrganization]
    ) -> _AgentHolder:
        """Who holds a certificate and the office they work from (staff: their organization's)."""
        organization: ReceivingOrganization | None = None
        office_name = ""
        if kind == AgentHolderKind.ORGANIZATION_STAFF and staff_organizations:
            organization = rng.choice(staff_organizations)
            prefecture = organization.prefecture
            municipality, rest = organization.municipality, organization.address_rest
            office_name = organization.name
        else:
            kind = AgentHolderKind.LAWYER if kind == AgentHolderKind.ORGANIZATION_STAFF else kind
            prefecture = _pick(rng, self.config.prefectures)
            municipality, rest = self.address(rng, prefecture)
        if kind == AgentHolderKind.ORGANIZATION_STAFF and rng.random() < FOREIGN_STAFF_SHARE:
            nationality = _pick(rng, self.config.nationalities)
            name = self.names.make(rng, nationality, rng.choice(Sex.values))[0]
        else:
            name = self.ja.name()
        family = name.split(" ")[0]
        stem = municipality_stem(municipality)
        if kind == AgentHolderKind.LAWYER:
            office_name = rng.choice((f"{family}法律事務所", f"弁護士法人{stem}総合法律事務所"))
        elif kind == AgentHolderKind.ADMINISTRATIVE_SCRIVENER:
            office_name = rng.choice(
                (f"{family}行政書士事務所", f"行政書士法人{stem}国際法務", f"{family}国際行政書士事務所")
            )
        return _AgentHolder(
            name=name,
            kind=kind,
            organization=organization,
            office_name=office_name,
            prefecture=prefecture,
            municipality=municipality,
            address_rest=rest,
        )

    def agent_validity(self, rng: random.Random, *, expired: bool) -> tuple[dt.date, dt.date]:
        """(issued on, expires on) of a certificate: expired up to 400 days ago, or valid today."""
        if expired:
            expires_on = self.today - dt.timedelta(days=rng.randint(1, 400))
            issued_on = add_years(expires_on + dt.timedelta(days=1), -AGENT_CERTIFICATE_YEARS)
        else:
            issued_on = self.today - dt.timedelta(days=rng.randint(0, AGENT_CERTIFICATE_YEARS * 365 - 30))
            expires_on = add_years(issued_on, AGENT_CERTIFICATE_YEARS) - dt.timedelta(days=1)
        return issued_on, expires_on

    def build(self, *, residents: int, agents: int) -> DemoPopulation:
        per_resident = float(self.config.organizations["per_resident"])
        self.organizations(round(residents * per_resident))
        self.residents(residents)
        self.affiliations()
        self.agents(agents)
        return self.population


def demo_population_build(
    *, seed: int, residents: int, agents: int | None = None, today: dt.date
) -> DemoPopulation:
    """The demo population for ``seed`` as of ``today``, unsaved.

    The first 47 residents live one in each prefecture and the first ~60 cover every
    online-eligible status entry in force plus permanent residents, so ``residents`` of at
    least that many covers both; the rest follow the weights of ``data/demo.yaml``.
    """
    if residents < 0:
        raise ValueError("residents cannot be negative")
    count = int(demo_config().agents["count"]) if agents is None else agents
    return _Builder(seed=seed, today=today).build(residents=residents, agents=count)
