"""What the JPKI client software does between a web page and the card, shared by the CLI and the bridge.

The real client software (JPKI利用者ソフト) takes a server's challenge, asks the holder for the
PIN, has the card sign, and hands back the certificate with the signature. Both our command line
(``python -m zairyu.jpki.card sign``) and our local HTTP bridge do exactly that through
:func:`sign_challenge`, so they cannot disagree on limits or output format.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from zairyu.jpki.cardfile import PIN_TRY_LIMITS, CardFile
from zairyu.jpki.profile import PURPOSES, Purpose

#: A server challenge is a nonce: shorter than 128 bits is too guessable to be one.
MIN_CHALLENGE_BYTES = 16
#: Long enough for a nonce plus a document digest; short enough that nobody feeds the card a file.
MAX_CHALLENGE_BYTES = 1024


class BadChallenge(ValueError):
    """The challenge is not hex, or not of an acceptable length."""


def parse_challenge(challenge_hex: str) -> bytes:
    """Decode a hex challenge and check its length; raises :class:`BadChallenge` saying how to fix it."""
    if not isinstance(challenge_hex, str):
        raise BadChallenge("The challenge must be a hex string.")
    text = challenge_hex.strip()
    if len(text) > 2 * MAX_CHALLENGE_BYTES:
        raise BadChallenge(
            f"The challenge is too long: at most {MAX_CHALLENGE_BYTES} bytes ({2 * MAX_CHALLENGE_BYTES} hex digits)."
        )
    try:
        challenge = bytes.fromhex(text)
    except ValueError:
        raise BadChallenge("The challenge must be hexadecimal digits (0-9, a-f), two per byte.") from None
    if len(challenge) < MIN_CHALLENGE_BYTES:
        raise BadChallenge(
            f"The challenge is too short: at least {MIN_CHALLENGE_BYTES} bytes ({2 * MIN_CHALLENGE_BYTES} hex digits)."
        )
    return challenge


def sign_challenge(card: CardFile, *, which: Purpose, pin: str, challenge: bytes) -> dict[str, str]:
    """Have the card sign ``challenge``; return what a page posts to the server.

    ``{"certificate": PEM, "signature": base64}``. Card errors (wrong PIN, locked) propagate.
    """
    signature = card.sign(which=which, pin=pin, data=challenge)
    return {
        "certificate": card.certificate_pem(which),
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def card_status(card: CardFile) -> dict[str, Any]:
    """What a page may learn about the card without a PIN: its id and each certificate's state."""
    certificates: dict[str, Any] = {}
    for which in PURPOSES:
        certificate = card.certificate(which)
        certificates[which] = {
            "not_before": certificate.not_valid_before_utc.isoformat(),
            "not_after": certificate.not_valid_after_utc.isoformat(),
            "locked": card.is_locked(which),
            "remaining_tries": card.remaining_tries(which),
            "try_limit": PIN_TRY_LIMITS[which],
        }
    return {"card_id": card.card_id, "certificates": certificates}


def decode_signature(signature_b64: str) -> bytes:
    """Decode the base64 signature a page posts back (for servers and tests)."""
    try:
        return base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("The signature must be standard base64.") from None
