"""API: the user's applications, from draft to submission and after (the same services as the web).

Every operation reads applications through ``applications.access`` (a user's own, never another's:
an ID that is not the user's is 404, not 403) and changes them only through
``applications.services``; the API adds nothing to the rules, only the wire format.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any, Literal
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import StrictBool

from zairyu.api.auth import OAuth2
from zairyu.api.idempotency import idempotent
from zairyu.api.problems import ApiError, pointer, problem_items_from, refusal_status
from zairyu.api.schemas_common import IsoDate, PageMeta
from zairyu.applications import access, services, signing
from zairyu.applications.constants import EDITABLE_STATES, ApplicationState, DocumentRole
from zairyu.applications.models import Application, ApplicationDocument
from zairyu.core import clock
from zairyu.core.http import is_officer, request_ip

router = Router()

READ = OAuth2("applications:read")
WRITE = OAuth2("applications:write")
SUBMIT = OAuth2("applications:submit")

DOCUMENT_TYPE_PATTERN = r"^([a-z][a-z0-9_]{0,63})?$"


# --- schemas ----------------------------------------------------------------------------------


class DocumentOut(Schema):
    id: int = Field(description="The attachment's ID within the application.")
    role: str = Field(description="supporting, photo, organization_part or additional.")
    document_type: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    added_at: dt.datetime


class ApplicationSummary(Schema):
    id: UUID = Field(description="The application's ID.")
    state: str = Field(description="draft, submitted, under_review, awaiting_issue, complete, error_bulk, …")
    state_label: str = Field(description="The state in the caller's language.")
    procedure: str
    add_ons: list[str]
    status: str = Field(description="Status of residence (catalogue code).")
    group: str
    applicant_name: str
    receipt_number: str
    provisional_number: str
    receipt_date: dt.date | None
    office: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    draft_expires_at: dt.datetime | None
    filed_via_this_client: bool = Field(description="Whether the calling software created it.")


class ApplicationOut(ApplicationSummary):
    user_category: str
    answers: dict[str, Any] = Field(description="Answers by field ID (see GET /catalogue/forms/…).")
    steps_done: list[str]
    facts: dict[str, bool]
    fact_reasons: dict[str, str] = Field(
        default_factory=dict, description="The reason given for a stated fact whose condition asks one."
    )
    receipt_methods: dict[str, str]
    fee_yen: int | None
    documents: list[DocumentOut]


class Submitted(ApplicationSummary):
    """What a submission answers: the receipt (GET the application for everything else)."""

    fee_yen: int | None = Field(description="The fee to pay when the result is issued.")


class ApplicationPage(Schema):
    items: list[ApplicationSummary]
    meta: PageMeta


class ApplicationStart(Schema):
    procedure: str = Field(max_length=4, description="P1–P5 (P6, P7 only as add-ons).", examples=["P3"])
    status: str = Field(max_length=80, description="Status of residence code.", examples=["student"])
    add_ons: list[Literal["P6", "P7"]] = Field(default_factory=list, max_length=2)
    card_number: str = Field(
        default="", max_length=20, description="The applicant's residence card number (P2–P5)."
    )
    organization_corporate_number: str = Field(default="", max_length=20)
    birth_or_event_date: IsoDate | None = Field(
        default=None,
        description="P4 (acquisition): the day of the birth or of the event (filed within 30 days); an "
        "acquisition's applicant has no card: leave card_number empty.",
    )
    parent_card_number: str = Field(
        default="",
        max_length=20,
        description="P4 for a child born in Japan: the residence card number of a parent in Japan.",
    )
    facts: dict[str, StrictBool] = Field(
        default_factory=dict,
        description="Answers to the matrix's conditions of kind `fact` (see GET /catalogue/matrix). The "
        "applicant's age is never stated: the registry's date of birth decides it on the filing day.",
    )
    fact_reasons: dict[str, str] = Field(
        default_factory=dict,
        max_length=8,
        description="For a fact whose condition asks for the reason (`reason: true`, e.g. applicant_unable): "
        "the reason, at most 500 characters; the officer reads it.",
    )


class ApplicationCreate(ApplicationStart):
    answers: dict[str, Any] = Field(default_factory=dict, description="Answers to save at once (optional).")


class AnswersPatch(Schema):
    answers: dict[str, Any] = Field(
        description="Answers by field ID; a repeatable section is a list of rows."
    )


class ProblemOut(Schema):
    code: str
    severity: Literal["block", "warning"]
    detail: str
    pointer: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SaveResult(Schema):
    application: ApplicationOut
    errors: list[ProblemOut] = Field(description="What is still wrong; saved anyway, like the web.")


class StartCheck(Schema):
    may_start: bool
    problems: list[ProblemOut]


class Readiness(Schema):
    ready: bool = Field(description="True when nothing stops the submission.")
    problems: list[ProblemOut]
    card_signature_required: bool


class ReceiptOptionsOut(Schema):
    document: str = Field(description="What is received: card, coe, certificate, …")
    methods: list[str]
    default: str | None
    chosen: str | None
    changeable_after_submission: bool


class ReceiptMethodIn(Schema):
    method: str = Field(max_length=40)


class SigningData(Schema):
    algorithm: str = Field(description="The signature the card makes over `data`.")
    data: str = Field(description="Base64 of the exact bytes to sign.")
    sha256: str = Field(description="Hex SHA-256 of those bytes.")
    canonical: dict[str, Any] = Field(description="What the bytes say, for display to the user.")


class SubmitIn(Schema):
    signature: str | None = Field(
        default=None,
        max_length=4096,
        description="Base64 signature by the card's signing certificate (U1–U3).",
    )
    certificate: str | None = Field(
        default=None, max_length=8192, description="The card's signing certificate, PEM (U1–U3)."
    )


class EventOut(Schema):
    at: dt.datetime
    action: str
    from_state: str
    to_state: str


class RequestIn(Schema):
    kind: Literal["withdrawal", "correction"]
    message: str = Field(default="", max_length=2000)


class RequestOut(Schema):
    id: int
    kind: str
    state: str
    created_at: dt.datetime


class ListFilters(Schema):
    state: str | None = Field(default=None, max_length=20)
    procedure: str | None = Field(default=None, max_length=4)
    status: str | None = Field(default=None, max_length=80)
    receipt_number: str | None = Field(default=None, max_length=40)
    filed_via_this_client: bool | None = None
    updated_since: str | None = Field(
        default=None,
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-4]):[0-5]\d)$",
        json_schema_extra={"format": "date-time"},
        description="Only applications changed at or after this instant (RFC 3339, with a time zone).",
    )
    page: int = Field(default=1, ge=1, le=100000)
    page_size: int = Field(default=50, ge=1, le=100)


# --- helpers ----------------------------------------------------------------------------------


def _summary(application: Application, request: HttpRequest) -> dict[str, Any]:
    client = getattr(request, "api_client", None)
    return {
        "id": application.public_id,
        "state": application.state,
        "state_label": str(ApplicationState(application.state).label),
        "procedure": application.procedure,
        "add_ons": list(application.add_ons),
        "status": application.status,
        "group": application.group,
        "applicant_name": application.applicant_name,
        "receipt_number": application.receipt_number,
        "provisional_number": application.provisional_number,
        "receipt_date": application.receipt_date,
        "office": application.office,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "submitted_at": application.submitted_at,
        "draft_expires_at": application.draft_expires_at,
        "filed_via_this_client": client is not None and application.filed_via_id == client.pk,
    }


def _document_out(attachment: ApplicationDocument) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "role": attachment.role,
        "document_type": attachment.document_type,
        "file_name": attachment.document.original_name,
        "content_type": attachment.document.content_type,
        "size": attachment.document.size,
        "sha256": attachment.document.sha256,
        "added_at": attachment.added_at,
    }


def _documents(application: Application) -> list[dict[str, Any]]:
    attachments = application.documents.select_related("document").filter(document__deleted_at__isnull=True)
    return [_document_out(a) for a in attachments]


def _detail(application: Application, request: HttpRequest) -> dict[str, Any]:
    return {
        **_summary(application, request),
        "user_category": application.user_category,
        "answers": application.answers,
        "steps_done": list(application.steps_done),
        "facts": dict(application.facts or {}),
        "fact_reasons": dict(application.fact_reasons or {}),
        "receipt_methods": dict(application.receipt_methods or {}),
        "fee_yen": application.fee_yen,
        "documents": _documents(application),
    }


def _problems_out(problems) -> list[dict[str, Any]]:
    out = []
    for p, item in zip(problems, problem_items_from(problems), strict=True):
        data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in dict(p.data or {}).items()}
        out.append(
            {
                "code": p.code,
                "severity": str(p.severity),
                "detail": str(p.message),
                "pointer": item.get("pointer"),
                "data": json.loads(json.dumps(data, default=str)),
            }
        )
    return out


def _field_errors_out(form, errors) -> list[dict[str, Any]]:
    out = []
    for error in errors:
        field_id = error.field_id
        where: tuple[Any, ...] = ("answers", field_id)
        if error.row is not None and form.has_field(field_id):
            section = form.field(field_id).row_section
            if section:
                where = ("answers", section, error.row, field_id)
        out.append(
            {
                "code": error.code,
                "severity": "block",
                "detail": str(error.message),
                "pointer": pointer(*where),
            }
        )
    return out


def _known_document_type(document_type: str) -> None:
    from zairyu.applications.forms import document_type_choices

    if document_type not in {code for code, _label in document_type_choices()}:
        raise ApiError(
            422,
            "validation",
            errors=[
                {
                    "parameter": "document_type",
                    "code": "choice",
                    "detail": _("Choose one of the kinds of document listed in the catalogue."),
                }
            ],
        )


def _mine(request: HttpRequest, application_id: UUID) -> Application:
    return access.application_of(request.user, application_id)


def _start(payload: ApplicationStart) -> services.Start:
    return services.Start(
        procedure=payload.procedure.strip().upper(),
        status=payload.status.strip(),
        add_ons=tuple(sorted(set(payload.add_ons))),
        card_number=payload.card_number.strip().upper(),
        organization_corporate_number=payload.organization_corporate_number.strip(),
        facts=dict(payload.facts),
        fact_reasons={str(k): str(v) for k, v in payload.fact_reasons.items()},
        birth_or_event_date=payload.birth_or_event_date,
        parent_card_number=payload.parent_card_number.strip().upper(),
    )


def _may_file(request: HttpRequest) -> None:
    if is_officer(request.user) or request.user.is_staff:
        raise ApiError(403, "forbidden", _("Officers cannot file applications."))


def _save_answers(request: HttpRequest, application: Application, answers: dict[str, Any]) -> list[dict]:
    """Save answers step by step in one transaction (the service the web's steps use). Returns errors."""
    try:
        saved = services.application_save_answers(
            application=application, user=request.user, answers=answers, ip=request_ip(request) or None
        )
    except services.ApplicationRefused as refusal:
        raise ApiError(
            422,
            "validation",
            errors=[
                {
                    "pointer": pointer("answers", p.field),
                    "code": p.code,
                    "detail": _("This form has no such item; see GET /catalogue/forms/… for its items."),
                }
                for p in refusal.problems
            ],
        ) from None
    return _field_errors_out(services.application_form(application), saved.errors)


def _signature_error(refusal: services.ApplicationRefused) -> ApiError:
    missing = any(p.code == "missing" for p in refusal.problems)
    return ApiError(
        422,
        "signature",
        _("Sign the application data (GET …/signing-data) with your My Number Card and send the signature.")
        if missing
        else None,
        errors=[{"pointer": f"/{p.field}", "code": p.code, "detail": p.message} for p in refusal.problems],
    )


# --- operations -------------------------------------------------------------------------------


@router.get(
    "",
    response=ApplicationPage,
    auth=READ,
    operation_id="applications_list",
    summary="The user's applications",
    description="Newest first, filtered and paginated (at most 100 a page).",
)
def applications_list(request: HttpRequest, filters: Query[ListFilters]):
    qs = access.applications_of(request.user)
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.procedure:
        qs = qs.filter(procedure=filters.procedure)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.receipt_number:
        qs = qs.filter(receipt_number=filters.receipt_number.strip())
    if filters.updated_since:
        try:
            since = dt.datetime.fromisoformat(filters.updated_since.replace("Z", "+00:00")).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise ApiError(
                422,
                "validation",
                errors=[
                    {
                        "parameter": "updated_since",
                        "code": "datetime",
                        "detail": _("Give a date and time as 2026-04-01T09:00:00+09:00."),
                    }
                ],
            ) from None
        qs = qs.filter(updated_at__gte=since)
    if filters.filed_via_this_client is not None:
        mine = Q(filed_via=request.api_client)
        qs = qs.filter(mine if filters.filed_via_this_client else ~mine | Q(filed_via__isnull=True))
    total = qs.aggregate(n=Count("id"))["n"]
    size = filters.page_size
    start = (filters.page - 1) * size
    items = list(qs.order_by("-created_at", "-id")[start : start + size])
    return {
        "items": [_summary(a, request) for a in items],
        "meta": {
            "page": filters.page,
            "page_size": size,
            "total": total,
            "pages": (total + size - 1) // size,
        },
    }


@router.post(
    "/check",
    response=StartCheck,
    auth=READ,
    operation_id="applications_check",
    summary="May the user file this? (matrix, scope, timing, registry)",
    description="Checks a planned filing exactly as starting a draft does, without creating anything.",
)
def applications_check(request: HttpRequest, payload: ApplicationStart):
    _may_file(request)
    problems, _resident, _organization = services.start_problems(
        user=request.user, start=_start(payload), today=clock.today()
    )
    return {"may_start": not any(p.blocks for p in problems), "problems": _problems_out(problems)}


@router.post(
    "",
    response={201: ApplicationOut},
    auth=WRITE,
    operation_id="applications_create",
    summary="Start a draft",
    description="Checks who may file what (the same as the web), creates a draft filled from the registry, "
    "and saves `answers` if given.",
)
def applications_create(request: HttpRequest, payload: ApplicationCreate):
    _may_file(request)
    with transaction.atomic():
        application = services.application_create(
            user=request.user,
            start=_start(payload),
            ip=request_ip(request) or None,
            filed_via=request.api_client,
        )
        if payload.answers:
            _save_answers(request, application, payload.answers)
            application.refresh_from_db()
    return Status(201, _detail(application, request))


@router.get(
    "/{application_id}",
    response=ApplicationOut,
    auth=READ,
    operation_id="applications_get",
    summary="One application",
)
def applications_get(request: HttpRequest, application_id: UUID):
    return _detail(_mine(request, application_id), request)


@router.patch(
    "/{application_id}",
    response=SaveResult,
    auth=WRITE,
    operation_id="applications_update",
    summary="Save answers",
    description="Saves the given answers like the web steps: always saved, even with errors, which are "
    "returned with a JSON pointer each. Items the form does not have are refused (422) and nothing is saved.",
)
def applications_update(request: HttpRequest, application_id: UUID, payload: AnswersPatch):
    application = _mine(request, application_id)
    errors = _save_answers(request, application, payload.answers)
    application.refresh_from_db()
    return {"application": _detail(application, request), "errors": errors}


@router.delete(
    "/{application_id}",
    response={204: None},
    auth=WRITE,
    operation_id="applications_delete",
    summary="Delete a draft",
    description="Only drafts (and rows in error from a bulk file) can be deleted; their files go with them.",
)
def applications_delete(request: HttpRequest, application_id: UUID):
    application = _mine(request, application_id)
    services.application_delete_draft(
        application=application, user=request.user, ip=request_ip(request) or None
    )
    return Status(204, None)


@router.post(
    "/{application_id}/validate",
    response=Readiness,
    auth=READ,
    operation_id="applications_validate",
    summary="Check without submitting",
    description="Everything that would stop the submission now: answers, documents, photo, receipt method.",
)
def applications_validate(request: HttpRequest, application_id: UUID):
    application = _mine(request, application_id)
    problems = services.application_problems(application, today=clock.today(), at_submission=True)
    if application.state not in EDITABLE_STATES:
        problems = []
    return {
        "ready": application.state in EDITABLE_STATES and not any(p.blocks for p in problems),
        "problems": _problems_out(problems),
        "card_signature_required": signing.signature_required(request.user, through_client=True),
    }


@router.post(
    "/{application_id}/documents",
    response={201: DocumentOut},
    auth=WRITE,
    operation_id="applications_attach",
    summary="Attach a PDF or the face photo",
    description="The same checks as the web (PDF: ≤ 10 MB, no encryption or active content; photo: JPEG, "
    "≤ 50 KB, 4:3, taken within 6 months). A new photo replaces the old one.",
)
def applications_attach(
    request: HttpRequest,
    application_id: UUID,
    file: File[UploadedFile],
    role: Form[Literal["supporting", "photo", "organization_part"]],
    document_type: str = Form("", pattern=DOCUMENT_TYPE_PATTERN, max_length=64),
    taken_within_6_months: Form[bool] = False,
):
    application = _mine(request, application_id)
    if role == DocumentRole.PHOTO:
        if not taken_within_6_months:
            raise ApiError(
                422,
                "validation",
                errors=[
                    {
                        "parameter": "taken_within_6_months",
                        "code": "required",
                        "detail": _("Confirm that the photo was taken within the last 6 months."),
                    }
                ],
            )
        document_type = "face_photo"
    elif role == DocumentRole.ORGANIZATION_PART:
        document_type = "organization_part"
    else:
        _known_document_type(document_type)
    attached = services.application_attach(
        application=application,
        user=request.user,
        upload=file,
        role=role,
        document_type=document_type,
        taken_within_6_months=taken_within_6_months,
        ip=request_ip(request) or None,
    )
    return Status(201, _document_out(attached))


@router.delete(
    "/{application_id}/documents/{document_id}",
    response={204: None},
    auth=WRITE,
    operation_id="applications_detach",
    summary="Remove an attachment from a draft",
)
def applications_detach(request: HttpRequest, application_id: UUID, document_id: int):
    application = _mine(request, application_id)
    if not ApplicationDocument.objects.filter(application=application, pk=document_id).exists():
        raise ApiError(404, "not_found")
    services.application_detach(
        application=application, user=request.user, attachment_id=document_id, ip=request_ip(request) or None
    )
    return Status(204, None)


@router.get(
    "/{application_id}/receipt-method",
    response=ReceiptOptionsOut,
    auth=READ,
    operation_id="applications_receipt_options",
    summary="How the card or certificate can be received",
)
def applications_receipt_options(request: HttpRequest, application_id: UUID):
    from zairyu.applications.rules.receipt import changeable_after_submission

    application = _mine(request, application_id)
    options, _doc = services.application_receipt_options(application)
    return {
        "document": options.document,
        "methods": list(options.choices),
        "default": options.default,
        "chosen": application.receipt_methods.get(options.document),
        "changeable_after_submission": changeable_after_submission(options.document),
    }


@router.put(
    "/{application_id}/receipt-method",
    response=ApplicationOut,
    auth=WRITE,
    operation_id="applications_set_receipt_method",
    summary="Choose (draft) or change (after submission) how the result is received",
    description="Before submission this needs `applications:write`; after it, `applications:submit` too "
    "(the change is a request about a filed application).",
)
def applications_set_receipt_method(request: HttpRequest, application_id: UUID, payload: ReceiptMethodIn):
    application = _mine(request, application_id)
    try:
        if application.state in EDITABLE_STATES:
            services.application_set_receipt_method(
                application=application,
                user=request.user,
                method=payload.method,
                ip=request_ip(request) or None,
            )
        else:
            if "applications:submit" not in request.api_scopes:
                raise ApiError(403, "insufficient_scope", "applications:submit")
            services.application_change_receipt_method(
                application=application,
                user=request.user,
                method=payload.method,
                ip=request_ip(request) or None,
            )
    except services.ApplicationRefused as exc:
        items = problem_items_from(exc.problems)
        for item in items:
            item["pointer"] = "/method"
        raise ApiError(422, "refused", errors=items) from None
    application.refresh_from_db()
    return _detail(application, request)


@router.get(
    "/{application_id}/signing-data",
    response=SigningData,
    auth=READ,
    operation_id="applications_signing_data",
    summary="The bytes a foreign national's card signs to submit",
    description="U1–U3 sign these bytes with the My Number Card's signing certificate (RSASSA-PKCS1-v1_5 "
    "with SHA-256) and send the signature and certificate with the submission. Any change to the "
    "answers, documents or receipt method changes the bytes.",
)
def applications_signing_data(request: HttpRequest, application_id: UUID):
    application = _mine(request, application_id)
    data, canonical = signing.signing_data(application)
    return {
        "algorithm": "RSASSA-PKCS1-v1_5-SHA256",
        "data": base64.b64encode(data).decode("ascii"),
        "sha256": hashlib.sha256(data).hexdigest(),
        "canonical": canonical,
    }


@router.post(
    "/{application_id}/submit",
    response={200: Submitted},
    auth=SUBMIT,
    operation_id="applications_submit",
    summary="Submit (idempotent)",
    description="Requires the `Idempotency-Key` header (1–255 visible ASCII characters). Repeating a "
    "request with the same key and body returns the first response (header `Idempotent-Replayed: true`); "
    "the same key with another body is refused (422); while the first is still running, 409. U1–U3 "
    "must send the card signature over GET …/signing-data.",
    openapi_extra={
        "parameters": [
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
                "description": "A unique key per intended submission, e.g. a UUID.",
            }
        ]
    },
)
def applications_submit(request: HttpRequest, application_id: UUID, payload: SubmitIn):
    def run() -> HttpResponse:  # inside the idempotency transaction: no savepoint of its own
        with transaction.atomic(savepoint=False):
            found = list(
                access.applications_of(request.user)
                .select_for_update()
                .filter(public_id=application_id)
                .order_by()
                .values_list("pk", flat=True)[:1]
            )  # the service locks the row again: what is signed is what is submitted
            if not found:
                raise ApiError(404, "not_found")
            pk = found[0]
            try:
                submitted = services.application_submit(
                    application_id=pk,
                    user=request.user,
                    submission_key=request.headers.get("Idempotency-Key", "")[:64],
                    ip=request_ip(request) or None,
                    through_client=True,
                    signed=signing.CardSignature(
                        signature=payload.signature, certificate=payload.certificate
                    ),
                )
            except services.SignatureRefused as refusal:
                raise _signature_error(refusal) from None
        body = Submitted.model_validate(
            {**_summary(submitted, request), "fee_yen": submitted.fee_yen}
        ).model_dump(mode="json")
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=200, content_type="application/json")

    return idempotent(request, operation="applications_submit", run=run)


