"""API: the catalogue — procedures, statuses, groups, offices, who may file what, fees, the forms as
JSON Schema, and the anonymous check of a planned filing.

Public (no token), limited per address (``anonymous_throttle``). Everything is read from the one
catalogue (``zairyu.catalogue``) and its rules; nothing is re-typed here. The GET operations are
cacheable for five minutes; their ``ETag`` is derived from the catalogue's data files, the day
(statuses come into and go out of force) and the request's URL, so ``If-None-Match`` is answered
with 304 without building the answer again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cache
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, ConfigDict, StrictBool, StringConstraints

from zairyu.api.auth import anonymous_throttle
from zairyu.api.jsonschema import form_schema
from zairyu.api.problems import ApiError, pointer
from zairyu.api.schemas_common import IsoDate
from zairyu.applications.planning import PlannedFiling, plan_check
from zairyu.catalogue import get_catalogue
from zairyu.catalogue.fees import fee_for, fee_variants
from zairyu.catalogue.formspec import form_for
from zairyu.catalogue.loader import DATA_DIR, Localized, Status, StatusEntry
from zairyu.catalogue.rules import add_on_alone, combination_errors
from zairyu.core import clock

router = Router()

CACHE_CONTROL = "public, max-age=300"


# --- codes --------------------------------------------------------------------------------------
# The catalogue is static data: its codes are enums of the OpenAPI document, so that a client (and
# the contract check) knows every value an operation takes.


def _codes(codes) -> Any:
    return Literal[tuple(codes)]  # type: ignore[valid-type]


_CATALOGUE = get_catalogue()
ProcedureCode = _codes(_CATALOGUE.procedures)
MainProcedureCode = _codes(code for code, p in _CATALOGUE.procedures.items() if not p.add_on)
AddOnCode = _codes(code for code, p in _CATALOGUE.procedures.items() if p.add_on)
UserCategoryCode = _codes(_CATALOGUE.user_categories)
OnlineUserCategoryCode = _codes(code for code, c in _CATALOGUE.user_categories.items() if c.files_online)
StatusEntryKey = _codes(_CATALOGUE.entries)
OnlineStatusEntryKey = _codes(key for key, e in _CATALOGUE.entries.items() if e.online and e.group)
FactCode = _codes(code for code, c in _CATALOGUE.conditions.items() if c.kind == "fact")
FeeVariant = _codes(sorted({v for code in _CATALOGUE.procedures for v in fee_variants(code) if v}))
_ADD_ON = "|".join(code for code, p in _CATALOGUE.procedures.items() if p.add_on)
ADD_ONS_PATTERN = f"^(({_ADD_ON})(,({_ADD_ON}))*)?$"
del _CATALOGUE, _ADD_ON


# --- schemas ------------------------------------------------------------------------------------


class CatalogueText(Schema):
    """A text in Japanese and English."""

    ja: str = Field(..., description="In Japanese.")
    en: str = Field(..., description="In English.")


def catalogue_text(value: Localized) -> CatalogueText:
    return CatalogueText(ja=value.ja, en=value.en)


class CatalogueProcedure(Schema):
    code: str = Field(..., description="The procedure's code, P1–P7: what the API's other operations take.")
    key: str = Field(..., description="A readable key (coe, change, extension …).")
    name: CatalogueText = Field(..., description="The procedure's name.")
    short: CatalogueText = Field(..., description="Its short name, as lists and receipts show it.")
    receipt_code: str = Field(..., description="The letter of the procedure in receipt numbers.")
    add_on: bool = Field(
        ..., description="True for re-entry (P6) and activity permission (P7): filed only with another."
    )
    add_on_to: list[str] = Field(..., description="For an add-on: the procedures it can be filed with.")
    fee_variants: list[str] = Field(
        ..., description="The fee variants (re-entry: single, multiple); empty when there is one fee."
    )


class CatalogueStatusEntry(Schema):
    key: str = Field(
        ...,
        description="What an application names as its status: the status code, or status/sub-category "
        "(highly_skilled_professional/1a).",
    )
    sub_code: str | None = Field(None, description="The sub-category's code, if this is one.")
    name: CatalogueText = Field(..., description="The name of the status or sub-category.")
    online: bool = Field(..., description="Whether applications for it can be filed online at all.")
    group: str | None = Field(None, description="Its input-screen group (see /catalogue/groups).")
    family: bool = Field(False, description="A family sub-category of Designated Activities.")
    effective_from: dt.date | None = Field(None, description="The first day it exists (null: always).")
    effective_until: dt.date | None = Field(None, description="The last day it exists (null: open-ended).")
    in_force: bool = Field(..., description="Whether it exists on the day asked for (`on`).")


class CatalogueStatus(Schema):
    code: str = Field(..., description="The status of residence's code.")
    table: str = Field(..., description="Its annex table and part of the Immigration Control Act (1-1 … 2).")
    name: CatalogueText = Field(..., description="Its name.")
    online: bool = Field(..., description="Whether applications for it can be filed online at all.")
    effective_from: dt.date | None = Field(None, description="The first day it exists (null: always).")
    effective_until: dt.date | None = Field(None, description="The last day it exists (null: open-ended).")
    in_force: bool = Field(..., description="Whether it exists on the day asked for (`on`).")
    entries: list[CatalogueStatusEntry] = Field(
        ..., description="What an application can name: the status itself, or each of its sub-categories."
    )


class CatalogueStatusList(Schema):
    on: dt.date = Field(..., description="The day `in_force` speaks of.")
    statuses: list[CatalogueStatus] = Field(..., description="Every status of residence, in the Act's order.")


class CatalogueGroup(Schema):
    code: str = Field(..., description="The input-screen group's code.")
    name: CatalogueText = Field(..., description="Its name.")
    organization_part: str = Field(
        ...,
        description="Who fills in the organization's part (step 2-3): employer, school, host, supporter, "
        "supervising_organization, or none.",
    )
    statuses: list[str] = Field(..., description="The status entry keys that use these screens.")


class CataloguePrefecture(Schema):
    code: str = Field(..., description="JIS X 0401 code (01–47).")
    name: CatalogueText = Field(..., description="Its name.")


class CatalogueOffice(Schema):
    code: str = Field(..., description="The receiving office's code.")
    name: CatalogueText = Field(..., description="Its name.")
    receipt_prefix: str = Field(..., description="The prefix of its receipt numbers.")
    prefectures: list[CataloguePrefecture] = Field(..., description="The prefectures it serves.")


class CatalogueUserCategory(Schema):
    code: str = Field(..., description="U1–U8.")
    name: CatalogueText = Field(..., description="Its name.")
    identity: str = Field(
        ...,
        description="How such a user proves who they are: card, agent_certificate, usage_application, email.",
    )
    files_online: bool = Field(..., description="Whether this category files online (U8 does not).")


class CatalogueCondition(Schema):
    code: str = Field(..., description="The condition's code; a `fact` is stated in `facts` of the check.")
    kind: Literal["fact", "applicant_status_in", "applicant_age_under", "any"] = Field(
        ...,
        description="fact: stated by the filer or known from our records; applicant_status_in: decided by "
        "the status applied for; applicant_age_under: the applicant is under `age` on the filing day, by "
        "the date of birth in the registry; any: one of the conditions `of` holds.",
    )
    text: CatalogueText = Field(..., description="What must hold.")
    statuses: list[str] = Field(
        default_factory=list, description="For applicant_status_in: the statuses (or entries) it allows."
    )
    age: int | None = Field(None, description="For applicant_age_under: the age in full years.")
    of: list[str] = Field(default_factory=list, description="For any: the conditions of which one must hold.")
    reason: bool = Field(
        False, description="For a fact: it is stated with the reason (`fact_reasons` when starting)."
    )


class CatalogueMatrixCell(Schema):
    user_category: str = Field(..., description="U1–U8.")
    procedure: str = Field(..., description="P1–P7.")
    rule: Literal["allow", "conditional", "deny"] = Field(
        ..., description="May file, with conditions, or not."
    )
    conditions: list[str] = Field(
        default_factory=list, description="For `conditional`: the codes of the conditions that must all hold."
    )


class CatalogueMatrix(Schema):
    user_categories: list[CatalogueUserCategory] = Field(..., description="The rows.")
    procedures: list[str] = Field(..., description="The columns, P1–P7.")
    cells: list[CatalogueMatrixCell] = Field(..., description="Every user category × procedure.")
    conditions: list[CatalogueCondition] = Field(..., description="Every condition a cell names.")


class CatalogueFee(Schema):
    procedure: str = Field(..., description="P1–P7.")
    variant: str | None = Field(None, description="The variant (re-entry: single, multiple), if any.")
    channel: Literal["online", "window"] = Field(..., description="Filed online or at the window.")
    amount: int = Field(..., description="Yen, paid on permission (0: no fee).")
    valid_from: dt.date | None = Field(None, description="The first day this amount applies (null: always).")
    valid_until: dt.date | None = Field(
        None, description="The last day this amount applies (null: until changed)."
    )


class CatalogueFees(Schema):
    on: dt.date = Field(..., description="The day of permission the fees are for.")
    currency: Literal["JPY"] = Field("JPY", description="Always yen.")
    fees: list[CatalogueFee] = Field(..., description="The fees that apply on that day.")


class CatalogueFormSchema(BaseModel):
    """A JSON Schema (draft 2020-12) of a form's answers, with the catalogue's ``x-zairyu-``
    extensions (labels of codes, steps, conditions); any other JSON Schema keyword may appear."""

    # A plain pydantic model, not a ninja Schema: the schema's other keywords are kept as they are.

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    schema_: str = Field(..., alias="$schema", description="The JSON Schema dialect: draft 2020-12.")
    id_: str = Field(
        ..., alias="$id", description="The form's identifier (procedure, status, category, add-ons)."
    )
    title: str = Field(..., description="The form in English.")
    type: Literal["object"] = Field("object", description="The answers are an object keyed by item.")
    properties: dict[str, Any] = Field(..., description="One JSON Schema per item (or repeatable section).")
    required: list[str] = Field(..., description="The items always required.")


class CatalogueStatusesQuery(Schema):
    on: IsoDate | None = Field(None, description="The day `in_force` speaks of (default: today in Japan).")


class CatalogueFeesQuery(Schema):
    procedure: ProcedureCode | None = Field(None, description="P1–P7 (default: every procedure).")
    on: IsoDate | None = Field(None, description="The day of permission (default: today in Japan).")
    channel: Literal["online", "window"] | None = Field(None, description="online or window (default: both).")
    variant: FeeVariant | None = Field(
        None,
        description="For re-entry (P6): single or multiple (default: both). A procedure with one fee has "
        "no variant: with `variant`, its fee is not listed.",
    )


class CatalogueFormQuery(Schema):
    user_category: OnlineUserCategoryCode = Field(
        ..., description="Who files: U1–U7 (the form differs, e.g. for U1)."
    )
    add_ons: list[Annotated[str, StringConstraints(pattern=ADD_ONS_PATTERN)]] = Field(
        default_factory=list, description="P6 and/or P7, with P2–P4 (repeated, or separated by commas)."
    )


class CatalogueCheckIn(Schema):
    """A planned filing."""

    model_config = ConfigDict(extra="forbid")

    procedure: MainProcedureCode = Field(..., description="The main procedure, P1–P5.", examples=["P3"])
    status: StatusEntryKey = Field(
        ...,
        description="The status entry applied for (P1, P2, P4) or held (P3, P5).",
        examples=["engineer_humanities"],
    )
    add_ons: list[ProcedureCode] = Field(default_factory=list, description="P6 and/or P7, with P2–P4.")
    user_category: UserCategoryCode = Field(..., description="Who files: U1–U8.", examples=["U4"])
    stay_expires_on: IsoDate | None = Field(
        None, description="The day the applicant's period of stay ends (for the timing rules)."
    )
    period_of_stay: str | None = Field(
        None,
        max_length=20,
        description="The applicant's period of stay (1Y, 6M, 90D): the three-month rule of an extension "
        "is for periods of six months or more.",
    )
    birth_or_event_date: IsoDate | None = Field(
        None, description="For an acquisition (P4): the birth or event (30-day limit)."
    )
    planned_on: IsoDate | None = Field(
        None,
        description="The day of filing (default: today in Japan). Dates go from 1900-01-01 to 2100-12-31.",
    )
    applicant_born_on: IsoDate | None = Field(
        None,
        description="The applicant's date of birth, for the age conditions of the matrix (a relative may "
        "file for an applicant under 16 on the filing date). When the application is started, the "
        "registry's date of birth decides.",
    )
    facts: dict[FactCode, StrictBool] = Field(
        default_factory=dict,
        description="Conditions of the matrix stated by the filer (e.g. consulted_bureau: true); codes "
        "from /catalogue/matrix.",
    )


class CatalogueCheckProblem(Schema):
    code: str = Field(..., description="What the problem is, as a stable code.")
    severity: Literal["block", "warning"] = Field(
        ..., description="block: the filing cannot go on as planned; warning: it may, but read this."
    )
    detail: str = Field(..., description="What is wrong and what to do, in the language asked for.")
    pointer: str | None = Field(None, description="The item of the request it concerns (JSON pointer).")
    data: dict[str, str] = Field(
        default_factory=dict, description="Values the message speaks of (dates as YYYY-MM-DD)."
    )


class CatalogueCheckCondition(Schema):
    code: str = Field(..., description="The condition's code.")
    procedure: str = Field(..., description="The procedure whose cell names it.")
    text: CatalogueText = Field(..., description="What must hold.")
    state: Literal["met", "pending", "failed"] = Field(
        ..., description="met or failed (known), pending (a fact not stated in `facts`)."
    )


class CatalogueCheckOut(Schema):
    eligible: bool = Field(..., description="True when nothing blocks the filing as planned.")
    verdict: Literal["allowed", "conditional", "denied"] = Field(
        ...,
        description="The matrix's answer over the main procedure and its add-ons: conditional when a "
        "condition is still to be stated.",
    )
    planned_on: dt.date = Field(..., description="The day the check was made for.")
    problems: list[CatalogueCheckProblem] = Field(..., description="Everything that blocks or warns.")
    conditions: list[CatalogueCheckCondition] = Field(
        ..., description="The conditions of the matrix for this filing, and whether each holds."
    )


# --- caching ------------------------------------------------------------------------------------


@cache
def _catalogue_digest() -> str:
    """A digest of every data file the catalogue's answers come from."""
    from zairyu.catalogue.reference import DATA_DIR as REGISTRY_DATA_DIR

    digest = hashlib.sha256()
    for path in sorted(DATA_DIR.rglob("*.yaml")) + [REGISTRY_DATA_DIR / "nationalities.yaml"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cacheable(request: HttpRequest, response: HttpResponse) -> HttpResponse | None:
    """Count the call against the address's limit and set the caching headers; a 304 response when
    the client already has this answer."""
    anonymous_throttle(request)
    source = f"{_catalogue_digest()}|{clock.today().isoformat()}|{request.get_full_path()}"
    etag = '"' + hashlib.sha256(source.encode()).hexdigest()[:32] + '"'
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    asked = [tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in asked or "*" in asked:
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        not_modified["Cache-Control"] = CACHE_CONTROL
        return not_modified
    return None


NOT_MODIFIED = {304: {"description": "Not modified: the answer is the one with this ETag."}}


def _cached_responses(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"responses": {**NOT_MODIFIED, **(extra or {})}}


# --- checking codes -----------------------------------------------------------------------------


def _where(name: str, *, body: bool, index: int | None = None) -> dict[str, str]:
    if body:
        return {"pointer": pointer(name) if index is None else pointer(name, index)}
    return {"parameter": name}


def _code_errors(
    *, procedure: str, status: str, user_category: str | None, add_ons: list[str], body: bool
) -> list[dict[str, str]]:
    """Problem items for the codes the catalogue does not know."""
    catalogue = get_catalogue()
    errors: list[dict[str, str]] = []
    main = catalogue.procedures.get(procedure)
    if main is not None and main.add_on:  # a re-entry permit or activity permission alone
        errors.append(
            {
                **_where("procedure", body=body),
                "code": "add_on_alone",
                "detail": str(add_on_alone(main).message),
            }
        )
    elif main is None:
        errors.append(
            {
                **_where("procedure", body=body),
                "code": "procedure_unknown",
                "detail": _("Choose one of the listed procedures.")
                + " "
                + ", ".join(code for code, p in catalogue.procedures.items() if not p.add_on),
            }
        )
    entry = catalogue.entries.get(status)
    if entry is None:
        errors.append(
            {
                **_where("status", body=body),
                "code": "status_unknown",
                "detail": _("Choose a status of residence from the list."),
            }
        )
    if user_category is not None and user_category not in catalogue.user_categories:
        errors.append(
            {
                **_where("user_category", body=body),
                "code": "user_category_unknown",
                "detail": _("Choose one of the user categories %(codes)s.")
                % {"codes": ", ".join(catalogue.user_categories)},
            }
        )
    for index, code in enumerate(add_ons):
        if code not in catalogue.procedures:
            errors.append(
                {
                    **_where("add_ons", body=body, index=index),
                    "code": "procedure_unknown",
                    "detail": _("Choose one of the listed procedures.")
                    + " "
                    + ", ".join(code for code, p in catalogue.procedures.items() if p.add_on),
                }
            )
    return errors


def _form_errors(*, procedure: str, status: str, user_category: str, add_ons: list[str]):
    """Why no online form exists for these (known) codes: the catalogue's own reasons."""
    catalogue = get_catalogue()
    entry = catalogue.entries[status]
    errors = []
    category = catalogue.user_categories[user_category]
    if not category.files_online:
        errors.append(
            {
                "parameter": "user_category",
                "code": "window_only",
                "detail": _(
                    "This user category cannot file online: file at the bureau window, and receive the e-COE by email."
                ),
            }
        )
    if not entry.online or entry.group is None:
        errors.append(
            {
                "parameter": "status",
                "code": "status_not_online",
                "detail": _(
                    "Applications for this status of residence cannot be filed online: file at the bureau window."
                ),
            }
        )
    for reason in combination_errors(main=procedure, add_ons=add_ons):
        errors.append({"parameter": "add_ons", "code": reason.code, "detail": str(reason.message)})
    return errors


def _split(values: list[str]) -> list[str]:
    """``add_ons=P6&add_ons=P7`` or ``add_ons=P6,P7``."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


# --- operations ---------------------------------------------------------------------------------


@router.get(
    "/procedures",
    response=list[CatalogueProcedure],
    operation_id="catalogue_procedures",
    summary="Procedures",
    description="The procedures that can be filed online (P1–P7), with their names in Japanese and English "
    "and which are add-ons (re-entry, activity permission: only with a change, extension or acquisition).",
    openapi_extra=_cached_responses(),
)
def catalogue_procedures(request: HttpRequest, response: HttpResponse):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    return [
        CatalogueProcedure(
            code=p.code,
            key=p.key,
            name=catalogue_text(p.name),
            short=catalogue_text(p.short),
            receipt_code=p.receipt_code,
            add_on=p.add_on,
            add_on_to=list(p.add_on_to),
            fee_variants=[v for v in fee_variants(p.code) if v],
        )
        for p in get_catalogue().procedures.values()
    ]


def _entry(entry: StatusEntry, on: dt.date, status: Status) -> CatalogueStatusEntry:
    return CatalogueStatusEntry(
        key=entry.key,
        sub_code=entry.sub_code,
        name=catalogue_text(entry.name),
        online=entry.online,
        group=entry.group.code if entry.group else None,
        family=entry.family,
        effective_from=entry.effective_from,
        effective_until=entry.effective_until,
        in_force=entry.in_force(on) and status.in_force(on),
    )


@router.get(
    "/statuses",
    response=CatalogueStatusList,
    operation_id="catalogue_statuses",
    summary="Statuses of residence",
    description="Every status of residence with its sub-categories (the entries an application names), "
    "names in Japanese and English, input-screen group, whether it can be filed online, and the dates "
    "it exists; `in_force` says whether it exists on `on` (default today).",
    openapi_extra=_cached_responses(),
)
def catalogue_statuses(request: HttpRequest, response: HttpResponse, query: Query[CatalogueStatusesQuery]):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    day = query.on or clock.today()
    return CatalogueStatusList(
        on=day,
        statuses=[
            CatalogueStatus(
                code=status.code,
                table=status.table,
                name=catalogue_text(status.name),
                online=status.online,
                effective_from=status.effective_from,
                effective_until=status.effective_until,
                in_force=status.in_force(day),
                entries=[_entry(entry, day, status) for entry in status.entries],
            )
            for status in get_catalogue().statuses.values()
        ],
    )


@router.get(
    "/groups",
    response=list[CatalogueGroup],
    operation_id="catalogue_groups",
    summary="Input-screen groups",
    description="The input-screen groups: which statuses share the same screens, and who fills in the "
    "organization's part.",
    openapi_extra=_cached_responses(),
)
def catalogue_groups(request: HttpRequest, response: HttpResponse):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    catalogue = get_catalogue()
    return [
        CatalogueGroup(
            code=group.code,
            name=catalogue_text(group.name),
            organization_part=group.organization_part,
            statuses=[e.key for e in catalogue.entries.values() if e.group and e.group.code == group.code],
        )
        for group in catalogue.groups.values()
    ]


@router.get(
    "/offices",
    response=list[CatalogueOffice],
    operation_id="catalogue_offices",
    summary="Receiving offices",
    description="The regional immigration bureaus and branches that receive online applications, their "
    "receipt-number prefixes and the prefectures each serves.",
    openapi_extra=_cached_responses(),
)
def catalogue_offices(request: HttpRequest, response: HttpResponse):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    catalogue = get_catalogue()
    return [
        CatalogueOffice(
            code=office.code,
            name=catalogue_text(office.name),
            receipt_prefix=office.prefix,
            prefectures=[
                CataloguePrefecture(code=p.code, name=catalogue_text(p.name))
                for p in catalogue.prefectures.values()
                if p.office_code == office.code
            ],
        )
        for office in catalogue.offices.values()
    ]


@router.get(
    "/matrix",
    response=CatalogueMatrix,
    operation_id="catalogue_matrix",
    summary="Who may file what",
    description="The user category × procedure matrix (U1–U8 × P1–P7): may file, may file when "
    "conditions hold, or may not; and the conditions. `POST /catalogue/check` applies it to one filing.",
    openapi_extra=_cached_responses(),
)
def catalogue_matrix(request: HttpRequest, response: HttpResponse):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    catalogue = get_catalogue()
    return CatalogueMatrix(
        user_categories=[
            CatalogueUserCategory(
                code=c.code, name=catalogue_text(c.name), identity=c.identity, files_online=c.files_online
            )
            for c in catalogue.user_categories.values()
        ],
        procedures=list(catalogue.procedures),
        cells=[
            CatalogueMatrixCell(
                user_category=category,
                procedure=procedure,
                rule=cell.rule,
                conditions=[c.code for c in cell.conditions],
            )
            for category in catalogue.user_categories
            for procedure in catalogue.procedures
            for cell in (catalogue.matrix[(category, procedure)],)
        ],
        conditions=[
            CatalogueCondition(
                code=c.code,
                kind=c.kind,
                text=catalogue_text(c.text),
                statuses=list(c.statuses),
                age=c.age,
                of=list(c.parts),
                reason=c.reason,
            )
            for c in catalogue.conditions.values()
        ],
    )


@router.get(
    "/fees",
    response=CatalogueFees,
    operation_id="catalogue_fees",
    summary="Fees by date",
    description="The fees (手数料, paid on permission) that apply on a day, by procedure, variant and "
    "channel, with the period each amount applies for. Without `procedure`, every procedure's; without "
    "`channel`, both channels; without `variant`, every variant (re-entry: single and multiple).",
    openapi_extra=_cached_responses(),
)
def catalogue_fees(request: HttpRequest, response: HttpResponse, query: Query[CatalogueFeesQuery]):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    procedure, on, channel, variant = query.procedure, query.on, query.channel, query.variant
    catalogue = get_catalogue()
    day = on or clock.today()
    codes = [procedure] if procedure else list(catalogue.procedures)
    channels: list[Literal["online", "window"]] = [channel] if channel else ["online", "window"]
    fees = []
    for code in codes:
        for fee_variant in fee_variants(code):
            if variant is not None and fee_variant != variant:
                continue
            rule = next(
                (
                    r
                    for r in catalogue.fees
                    if r.procedure == code and r.variant == fee_variant and r.applies_on(day)
                ),
                None,
            )
            if rule is None:
                continue
            for fee_channel in channels:
                fees.append(
                    CatalogueFee(
                        procedure=code,
                        variant=fee_variant,
                        channel=fee_channel,
                        amount=fee_for(procedure=code, on=day, channel=fee_channel, variant=fee_variant),
                        valid_from=rule.valid_from,
                        valid_until=rule.valid_until,
                    )
                )
    return CatalogueFees(on=day, fees=fees)


@router.get(
    "/forms/{procedure}/{path:status}",
    response=CatalogueFormSchema,
    by_alias=True,
    operation_id="catalogue_form",
    summary="A form as JSON Schema",
    description="The answers of the form of a procedure (with add-ons), status of residence and user "
    "category as a JSON Schema (draft 2020-12): the items that apply, their types, codes (`enum`, with "
    "`x-zairyu-labels` in Japanese and English), dates (`format: date`), lengths and patterns; `required` "
    "for the items always required, and `if`/`then`, `dependentRequired` and `x-zairyu-required-when` "
    "for those required only with certain answers. `title` is English, `x-zairyu-label` holds both "
    "languages; `x-zairyu-steps` orders the items by screen. The server also normalises what a person "
    "types (full-width digits, 2025/4/1, labels for codes), so it accepts more than the schema says. "
    "`status` may contain a slash (highly_skilled_professional/1a).",
    openapi_extra=_cached_responses(),
)
def catalogue_form(
    request: HttpRequest,
    response: HttpResponse,
    procedure: MainProcedureCode,
    status: OnlineStatusEntryKey,
    query: Query[CatalogueFormQuery],
):
    if (not_modified := _cacheable(request, response)) is not None:
        return not_modified
    today = clock.today()
    user_category = query.user_category
    add_on_codes = _split(query.add_ons)
    errors = _code_errors(
        procedure=procedure,
        status=status,
        user_category=user_category,
        add_ons=add_on_codes,
        body=False,
    )
    if not errors:
        errors = _form_errors(
            procedure=procedure, status=status, user_category=user_category, add_ons=add_on_codes
        )
    if errors:
        raise ApiError(422, "validation", errors=errors)
    form = form_for(
        procedure=procedure, status=status, user_category=user_category, add_ons=tuple(add_on_codes)
    )
    return form_schema(form, today=today)


# --- the check of a planned filing --------------------------------------------------------------


def _check_pointer(field: str | None) -> str | None:
    """A problem's item of the plan (``facts.<code>`` for a condition) as a JSON pointer."""
    if field is None:
        return None
    return pointer(*field.split(".", 1))


# The dates a planned filing can speak of (the calendar rules count months and business days
# from them).
CHECK_DATES = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))


