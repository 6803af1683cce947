"""Fixtures of the organizations tests: pages in English, documents in a temporary directory."""

from __future__ import annotations

import pytest

from zairyu.accounts.tests.conftest import EnglishClient, english  # noqa: F401 - English pages and texts


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SITE_URL = "http://testserver"
    cache.clear()  # the per-address throttles start afresh in every test


@pytest.fixture
def client_en():
    return EnglishClient()


def signed_in(user) -> EnglishClient:
    client = EnglishClient()
    client.force_login(user)
    return client
