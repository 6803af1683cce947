"""The resident's command line, run as a real process (as a demo user or a browser test would)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import zairyu
from zairyu.jpki.ca import DemoCA
from zairyu.jpki.card import main
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.client import decode_signature
from zairyu.jpki.verify import TrustStore, verify_signature

from .conftest import AUTH_PIN, HOLDER, NOW, SIGNING_PIN

CHALLENGE = bytes.fromhex("00112233445566778899aabbccddeeff" * 2)
SRC = Path(zairyu.__file__).resolve().parent.parent


def _run(*args: str, pin_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "ZAIRYU_CARD_PIN"}
    }
    env["PYTHONPATH"] = str(SRC)
    if pin_env is not None:
        env["ZAIRYU_CARD_PIN"] = pin_env
    return subprocess.run(
        [sys.executable, "-m", "zairyu.jpki.card", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_sign_with_pin_option_prints_a_verifiable_signature(ca: DemoCA, card_file: Path) -> None:
    result = _run(
        "sign",
        "--card",
        str(card_file),
        "--cert",
        "signing",
        "--challenge",
        CHALLENGE.hex(),
        "--pin",
        SIGNING_PIN,
    )

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    verified = verify_signature(
        certificate_pem=output["certificate"],
        signature=decode_signature(output["signature"]),
        data=CHALLENGE,
        purpose="signing",
        trust=TrustStore.from_directory(ca.directory),
        at=NOW + timedelta(hours=1),
    )
    assert verified.four_items == HOLDER


def test_sign_reads_the_pin_from_the_environment_and_reports_a_wrong_one(card_file: Path) -> None:
    args = ("sign", "--card", str(card_file), "--cert", "auth", "--challenge", CHALLENGE.hex())
    wrong = _run(*args, pin_env="0000")
    assert wrong.returncode == 3
    assert "2 tries left" in wrong.stderr
    assert "0000" not in wrong.stderr + wrong.stdout

    right = _run(*args, pin_env=AUTH_PIN)
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_sign_refuses_a_short_challenge_without_touching_the_card(card_file: Path) -> None:
    result = _run(
        "sign", "--card", str(card_file), "--cert", "auth", "--challenge", "abcd", "--pin", AUTH_PIN
    )
    assert result.returncode == 2
    assert "too short" in result.stderr


@pytest.mark.parametrize("as_json", [True, False])
def test_info_shows_card_id_validity_and_four_items(
    card_file: Path, template_card: CardFile, as_json: bool
) -> None:
    # In-process: the same argparse code, without paying for another interpreter start.
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["info", "--card", str(card_file), *(["--json"] if as_json else [])]) == 0
    text = out.getvalue()
    if as_json:
        info = json.loads(text)
        assert info["card_id"] == template_card.card_id
        assert info["four_items"]["name"] == HOLDER.name
        assert info["certificates"]["auth"]["not_after"].startswith("2026-04-01")
    else:
        assert template_card.card_id in text
        assert HOLDER.address in text
        assert "3 PIN tries left" in text
