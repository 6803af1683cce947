"""The API's contract: the OpenAPI document is valid OpenAPI 3.1, describes every operation fully
(operation id, summary, problem responses, scopes), is served as generated, matches the committed
copy, and its browsable docs work under our strict CSP. And ``api_token``, the CI's way in."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory

from zairyu.api.management.commands.api_schema import COMMITTED, openapi_diff, openapi_document, openapi_text
from zairyu.api.problems import PROBLEM_MEDIA_TYPE

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
# Operations on a user's private data: never without an OAuth 2.0 token and its scopes.
PRIVATE_PREFIXES = ("/api/v1/applications", "/api/v1/bulk")


@pytest.fixture(scope="module")
def document() -> dict:
    return openapi_document()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_committed_copy_matches_the_code():
    assert COMMITTED.exists(), f"{COMMITTED} is missing: run `manage.py api_schema --write`"
    committed = COMMITTED.read_text(encoding="utf-8")
    generated = openapi_text()
    if committed != generated:
        diff = openapi_diff(committed, generated, path=COMMITTED.name)
        pytest.fail(
            "The committed OpenAPI document differs from the API in the code: run "
            "`manage.py api_schema --write` and commit docs/api/openapi.json.\n" + "\n".join(diff[:60])
        )


def test_check_command_fails_on_drift_and_write_fixes_it(tmp_path):
    path = tmp_path / "openapi.json"
    path.write_text('{"openapi": "3.1.0"}\n', encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("api_schema", "--check", "--path", str(path), stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 1
    assert "api_schema --write" in str(failed.value)
    assert "+++ openapi.json (generated from the code)" in err.getvalue()

    call_command("api_schema", "--write", "--path", str(path), stdout=io.StringIO())
    assert path.read_text(encoding="utf-8") == openapi_text()
    call_command("api_schema", "--check", "--path", str(path), stdout=io.StringIO())


def test_printed_document_is_sorted_indented_json():
    out = io.StringIO()
    call_command("api_schema", stdout=out)
    text = out.getvalue()
    assert text.endswith("}\n")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def test_document_is_valid_openapi_3_1(document):
    import jsonschema
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    assert document["openapi"] == "3.1.0"
    validator = jsonschema.Draft202012Validator(OPENAPI_31)
    problems = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)
    ]
    assert not problems, "\n".join(problems[:20])
    # The OAS meta-schema leaves Schema Objects alone: each must be valid JSON Schema 2020-12.
    for where, schema in _schema_objects(document):
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            pytest.fail(f"{where}: {exc.message}")


def _schema_objects(document: dict):
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        yield f"components/schemas/{name}", schema
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if "schema" in parameter:
                yield f"{method} {path} parameter {parameter.get('name')}", parameter["schema"]
        bodies = [("requestBody", operation.get("requestBody", {}))]
        bodies += [(f"response {status}", response) for status, response in operation["responses"].items()]
        for label, body in bodies:
            for media_type, content in body.get("content", {}).items():
                if "schema" in content:
                    yield f"{method} {path} {label} {media_type}", content["schema"]


def test_every_reference_resolves(document):
    def resolve(ref: str):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def walk(node, where: str):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith("#/"), f"{where}: external reference {ref}"
                assert resolve(ref) is not None, f"{where}: {ref} does not resolve"
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document, "#")


def test_every_operation_is_described_with_problem_responses(document):
    seen: dict[str, str] = {}
    for path, method, operation in operations(document):
        label = f"{method.upper()} {path}"
        operation_id = operation.get("operationId")
        assert operation_id, f"{label} has no operationId"
        assert operation_id not in seen, f"{label} and {seen[operation_id]} share operationId {operation_id}"
        seen[operation_id] = label
        assert (operation.get("summary") or "").strip(), f"{label} has no summary"
        assert operation.get("tags"), f"{label} has no tag"
        responses = operation["responses"]
        assert any(str(status).startswith("2") for status in responses), f"{label} documents no success"
        default = responses.get("default", {}).get("content", {})
        assert list(default) == [PROBLEM_MEDIA_TYPE], f"{label}: the default response is not a problem"
        assert default[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}, label
        for status, response in responses.items():
            if status != "default" and int(status) >= 400:
                assert list(response.get("content", {})) in ([], [PROBLEM_MEDIA_TYPE]), (
                    f"{label}: response {status} is not application/problem+json"
                )
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        in_path = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        assert declared == in_path, f"{label}: path parameters {in_path} declared as {declared}"
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code"} <= set(problem["required"])


def test_authenticated_operations_declare_their_scopes(document):
    from django.conf import settings

    schemes = document.get("components", {}).get("securitySchemes", {})
    for path, method, operation in operations(document):
        label = f"{method.upper()} {path}"
        security = operation.get("security")
        if path.startswith(PRIVATE_PREFIXES):
            assert security, f"{label} reads or changes a user's data but declares no security"
        for requirement in security or []:
            for name, scopes in requirement.items():
                assert name in schemes, f"{label}: unknown security scheme {name}"
                if schemes[name]["type"] == "oauth2":
                    assert scopes, f"{label}: OAuth 2.0 without scopes"
                    flow_scopes = schemes[name]["flows"]["authorizationCode"]["scopes"]
                    for scope in scopes:
                        assert scope in settings.API_SCOPES and scope in flow_scopes, f"{label}: {scope}"
        if security and any(schemes[n]["type"] == "oauth2" for r in security for n in r):
            assert "401" in operation["responses"] or "default" in operation["responses"], label


def test_served_document_is_the_generated_one(db, document):
    response = Client().get("/api/v1/openapi.json", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == document


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in attributes if name.startswith("on")]
        if tag == "script":
            self.scripts.append(attributes)
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href") or "")


def test_docs_render_under_the_strict_csp(db):
    response = Client().get("/api/v1/docs", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    page = _Scripts()
    page.feed(response.content.decode())
    assert not page.handlers, page.handlers
    sources = [script["src"] for script in page.scripts if script.get("src")]
    # The only script without src is data (the Swagger UI settings), which CSP does not run.
    inline = [script for script in page.scripts if not script.get("src")]
    assert all(script.get("type") == "application/json" for script in inline), inline
    assert sources, "the docs page loads no script"
    for url in sources + page.stylesheets:
        assert url.startswith("/static/"), f"{url} is not served by us ('self')"
        assert finders.find(url.removeprefix("/static/")), f"{url} is missing"
    settings_script = response.content.decode().split('id="swagger-settings">', 1)[1].split("</script>")[0]
    assert json.loads(settings_script)["url"] == "/api/v1/openapi.json"


# --- manage.py api_token ---------------------------------------------------------------------------


def _user(username: str = "APITOKENUSER1"):
    from zairyu.accounts.constants import UserKind, UserState
    from zairyu.accounts.models import User

    user = User(username=username, kind=UserKind.U1, state=UserState.ACTIVE, email="t@example.com")
    user.set_unusable_password()
    user.save()
    return user


def _token(*args: str) -> str:
    out = io.StringIO()
    call_command("api_token", *args, stdout=out)
    return out.getvalue().strip()


def test_api_token_issues_a_working_token_with_the_scopes(db):
    from zairyu.api.auth import authenticate
    from zairyu.api.models import ApiClient, Authorisation
    from zairyu.api.problems import ApiError

    user = _user()
    token = _token("--user", "apitokenuser1", "--scopes", "applications:read")
    request = RequestFactory().get("/api/v1/applications")
    assert authenticate(request, token, ("applications:read",)) == user
    assert request.api_client.name == "CI contract client"
    with pytest.raises(ApiError) as refused:
        authenticate(RequestFactory().get("/"), token, ("applications:write",))
    assert refused.value.status == 403

    everything = _token("--user", user.username)
    assert everything != token
    assert authenticate(RequestFactory().get("/"), everything, ("applications:submit", "bulk")) == user
    assert ApiClient.objects.filter(name="CI contract client").count() == 1
    active = Authorisation.objects.filter(user=user, revoked_at__isnull=True)
    assert [sorted(a.scopes) for a in active] == [
        sorted(["applications:read", "applications:write", "applications:submit", "bulk"])
    ]


def test_api_token_approves_the_named_client(db):
    from zairyu.api.tests.conftest import make_client

    user = _user()
    registered = make_client("Pending vendor", approved=False)
    _token("--user", user.username, "--client", registered.client_id)
    registered.client.refresh_from_db()
    assert registered.client.state == registered.client.State.APPROVED
    credentials = json.loads(
        _token("--user", user.username, "--client", registered.client_id, "--reset-client-secret")
    )
    assert credentials["client_id"] == registered.client_id
    registered.client.oauth_application.refresh_from_db()
    stored = registered.client.oauth_application.client_secret
    assert stored != credentials["client_secret"]  # kept hashed
    assert check_password(credentials["client_secret"], stored)
    assert not check_password(registered.client_secret, stored)
    with pytest.raises(CommandError):
        _token("--user", user.username, "--client", "no-such-client")
    with pytest.raises(CommandError):
        _token("--user", "NOSUCHUSER")


def test_api_token_is_refused_in_production(db, settings):
    from oauth2_provider.models import AccessToken

    user = _user()
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        _token("--user", user.username)
    assert not AccessToken.objects.exists()
