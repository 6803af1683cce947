"""Server-side verification: every refusal has its own code, and good signatures prove the card."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from zairyu.jpki.ca import DemoCA
from zairyu.jpki.cardfile import CardFile
from zairyu.jpki.profile import card_id_of
from zairyu.jpki.verify import (
    BadSignature,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    MalformedCertificate,
    RevocationStatusUnknown,
    TrustStore,
    UntrustedCertificate,
    VerificationError,
    WrongPurpose,
    verify_signature,
)

from .conftest import AUTH_PIN, HOLDER, NOW, SIGNING_PIN

CHALLENGE = bytes(range(32))
AT = NOW + timedelta(hours=1)
PINS = {"signing": SIGNING_PIN, "auth": AUTH_PIN}


@pytest.fixture(scope="module")
def trust(ca: DemoCA) -> TrustStore:
    return TrustStore.from_directory(ca.directory)


def _signed(card: CardFile, which: str, data: bytes = CHALLENGE) -> tuple[str, bytes]:
    return card.certificate_pem(which), card.sign(which=which, pin=PINS[which], data=data)


def _verify(
    trust: TrustStore, certificate_pem: str, signature: bytes, *, purpose: str, data: bytes = CHALLENGE, at=AT
):
    return verify_signature(
        certificate_pem=certificate_pem, signature=signature, data=data, purpose=purpose, trust=trust, at=at
    )


def test_signing_signature_verifies_and_returns_the_four_items(
    template_card: CardFile, trust: TrustStore
) -> None:
    certificate_pem, signature = _signed(template_card, "signing")

    verified = _verify(trust, certificate_pem, signature, purpose="signing")

    assert verified.card_id == template_card.card_id
    assert verified.purpose == "signing"
    assert verified.four_items == HOLDER
    assert verified.serial == template_card.certificate("signing").serial_number
    assert verified.not_after == NOW + timedelta(days=365)


def test_auth_signature_verifies_and_carries_no_personal_data(
    template_card: CardFile, trust: TrustStore
) -> None:
    certificate_pem, signature = _signed(template_card, "auth")

    verified = _verify(trust, certificate_pem, signature, purpose="auth")

    assert verified.card_id == template_card.card_id
    assert verified.four_items is None
    # The authentication certificate itself must hold none of the four items.
    for value in (HOLDER.name, HOLDER.address, HOLDER.date_of_birth.isoformat()):
        assert value.encode() not in template_card.certificate("auth").public_bytes(Encoding.DER)


def test_both_certificates_name_the_same_card_with_different_serials(template_card: CardFile) -> None:
    signing, auth = template_card.certificate("signing"), template_card.certificate("auth")
    assert signing.serial_number != auth.serial_number
    assert card_id_of(signing) == card_id_of(auth) == template_card.card_id


def test_revoked_card_is_refused(ca: DemoCA, trust: TrustStore) -> None:
    card = ca.issue_card(
        holder=HOLDER,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        now=NOW,
    )
    certificate_pem, signature = _signed(card, "auth")
    assert _verify(trust, certificate_pem, signature, purpose="auth").card_id == card.card_id

    ca.revoke(card.card_id, now=NOW)

    # The directory trust store notices the new crl.pem without being rebuilt.
    for which in ("auth", "signing"):
        certificate_pem, signature = _signed(card, which)
        with pytest.raises(CertificateRevoked) as caught:
            _verify(trust, certificate_pem, signature, purpose=which)
        assert caught.value.code == "revoked"


def test_revoking_one_certificate_by_serial_leaves_the_other(ca: DemoCA, trust: TrustStore) -> None:
    card = ca.issue_card(
        holder=HOLDER,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        now=NOW,
    )
    ca.revoke(format(card.certificate("signing").serial_number, "x"), now=NOW)

    with pytest.raises(CertificateRevoked):
        _verify(trust, *_signed(card, "signing"), purpose="signing")
    assert _verify(trust, *_signed(card, "auth"), purpose="auth").card_id == card.card_id


def test_expired_certificate_is_refused(ca: DemoCA, trust: TrustStore) -> None:
    card = ca.issue_card(
        holder=HOLDER,
        valid_from=NOW - timedelta(days=400),
        valid_until=NOW - timedelta(days=1),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        now=NOW - timedelta(days=400),
    )
    with pytest.raises(CertificateExpired) as caught:
        _verify(trust, *_signed(card, "signing"), purpose="signing")
    assert caught.value.code == "expired"


def test_certificate_is_refused_before_its_validity(template_card: CardFile, trust: TrustStore) -> None:
    with pytest.raises(CertificateNotYetValid) as caught:
        _verify(trust, *_signed(template_card, "auth"), purpose="auth", at=NOW - timedelta(days=2))
    assert caught.value.code == "not_yet_valid"


def test_certificate_from_a_foreign_ca_is_refused(tmp_path: Path, trust: TrustStore) -> None:
    foreign = DemoCA.create(tmp_path / "foreign", common_name="Zairyu Demo J-LIS CA", now=NOW)
    card = foreign.issue_card(
        holder=HOLDER,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id="FOREIGN-0001",
        now=NOW,
    )
    # Same CA name, different key: only the signature check can tell them apart.
    with pytest.raises(UntrustedCertificate) as caught:
        _verify(trust, *_signed(card, "signing"), purpose="signing")
    assert caught.value.code == "untrusted"


def test_signature_over_other_data_is_refused(template_card: CardFile, trust: TrustStore) -> None:
    certificate_pem, signature = _signed(template_card, "signing", data=b"another challenge, 32 bytes long")
    with pytest.raises(BadSignature) as caught:
        _verify(trust, certificate_pem, signature, purpose="signing")
    assert caught.value.code == "bad_signature"


def test_signature_by_the_cards_other_key_is_refused(template_card: CardFile, trust: TrustStore) -> None:
    # The signing certificate presented with a signature made by the authentication key.
    _, auth_signature = _signed(template_card, "auth")
    with pytest.raises(BadSignature):
        _verify(trust, template_card.certificate_pem("signing"), auth_signature, purpose="signing")


@pytest.mark.parametrize(("presented", "required"), [("auth", "signing"), ("signing", "auth")])
def test_certificate_of_the_wrong_kind_is_refused(
    template_card: CardFile, trust: TrustStore, presented: str, required: str
) -> None:
    with pytest.raises(WrongPurpose) as caught:
        _verify(trust, *_signed(template_card, presented), purpose=required)
    assert caught.value.code == "wrong_purpose"


def test_stale_crl_means_revocation_status_unknown(ca: DemoCA, template_card: CardFile) -> None:
    stale_crl = ca.crl_pem(now=NOW - timedelta(days=10), next_update_in=timedelta(days=1))
    trust = TrustStore.from_pem(ca.certificate_pem, stale_crl)

    with pytest.raises(RevocationStatusUnknown) as caught:
        _verify(trust, *_signed(template_card, "auth"), purpose="auth")
    assert caught.value.code == "crl_stale"
    assert "Revocation status unknown" in str(caught.value)


def test_crl_not_signed_by_the_ca_is_not_trusted(tmp_path: Path, ca: DemoCA, template_card: CardFile) -> None:
    impostor = DemoCA.create(tmp_path / "impostor", now=NOW)
    # An empty CRL from another CA would "clear" every revoked card if we believed it.
    trust = TrustStore.from_pem(ca.certificate_pem, impostor.crl_pem(now=NOW))

    with pytest.raises(RevocationStatusUnknown, match="not signed by the trusted CA"):
        _verify(trust, *_signed(template_card, "auth"), purpose="auth")


def test_missing_crl_file_fails_closed(tmp_path: Path, ca: DemoCA, template_card: CardFile) -> None:
    (tmp_path / "ca.cert.pem").write_text(ca.certificate_pem)
    trust = TrustStore.from_directory(tmp_path)

    with pytest.raises(RevocationStatusUnknown, match="no CRL"):
        _verify(trust, *_signed(template_card, "auth"), purpose="auth")

    (tmp_path / "crl.pem").write_text(ca.crl_pem(now=NOW))
    assert _verify(trust, *_signed(template_card, "auth"), purpose="auth").card_id == template_card.card_id


@pytest.mark.parametrize(
    "garbage", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
)
def test_unreadable_certificate_is_malformed(trust: TrustStore, garbage: str) -> None:
    with pytest.raises(MalformedCertificate) as caught:
        _verify(trust, garbage, b"\x00" * 256, purpose="auth")
    assert caught.value.code == "malformed"


def test_every_error_is_a_verification_error_with_a_stable_code() -> None:
    codes = {cls.code for cls in VerificationError.__subclasses__()}
    assert codes == {
        "malformed",
        "untrusted",
        "expired",
        "not_yet_valid",
        "revoked",
        "crl_stale",
        "wrong_purpose",
        "bad_signature",
    }


def test_naive_datetime_is_a_programming_error(template_card: CardFile, trust: TrustStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _verify(trust, *_signed(template_card, "auth"), purpose="auth", at=AT.replace(tzinfo=None))
