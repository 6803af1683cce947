"""A demo certificate authority standing in for J-LIS, the issuer of real JPKI certificates.

The real certificates on a My Number Card can't be reached from here, so the demo needs its own
issuer: a self-signed RSA-2048 root that issues each simulated card a signing certificate and a
user-authentication certificate (see :mod:`zairyu.jpki.profile` for what they hold), keeps an
index of what it issued, and publishes a certificate revocation list (CRL) that the server checks.

Directory layout (one CA per directory)::

    ca.key.pem    the CA's private key, unencrypted PKCS#8 PEM, mode 0600 (demo only!)
    ca.cert.pem   the self-signed CA certificate — what servers trust
    crl.pem       the current CRL, signed by the CA, with a nextUpdate
    index.json    issued cards (serials and validity, no personal data) and revocations

The CA keeps no personal data in ``index.json``: the basic four items live only in the signing
certificate, which is on the card. The index is written with a rename so readers never see half
of it, but two processes issuing cards into the same directory at once may lose an entry; the
demo has one writer (``make run`` / the management commands).

Command line (for demos and for an officer revoking a card)::

    python -m zairyu.jpki.ca init   --dir var/jpki
    python -m zairyu.jpki.ca list   --dir var/jpki
    python -m zairyu.jpki.ca revoke --dir var/jpki CARD_ID_OR_SERIAL [--reason key_compromise]
    python -m zairyu.jpki.ca crl    --dir var/jpki [--days 7]
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from zairyu.jpki._files import atomic_write
from zairyu.jpki.cardfile import CardFile, normalize_pin
from zairyu.jpki.profile import (
    CA_CERT_FILE,
    CRL_FILE,
    JST,
    ORGANIZATION,
    OU_BY_PURPOSE,
    POLICY_BY_PURPOSE,
    PURPOSES,
    BasicFourItems,
    Purpose,
    encode_four_items_extension,
    normalize_card_id,
    require_aware,
    utc_now,
)

__all__ = [
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CRL_FILE",
    "DEFAULT_CA_NAME",
    "DEFAULT_CRL_LIFETIME",
    "INDEX_FILE",
    "BasicFourItems",
    "CAError",
    "DemoCA",
    "UnknownCard",
]

CA_KEY_FILE = "ca.key.pem"
INDEX_FILE = "index.json"
INDEX_FORMAT = "zairyu-jpki-ca-index/1"

DEFAULT_CA_NAME = "Zairyu Demo J-LIS CA"
DEFAULT_CA_LIFETIME = timedelta(days=20 * 365)
#: How long a published CRL stays fresh. Verifiers refuse every certificate once it has passed,
#: so whoever runs the CA must publish a new one before then (``ensure_demo_ca`` does on start).
DEFAULT_CRL_LIFETIME = timedelta(days=7)
RSA_KEY_SIZE = 2048


class CAError(Exception):
    """The demo CA cannot do what was asked (missing files, duplicate card id, bad dates)."""


class UnknownCard(CAError, LookupError):
    """No card or certificate with that id or serial was issued by this CA."""


def _second(value: datetime) -> datetime:
    """X.509 times have one-second precision; drop the rest so what we store is what we sign."""
    return value.replace(microsecond=0)


def _as_instant(value: date | datetime, *, end_of_day: bool, name: str) -> datetime:
    """Accept a date (a whole day in Japan) or an aware datetime for a validity bound."""
    if isinstance(value, datetime):
        return _second(require_aware(value, name=name))
    if end_of_day:
        return datetime.combine(value, time(23, 59, 59), tzinfo=JST)
    return datetime.combine(value, time.min, tzinfo=JST)


def _serial_hex(serial: int) -> str:
    return format(serial, "X")


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


@dataclass
class DemoCA:
    """The demo J-LIS: a root key and certificate, plus the index of issued cards and revocations."""

    directory: Path
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    index: dict[str, Any] = field(default_factory=dict)

    # --- creation and persistence -----------------------------------------------------------------

    @staticmethod
    def exists(directory: str | Path) -> bool:
        """Whether ``directory`` already holds a CA (its key and certificate)."""
        directory = Path(directory)
        return (directory / CA_KEY_FILE).is_file() and (directory / CA_CERT_FILE).is_file()

    @classmethod
    def create(
        cls,
        directory: str | Path,
        *,
        common_name: str = DEFAULT_CA_NAME,
        lifetime: timedelta = DEFAULT_CA_LIFETIME,
        now: datetime | None = None,
    ) -> DemoCA:
        """Create a new self-signed root in ``directory`` and write its files.

        Refuses to overwrite an existing CA: every card it issued would stop verifying.
        """
        directory = Path(directory)
        if cls.exists(directory):
            raise CAError(f"A CA already exists in {directory}; load it with DemoCA.load().")
        issued = _second(require_aware(now, name="now") if now else utc_now())
        key = _new_key()
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            # Backdated a little so a freshly created CA is valid on a machine whose clock lags.
            .not_valid_before(issued - timedelta(days=1))
            .not_valid_after(issued + lifetime)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        ca = cls(
            directory=directory,
            key=key,
            certificate=certificate,
            index={"format": INDEX_FORMAT, "crl_number": 0, "cards": {}, "revoked": {}},
        )
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        atomic_write(
            directory / CA_KEY_FILE,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            mode=0o600,
        )
        atomic_write(directory / CA_CERT_FILE, certificate.public_bytes(serialization.Encoding.PEM))
        ca.write_crl(now=issued)
        return ca

    @classmethod
    def load(cls, directory: str | Path) -> DemoCA:
        """Load a CA written by :meth:`create`; raises :class:`CAError` naming the missing piece."""
        directory = Path(directory)
        try:
            key = serialization.load_pem_private_key((directory / CA_KEY_FILE).read_bytes(), password=None)
            certificate = x509.load_pem_x509_certificate((directory / CA_CERT_FILE).read_bytes())
        except FileNotFoundError as exc:
            raise CAError(f"No demo CA in {directory}: {exc.filename} is missing.") from exc
        except ValueError as exc:
            raise CAError(f"The demo CA in {directory} is damaged: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey) or (
            key.public_key().public_numbers() != certificate.public_key().public_numbers()  # type: ignore[union-attr]
        ):
            raise CAError(f"The demo CA in {directory} is damaged: its key does not match its certificate.")
        index_path = directory / INDEX_FILE
        if index_path.is_file():
            index = json.loads(index_path.read_text(encoding="utf-8"))
            if index.get("format") != INDEX_FORMAT:
                raise CAError(f"{index_path} is not a {INDEX_FORMAT} index.")
        else:
            index = {"format": INDEX_FORMAT, "crl_number": 0, "cards": {}, "revoked": {}}
        return cls(directory=directory, key=key, certificate=certificate, index=index)

    def _save_index(self) -> None:
        body = json.dumps(self.index, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        atomic_write(self.directory / INDEX_FILE, body.encode("utf-8"))

    @property
    def certificate_pem(self) -> str:
        """The CA certificate as PEM: what a server puts in its trust store."""
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def name(self) -> str:
        """The CA's distinguished name, as an RFC 4514 string."""
        return self.certificate.subject.rfc4514_string()

    # --- issuing -----------------------------------------------------------------------------------

    def issue_card(
        self,
        *,
        holder: BasicFourItems,
        card_id: str | None = None,
        valid_from: date | datetime,
        valid_until: date | datetime,
        signing_pin: str,
        auth_pin: str,
        now: datetime | None = None,
    ) -> CardFile:
        """Issue one card: a signing and an authentication certificate with fresh RSA-2048 keys.

        ``valid_from``/``valid_until`` bound both certificates. The caller decides them (real
        JPKI: until the holder's 5th birthday after issue, or the end of a foreign resident's
        period of stay); a date means that whole day in Japan. The returned card is not yet
        saved: call ``card.save(path)``, or use :func:`zairyu.jpki.demo.issue_demo_card`.
        """
        if not isinstance(holder, BasicFourItems):
            raise TypeError("holder must be a BasicFourItems.")
        # Check the PINs before spending time on key generation.
        normalize_pin("signing", signing_pin)
        normalize_pin("auth", auth_pin)
        not_before = _as_instant(valid_from, end_of_day=False, name="valid_from")
        not_after = _as_instant(valid_until, end_of_day=True, name="valid_until")
        if not_after <= not_before:
            raise CAError(
                f"valid_until ({not_after.isoformat()}) must be after valid_from ({not_before.isoformat()})."
            )
        if not_after > self.certificate.not_valid_after_utc:
            raise CAError("The card would outlive the CA certificate: choose an earlier valid_until.")
        cards: dict[str, Any] = self.index["cards"]
        if card_id is None:
            card_id = self._new_card_id()
        else:
            card_id = normalize_card_id(card_id)
            if card_id in cards:
                raise CAError(f"Card id {card_id} was already issued by this CA; card ids are unique.")
        issued_at = _second(require_aware(now, name="now") if now else utc_now())

        keys: dict[Purpose, rsa.RSAPrivateKey] = {which: _new_key() for which in PURPOSES}
        certificates: dict[Purpose, x509.Certificate] = {
            which: self._leaf(
                which=which,
                key=keys[which],
                card_id=card_id,
                holder=holder if which == "signing" else None,
                not_before=not_before,
                not_after=not_after,
            )
            for which in PURPOSES
        }
        cards[card_id] = {
            "issued_at": issued_at.isoformat(),
            "not_before": certificates["signing"].not_valid_before_utc.isoformat(),
            "not_after": certificates["signing"].not_valid_after_utc.isoformat(),
            "serials": {which: _serial_hex(certificates[which].serial_number) for which in PURPOSES},
        }
        self._save_index()
        return CardFile.create(
            card_id=card_id,
            issuer=self.name,
            issued_at=issued_at,
            certificates=certificates,
            keys=keys,
            signing_pin=signing_pin,
            auth_pin=auth_pin,
        )

    def _new_card_id(self) -> str:
        while True:
            candidate = f"{secrets.randbelow(10**12):012d}"
            if candidate not in self.index["cards"]:
                return candidate

    def _leaf(
        self,
        *,
        which: Purpose,
        key: rsa.RSAPrivateKey,
        card_id: str,
        holder: BasicFourItems | None,
        not_before: datetime,
        not_after: datetime,
    ) -> x509.Certificate:
        # The common name is a random serial-like id, never the holder's name: the
        # authentication certificate must carry no personal data, and the signing
        # certificate carries it only in the four-items extension.
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, OU_BY_PURPOSE[which]),
                x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(10).upper()),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, card_id),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=which == "signing",
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(POLICY_BY_PURPOSE[which], None)]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        if holder is not None:
            builder = builder.add_extension(encode_four_items_extension(holder), critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def cards(self) -> dict[str, dict[str, Any]]:
        """The issued cards by card id: issue time, validity and certificate serials (hex)."""
        return dict(self.index["cards"])

    # --- revocation -------------------------------------------------------------------------------

    def revoke(
        self,
        identifier: str | int,
        *,
        reason: x509.ReasonFlags = x509.ReasonFlags.unspecified,
        now: datetime | None = None,
    ) -> list[int]:
        """Revoke a whole card (by card id) or one certificate (by serial, int or hex), and publish a CRL.

        Revoking a card revokes both its certificates, as when a holder reports the card lost.
        Revoking again is harmless: the first revocation date stands. Returns the serials
        now on the CRL because of this call.
        """
        serials = self._serials_for(identifier)
        revoked_at = _second(require_aware(now, name="now") if now else utc_now())
        revoked: dict[str, Any] = self.index["revoked"]
        for serial in serials:
            revoked.setdefault(
                _serial_hex(serial),
                {"revoked_at": revoked_at.isoformat(), "reason": reason.name},
            )
        self._save_index()
        self.write_crl(now=revoked_at)
        return serials

    def _serials_for(self, identifier: str | int) -> list[int]:
        cards: dict[str, Any] = self.index["cards"]
        if isinstance(identifier, str):
            text = identifier.strip().upper()
            if text in cards:
                return [int(cards[text]["serials"][which], 16) for which in PURPOSES]
            try:
                serial = int(text.removeprefix("0X").replace(":", ""), 16)
            except ValueError:
                raise UnknownCard(f"No card with id {identifier!r} was issued by this CA.") from None
        else:
            serial = identifier
        issued = {int(entry["serials"][which], 16) for entry in cards.values() for which in PURPOSES}
        if serial not in issued:
            raise UnknownCard(f"No card or certificate {identifier!r} was issued by this CA.")
        return [serial]

    def is_revoked(self, serial: int) -> bool:
        """Whether the certificate with this serial is on the CA's revocation list."""
        return _serial_hex(serial) in self.index["revoked"]

    def crl_pem(
        self, *, now: datetime | None = None, next_update_in: timedelta = DEFAULT_CRL_LIFETIME
    ) -> str:
        """Build a CRL of every revoked certificate, signed by the CA, fresh until ``now + next_update_in``.

        Does not write it; :meth:`write_crl` does, with a new CRL number.
        """
        this_update = _second(require_aware(now, name="now") if now else utc_now())
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(this_update)
            .next_update(this_update + next_update_in)
            .add_extension(x509.CRLNumber(int(self.index["crl_number"])), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
        )
        for serial_hex, entry in sorted(self.index["revoked"].items()):
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial_hex, 16))
                .revocation_date(datetime.fromisoformat(entry["revoked_at"]))
            )
            reason = x509.ReasonFlags[entry.get("reason", "unspecified")]
            # RFC 5280 §5.3.1: the reason code "unspecified" SHOULD be left out.
            if reason is not x509.ReasonFlags.unspecified:
                revoked = revoked.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(revoked.build())
        crl = builder.sign(self.key, hashes.SHA256())
        return crl.public_bytes(serialization.Encoding.PEM).decode()

    def write_crl(
        self, *, now: datetime | None = None, next_update_in: timedelta = DEFAULT_CRL_LIFETIME
    ) -> Path:
        """Publish a new CRL to ``crl.pem`` (verifiers using ``TrustStore.from_directory`` pick it up)."""
        self.index["crl_number"] = int(self.index.get("crl_number", 0)) + 1
        self._save_index()
        path = self.directory / CRL_FILE
        atomic_write(path, self.crl_pem(now=now, next_update_in=next_update_in).encode())
        return path

    def crl_next_update(self) -> datetime | None:
        """When the published CRL goes stale, or ``None`` if none is published or it can't be read."""
        try:
            crl = x509.load_pem_x509_crl((self.directory / CRL_FILE).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        return crl.next_update_utc


# --- command line -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m zairyu.jpki.ca``: create the demo CA, list cards, revoke, publish a CRL."""
    parser = argparse.ArgumentParser(
        prog="python -m zairyu.jpki.ca",
        description="The Zairyu demo certificate authority (stands for J-LIS).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="create the demo CA (does nothing if it exists)")
    init.add_argument("--dir", type=Path, required=True)
    listing = commands.add_parser("list", help="list issued cards and whether they are revoked")
    listing.add_argument("--dir", type=Path, required=True)
    revoke = commands.add_parser("revoke", help="revoke a card (card id) or one certificate (hex serial)")
    revoke.add_argument("--dir", type=Path, required=True)
    revoke.add_argument("identifier")
    revoke.add_argument(
        "--reason",
        default="unspecified",
        choices=[flag.name for flag in x509.ReasonFlags if flag is not x509.ReasonFlags.remove_from_crl],
    )
    crl = commands.add_parser("crl", help="publish a fresh CRL")
    crl.add_argument("--dir", type=Path, required=True)
    crl.add_argument("--days", type=float, default=DEFAULT_CRL_LIFETIME.days, help="days until nextUpdate")
    args = parser.parse_args(argv)

    try:
        if args.command == "init":
            if DemoCA.exists(args.dir):
                print(f"A CA already exists in {args.dir}.")
            else:
                ca = DemoCA.create(args.dir)
                print(f"Created {ca.name} in {args.dir}.")
            return 0
        ca = DemoCA.load(args.dir)
        if args.command == "list":
            for card_id, entry in sorted(ca.cards().items()):
                serials = entry["serials"]
                state = "revoked" if any(ca.is_revoked(int(serials[w], 16)) for w in PURPOSES) else "valid"
                print(
                    f"{card_id}  until {entry['not_after']}  {state}  signing={serials['signing']} auth={serials['auth']}"
                )
        elif args.command == "revoke":
            serials = ca.revoke(args.identifier, reason=x509.ReasonFlags[args.reason])
            print(f"Revoked {', '.join(_serial_hex(s) for s in serials)}; CRL published.")
        elif args.command == "crl":
            path = ca.write_crl(next_update_in=timedelta(days=args.days))
            print(f"Published {path} (next update {ca.crl_next_update()}).")
    except CAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
