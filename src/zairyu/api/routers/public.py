"""API: public operations — the verification of an electronic certificate of eligibility (e-COE) and
the scorecard of online usage.

No token. The e-COE verification gives exactly what the public page (``/public/ecoe/<code>/``)
shows — number, status, dates, whether it is valid, the hash of the issued PDF; never a name — and
shares the page's budget: one counter per address (``ECOE_VERIFY_LIMIT_PER_HOUR``), whichever of
the two is asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Path, Router, Schema
from ninja.files import UploadedFile

from zairyu.api.auth import anonymous_throttle
from zairyu.api.problems import PROBLEM_MEDIA_TYPE, ApiError
from zairyu.api.routers.catalogue import CatalogueText, catalogue_text
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.review import scorecard as scorecards
from zairyu.review.models import EcoeRecord
from zairyu.review.services import display_code, normalize_code
from zairyu.review.views.public import (
    verify_signature_ok,
    verify_throttled,  # the page's own counter: page and API share one budget per address
    verify_upload_read,
)

router = Router()


# --- schemas ------------------------------------------------------------------------------------


class PublicEcoeRecord(Schema):
    """What was issued under a verification code (no personal data)."""

    code: str = Field(..., description="The verification code as printed (ABCD-EFGH-JKLM-NPQR).")
    state: Literal["valid", "expired", "revoked", "invalid"] = Field(
        ...,
        description="valid; expired (past its validity); revoked; invalid (the record fails its signature "
        "check: do not rely on the certificate).",
    )
    signature_valid: bool = Field(..., description="Whether the record passes the system's signature check.")
    coe_number: str = Field(..., description="The certificate's number.")
    status: str = Field(..., description="The status of residence it was issued for (entry key).")
    status_name: CatalogueText = Field(..., description="That status's name.")
    issued_on: dt.date = Field(..., description="The day it was issued.")
    valid_until: dt.date = Field(..., description="The last day it can be used.")
    revoked_on: dt.date | None = Field(None, description="The day it was revoked, if it was.")
    sha256: str = Field(..., description="The SHA-256 of the exact PDF issued (hex).")


class PublicEcoeVerdict(Schema):
    """Whether a PDF is exactly the certificate issued under the code."""

    code: str = Field(..., description="The verification code as printed.")
    verdict: Literal["genuine", "changed", "record_invalid"] = Field(
        ...,
        description="genuine: exactly the PDF issued; changed: another file or a changed one; "
        "record_invalid: the record fails its signature check.",
    )
    detail: str = Field(..., description="The verdict in a sentence, in the language asked for.")
    record: PublicEcoeRecord = Field(..., description="What was issued under the code.")


class PublicScorecardQuarter(Schema):
    label: str = Field(..., description="FY2025 Q1 (Japanese fiscal quarters: Q1 = April–June).")
    fiscal_year: int = Field(..., description="The fiscal year (starting in April).")
    number: int = Field(..., description="1–4.")
    start: dt.date = Field(..., description="The quarter's first day.")
    end: dt.date = Field(..., description="The first day after the quarter.")


class PublicScorecardCell(Schema):
    online: int = Field(..., description="Applications filed online in the quarter.")
    window: int = Field(..., description="Applications filed at the window (as counted by the offices).")
    rate: float | None = Field(
        None, description="online ÷ (online + window); null when no window counts were entered."
    )
    complete: bool = Field(..., description="Whether every office entered its window counts for the quarter.")
    meets_target: bool = Field(..., description="Whether the rate reaches the target.")


class PublicScorecardProcedure(Schema):
    procedure: str = Field(..., description="P1–P7.")
    name: CatalogueText = Field(..., description="The procedure's name.")
    target: bool = Field(..., description="Whether the plan's target applies to this procedure.")
    quarters: list[PublicScorecardCell] = Field(..., description="One cell per quarter, in `quarters` order.")


class PublicScorecardOffice(Schema):
    office: str = Field(..., description="The office's code.")
    name: CatalogueText = Field(..., description="The office's name.")
    decisions: int = Field(..., description="Decisions in the last four quarters.")
    days_to_decision: float | None = Field(None, description="Average days from receipt to decision.")
    issues: int = Field(..., description="Certificates and cards issued in the last four quarters.")
    days_to_issue: float | None = Field(None, description="Average days from decision to issue.")


class PublicScorecard(Schema):
    target: float = Field(..., description="The online usage target (0.2 = 20%).")
    computed_at: dt.datetime = Field(..., description="When the figures were counted.")
    quarters: list[PublicScorecardQuarter] = Field(..., description="The last eight quarters, oldest first.")
    procedures: list[PublicScorecardProcedure] = Field(
        ..., description="The online usage rate per procedure."
    )
    offices: list[PublicScorecardOffice] = Field(..., description="Processing times per office.")


# --- e-COE --------------------------------------------------------------------------------------


def _record(request: HttpRequest, code: str) -> tuple[str, EcoeRecord]:
    anonymous_throttle(request)
    if verify_throttled(request):
        raise ApiError(429, "rate_limited", headers={"Retry-After": "3600"})
    normalized = normalize_code(code)
    if not normalized:
        raise ApiError(
            422,
            "validation",
            errors=[{"parameter": "code", "code": "invalid", "detail": _("Enter the code as printed.")}],
        )
    record = EcoeRecord.objects.filter(code=normalized).first()
    if record is None:
        raise ApiError(
            404,
            "not_found",
            _("No certificate was issued under this code. Check the code, or scan the QR code again."),
        )
    return normalized, record


def _record_out(code: str, record: EcoeRecord, signature_ok: bool) -> PublicEcoeRecord:
    entry = get_catalogue().entries.get(record.status)
    if not signature_ok:
        state: Literal["valid", "expired", "revoked", "invalid"] = "invalid"
    elif record.revoked_at is not None:
        state = "revoked"
    elif record.valid_until < clock.today():
        state = "expired"
    else:
        state = "valid"
    return PublicEcoeRecord(
        code=display_code(code),
        state=state,
        signature_valid=signature_ok,
        coe_number=record.coe_number,
        status=record.status,
        status_name=catalogue_text(entry.name)
        if entry
        else CatalogueText(ja=record.status, en=record.status),
        issued_on=record.issued_on,
        valid_until=record.valid_until,
        revoked_on=record.revoked_at.astimezone(clock.JST).date() if record.revoked_at else None,
        sha256=record.sha256,
    )


CODE = Path(
    ...,
    pattern="^[ -]*[0-9A-Za-z][0-9A-Za-z -]*$",
    max_length=64,
    description="The verification code as printed (ABCD-EFGH-JKLM-NPQR); dashes, spaces and case do not matter.",
)

RATE_LIMITED = {
    429: {
        "description": "Too many verifications from this address this hour.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
}


@router.get(
    "/ecoe/{code}",
    response=PublicEcoeRecord,
    operation_id="public_ecoe_record",
    summary="Verify an e-COE by its code",
    description="What was issued under the verification code printed on an electronic certificate of "
    "eligibility (and in its QR code): number, status of residence, dates, and whether it is valid — no "
    "name or other personal data, as on the public page. The code may be given with dashes or in lower "
    "case. Limited per address, together with the public page (ECOE_VERIFY_LIMIT_PER_HOUR).",
    openapi_extra={"responses": RATE_LIMITED},
)
def public_ecoe_record(request: HttpRequest, code: str = CODE):
    normalized, record = _record(request, code)
    return _record_out(normalized, record, verify_signature_ok(record))


@router.post(
    "/ecoe/{code}/verify",
    response=PublicEcoeVerdict,
    operation_id="public_ecoe_verify",
    summary="Check that a PDF is the e-COE issued",
    description="Give the PDF (multipart field `file`): it is compared with the hash of the certificate "
    "issued under the code, here, and not kept. Same limit as the record.",
    openapi_extra={"responses": RATE_LIMITED},
)
def public_ecoe_verify(request: HttpRequest, file: File[UploadedFile], code: str = CODE):
    normalized, record = _record(request, code)
    signature_ok = verify_signature_ok(record)
    data = verify_upload_read(file, settings.DOCUMENT_MAX_BYTES)
    digest = hashlib.sha256(data).hexdigest() if data is not None else ""
    verdict: Literal["genuine", "changed", "record_invalid"]
    if not signature_ok:
        verdict = "record_invalid"
        detail = _("The record of this code fails its signature check: do not rely on this certificate.")
    elif digest == record.sha256:
        verdict = "genuine"
        detail = _("Genuine and unchanged: this PDF is exactly the certificate issued under this code.")
    else:
        verdict = "changed"
        detail = _(
            "Not the certificate issued under this code: the file was changed, or is another document."
        )
    return PublicEcoeVerdict(
        code=display_code(normalized),
        verdict=verdict,
        detail=detail,
        record=_record_out(normalized, record, signature_ok),
    )


# --- scorecard ----------------------------------------------------------------------------------


@router.get(
    "/scorecard",
    response=PublicScorecard,
    operation_id="public_scorecard",
    summary="Scorecard of online usage",
    description="The public scorecard: the online usage rate per procedure and fiscal quarter (last eight) "
    "against the target of the 2021 basic plan, and the processing times per office over the last four "
    "quarters. Counts and rates only.",
)
def public_scorecard(request: HttpRequest):
    anonymous_throttle(request)
    card = scorecards.scorecard()
    catalogue = get_catalogue()
    return PublicScorecard(
        target=card.target,
        computed_at=card.computed_at,
        quarters=[
            PublicScorecardQuarter(
                label=q.label, fiscal_year=q.fiscal_year, number=q.number, start=q.start, end=q.end
            )
            for q in card.quarters
        ],
        procedures=[
            PublicScorecardProcedure(
                procedure=row.code,
                name=catalogue_text(catalogue.procedures[row.code].name),
                target=row.target,
                quarters=[
                    PublicScorecardCell(
                        online=cell.online,
                        window=cell.window,
                        rate=cell.rate,
                        complete=cell.complete,
                        meets_target=cell.meets_target,
                    )
                    for cell in row.cells
                ],
            )
            for row in card.rows
        ],
        offices=[
            PublicScorecardOffice(
                office=times.code,
                name=catalogue_text(catalogue.offices[times.code].name),
                decisions=times.decisions,
                days_to_decision=times.days_to_decision,
                issues=times.issues,
                days_to_issue=times.days_to_issue,
            )
            for times in card.times
        ],
    )
