"""Loading and validating the reference catalogue from the YAML files in ``data/``.

The catalogue is read once per process (at start, from ``CatalogueConfig.ready``) into frozen
dataclasses. Any inconsistency — an unknown group, a gap in the fee schedule, a prefecture
without an office — stops the start with a message naming the file and the entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import get_language

DATA_DIR = Path(__file__).resolve().parent / "data"

ORGANIZATION_PARTS = {"employer", "school", "host", "supporter", "supervising_organization", "none"}
IDENTITY_KINDS = {"card", "agent_certificate", "usage_application", "email"}
CONDITION_KINDS = {"fact", "applicant_status_in", "applicant_age_under", "any"}
CHANNELS = ("online", "window")
STATUS_KEYS = {"code", "name_ja", "name_en", "online", "group", "effective_from", "effective_until"}


class CatalogueError(Exception):
    """The catalogue's data files are inconsistent."""


@dataclass(frozen=True)
class Localized:
    """A text in Japanese and English; ``str()`` gives the one of the active language."""

    ja: str
    en: str

    def __str__(self) -> str:
        return self.en if (get_language() or "ja").startswith("en") else self.ja

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") else self.ja


@dataclass(frozen=True)
class ScreenGroup:
    code: str
    name: Localized
    organization_part: str

    @property
    def has_organization_part(self) -> bool:
        return self.organization_part != "none"


@dataclass(frozen=True)
class StatusEntry:
    """What an application names: a status of residence, or one of its sub-categories."""

    key: str  # "student" or "highly_skilled_professional/1a"
    status_code: str
    sub_code: str | None
    table: str
    name: Localized
    status_name: Localized
    online: bool
    group: ScreenGroup | None
    family: bool = False
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.effective_from is None or on >= self.effective_from) and (
            self.effective_until is None or on <= self.effective_until
        )

    def matches(self, spec: str) -> bool:
        """True when ``spec`` names this entry or its whole status."""
        return spec == self.key or spec == self.status_code


@dataclass(frozen=True)
class Status:
    code: str
    table: str
    name: Localized
    online: bool
    entries: tuple[StatusEntry, ...]
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.effective_from is None or on >= self.effective_from) and (
            self.effective_until is None or on <= self.effective_until
        )


@dataclass(frozen=True)
class Procedure:
    code: str
    key: str
    name: Localized
    short: Localized
    receipt_code: str
    add_on: bool
    add_on_to: tuple[str, ...]
    annual_volume_2019: int


@dataclass(frozen=True)
class UserCategory:
    code: str
    name: Localized
    identity: str
    files_online: bool
    files_for_organization: bool = False
    bulk: bool = False


@dataclass(frozen=True)
class Condition:
    """A condition of the matrix. ``fact``: stated by the filer (``reason``: with the reason, which
    the officer sees) or computed from the system's records; ``applicant_status_in``: decided by the
    status applied for; ``applicant_age_under``: the applicant is under ``age`` on the filing date,
    by the date of birth in the registry; ``any``: one of ``parts`` holds (``otherwise_text`` is what
    must hold once the parts the system decides are known not to)."""

    code: str
    kind: str
    text: Localized
    statuses: tuple[str, ...] = ()
    age: int | None = None
    parts: tuple[str, ...] = ()
    reason: bool = False
    otherwise_text: Localized | None = None


@dataclass(frozen=True)
class MatrixCell:
    rule: str  # "allow", "deny" or "conditional"
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Office:
    code: str
    name: Localized
    prefix: str
    prefectures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prefecture:
    code: str
    name: Localized
    office_code: str


