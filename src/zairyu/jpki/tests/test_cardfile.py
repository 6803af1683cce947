"""The simulated card: PIN rules, retry counters and locks as on the real My Number Card."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from zairyu.jpki.ca import CAError, DemoCA
from zairyu.jpki.cardfile import (
    CardFile,
    CardFileError,
    CardLocked,
    InvalidPinFormat,
    WrongPin,
    normalize_pin,
)

from .conftest import AUTH_PIN, HOLDER, NOW, SIGNING_PIN

DATA = b"challenge-0123456789abcdef"


def test_signature_is_rsa_pkcs1v15_sha256_with_the_certified_key(card_file: Path) -> None:
    card = CardFile.load(card_file)
    signature = card.sign(which="signing", pin=SIGNING_PIN, data=DATA)

    card.certificate("signing").public_key().verify(signature, DATA, padding.PKCS1v15(), hashes.SHA256())


def test_card_file_is_private_and_keys_are_encrypted(card_file: Path) -> None:
    assert stat.S_IMODE(card_file.stat().st_mode) == 0o600
    document = json.loads(card_file.read_text())
    for which in ("signing", "auth"):
        assert document["private_keys"][which].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert document["pin_state"]["auth"] == {"failures": 0, "limit": 3, "locked": False}


def test_wrong_auth_pin_counts_down_then_locks_and_the_lock_survives_reloading(card_file: Path) -> None:
    card = CardFile.load(card_file)
    with pytest.raises(WrongPin) as first:
        card.sign(which="auth", pin="9999", data=DATA)
    assert first.value.remaining == 2
    with pytest.raises(WrongPin) as second:
        CardFile.load(card_file).sign(which="auth", pin="9998", data=DATA)
    assert second.value.remaining == 1
    with pytest.raises(CardLocked, match="3 times"):
        CardFile.load(card_file).sign(which="auth", pin="9997", data=DATA)

    reloaded = CardFile.load(card_file)
    assert reloaded.is_locked("auth")
    assert json.loads(card_file.read_text())["pin_state"]["auth"]["locked"] is True
    # Even the right PIN no longer helps, but the signing key is unaffected.
    with pytest.raises(CardLocked):
        reloaded.sign(which="auth", pin=AUTH_PIN, data=DATA)
    assert reloaded.sign(which="signing", pin=SIGNING_PIN, data=DATA)


def test_signing_pin_locks_after_five_wrong_tries(card_file: Path) -> None:
    card = CardFile.load(card_file)
    remaining = []
    for _ in range(4):
        with pytest.raises(WrongPin) as caught:
            card.sign(which="signing", pin="WRONG1", data=DATA)
        remaining.append(caught.value.remaining)
    assert remaining == [4, 3, 2, 1]
    with pytest.raises(CardLocked):
        card.sign(which="signing", pin="WRONG1", data=DATA)
    with pytest.raises(CardLocked):
        card.sign(which="signing", pin=SIGNING_PIN, data=DATA)


def test_right_pin_resets_the_counter(card_file: Path) -> None:
    card = CardFile.load(card_file)
    for _ in range(2):
        with pytest.raises(WrongPin):
            card.sign(which="auth", pin="0000", data=DATA)
    card.sign(which="auth", pin=AUTH_PIN, data=DATA)

    assert CardFile.load(card_file).remaining_tries("auth") == 3


def test_unlock_resets_a_locked_key(card_file: Path) -> None:
    card = CardFile.load(card_file)
    card.failures["auth"] = 3
    card.save()
    CardFile.load(card_file).unlock("auth")

    assert CardFile.load(card_file).sign(which="auth", pin=AUTH_PIN, data=DATA)


def test_hand_edited_counter_does_not_lift_a_recorded_lock(card_file: Path) -> None:
    document = json.loads(card_file.read_text())
    document["pin_state"]["auth"] = {"failures": 0, "limit": 3, "locked": True}
    card_file.write_text(json.dumps(document))

    assert CardFile.load(card_file).is_locked("auth")


def test_malformed_pin_costs_no_try(card_file: Path) -> None:
    card = CardFile.load(card_file)
    with pytest.raises(InvalidPinFormat, match="4 digits"):
        card.sign(which="auth", pin="12a4", data=DATA)
    assert card.remaining_tries("auth") == 3


def test_pins_are_normalised_as_typed(card_file: Path) -> None:
    card = CardFile.load(card_file)
    # Full-width digits and lower case are what a Japanese IME often produces.
    assert card.sign(which="auth", pin="１２３４", data=DATA)
    assert card.sign(which="signing", pin=SIGNING_PIN.lower(), data=DATA)


@pytest.mark.parametrize(
    ("which", "pin"),
    [
        ("auth", "123"),
        ("auth", "12345"),
        ("signing", "ABC12"),  # too short
        ("signing", "ABCDEFGHIJ1234567"),  # too long
        ("signing", "ABCDEFG"),  # no digit
        ("signing", "1234567"),  # no letter
        ("signing", "ABC-123"),  # not alphanumeric
    ],
)
def test_pin_format_rules(which: str, pin: str) -> None:
    with pytest.raises(InvalidPinFormat):
        normalize_pin(which, pin)


def test_issue_refuses_bad_pins_and_duplicate_card_ids(ca: DemoCA, template_card: CardFile) -> None:
    common = {
        "holder": HOLDER,
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=10),
        "now": NOW,
    }
    with pytest.raises(InvalidPinFormat):
        ca.issue_card(**common, signing_pin="short", auth_pin=AUTH_PIN)
    with pytest.raises(CAError, match="already issued"):
        ca.issue_card(**common, card_id=template_card.card_id, signing_pin=SIGNING_PIN, auth_pin=AUTH_PIN)
    with pytest.raises(CAError, match="must be after"):
        ca.issue_card(
            **{**common, "valid_until": NOW - timedelta(days=1)}, signing_pin=SIGNING_PIN, auth_pin=AUTH_PIN
        )


def test_damaged_card_file_is_reported_clearly(tmp_path: Path) -> None:
    path = tmp_path / "broken.card.json"
    path.write_text('{"format": "something else"}')
    with pytest.raises(CardFileError, match="Not a Zairyu JPKI card file"):
        CardFile.load(path)
    with pytest.raises(CardFileError, match="No card file"):
        CardFile.load(tmp_path / "missing.card.json")
