"""The demo CA's files, its CRL, and the idempotent helpers ``make run`` relies on."""

from __future__ import annotations

import json
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from zairyu.jpki.ca import CAError, DemoCA, UnknownCard
from zairyu.jpki.ca import main as ca_main
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.demo import ensure_demo_ca, fifth_birthday_after, issue_demo_card
from zairyu.jpki.verify import TrustStore, verify_signature

from .conftest import AUTH_PIN, HOLDER, NOW, SIGNING_PIN


def test_ca_directory_layout_and_round_trip(ca: DemoCA) -> None:
    directory = ca.directory
    assert stat.S_IMODE((directory / "ca.key.pem").stat().st_mode) == 0o600
    assert {path.name for path in directory.iterdir()} >= {
        "ca.key.pem",
        "ca.cert.pem",
        "crl.pem",
        "index.json",
    }

    loaded = DemoCA.load(directory)
    assert loaded.certificate == ca.certificate
    assert loaded.name == "CN=Zairyu Demo J-LIS CA,O=Zairyu Demo JPKI,C=JP"
    constraints = loaded.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca is True
    assert loaded.certificate.not_valid_after_utc - NOW > timedelta(days=19 * 365)

    with pytest.raises(CAError, match="already exists"):
        DemoCA.create(directory, now=NOW)


def test_crl_is_signed_by_the_ca_and_lists_revocations(tmp_path: Path) -> None:
    ca = DemoCA.create(tmp_path, now=NOW)
    card = ca.issue_card(
        holder=HOLDER,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=30),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id="LOST-CARD-1",
        now=NOW,
    )
    ca.revoke("lost-card-1", reason=x509.ReasonFlags.key_compromise, now=NOW)

    crl = x509.load_pem_x509_crl((tmp_path / "crl.pem").read_bytes())
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert crl.next_update_utc == NOW + timedelta(days=7)
    entry = crl.get_revoked_certificate_by_serial_number(card.certificate("auth").serial_number)
    assert entry is not None
    assert (
        entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        is x509.ReasonFlags.key_compromise
    )
    index = json.loads((tmp_path / "index.json").read_text())
    assert set(index["cards"]) == {"LOST-CARD-1"}
    assert HOLDER.name not in (tmp_path / "index.json").read_text()  # the index holds no personal data

    with pytest.raises(UnknownCard):
        ca.revoke("NO-SUCH-CARD")


def test_ca_command_line_revokes_and_publishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ca_main(["init", "--dir", str(tmp_path)]) == 0
    ca = DemoCA.load(tmp_path)
    card = ca.issue_card(
        holder=HOLDER,
        valid_from=date(2025, 1, 1),
        valid_until=date(2030, 3, 1),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
    )
    assert ca_main(["revoke", "--dir", str(tmp_path), card.card_id]) == 0
    assert ca_main(["list", "--dir", str(tmp_path)]) == 0
    assert f"{card.card_id}  until 2030-03-01T14:59:59+00:00  revoked" in capsys.readouterr().out


def test_ensure_demo_ca_is_idempotent_and_refreshes_a_stale_crl(tmp_path: Path) -> None:
    first = ensure_demo_ca(tmp_path, now=NOW)
    again = ensure_demo_ca(tmp_path, now=NOW + timedelta(days=1))
    assert again.certificate == first.certificate
    assert again.crl_next_update() == NOW + timedelta(days=7)  # still fresh: left alone

    later = NOW + timedelta(days=30)
    ensure_demo_ca(tmp_path, now=later)
    assert DemoCA.load(tmp_path).crl_next_update() == later + timedelta(days=7)


def test_issue_demo_card_writes_a_usable_card_once(tmp_path: Path) -> None:
    ca = ensure_demo_ca(tmp_path / "ca", now=NOW)
    path = issue_demo_card(
        ca,
        holder=HOLDER,
        directory=tmp_path / "cards",
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id="DEMO-0001",
        now=NOW,
    )
    assert path == tmp_path / "cards" / "DEMO-0001.card.json"
    again = issue_demo_card(
        ca,
        holder=HOLDER,
        directory=tmp_path / "cards",
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id="DEMO-0001",
        now=NOW,
    )
    assert again == path
    assert list(ca.cards()) == ["DEMO-0001"]

    card = CardFile.load(path)
    # Real JPKI: valid until the 5th birthday after issue (born 1 March; issued 1 April 2025).
    assert card.certificate("signing").not_valid_after_utc.date() == date(2030, 3, 1)
    data = b"demo challenge, at least sixteen"
    verified = verify_signature(
        certificate_pem=card.certificate_pem("signing"),
        signature=card.sign(which="signing", pin=SIGNING_PIN, data=data),
        data=data,
        purpose="signing",
        trust=TrustStore.from_directory(ca.directory),
        at=NOW + timedelta(hours=1),
    )
    assert verified.card_id == "DEMO-0001"


@pytest.mark.parametrize(
    ("issued", "born", "expected"),
    [
        (date(2025, 4, 1), date(1995, 3, 1), date(2030, 3, 1)),
        (date(2025, 4, 1), date(1995, 6, 1), date(2029, 6, 1)),
        (date(2025, 6, 1), date(1995, 6, 1), date(2030, 6, 1)),  # the issue day itself does not count
        (date(2025, 4, 1), date(2000, 2, 29), date(2030, 2, 28)),
    ],
)
def test_fifth_birthday_after(issued: date, born: date, expected: date) -> None:
    assert fifth_birthday_after(issued, born) == expected
