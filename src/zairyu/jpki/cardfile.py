"""A My Number Card's JPKI applet, simulated as a JSON file.

The real card keeps two private keys that never leave the chip; each is unlocked by its own PIN,
and the chip counts wrong PINs and locks itself (3 tries for the user-authentication PIN, 5 for
the signing PIN) until the holder visits the municipal office. The card file reproduces that
behaviour: the keys are stored as encrypted PKCS#8 with the PIN as the password, and the file
records wrong tries and the lock.

What a file cannot reproduce: a chip refuses to hand over its keys, a file does not. Anybody who
copies the file can try all 10,000 four-digit PINs offline, so the retry counter here is a
faithful *user experience*, not a security boundary. That is fine for a demo and is exactly why
real JPKI needs the card.

File format (``<card_id>.card.json``, written with mode 0600)::

    {
      "format": "zairyu-jpki-card/1",
      "card_id": "123456789012",
      "issuer": "CN=Zairyu Demo J-LIS CA,O=Zairyu Demo JPKI,C=JP",
      "issued_at": "2025-04-01T00:00:00+00:00",
      "certificates": {"signing": "-----BEGIN CERTIFICATE-----…", "auth": "…"},
      "private_keys": {"signing": "-----BEGIN ENCRYPTED PRIVATE KEY-----…", "auth": "…"},
      "pin_state": {"signing": {"failures": 0, "limit": 5, "locked": false},
                    "auth": {"failures": 0, "limit": 3, "locked": false}}
    }
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from zairyu.jpki._files import atomic_write
from zairyu.jpki.profile import PURPOSES, Purpose, normalize_card_id

CARD_FILE_FORMAT = "zairyu-jpki-card/1"
CARD_FILE_SUFFIX = ".card.json"

#: Wrong tries before the chip locks the key, as on the real card.
PIN_TRY_LIMITS: dict[Purpose, int] = {"signing": 5, "auth": 3}

_SIGNING_PIN = re.compile(r"^[A-Z0-9]{6,16}$")
_AUTH_PIN = re.compile(r"^[0-9]{4}$")

PURPOSE_LABELS: dict[Purpose, str] = {
    "signing": "signing certificate (署名用電子証明書)",
    "auth": "user-authentication certificate (利用者証明用電子証明書)",
}


class CardError(Exception):
    """Base class of everything the simulated card refuses to do."""


class InvalidPinFormat(CardError, ValueError):
    """The PIN has the wrong shape. Like the real client software, this costs no try."""


class WrongPin(CardError):
    """The PIN did not unlock the key; ``remaining`` tries are left before the card locks."""

    def __init__(self, which: Purpose, remaining: int) -> None:
        self.which = which
        self.remaining = remaining
        super().__init__(
            f"Wrong PIN for the {PURPOSE_LABELS[which]}: {remaining} "
            f"{'try' if remaining == 1 else 'tries'} left before the card locks it."
        )


class CardLocked(CardError):
    """Too many wrong PINs: the key is locked until the municipal office resets it."""

    def __init__(self, which: Purpose, *, just_now: bool = False) -> None:
        self.which = which
        limit = PIN_TRY_LIMITS[which]
        prefix = f"Wrong PIN {limit} times in a row: " if just_now else ""
        super().__init__(
            f"{prefix}the {PURPOSE_LABELS[which]} on this card is locked. "
            "Have the PIN reset at your municipal office "
            "(in this demo: `python -m zairyu.jpki.card unlock`)."
        )


class CardFileError(CardError, ValueError):
    """The card file cannot be read (missing, not JSON, or not a card file of our format)."""


def normalize_pin(which: Purpose, pin: str) -> str:
    """Normalise a PIN as typed (full-width digits, lower case, stray spaces) and check its shape.

    Signing PIN: 6 to 16 characters, upper-case letters A-Z and digits 0-9, with at least one of
    each (J-LIS asks holders to combine letters and digits). Authentication PIN: 4 digits.
    Raises :class:`InvalidPinFormat` with a message that says what a valid PIN looks like.
    """
    if which not in PURPOSES:
        raise ValueError(f"Unknown certificate {which!r}: use 'signing' or 'auth'.")
    if not isinstance(pin, str):
        raise InvalidPinFormat("The PIN must be text.")
    normalized = unicodedata.normalize("NFKC", pin).strip()
    if which == "auth":
        if not _AUTH_PIN.match(normalized):
            raise InvalidPinFormat("The user-authentication PIN is 4 digits (0-9).")
        return normalized
    normalized = normalized.upper()
    if (
        not _SIGNING_PIN.match(normalized)
        or not any(char.isdigit() for char in normalized)
        or not any(char.isalpha() for char in normalized)
    ):
        raise InvalidPinFormat(
            "The signing PIN is 6 to 16 characters of letters A-Z and digits 0-9, "
            "with at least one letter and one digit."
        )
    return normalized


@dataclass
class CardFile:
    """One simulated My Number Card: two certificates, two PIN-protected keys, two retry counters.

    A card loaded with :meth:`load` remembers its ``path`` and saves itself after every PIN
    attempt, so the retry counter survives across processes like the chip's does.
    """

    card_id: str
    issuer: str
    issued_at: datetime
    certificates: dict[Purpose, str]
    private_keys: dict[Purpose, str]
    failures: dict[Purpose, int] = field(default_factory=lambda: dict.fromkeys(PURPOSES, 0))
    path: Path | None = field(default=None, compare=False, repr=False)

    # --- creation and persistence ---------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        card_id: str,
        issuer: str,
        issued_at: datetime,
        certificates: dict[Purpose, x509.Certificate],
        keys: dict[Purpose, rsa.RSAPrivateKey],
        signing_pin: str,
        auth_pin: str,
    ) -> CardFile:
        """Build a card from freshly issued certificates, encrypting each key under its PIN."""
        pins: dict[Purpose, str] = {
            "signing": normalize_pin("signing", signing_pin),
            "auth": normalize_pin("auth", auth_pin),
        }
        return cls(
            card_id=normalize_card_id(card_id),
            issuer=issuer,
            issued_at=issued_at,
            certificates={
                which: certificates[which].public_bytes(serialization.Encoding.PEM).decode()
                for which in PURPOSES
            },
            private_keys={
                which: keys[which]
                .private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(pins[which].encode()),
                )
                .decode()
                for which in PURPOSES
            },
        )

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON document described in the module docstring."""
        return {
            "format": CARD_FILE_FORMAT,
            "card_id": self.card_id,
            "issuer": self.issuer,
            "issued_at": self.issued_at.isoformat(),
            "certificates": {which: self.certificates[which] for which in PURPOSES},
            "private_keys": {which: self.private_keys[which] for which in PURPOSES},
            "pin_state": {
                which: {
                    "failures": self.failures[which],
                    "limit": PIN_TRY_LIMITS[which],
                    "locked": self.is_locked(which),
                }
                for which in PURPOSES
            },
        }

    @classmethod
    def from_json_dict(cls, data: Any, *, path: Path | None = None) -> CardFile:
        """Parse a card document; raises :class:`CardFileError` saying what is wrong."""
        where = f" ({path})" if path else ""
        if not isinstance(data, dict) or data.get("format") != CARD_FILE_FORMAT:
            raise CardFileError(f"Not a Zairyu JPKI card file{where}: expected format {CARD_FILE_FORMAT!r}.")
        try:
            failures: dict[Purpose, int] = {}
            for which in PURPOSES:
                count = data["pin_state"][which]["failures"]
                if not isinstance(count, int) or count < 0:
                    raise ValueError(f"pin_state.{which}.failures must be a non-negative integer")
                # A file saying "locked" stays locked even if someone lowered the counter by hand.
                if data["pin_state"][which].get("locked"):
                    count = max(count, PIN_TRY_LIMITS[which])
                failures[which] = count
            return cls(
                card_id=normalize_card_id(data["card_id"]),
                issuer=str(data["issuer"]),
                issued_at=datetime.fromisoformat(data["issued_at"]),
                certificates={which: str(data["certificates"][which]) for which in PURPOSES},
                private_keys={which: str(data["private_keys"][which]) for which in PURPOSES},
                failures=failures,
                path=path,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CardFileError(f"The card file{where} is damaged: {exc}.") from exc

    @classmethod
    def load(cls, path: str | Path) -> CardFile:
        """Read a card file; the returned card saves its PIN counters back to the same path."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CardFileError(f"No card file at {path}.") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CardFileError(f"Cannot read the card file {path}: {exc}.") from exc
        return cls.from_json_dict(data, path=path)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the card (mode 0600: it holds keys) and remember where, for later PIN counters."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("This card has no file yet: pass the path to save it to.")
        body = json.dumps(self.to_json_dict(), ensure_ascii=False, indent=2) + "\n"
        atomic_write(target, body.encode("utf-8"), mode=0o600)
        self.path = target
        return target

    # --- reading ----------------------------------------------------------------------------------

    def certificate(self, which: Purpose) -> x509.Certificate:
        """The parsed certificate for ``which`` ("signing" or "auth")."""
        return x509.load_pem_x509_certificate(self.certificate_pem(which).encode())

    def certificate_pem(self, which: Purpose) -> str:
        """The certificate for ``which`` as PEM, as the client software hands it to a server."""
        _check_which(which)
        return self.certificates[which]

    def remaining_tries(self, which: Purpose) -> int:
        """How many wrong PINs the key still tolerates before it locks."""
        _check_which(which)
        return max(PIN_TRY_LIMITS[which] - self.failures[which], 0)

    def is_locked(self, which: Purpose) -> bool:
        """Whether too many wrong PINs have locked the key."""
        return self.remaining_tries(which) == 0

    # --- the chip's operations ------------------------------------------------------------------

    def sign(self, *, which: Purpose, pin: str, data: bytes) -> bytes:
        """Sign ``data`` with the key of ``which`` (RSA PKCS#1 v1.5, SHA-256), as the chip does.

        Raises :class:`CardLocked` if the key is locked (or this wrong PIN locks it),
        :class:`WrongPin` with the tries left otherwise, and :class:`InvalidPinFormat` — without
        counting a try — if the PIN cannot be a PIN at all.
        """
        _check_which(which)
        if not isinstance(data, bytes | bytearray):
            raise TypeError("data to sign must be bytes.")
        if self.is_locked(which):
            raise CardLocked(which)
        normalized = normalize_pin(which, pin)
        try:
            key = serialization.load_pem_private_key(self.private_keys[which].encode(), normalized.encode())
        except ValueError:
            self.failures[which] += 1
            self._persist()
            if self.is_locked(which):
                raise CardLocked(which, just_now=True) from None
            raise WrongPin(which, self.remaining_tries(which)) from None
        if not isinstance(key, rsa.RSAPrivateKey) or key.public_key().public_numbers() != (
            self.certificate(which).public_key().public_numbers()  # type: ignore[union-attr]
        ):
            raise CardFileError(f"The card file is damaged: the {which} key does not match its certificate.")
        if self.failures[which]:
            self.failures[which] = 0
            self._persist()
        return key.sign(bytes(data), padding.PKCS1v15(), hashes.SHA256())

    def unlock(self, which: Purpose) -> None:
        """Reset a locked key's counter — what the municipal office does after checking identity."""
        _check_which(which)
        self.failures[which] = 0
        self._persist()

    def _persist(self) -> None:
        if self.path is not None:
            self.save()


def _check_which(which: str) -> None:
    if which not in PURPOSES:
        raise ValueError(f"Unknown certificate {which!r}: use 'signing' or 'auth'.")