@router.get(
    "/{application_id}/events",
    response=list[EventOut],
    auth=READ,
    operation_id="applications_events",
    summary="The application's history",
)
def applications_events(request: HttpRequest, application_id: UUID):
    application = _mine(request, application_id)
    return list(application.events.order_by("at", "id").values("at", "action", "from_state", "to_state"))


@router.post(
    "/{application_id}/requests",
    response={201: RequestOut},
    auth=SUBMIT,
    operation_id="applications_request",
    summary="Ask the bureau to withdraw or correct a submitted application",
)
def applications_request(request: HttpRequest, application_id: UUID, payload: RequestIn):
    application = _mine(request, application_id)
    created = services.application_request(
        application=application,
        user=request.user,
        kind=payload.kind,
        message=payload.message,
        ip=request_ip(request) or None,
    )
    return Status(
        201,
        {"id": created.pk, "kind": created.kind, "state": created.state, "created_at": created.created_at},
    )


@router.post(
    "/{application_id}/additional-documents",
    response={201: DocumentOut},
    auth=SUBMIT,
    operation_id="applications_add_documents",
    summary="Add a document to a submitted application",
    description="For a submitted application (or one under review), e.g. at the bureau's request; "
    "`declared` confirms the declaration shown on the web page.",
)
def applications_add_documents(
    request: HttpRequest,
    application_id: UUID,
    file: File[UploadedFile],
    document_type: str = Form(..., pattern=r"^[a-z][a-z0-9_]{0,63}$", max_length=64),
    declared: Form[bool] = False,
):
    application = _mine(request, application_id)
    _known_document_type(document_type)
    try:
        attached = services.application_add_documents(
            application=application,
            user=request.user,
            upload=file,
            document_type=document_type[:64],
            declared=declared,
            ip=request_ip(request) or None,
        )
    except services.ApplicationRefused as exc:
        items = problem_items_from(exc.problems)
        for item in items:
            if item.get("pointer") == "/answers/declared":
                item.pop("pointer")
                item["parameter"] = "declared"
        raise ApiError(
            422 if any(i.get("parameter") for i in items) else refusal_status(exc), "refused", errors=items
        ) from None
    return Status(201, _document_out(attached))
