"""The certificate profile of the simulated JPKI: one place that says what a card's certificates hold.

The issuing side (:mod:`zairyu.jpki.ca`) writes certificates by these rules and the verifying side
(:mod:`zairyu.jpki.verify`) reads them by the same rules, so the two cannot drift apart.

How the simulation maps onto the real 公的個人認証 (JPKI):

* **Signing certificate** (署名用電子証明書): carries the holder's basic four items (基本4情報 —
  name, sex, date of birth, address). Real JPKI puts them in subjectAltName with J-LIS object
  identifiers; we put them, as UTF-8 JSON inside a DER ``UTF8String``, in a non-critical private
  extension (:data:`OID_BASIC_FOUR_ITEMS`). keyUsage is digitalSignature + nonRepudiation.
* **User-authentication certificate** (利用者証明用電子証明書): carries no personal data at all,
  only a random serial-like common name. keyUsage is digitalSignature.
* Each certificate's policy OID says which of the two it is, so a server can refuse an
  authentication certificate where a signing certificate is needed, and vice versa.
* Both carry the card id in the subject ``serialNumber`` attribute, so the server can enforce
  "one card registers once per user category" without reading any personal data.

The OIDs live under a private enterprise arc (1.3.6.1.4.1.55555) that is not J-LIS's: certificates
from this demo must never be mistaken for real ones.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.x509.oid import NameOID, ObjectIdentifier

#: Japan Standard Time: a validity given as a date means that whole day in Japan.
JST = ZoneInfo("Asia/Tokyo")

Purpose = Literal["signing", "auth"]
PURPOSES: tuple[Purpose, ...] = get_args(Purpose)

#: The private arc all our object identifiers live under (not a J-LIS arc, on purpose).
OID_ARC = "1.3.6.1.4.1.55555"
#: Non-critical extension holding the basic four items as a DER UTF8String of JSON.
OID_BASIC_FOUR_ITEMS = ObjectIdentifier(f"{OID_ARC}.1.1")
#: Certificate policy of a signing certificate (署名用電子証明書).
OID_POLICY_SIGNING = ObjectIdentifier(f"{OID_ARC}.2.1")
#: Certificate policy of a user-authentication certificate (利用者証明用電子証明書).
OID_POLICY_AUTH = ObjectIdentifier(f"{OID_ARC}.2.2")

POLICY_BY_PURPOSE: dict[Purpose, ObjectIdentifier] = {
    "signing": OID_POLICY_SIGNING,
    "auth": OID_POLICY_AUTH,
}

#: Organisational unit names, modelled on the real certificates' subject.
OU_BY_PURPOSE: dict[Purpose, str] = {
    "signing": "JPKI for digital signature",
    "auth": "JPKI for user authentication",
}
ORGANIZATION = "Zairyu Demo JPKI"

#: File names in a CA directory that verifiers read (the CA's own files are listed in ``ca.py``).
CA_CERT_FILE = "ca.cert.pem"
CRL_FILE = "crl.pem"

#: Card ids double as file names (``<card_id>.card.json``), so they are kept to a safe alphabet.
CARD_ID_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,63}$")

SEX_CODES = ("M", "F")


def utc_now() -> datetime:
    """The current instant in UTC.

    The JPKI package must run without Django settings (the card CLI and bridge run on a
    resident's machine), so it cannot use ``zairyu.core.clock``. Only card-side defaults read
    this; server-side verification always takes an explicit ``at`` from the caller's clock.
    """
    return datetime.now(UTC)


def require_aware(value: datetime, *, name: str) -> datetime:
    """Refuse naive datetimes: a certificate's validity is an instant, not a wall-clock reading."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got a naive one: {value!r}).")
    return value


def normalize_card_id(card_id: str) -> str:
    """Upper-case and NFKC-normalise a card id, and check it is safe to use as a file name."""
    normalized = unicodedata.normalize("NFKC", card_id).strip().upper()
    if not CARD_ID_PATTERN.match(normalized):
        raise ValueError(
            f"Card id {card_id!r} is not valid: use 4 to 64 characters A-Z, 0-9 or '-', "
            "starting with a letter or digit."
        )
    return normalized


@dataclass(frozen=True)
class BasicFourItems:
    """The basic four items (基本4情報) the signing certificate certifies.

    ``sex`` is ``"M"`` or ``"F"``; ``date_of_birth`` is a plain date (not a datetime), because
    the register records a day, not an instant.
    """

    name: str
    sex: str
    date_of_birth: date
    address: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("BasicFourItems.name must be a non-empty string.")
        if self.sex not in SEX_CODES:
            raise ValueError(f"BasicFourItems.sex must be 'M' or 'F' (got {self.sex!r}).")
        if isinstance(self.date_of_birth, datetime) or not isinstance(self.date_of_birth, date):
            raise ValueError(
                f"BasicFourItems.date_of_birth must be a date, not {type(self.date_of_birth).__name__}."
            )
        if not isinstance(self.address, str) or not self.address.strip():
            raise ValueError("BasicFourItems.address must be a non-empty string.")

    def to_json_dict(self) -> dict[str, str]:
        """The JSON form stored in the certificate extension."""
        return {
            "name": self.name,
            "sex": self.sex,
            "date_of_birth": self.date_of_birth.isoformat(),
            "address": self.address,
        }

    @classmethod
    def from_json_dict(cls, data: Any) -> BasicFourItems:
        """Parse the JSON form; raises ``ValueError`` naming what is missing or wrong."""
        if not isinstance(data, dict):
            raise ValueError("the basic four items must be a JSON object.")
        missing = [key for key in ("name", "sex", "date_of_birth", "address") if key not in data]
        if missing:
            raise ValueError(f"the basic four items lack: {', '.join(missing)}.")
        if not all(isinstance(data[key], str) for key in ("name", "sex", "date_of_birth", "address")):
            raise ValueError("every one of the basic four items must be a JSON string.")
        try:
            born = date.fromisoformat(data["date_of_birth"])
        except ValueError as exc:
            raise ValueError(f"date_of_birth {data['date_of_birth']!r} is not an ISO date.") from exc
        return cls(name=data["name"], sex=data["sex"], date_of_birth=born, address=data["address"])


# --- The four-items extension: a DER UTF8String holding compact JSON --------------------------------

_UTF8STRING_TAG = 0x0C


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def encode_four_items_extension(items: BasicFourItems) -> x509.UnrecognizedExtension:
    """Build the private extension. Its value is proper DER (a UTF8String), as X.509 requires."""
    payload = json.dumps(items.to_json_dict(), ensure_ascii=False, separators=(",", ":")).encode()
    return x509.UnrecognizedExtension(
        OID_BASIC_FOUR_ITEMS, bytes([_UTF8STRING_TAG]) + _der_length(len(payload)) + payload
    )


def decode_four_items_extension(value: bytes) -> BasicFourItems:
    """Parse the extension value back; raises ``ValueError`` if it is not what we write."""
    if len(value) < 2 or value[0] != _UTF8STRING_TAG:
        raise ValueError("the basic four items extension is not a DER UTF8String.")
    first = value[1]
    if first < 0x80:
        length, offset = first, 2
    else:
        size = first & 0x7F
        if size == 0 or size > 4 or len(value) < 2 + size:
            raise ValueError("the basic four items extension has a bad DER length.")
        length, offset = int.from_bytes(value[2 : 2 + size], "big"), 2 + size
    if offset + length != len(value):
        raise ValueError("the basic four items extension's DER length does not match its content.")
    try:
        data = json.loads(value[offset:].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError("the basic four items extension does not hold UTF-8 JSON.") from exc
    return BasicFourItems.from_json_dict(data)


def card_id_of(certificate: x509.Certificate) -> str | None:
    """The card id a certificate names in its subject ``serialNumber``, or ``None`` if absent."""
    attributes = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if len(attributes) != 1:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else None


def policies_of(certificate: x509.Certificate) -> set[ObjectIdentifier]:
    """The certificate policy OIDs a certificate asserts (empty if it has no such extension)."""
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return set()
    return {policy.policy_identifier for policy in policies}


def purpose_of(certificate: x509.Certificate) -> Purpose | None:
    """Which kind of JPKI certificate this is, by its policy OID; ``None`` if not exactly one."""
    found = [purpose for purpose, oid in POLICY_BY_PURPOSE.items() if oid in policies_of(certificate)]
    return found[0] if len(found) == 1 else None


def four_items_of(certificate: x509.Certificate) -> BasicFourItems | None:
    """The basic four items in a certificate, ``None`` if it carries none (an auth certificate)."""
    try:
        extension = certificate.extensions.get_extension_for_oid(OID_BASIC_FOUR_ITEMS)
    except x509.ExtensionNotFound:
        return None
    value = extension.value
    if not isinstance(value, x509.UnrecognizedExtension):
        raise ValueError("the basic four items extension could not be read.")
    return decode_four_items_extension(value.value)