@dataclass(frozen=True)
class FeeRule:
    procedure: str
    variant: str | None
    valid_from: dt.date | None
    valid_until: dt.date | None
    window: int
    online: int

    def applies_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Catalogue:
    groups: dict[str, ScreenGroup]
    statuses: dict[str, Status]
    entries: dict[str, StatusEntry]
    procedures: dict[str, Procedure]
    user_categories: dict[str, UserCategory]
    conditions: dict[str, Condition]
    matrix: dict[tuple[str, str], MatrixCell]
    offices: dict[str, Office]
    prefectures: dict[str, Prefecture]
    fees: tuple[FeeRule, ...] = field(default=())

    def entries_in_force(self, on: dt.date, *, online_only: bool = False) -> list[StatusEntry]:
        return [
            entry
            for entry in self.entries.values()
            if entry.in_force(on)
            and self.statuses[entry.status_code].in_force(on)
            and (entry.online or not online_only)
        ]

    def statuses_in_force(self, on: dt.date) -> list[Status]:
        return [status for status in self.statuses.values() if status.in_force(on)]

    def office_for_prefecture(self, prefecture_code: str) -> Office:
        return self.offices[self.prefectures[prefecture_code].office_code]

    def prefecture_by_name(self, name: str) -> Prefecture | None:
        name = name.strip()
        for prefecture in self.prefectures.values():
            if name in (prefecture.name.ja, prefecture.name.en, prefecture.name.en.lower()):
                return prefecture
        return None


# --- reading ------------------------------------------------------------------------------------


def _read(directory: Path, name: str) -> dict[str, Any]:
    path = directory / name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{name}: cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogueError(f"{name}: the top level must be a mapping")
    return data


def _require(entry: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...] = str) -> Any:
    if key not in entry:
        raise CatalogueError(f"{where}: '{key}' is missing")
    value = entry[key]
    if not isinstance(value, kind):
        raise CatalogueError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    return value


def _optional_flag(entry: dict[str, Any], key: str, where: str) -> bool:
    """A true/false key that is false when left out."""
    return _require(entry, key, where, bool) if key in entry else False


def _known_keys(entry: dict[str, Any], allowed: set[str], where: str) -> None:
    """Refuse unknown keys: a typo (or a YAML value cut at a comma) must not pass silently."""
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a mapping")
    unknown = set(entry) - allowed
    if unknown:
        raise CatalogueError(f"{where}: unknown key(s) {sorted(map(str, unknown))}")


def _date(entry: dict[str, Any], key: str, where: str) -> dt.date | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, dt.date):
        raise CatalogueError(f"{where}: '{key}' must be a date (YYYY-MM-DD)")
    return value


def _localized(entry: dict[str, Any], prefix: str, where: str) -> Localized:
    return Localized(ja=_require(entry, f"{prefix}_ja", where), en=_require(entry, f"{prefix}_en", where))