def _data(values: dict[str, Any]) -> dict[str, str]:
    return {
        key: value.isoformat() if isinstance(value, dt.date) else str(value)
        for key, value in values.items()
        if value is not None
    }


@router.post(
    "/check",
    response=CatalogueCheckOut,
    operation_id="catalogue_check",
    summary="Check a planned filing",
    description="Whether a user category may file a procedure (with add-ons) for a status of residence, "
    "and when: the matrix (with the conditions stated in `facts`), the combination of add-ons, and the "
    "timing rules for the period of stay or the acquisition's event, on `planned_on`. Catalogue only: "
    "the registry, the filer's organization and scope, and the network rule are checked when the "
    "application is started (`POST /applications/check` with the user's token). A condition not stated "
    "in `facts` is a warning here; to start the application it must hold.",
)
def catalogue_check(request: HttpRequest, body: CatalogueCheckIn):
    anonymous_throttle(request)
    catalogue = get_catalogue()
    day = body.planned_on or clock.today()
    errors = _code_errors(
        procedure=body.procedure,
        status=body.status,
        user_category=body.user_category,
        add_ons=body.add_ons,
        body=True,
    )
    for name in ("stay_expires_on", "birth_or_event_date", "planned_on", "applicant_born_on"):
        value = getattr(body, name)
        if value is not None and not CHECK_DATES[0] <= value <= CHECK_DATES[1]:
            errors.append(
                {
                    "pointer": pointer(name),
                    "code": "date_range",
                    "detail": _("Give a date from %(first)s to %(last)s.")
                    % {"first": CHECK_DATES[0].isoformat(), "last": CHECK_DATES[1].isoformat()},
                }
            )
    fact_codes = {code for code, c in catalogue.conditions.items() if c.kind == "fact"}
    for key in body.facts:
        if key not in fact_codes:
            errors.append(
                {
                    "pointer": pointer("facts", key),
                    "code": "fact_unknown",
                    "detail": _("This is not a condition of the matrix; use one of: %(codes)s.")
                    % {"codes": ", ".join(sorted(fact_codes))},
                }
            )
    if errors:
        raise ApiError(422, "validation", errors=errors)

    checked = plan_check(
        PlannedFiling(
            procedure=body.procedure,
            status=body.status,
            user_category=body.user_category,
            add_ons=tuple(body.add_ons),
            facts=dict(body.facts),
            planned_on=day,
            stay_expires_on=body.stay_expires_on,
            period_of_stay=body.period_of_stay or "",
            birth_or_event_date=body.birth_or_event_date,
            applicant_born_on=body.applicant_born_on,
        ),
        today=day,
    )
    problems = [
        CatalogueCheckProblem(
            code=problem.code,
            severity="block" if problem.blocks else "warning",
            detail=str(problem.message),
            pointer=_check_pointer(problem.field),
            data=_data(dict(problem.data)),
        )
        for problem in checked.problems
    ]
    conditions = [
        CatalogueCheckCondition(
            code=item.condition.code,
            procedure=item.procedure,
            text=catalogue_text(item.condition.text),
            state=item.state,
        )
        for item in checked.conditions
    ]
    return CatalogueCheckOut(
        eligible=checked.eligible,
        verdict=checked.verdict.value,
        planned_on=day,
        problems=problems,
        conditions=conditions,
    )
