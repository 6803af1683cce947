"""The API instance (``/api/v1/``): routers, error handling, and the OpenAPI 3.1 document.

The document is generated from the code (``/api/v1/openapi.json``, browsable at ``/api/v1/docs``);
``docs/api/openapi.json`` is the committed copy that CI compares with it (``manage.py api_schema
--check``), so a change to the API is always a visible change to its contract.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.core.exceptions import BadRequest, ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from zairyu.api.problems import (
    PROBLEM_MEDIA_TYPE,
    ApiError,
    Problem,
    problem_items_from,
    problem_response,
    refusal_status,
    validation_items,
)
from zairyu.applications.services import ApplicationRefused
from zairyu.core.outage import OUTAGE_ERRORS, outage_problem
from zairyu.documents.errors import DocumentRejected

logger = logging.getLogger(__name__)

DESCRIPTION = """\
The application-data API of Zairyu: everything a user can do on screen — prepare, check, attach,
submit and follow residence applications — for software that acts for the user (F-19), on the
same services and checks as the web pages.

* **Authorisation**: OAuth 2.0 authorization code with PKCE (S256). A vendor registers its client at
  `/api/clients/register/`; an officer approves it; each user consents to scopes and a period and
  can revoke it in their profile. Access tokens live 15 minutes; refresh tokens rotate.
* **Errors** are RFC 9457 problem details (`application/problem+json`) in the language of
  `Accept-Language` (`ja` or `en`): `errors[]` names each wrong value by JSON pointer (`pointer`)
  or parameter name (`parameter`) with a code and what to do.
* **Idempotency**: `POST /applications/{id}/submit` requires an `Idempotency-Key`; the same key
  with the same body returns the first response again, with another body 422, while the first is
  still running 409.
* **Card signature**: foreign nationals and their family or legal representatives (U1–U3) sign
  the canonical application data (`GET /applications/{id}/signing-data`) with the My Number Card
  signing certificate; the submission carries the signature and certificate.
* **Status callbacks**: a client may register a webhook (`PUT /client/webhook`, with its client
  credentials); notifications are signed with HMAC-SHA256 (`Zairyu-Signature`).
