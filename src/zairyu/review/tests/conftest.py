"""Fixtures of the review tests: English pages, private files and the e-COE signing key in a
temporary directory, throttles and cached scorecards cleared."""

from __future__ import annotations

import pytest

from zairyu.accounts.tests.conftest import EnglishClient, english  # noqa: F401 - English pages and texts


@pytest.fixture(autouse=True)
def review_settings(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SITE_URL = "http://testserver"
    settings.ECOE_SIGNING_KEY = str(tmp_path / "keys" / "ecoe-signing.pem")
    cache.clear()
    yield
    cache.clear()
