"""Errors as RFC 9457 problem details, in the caller's language (``Accept-Language``).

Every error of the API is one of these: ``type`` names the kind of problem (a fragment of
``/api/v1/docs/problems``), ``title`` says it in a sentence, ``errors`` lists each wrong value with a
JSON pointer into the request body (``pointer``) or the name of a query, path or header parameter
(``parameter``), a code and what to do.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Schema

from zairyu.core.http import request_language
from zairyu.core.problems import PROBLEM_MEDIA_TYPE, problem_document

TITLES: dict[str, Any] = {
    "bad_request": _("The request could not be read."),
    "validation": _("Some values are missing or wrong."),
    "unauthenticated": _("Sign in first: the access token is missing, expired or revoked."),
    "insufficient_scope": _("The user has not allowed this software to do this."),
    "forbidden": _("You may not do this."),
    "not_found": _("There is no such object, or it is not yours to see."),
    "method_not_allowed": _("This method is not allowed here."),
    "conflict": _("The request conflicts with the current state; try again."),
    "idempotency_in_progress": _("A request with this Idempotency-Key is still being processed."),
    "idempotency_mismatch": _("This Idempotency-Key was already used with a different request."),
    "refused": _("The application cannot go on as it is."),
    "too_large": _("The request is too large."),
    "unsupported_media_type": _("This content type is not accepted here."),
    "rate_limited": _("Too many requests; wait a moment and try again."),
    "signature": _("The card signature is missing or does not match the application."),
    "server_error": _("Something went wrong on our side. Nothing was saved; try again later."),
}


class ProblemItem(Schema):
    pointer: str | None = None
    parameter: str | None = None
    code: str
    detail: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str
    errors: list[ProblemItem] = []


class ApiError(Exception):
    """Raised by operations; rendered as a problem response."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: Any = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def problem_body(
    request: HttpRequest | None, status: int, code: str, detail: Any = None, errors=None
) -> dict:
    return problem_document(request, status, code, TITLES.get(code, TITLES["bad_request"]), detail, errors)


def problem_response(
    request: HttpRequest | None,
    status: int,
    code: str,
    detail: Any = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    import json

    response = HttpResponse(
        json.dumps(problem_body(request, status, code, detail, errors), ensure_ascii=False),
        status=status,
        content_type=PROBLEM_MEDIA_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    response["Content-Language"] = request_language()
    return response


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


TOP_LEVEL_FIELDS = frozenset(
    {
        "procedure",
        "status",
        "add_ons",
        "card_number",
        "organization_corporate_number",
        "facts",
        "method",
        "birth_or_event_date",
        "parent_card_number",
    }
)


def _start_pointer(field: str) -> str | None:
    """A problem of a stated fact (``applicant_unable``) or of its reason (``…_reason``) points at
    ``/facts/<code>`` or ``/fact_reasons/<code>``; ``None`` for any other field."""
    from zairyu.catalogue import get_catalogue

    conditions = get_catalogue().conditions
    if conditions.get(field) is not None and conditions[field].kind == "fact":
        return pointer("facts", field)
    code = field.removesuffix("_reason")
    if code != field and conditions.get(code) is not None and conditions[code].reason:
        return pointer("fact_reasons", code)
    return None


def problem_items_from(problems, *, answers_at: str = "answers") -> list[dict[str, Any]]:
    """Our services' problems (``applications.rules.results.Problem``) as problem items: a field of
    the start (procedure, status…) points at itself, any other at ``/answers/<field>``."""
    items = []
    for p in problems:
        item: dict[str, Any] = {"code": p.code, "detail": str(p.message)}
        field = getattr(p, "field", None)
        if field:
            item["pointer"] = (
                pointer(field)
                if field in TOP_LEVEL_FIELDS
                else _start_pointer(field) or pointer(answers_at, field)
            )
        items.append(item)
    return items


VALIDATION_MESSAGES: dict[str, Any] = {
    "missing": _("This is required."),
    "string_type": _("Give text here."),
    "string_too_long": _("This is too long."),
    "string_too_short": _("This is too short."),
    "string_pattern_mismatch": _("This is not in the expected format."),
    "int_parsing": _("Give a whole number here."),
    "int_type": _("Give a whole number here."),
    "bool_parsing": _("Give true or false here."),
    "bool_type": _("Give true or false here."),
    "date_from_datetime_parsing": _("Give a date as YYYY-MM-DD."),
    "date_parsing": _("Give a date as YYYY-MM-DD."),
    "date_type": _("Give a date as YYYY-MM-DD."),
    "uuid_parsing": _("Give an identifier as returned by the API (a UUID)."),
    "uuid_type": _("Give an identifier as returned by the API (a UUID)."),
    "literal_error": _("Choose one of the allowed values."),
    "enum": _("Choose one of the allowed values."),
    "greater_than_equal": _("This number is too small."),
    "less_than_equal": _("This number is too large."),
    "dict_type": _("Give an object here."),
    "list_type": _("Give a list here."),
    "model_attributes_type": _("Give an object here."),
    "json_invalid": _("The body is not valid JSON."),
    "extra_forbidden": _("This item is not known here; remove it."),
}


def validation_items(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic/Ninja validation errors as problem items with a pointer or a parameter name."""
    items = []
    for error in errors:
        loc = list(error.get("loc") or [])
        where = loc[0] if loc else "body"
        code = str(error.get("type") or "invalid")
        item: dict[str, Any] = {
            "code": code,
            "detail": str(VALIDATION_MESSAGES.get(code, _("This value is not valid."))),
        }
        parts = [part for part in loc[1:] if part != "[key]"]  # pydantic's mark of a bad dict key
        if where == "body":
            item["pointer"] = pointer(*parts[1:])  # parts[0] is the operation's body parameter
        elif where in ("query", "path", "header", "cookie", "form", "file"):
            names = [str(part) for part in parts if isinstance(part, str)]
            item["parameter"] = names[-1] if names else ""
        else:
            item["pointer"] = pointer(*loc)
        items.append(item)
    return items


# Refusals that are about the application's state, not the request: the request was fine, the
# application is past the point where it can be done (RFC 9110 409 Conflict).
CONFLICT_CODES = frozenset({"not_editable", "not_pending", "request_open", "method_fixed"})


def refusal_status(refused) -> int:
    """409 when the application's state refuses it, else 422 (the request's content does)."""
    codes = {p.code for p in refused.problems}
    return 409 if codes and codes <= CONFLICT_CODES else 422
