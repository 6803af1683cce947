"""Shared fixtures: one demo CA and one template card per test module, because RSA keys are slow.

Every time is explicit (``NOW``), so the tests never depend on the wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from zairyu.jpki.ca import DemoCA
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.profile import BasicFourItems

NOW = datetime(2025, 4, 1, 3, 0, tzinfo=UTC)
SIGNING_PIN = "ZAIRYU2025"
AUTH_PIN = "1234"

HOLDER = BasicFourItems(
    name="NGUYEN VAN AN グエン・ヴァン・アン",
    sex="M",
    date_of_birth=date(1995, 3, 1),
    address="東京都新宿区西新宿二丁目8番1号",
)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> DemoCA:
    """A demo CA for the whole module, created at ``NOW``."""
    return DemoCA.create(tmp_path_factory.mktemp("ca"), now=NOW)


@pytest.fixture(scope="module")
def template_card(ca: DemoCA) -> CardFile:
    """A card valid for a year around ``NOW``; tests get copies via ``card_file``."""
    return ca.issue_card(
        holder=HOLDER,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=365),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        now=NOW,
    )


@pytest.fixture
def card_file(template_card: CardFile, tmp_path: Path) -> Path:
    """A fresh copy of the template card on disk, so PIN counters never leak between tests."""
    copy = CardFile.from_json_dict(template_card.to_json_dict())
    return copy.save(tmp_path / f"{copy.card_id}.card.json")
