"""The system's signing key for electronic COEs (Ed25519), and checking its signatures.

The private key lives in ``settings.ECOE_SIGNING_KEY`` (or the environment variable
``ZAIRYU_ECOE_SIGNING_KEY``) — a PEM file — and by default in ``DATA_DIR/keys/ecoe-signing.pem``.
It is created on first use, mode 0600 in a 0700 directory. Next to it, every public key that
ever signed is kept as ``ecoe-<key id>.pub`` so that records signed before a key rotation still
verify: a record names the key that signed it (``key_id``, the first 16 hex digits of the
SHA-256 of the raw public key).

What is signed (:func:`signed_message`) is the COE number, the SHA-256 of the exact PDF bytes,
the issue date and the verification code. Someone who changes the PDF changes the hash; someone
who changes a record in the database cannot sign the change without the private key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

KEY_FILE_NAME = "ecoe-signing.pem"


def key_path() -> Path:
    configured = getattr(settings, "ECOE_SIGNING_KEY", None) or os.environ.get("ZAIRYU_ECOE_SIGNING_KEY")
    if configured:
        return Path(configured)
    return Path(settings.DATA_DIR) / "keys" / KEY_FILE_NAME


def _key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first: use that one
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())


@cache
def _load(path: Path) -> tuple[Ed25519PrivateKey, str]:
    if not path.exists():
        _write_new_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} must hold an Ed25519 private key")
    key_id = _key_id(key.public_key())
    public_path = path.parent / f"ecoe-{key_id}.pub"
    if not public_path.exists():
        public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return key, key_id


def signing_key() -> tuple[Ed25519PrivateKey, str]:
    """The private key and its id (created on first use)."""
    return _load(key_path())


def public_key(key_id: str) -> Ed25519PublicKey | None:
    """The public key with this id: the current one, or one kept from before a rotation."""
    private, current = signing_key()
    if key_id == current:
        return private.public_key()
    if not key_id.isalnum():
        return None
    path = key_path().parent / f"ecoe-{key_id}.pub"
    if not path.exists():
        return None
    key = serialization.load_pem_public_key(path.read_bytes())
    return key if isinstance(key, Ed25519PublicKey) and _key_id(key) == key_id else None


def signed_message(*, coe_number: str, sha256: str, issued_on: dt.date, code: str) -> bytes:
    return f"zairyu-ecoe-v1|{coe_number}|{sha256}|{issued_on.isoformat()}|{code}".encode()


def sign(message: bytes) -> tuple[str, str]:
    """(base64 signature, key id)."""
    key, key_id = signing_key()
    return base64.b64encode(key.sign(message)).decode(), key_id


def verify(message: bytes, *, signature: str, key_id: str) -> bool:
    key = public_key(key_id)
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
