"""Server-side verification of a JPKI signature: may this certificate vouch for this signature now?

This is what a JPKI platform operator's server does with what the client software sends back:
check the certificate chains to the trusted CA, is inside its validity, is not revoked (per a
fresh CRL), is the right *kind* of certificate for the job, and that the signature over the
server's challenge verifies with its key. Each refusal has a stable ``code`` so callers can map
it to a message for the user and to an audit record without parsing English.

Pure functions over bytes: no Django, no database. The single-use challenge (a server-issued
nonce stored in the database) belongs to the accounts app; this module only checks a signature
over the bytes it is given.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from zairyu.jpki.profile import (
    CA_CERT_FILE,
    CRL_FILE,
    BasicFourItems,
    Purpose,
    card_id_of,
    four_items_of,
    policies_of,
    purpose_of,
    require_aware,
)

__all__ = [
    "MAX_CERTIFICATE_PEM_LENGTH",
    "BadSignature",
    "CertificateExpired",
    "CertificateNotYetValid",
    "CertificateRevoked",
    "MalformedCertificate",
    "RevocationStatusUnknown",
    "TrustStore",
    "UntrustedCertificate",
    "VerificationError",
    "VerifiedCertificate",
    "WrongPurpose",
    "verify_signature",
]

#: A JPKI certificate PEM is about 2 KB; anything far larger is not one and is not parsed.
MAX_CERTIFICATE_PEM_LENGTH = 16 * 1024

# --- errors ---------------------------------------------------------------------------------------


class VerificationError(Exception):
    """The signature or its certificate was refused; ``code`` says why, in a stable word."""

    code: str = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedCertificate(VerificationError):
    """The certificate (or the signature's encoding) could not be read."""

    code = "malformed"


class UntrustedCertificate(VerificationError):
    """The certificate was not issued by the trusted CA."""

    code = "untrusted"


class CertificateExpired(VerificationError):
    """The certificate's validity period has ended."""

    code = "expired"


class CertificateNotYetValid(VerificationError):
    """The certificate's validity period has not started."""

    code = "not_yet_valid"


class CertificateRevoked(VerificationError):
    """The certificate is on the CA's revocation list (card reported lost, holder moved away …)."""

    code = "revoked"


class RevocationStatusUnknown(VerificationError):
    """No fresh, CA-signed CRL is available, so we cannot tell whether the certificate is revoked.

    Verification fails closed: accepting a possibly revoked certificate would let a lost card
    be used to register.
    """

    code = "crl_stale"


class WrongPurpose(VerificationError):
    """A signing certificate where an authentication one is required, or the other way round."""

    code = "wrong_purpose"


class BadSignature(VerificationError):
    """The signature does not verify over the given data with the certificate's key."""

    code = "bad_signature"


# --- trust store ----------------------------------------------------------------------------------


class TrustStore:
    """The CA certificate we trust and its current CRL.

    Built from PEM text (:meth:`from_pem`) or from a CA directory (:meth:`from_directory`). A
    directory store re-reads ``crl.pem`` whenever the file changes, so revoking a card takes
    effect in a running server without a restart. A CRL is only ever accepted if the trusted CA
    signed it; a forged or damaged ``crl.pem`` makes every verification fail with ``crl_stale``
    rather than silently accepting revoked certificates.
    """

    def __init__(
        self,
        *,
        ca_certificate_pem: str | bytes,
        crl_pem: str | bytes | None = None,
        crl_path: Path | None = None,
    ) -> None:
        if isinstance(ca_certificate_pem, str):
            ca_certificate_pem = ca_certificate_pem.encode()
        self.ca_certificate = x509.load_pem_x509_certificate(ca_certificate_pem)
        self._crl_path = crl_path
        self._lock = threading.Lock()
        self._crl_stamp: tuple[int, int, int] | None = None
        self._crl: x509.CertificateRevocationList | None = None
        self._crl_problem: str | None = "no CRL has been loaded"
        # A missing or bad CRL is not an error here: the store still starts, and every
        # verification fails closed with ``crl_stale`` until a good CRL appears.
        if crl_pem is not None:
            self._set_crl(crl_pem.encode() if isinstance(crl_pem, str) else crl_pem)

    @classmethod
    def from_pem(cls, ca_certificate_pem: str | bytes, crl_pem: str | bytes) -> TrustStore:
        """A fixed store: this CA certificate and this CRL, never re-read."""
        return cls(ca_certificate_pem=ca_certificate_pem, crl_pem=crl_pem)

    @classmethod
    def from_directory(cls, path: str | Path) -> TrustStore:
        """A store reading ``ca.cert.pem`` once and ``crl.pem`` whenever it changes."""
        path = Path(path)
        return cls(ca_certificate_pem=(path / CA_CERT_FILE).read_bytes(), crl_path=path / CRL_FILE)

    def _set_crl(self, data: bytes) -> None:
        try:
            crl = x509.load_pem_x509_crl(data)
        except ValueError:
            self._crl, self._crl_problem = None, "the CRL could not be parsed"
            return
        if crl.issuer != self.ca_certificate.subject or not crl.is_signature_valid(
            self.ca_certificate.public_key()  # type: ignore[arg-type]
        ):
            self._crl, self._crl_problem = None, "the CRL is not signed by the trusted CA"
            return
        self._crl, self._crl_problem = crl, None

    def _refresh(self) -> None:
        """Re-read ``crl.pem`` if it changed (by mtime, size or inode) since we last read it."""
        if self._crl_path is None:
            return
        try:
            stat = os.stat(self._crl_path)
        except FileNotFoundError:
            self._crl_stamp, self._crl = None, None
            self._crl_problem = f"no CRL at {self._crl_path}"
            return
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._crl_stamp:
            self._set_crl(self._crl_path.read_bytes())
            self._crl_stamp = stamp

    def current_crl(self) -> x509.CertificateRevocationList:
        """The CA-signed CRL now in force; raises :class:`RevocationStatusUnknown` if there is none."""
        with self._lock:
            self._refresh()
            if self._crl is None:
                raise RevocationStatusUnknown(
                    f"Revocation status unknown: {self._crl_problem}. "
                    "The CA must publish a CRL (python -m zairyu.jpki.ca crl --dir …)."
                )
            return self._crl


# --- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifiedCertificate:
    """What a verified signature proves: which card, which certificate, and (signing) who."""

    card_id: str
    serial: int
    not_after: datetime
    purpose: Purpose
    four_items: BasicFourItems | None


def verify_signature(
    *,
    certificate_pem: str,
    signature: bytes,
    data: bytes,
    purpose: Purpose,
    trust: TrustStore,
    at: datetime,
) -> VerifiedCertificate:
    """Check that ``signature`` over ``data`` was made at ``at`` by a card certificate fit for ``purpose``.

    The checks run cheapest-and-most-fundamental first, so the error names the first real
    problem: parse → issued by the trusted CA → validity at ``at`` → revocation (against a
    CA-signed CRL that is still fresh at ``at``) → purpose (policy OID and keyUsage) → signature.
    ``purpose="signing"`` is for registration (the signing certificate proves the four items);
    ``purpose="auth"`` is for log-in (the authentication certificate proves only "same card").
    """
    if purpose not in ("signing", "auth"):
        raise ValueError(f"purpose must be 'signing' or 'auth', not {purpose!r}.")
    require_aware(at, name="at")

    certificate = _parse(certificate_pem)
    _check_issued_by(certificate, trust.ca_certificate)  # 1.
    _check_validity(certificate, trust.ca_certificate, at)  # 2.
    _check_revocation(certificate, trust.current_crl(), at)  # 3.
    _check_purpose(certificate, purpose)  # 4. policy OID and keyUsage must both match.

    card_id = card_id_of(certificate)
    if not card_id:
        raise MalformedCertificate("The certificate names no card (no subject serialNumber).")

    _check_signature(certificate, signature, data)  # 5.
    return VerifiedCertificate(
        card_id=card_id,
        serial=certificate.serial_number,
        not_after=certificate.not_valid_after_utc,
        purpose=purpose,
        four_items=_four_items(certificate) if purpose == "signing" else None,
    )


def _check_issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> None:
    """Issued by the trusted CA: issuer name and signature both."""
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise UntrustedCertificate(
            f"The certificate was not issued by the trusted CA ({ca.subject.rfc4514_string()})."
        ) from None


def _check_validity(certificate: x509.Certificate, ca: x509.Certificate, at: datetime) -> None:
    """The certificate's validity period, then the trusted CA's own."""
    if at < certificate.not_valid_before_utc:
        raise CertificateNotYetValid(
            f"The certificate is not valid before {certificate.not_valid_before_utc.isoformat()}."
        )
    if at > certificate.not_valid_after_utc:
        raise CertificateExpired(
            f"The certificate expired on {certificate.not_valid_after_utc.isoformat()}; "
            "the holder must renew it at the municipal office."
        )

    # The trusted root must itself be valid: an expired demo CA is a configuration error
    # that should show up as "untrusted", not as a pass.
    if not ca.not_valid_before_utc <= at <= ca.not_valid_after_utc:
        raise UntrustedCertificate(
            f"The trusted CA certificate is not valid at {at.isoformat()} "
            f"(valid {ca.not_valid_before_utc.isoformat()} to {ca.not_valid_after_utc.isoformat()})."
        )


def _check_revocation(
    certificate: x509.Certificate, crl: x509.CertificateRevocationList, at: datetime
) -> None:
    """A listed certificate is revoked even if the CRL is stale (revocation is final); an
    unlisted one is only known to be good while the CRL is fresh."""
    if crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None:
        raise CertificateRevoked("The certificate has been revoked by its issuer.")
    next_update = crl.next_update_utc
    if next_update is None or at > next_update:
        raise RevocationStatusUnknown(
            "Revocation status unknown: the CA's CRL is out of date"
            + (f" (its nextUpdate was {next_update.isoformat()})" if next_update else "")
            + ". The CA must publish a fresh CRL."
        )
    # A CRL whose lastUpdate is after ``at`` (clock skew) is still the best knowledge we have.


def _check_signature(certificate: x509.Certificate, signature: bytes, data: bytes) -> None:
    """The signature itself, with the certificate's RSA key (PKCS#1 v1.5, SHA-256)."""
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise MalformedCertificate("The certificate does not hold an RSA key.")
    if not isinstance(signature, bytes | bytearray) or not isinstance(data, bytes | bytearray):
        raise TypeError("signature and data must be bytes.")
    try:
        public_key.verify(bytes(signature), bytes(data), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise BadSignature(
            "The signature does not match the data: it was made over something else or with another card."
        ) from None


def _four_items(certificate: x509.Certificate) -> BasicFourItems:
    """The basic four items a signing certificate must carry."""
    try:
        four_items = four_items_of(certificate)
    except ValueError as exc:
        raise MalformedCertificate(
            f"The signing certificate's basic four items are unreadable: {exc}"
        ) from exc
    if four_items is None:
        raise MalformedCertificate("The signing certificate carries no basic four items.")
    return four_items


def _parse(certificate_pem: str) -> x509.Certificate:
    if not isinstance(certificate_pem, str):
        raise MalformedCertificate("The certificate must be PEM text.")
    if len(certificate_pem) > MAX_CERTIFICATE_PEM_LENGTH:
        raise MalformedCertificate("The certificate is far too long to be a JPKI certificate.")
    try:
        return x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate("The certificate is not a readable PEM X.509 certificate.") from None


_PURPOSE_NAMES = {"signing": "a signing certificate", "auth": "a user-authentication certificate"}


def _check_purpose(certificate: x509.Certificate, purpose: Purpose) -> None:
    actual = purpose_of(certificate)
    if actual != purpose:
        shown = (
            _PURPOSE_NAMES.get(actual, "a certificate of unknown kind")
            if actual
            else (
                f"a certificate with policies {sorted(oid.dotted_string for oid in policies_of(certificate))}"
            )
        )
        raise WrongPurpose(f"This step needs {_PURPOSE_NAMES[purpose]}, but {shown} was presented.")
    try:
        basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        if basic.ca:
            raise WrongPurpose("A CA certificate cannot sign as a card.")
    except x509.ExtensionNotFound:
        pass
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise WrongPurpose("The certificate has no keyUsage, so it may not be used to sign.") from None
    if not usage.digital_signature:
        raise WrongPurpose("The certificate's keyUsage does not allow digital signatures.")
    if purpose == "signing" and not usage.content_commitment:
        raise WrongPurpose("A signing certificate must allow nonRepudiation (content commitment).")
