"""API test helpers: an approved client, a user's authorisation and an access token."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from zairyu.accounts.tests.conftest import ca_dir, jpki  # noqa: F401  (card fixtures)
from zairyu.api import services

ALL_SCOPES = ["applications:read", "applications:write", "applications:submit", "bulk"]


def make_client(
    name: str = "Test HR system", *, approved: bool = True, redirect: str = "http://127.0.0.1:9/cb"
):
    registered = services.client_register(
        name=name,
        vendor_name="Test Vendor K.K.",
        contact_email="vendor@example.com",
        redirect_uris=[redirect],
    )
    client = registered.client
    if approved:
        client.state = client.State.APPROVED
        client.save(update_fields=["state"])
    return registered


class ApiCaller:
    """A test client that calls the API with a bearer token (``Accept-Language: en`` by default)."""

    def __init__(self, token: str | None, *, language: str = "en") -> None:
        self.token = token
        self.language = language
        self.http = Client()

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def get(self, path: str, params: dict[str, Any] | None = None, headers=None):
        return self.http.get(path, params or {}, headers=self._headers(headers))

    def delete(self, path: str, headers=None):
        return self.http.delete(path, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, headers=None):
        return self.http.post(
            path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(headers),
        )

    def patch(self, path: str, body: Any, headers=None):
        return self.http.patch(
            path, json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )

    def put(self, path: str, body: Any, headers=None):
        return self.http.put(
            path, json.dumps(body), content_type="application/json", headers=self._headers(headers)
        )

    def upload(self, path: str, data: dict[str, Any], headers=None):
        return self.http.post(path, data, headers=self._headers(headers))


def api_caller(user, *, scopes=None, client=None, days: int = 30, language: str = "en") -> ApiCaller:
    """Authorise ``client`` (a new approved one if None) for ``user`` and return a caller with a token."""
    client = client or make_client().client
    scopes = list(scopes or ALL_SCOPES)
    services.authorisation_grant(user=user, client=client, scopes=scopes, days=days)
    token = services.access_token_issue(user=user, client=client, scopes=scopes)
    caller = ApiCaller(token, language=language)
    caller.client = client
    caller.user = user
    return caller


@pytest.fixture
def approved_client():
    return make_client().client