def _unique(codes: list[str], where: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise CatalogueError(f"{where}: '{code}' appears twice")
        seen.add(code)


def _load_groups(directory: Path) -> dict[str, ScreenGroup]:
    raw = _read(directory, "screen_groups.yaml").get("screen_groups") or []
    groups: dict[str, ScreenGroup] = {}
    for index, item in enumerate(raw):
        where = f"screen_groups.yaml: screen_groups[{index}]"
        _known_keys(item, {"code", "name_ja", "name_en", "organization_part"}, where)
        code = _require(item, "code", where)
        part = _require(item, "organization_part", where)
        if part not in ORGANIZATION_PARTS:
            raise CatalogueError(
                f"{where}: organization_part '{part}' is not one of {sorted(ORGANIZATION_PARTS)}"
            )
        if code in groups:
            raise CatalogueError(f"{where}: group '{code}' appears twice")
        groups[code] = ScreenGroup(code=code, name=_localized(item, "name", where), organization_part=part)
    return groups


def _group_of(
    spec: dict[str, Any], where: str, entry_online: bool, groups: dict[str, ScreenGroup]
) -> ScreenGroup | None:
    group_code = spec.get("group")
    if group_code is None:
        if entry_online:
            raise CatalogueError(f"{where}: an online-eligible status needs an input-screen group")
        return None
    if group_code not in groups:
        raise CatalogueError(f"{where}: group '{group_code}' is not in screen_groups.yaml")
    return groups[group_code]


def _sub_entries(
    item: dict[str, Any],
    *,
    code: str,
    table: str,
    name: Localized,
    online: bool,
    where: str,
    dates: tuple[dt.date | None, dt.date | None],
    groups: dict[str, ScreenGroup],
) -> list[StatusEntry]:
    """The entries of a status with sub-categories (each its own group, family flag, dates)."""
    subs = item["subcategories"]
    if "group" in item:
        raise CatalogueError(f"{where}: give the group on each sub-category, not on the status")
    _unique([str(_require(s, "code", where, (str, int))) for s in subs], f"{where}: sub-categories")
    entries = []
    for sub in subs:
        sub_code = str(sub["code"])
        sub_where = f"{where}/{sub_code}"
        _known_keys(sub, STATUS_KEYS | {"family"}, sub_where)
        sub_online = online and bool(sub.get("online", True))
        entries.append(
            StatusEntry(
                key=f"{code}/{sub_code}",
                status_code=code,
                sub_code=sub_code,
                table=table,
                name=_localized(sub, "name", sub_where),
                status_name=name,
                online=sub_online,
                group=_group_of(sub, sub_where, sub_online, groups),
                family=bool(sub.get("family", False)),
                effective_from=_date(sub, "effective_from", sub_where) or dates[0],
                effective_until=_date(sub, "effective_until", sub_where) or dates[1],
            )
        )
    return entries


def _load_statuses(
    directory: Path, groups: dict[str, ScreenGroup]
) -> tuple[dict[str, Status], dict[str, StatusEntry]]:
    raw = _read(directory, "statuses.yaml").get("statuses") or []
    statuses: dict[str, Status] = {}
    entries: dict[str, StatusEntry] = {}
    for index, item in enumerate(raw):
        where = f"statuses.yaml: statuses[{index}]"
        _known_keys(item, STATUS_KEYS | {"table", "subcategories"}, where)
        code = _require(item, "code", where)
        where = f"statuses.yaml: status '{code}'"
        if code in statuses:
            raise CatalogueError(f"{where}: appears twice")
        table = _require(item, "table", where)
        if table not in {"1-1", "1-2", "1-3", "1-4", "1-5", "2"}:
            raise CatalogueError(f"{where}: table '{table}' is not an annex table part")
        name = _localized(item, "name", where)
        online = _require(item, "online", where, bool)
        status_from, status_until = (
            _date(item, "effective_from", where),
            _date(item, "effective_until", where),
        )
        if item.get("subcategories"):
            status_entries = _sub_entries(
                item,
                code=code,
                table=table,
                name=name,
                online=online,
                where=where,
                dates=(status_from, status_until),
                groups=groups,
            )
        else:
            status_entries = [
                StatusEntry(
                    key=code,
                    status_code=code,
                    sub_code=None,
                    table=table,
                    name=name,
                    status_name=name,
                    online=online,
                    group=_group_of(item, where, online, groups),
                    effective_from=status_from,
                    effective_until=status_until,
                )
            ]
        statuses[code] = Status(
            code=code,
            table=table,
            name=name,
            online=online,
            entries=tuple(status_entries),
            effective_from=status_from,
            effective_until=status_until,
        )
        for entry in status_entries:
            entries[entry.key] = entry
    return statuses, entries


def _load_procedures(directory: Path) -> dict[str, Procedure]:
    raw = _read(directory, "procedures.yaml").get("procedures") or []
    procedures: dict[str, Procedure] = {}
    for index, item in enumerate(raw):
        where = f"procedures.yaml: procedures[{index}]"
        _known_keys(
            item,
            {
                "code",
                "key",
                "name_ja",
                "name_en",
                "short_ja",
                "short_en",
                "receipt_code",
                "add_on",
                "add_on_to",
                "annual_volume_2019",
            },
            where,
        )
        code = _require(item, "code", where)
        if code in procedures:
            raise CatalogueError(f"{where}: procedure '{code}' appears twice")
        add_on = _require(item, "add_on", where, bool)
        add_on_to = tuple(item.get("add_on_to") or ())
        if add_on and not add_on_to:
            raise CatalogueError(f"{where}: an add-on procedure must say which procedures it goes with")
        procedures[code] = Procedure(
            code=code,
            key=_require(item, "key", where),
            name=_localized(item, "name", where),
            short=_localized(item, "short", where),
            receipt_code=_require(item, "receipt_code", where),
            add_on=add_on,
            add_on_to=add_on_to,
            annual_volume_2019=_require(item, "annual_volume_2019", where, int),
        )
    _unique([p.receipt_code for p in procedures.values()], "procedures.yaml: receipt_code")
    for procedure in procedures.values():
        for target in procedure.add_on_to:
            if target not in procedures or procedures[target].add_on:
                raise CatalogueError(
                    f"procedures.yaml: {procedure.code} is an add-on to '{target}', which is not a main procedure"
                )
    return procedures


def _load_user_categories(directory: Path) -> dict[str, UserCategory]:
    raw = _read(directory, "user_categories.yaml").get("user_categories") or []
    categories: dict[str, UserCategory] = {}
    for index, item in enumerate(raw):
        where = f"user_categories.yaml: user_categories[{index}]"
        _known_keys(
            item,
            {"code", "name_ja", "name_en", "identity", "files_online", "files_for_organization", "bulk"},
            where,
        )
        code = _require(item, "code", where)
        identity = _require(item, "identity", where)
        if identity not in IDENTITY_KINDS:
            raise CatalogueError(f"{where}: identity '{identity}' is not one of {sorted(IDENTITY_KINDS)}")
        if code in categories:
            raise CatalogueError(f"{where}: category '{code}' appears twice")
        categories[code] = UserCategory(
            code=code,
            name=_localized(item, "name", where),
            identity=identity,
            files_online=_require(item, "files_online", where, bool),
            files_for_organization=_optional_flag(item, "files_for_organization", where),
            bulk=_optional_flag(item, "bulk", where),
        )
    return categories


def _load_matrix(
    directory: Path,
    entries: dict[str, StatusEntry],
    statuses: dict[str, Status],
    procedures: dict[str, Procedure],
    categories: dict[str, UserCategory],
) -> tuple[dict[str, Condition], dict[tuple[str, str], MatrixCell]]:
    data = _read(directory, "matrix.yaml")
    conditions = _load_conditions(data.get("conditions") or {}, entries, statuses)
    matrix = _load_cells(data.get("matrix") or {}, conditions, procedures, categories)
    return conditions, matrix


def _load_conditions(
    raw: dict[str, Any],
    entries: dict[str, StatusEntry],
    statuses: dict[str, Status],
) -> dict[str, Condition]:
    conditions: dict[str, Condition] = {}
    for code, item in raw.items():
        where = f"matrix.yaml: condition '{code}'"
        _known_keys(
            item,
            {
                "kind",
                "statuses",
                "text_ja",
                "text_en",
                "age",
                "of",
                "reason",
                "otherwise_text_ja",
                "otherwise_text_en",
            },
            where,
        )
        kind = _require(item, "kind", where)
        if kind not in CONDITION_KINDS:
            raise CatalogueError(f"{where}: kind '{kind}' is not one of {sorted(CONDITION_KINDS)}")
        specs = tuple(item.get("statuses") or ())
        if kind == "applicant_status_in" and not specs:
            raise CatalogueError(f"{where}: lists no statuses")
        for spec in specs:
            if spec not in entries and spec not in statuses:
                raise CatalogueError(f"{where}: status '{spec}' is not in statuses.yaml")
        age = item.get("age")
        if (kind == "applicant_age_under") != isinstance(age, int) or isinstance(age, bool):
            raise CatalogueError(
                f"{where}: 'age' (a number of years) goes with kind applicant_age_under only"
            )
        parts = tuple(item.get("of") or ())
        if (kind == "any") != bool(parts):
            raise CatalogueError(
                f"{where}: 'of' (the conditions of which one must hold) goes with kind any only"
            )
        reason = item.get("reason", False)
        if reason not in (True, False) or (reason and kind != "fact"):
            raise CatalogueError(f"{where}: 'reason: true' goes with kind fact only")
        otherwise = _localized(item, "otherwise_text", where) if "otherwise_text_ja" in item else None
        conditions[code] = Condition(
            code=code,
            kind=kind,
            text=_localized(item, "text", where),
            statuses=specs,
            age=age,
            parts=parts,
            reason=reason,
            otherwise_text=otherwise,
        )
    for code, condition in conditions.items():
        for part in condition.parts:
            if part not in conditions or conditions[part].kind == "any":
                raise CatalogueError(
                    f"matrix.yaml: condition '{code}': '{part}' is not a condition (nor an any)"
                )
    return conditions


def _load_cells(
    raw: dict[str, Any],
    conditions: dict[str, Condition],
    procedures: dict[str, Procedure],
    categories: dict[str, UserCategory],
) -> dict[tuple[str, str], MatrixCell]:
    matrix: dict[tuple[str, str], MatrixCell] = {}
    for category in categories:
        row = raw.get(category)
        if not isinstance(row, dict):
            raise CatalogueError(f"matrix.yaml: no row for user category {category}")
        for procedure in procedures:
            where = f"matrix.yaml: {category} x {procedure}"
            if procedure not in row:
                raise CatalogueError(f"{where}: missing")
            cell = row[procedure]
            if cell in ("allow", "deny"):
                matrix[(category, procedure)] = MatrixCell(rule=cell)
            elif isinstance(cell, list) and cell:
                unknown = [c for c in cell if c not in conditions]
                if unknown:
                    raise CatalogueError(f"{where}: unknown condition(s) {unknown}")
                matrix[(category, procedure)] = MatrixCell(
                    rule="conditional", conditions=tuple(conditions[c] for c in cell)
                )
            else:
                raise CatalogueError(f"{where}: must be 'allow', 'deny' or a list of conditions")
        extra = set(row) - set(procedures)
        if extra:
            raise CatalogueError(f"matrix.yaml: {category} names unknown procedures {sorted(extra)}")
    extra_rows = set(raw) - set(categories)
    if extra_rows:
        raise CatalogueError(f"matrix.yaml: unknown user categories {sorted(extra_rows)}")
    return matrix


def _load_offices(directory: Path) -> tuple[dict[str, Office], dict[str, Prefecture]]:
    data = _read(directory, "offices.yaml")
    offices: dict[str, Office] = {}
    for index, item in enumerate(data.get("offices") or []):
        where = f"offices.yaml: offices[{index}]"
        _known_keys(item, {"code", "name_ja", "name_en", "prefix"}, where)
        code = _require(item, "code", where)
        if code in offices:
            raise CatalogueError(f"{where}: office '{code}' appears twice")
        offices[code] = Office(
            code=code, name=_localized(item, "name", where), prefix=_require(item, "prefix", where)
        )
    _unique([o.prefix for o in offices.values()], "offices.yaml: prefix")
    prefectures: dict[str, Prefecture] = {}
    for index, item in enumerate(data.get("prefectures") or []):
        where = f"offices.yaml: prefectures[{index}]"
        _known_keys(item, {"code", "name_ja", "name_en", "office"}, where)
        code = _require(item, "code", where)
        office = _require(item, "office", where)
        if office not in offices:
            raise CatalogueError(f"{where}: office '{office}' is not listed")
        if code in prefectures:
            raise CatalogueError(f"{where}: prefecture '{code}' appears twice")
        prefectures[code] = Prefecture(code=code, name=_localized(item, "name", where), office_code=office)
    expected = {f"{n:02d}" for n in range(1, 48)}
    if set(prefectures) != expected:
        raise CatalogueError(
            f"offices.yaml: prefectures must be exactly 01-47; missing {sorted(expected - set(prefectures))}, "
            f"unknown {sorted(set(prefectures) - expected)}"
        )
    for code, office in list(offices.items()):
        covered = tuple(p.code for p in prefectures.values() if p.office_code == code)
        if not covered:
            raise CatalogueError(f"offices.yaml: office '{code}' covers no prefecture")
        offices[code] = Office(code=office.code, name=office.name, prefix=office.prefix, prefectures=covered)
    return offices, prefectures


def _load_fees(directory: Path, procedures: dict[str, Procedure]) -> tuple[FeeRule, ...]:
    rules: list[FeeRule] = []
    for index, item in enumerate(_read(directory, "fees.yaml").get("fees") or []):
        where = f"fees.yaml: fees[{index}]"
        _known_keys(item, {"procedure", "variant", "from", "until", "window", "online"}, where)
        procedure = _require(item, "procedure", where)
        if procedure not in procedures:
            raise CatalogueError(f"{where}: unknown procedure '{procedure}'")
        rule = FeeRule(
            procedure=procedure,
            variant=item.get("variant"),
            valid_from=_date(item, "from", where),
            valid_until=_date(item, "until", where),
            window=_require(item, "window", where, int),
            online=_require(item, "online", where, int),
        )
        if rule.window < 0 or rule.online < 0:
            raise CatalogueError(f"{where}: a fee cannot be negative")
        if rule.valid_from and rule.valid_until and rule.valid_from > rule.valid_until:
            raise CatalogueError(f"{where}: 'from' is after 'until'")
        rules.append(rule)
    # Every procedure (and variant) must have one unbroken, non-overlapping schedule.
    for procedure in procedures:
        variants = {r.variant for r in rules if r.procedure == procedure}
        if not variants:
            raise CatalogueError(f"fees.yaml: no fee for {procedure}")
        for variant in variants:
            chain = sorted(
                (r for r in rules if r.procedure == procedure and r.variant == variant),
                key=lambda r: r.valid_from or dt.date.min,
            )
            label = f"{procedure}" + (f" ({variant})" if variant else "")
            if chain[0].valid_from is not None:
                raise CatalogueError(f"fees.yaml: {label} has no fee before {chain[0].valid_from}")
            if chain[-1].valid_until is not None:
                raise CatalogueError(f"fees.yaml: {label} has no fee after {chain[-1].valid_until}")
            for before, after in zip(chain, chain[1:], strict=False):
                if before.valid_until is None or after.valid_from != before.valid_until + dt.timedelta(
                    days=1
                ):
                    raise CatalogueError(
                        f"fees.yaml: {label} has a gap or an overlap around {after.valid_from}"
                    )
    return tuple(rules)


def load_catalogue(directory: Path = DATA_DIR) -> Catalogue:
    """Read and check every data file; raise :class:`CatalogueError` naming the first problem."""
    groups = _load_groups(directory)
    statuses, entries = _load_statuses(directory, groups)
    procedures = _load_procedures(directory)
    categories = _load_user_categories(directory)
    conditions, matrix = _load_matrix(directory, entries, statuses, procedures, categories)
    offices, prefectures = _load_offices(directory)
    fees = _load_fees(directory, procedures)
    unused = set(groups) - {e.group.code for e in entries.values() if e.group}
    if unused:
        raise CatalogueError(f"screen_groups.yaml: groups used by no status: {sorted(unused)}")
    return Catalogue(
        groups=groups,
        statuses=statuses,
        entries=entries,
        procedures=procedures,
        user_categories=categories,
        conditions=conditions,
        matrix=matrix,
        offices=offices,
        prefectures=prefectures,
        fees=fees,
    )
