"""A faithful simulation of JPKI (公的個人認証), the My Number Card's public-key infrastructure.

Users of categories U1–U3 prove who they are with the card's certificates. The real card and
J-LIS are out of reach here, so this package simulates both ends, without Django:

* :mod:`~zairyu.jpki.ca` — a demo CA standing for J-LIS: issues cards, revokes, publishes CRLs.
* :mod:`~zairyu.jpki.cardfile` — a card as a JSON file: two PIN-protected keys, retry counters.
* :mod:`~zairyu.jpki.card` — the resident's CLI, and a local HTTP bridge for web pages
  (:mod:`~zairyu.jpki.bridge`), like the real JPKI client software.
* :mod:`~zairyu.jpki.verify` — the server's check of a returned signature and certificate.
* :mod:`~zairyu.jpki.demo` — idempotent helpers for seeding a demo installation.

The certificate profile both sides follow is in :mod:`~zairyu.jpki.profile`.
"""

from zairyu.jpki.cardfile import CardError, CardFile, CardLocked, InvalidPinFormat, WrongPin
from zairyu.jpki.profile import BasicFourItems, Purpose
from zairyu.jpki.verify import TrustStore, VerificationError, VerifiedCertificate, verify_signature

__all__ = [
    "BasicFourItems",
    "CardError",
    "CardFile",
    "CardLocked",
    "InvalidPinFormat",
    "Purpose",
    "TrustStore",
    "VerificationError",
    "VerifiedCertificate",
    "WrongPin",
    "verify_signature",
]