"""


class ZairyuOpenAPISchema(OpenAPISchema):
    def operation_security(self, operation) -> list[dict[str, Any]] | None:
        if not operation.auth_callbacks:
            return None
        result = []
        for auth in operation.auth_callbacks:
            if hasattr(auth, "openapi_security_schema"):
                name = auth.__class__.__name__
                result.append({name: list(getattr(auth, "scopes", []))})
                self.securitySchemes[name] = auth.openapi_security_schema
        return result


def _finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """Problem responses as ``application/problem+json``, and a ``default`` problem response on
    every operation (any status not listed is a problem too)."""
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if "Problem" not in schemas:
        schemas.update(
            Problem.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {})
        )
        schemas["Problem"] = {
            k: v
            for k, v in Problem.model_json_schema(ref_template="#/components/schemas/{model}").items()
            if k != "$defs"
        }
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content")
                if str(status).isdigit() and int(status) >= 400 and content and "application/json" in content:
                    response["content"] = {PROBLEM_MEDIA_TYPE: content["application/json"]}
            responses.setdefault(
                "default",
                {
                    "description": "A problem (RFC 9457)",
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}},
                },
            )
    return document


class ObjectBodyParser(Parser):
    """Every JSON body of this API is an object: ``false``, ``[]`` or ``"x"`` is refused (400)."""

    def parse_body(self, request: HttpRequest):
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data


class ZairyuAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        document = ZairyuOpenAPISchema(api=self, path_prefix=path_prefix)
        _finish_document(document)
        return document


api = ZairyuAPI(
    title="Zairyu application-data API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api-v1",
    parser=ObjectBodyParser(),
    servers=[{"url": "/", "description": "this server"}],
)


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    return problem_response(request, exc.status, exc.code, exc.detail, errors=exc.errors, headers=exc.headers)


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(
        request, 401, "unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="zairyu"'}
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    items = validation_items(list(exc.errors))
    if any(item["code"] == "json_invalid" for item in items):
        return problem_response(request, 400, "bad_request", errors=items)
    return problem_response(request, 422, "validation", errors=items)


def _fixed_problem(status: int, code: str):
    def handler(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem_response(request, status, code)

    return handler


for _exception, _status, _code in [
    (Http404, 404, "not_found"),
    (ObjectDoesNotExist, 404, "not_found"),
    (PermissionDenied, 403, "forbidden"),
    (RequestDataTooBig, 413, "too_large"),
    (BadRequest, 400, "bad_request"),
]:
    api.add_exception_handler(_exception, _fixed_problem(_status, _code))


@api.exception_handler(MultiPartParserError)
def _multipart_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 400, "bad_request", _("The multipart body could not be read."))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
    }
    status = exc.status_code
    return problem_response(request, status, codes.get(status, "bad_request"), str(exc.message))


@api.exception_handler(ApplicationRefused)
def _refused(request: HttpRequest, exc: ApplicationRefused) -> HttpResponse:
    """Any service refusal: 409 for the application's state, 422 for what was asked, each problem
    with its pointer."""
    return problem_response(request, refusal_status(exc), "refused", errors=problem_items_from(exc.problems))


@api.exception_handler(DocumentRejected)
def _document_rejected(request: HttpRequest, exc: DocumentRejected) -> HttpResponse:
    """A file refused by the document checks (the same as on the web pages)."""
    return problem_response(
        request, 422, "validation", errors=[{"parameter": "file", "code": exc.code, "detail": exc.message}]
    )


for _outage in OUTAGE_ERRORS:  # Redis, the broker or the database down: 503, not 500
    api.add_exception_handler(_outage, outage_problem)


@api.exception_handler(Exception)
def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception(
        "API operation %s %s failed",
        request.method,
        request.resolver_match and request.resolver_match.url_name,
    )
    return problem_response(request, 500, "server_error")


def _register_routers() -> None:
    from zairyu.api.routers import applications, bulk, catalogue, client, public

    api.add_router("/catalogue", catalogue.router, tags=["catalogue"])
    api.add_router("/applications", applications.router, tags=["applications"])
    api.add_router("/bulk", bulk.router, tags=["bulk"])
    api.add_router("/public", public.router, tags=["public"])
    api.add_router("/client", client.router, tags=["client"])


_register_routers()


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/v1/: a problem, not the site's HTML page."""
    return problem_response(request, 404, "not_found")


_QUERY_NAMES: dict[tuple[str, str], frozenset[str]] = {}
_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _query_names(route: str, method: str) -> frozenset[str] | None:
    """The query parameters the OpenAPI document declares for this route and method."""
    if not _QUERY_NAMES:
        document = api.get_openapi_schema()
        for path, item in document["paths"].items():
            for verb, operation in item.items():
                _QUERY_NAMES[(path, verb.upper())] = frozenset(
                    p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
                )
    return _QUERY_NAMES.get(("/" + _ROUTE_PARAM.sub(r"{\1}", route), method))


class UnknownQueryParametersMiddleware:
    """A query parameter an operation does not have is refused (422) rather than ignored, so a typo
    (``?stat=draft``) is not mistaken for "no filter"."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if not request.GET or match is None or not request.path.startswith("/api/v1/"):
            return None
        declared = _query_names(match.route, request.method or "GET")
        if declared is None:
            return None
        unknown = sorted(name for name in request.GET if name not in declared)
        if not unknown:
            return None
        return problem_response(
            request,
            422,
            "validation",
            errors=[
                {
                    "parameter": name,
                    "code": "unknown_parameter",
                    "detail": _("This operation has no such parameter."),
                }
                for name in unknown
            ],
        )
