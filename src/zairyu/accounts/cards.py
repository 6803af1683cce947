"""The server side of the My Number Card (JPKI simulation): challenges and verification."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import ChallengePurpose
from zairyu.accounts.services import AccountError, CardIdentity, card_challenge_consume, card_challenge_issue
from zairyu.core import clock
from zairyu.jpki.verify import TrustStore, VerificationError, verify_signature

MESSAGES = {
    "malformed": _("The card's answer could not be read. Read the card again."),
    "untrusted": _("This certificate was not issued by the authority we trust. Use your My Number Card."),
    "expired": _("The certificate on this card has expired. Renew it at your municipality's office."),
    "not_yet_valid": _("The certificate on this card is not valid yet."),
    "revoked": _("The certificate on this card has been revoked. Contact your municipality's office."),
    "crl_stale": _("The card's revocation status cannot be checked right now. Try again later."),
    "wrong_purpose": _("The card answered with the wrong certificate. Follow the steps on this page again."),
    "bad_signature": _("The card's signature does not match. Read the card again."),
}


@lru_cache(maxsize=4)
def _trust_store(directory: str) -> TrustStore:
    return TrustStore.from_directory(Path(directory))


def trust_store() -> TrustStore:
    return _trust_store(str(settings.JPKI_DIR))


def challenge_for(request: HttpRequest, purpose: str) -> str:
    """Issue a challenge bound to this browser session (creating the session if needed)."""
    if not request.session.session_key:
        request.session.save()
    return card_challenge_issue(purpose=purpose, session_key=request.session.session_key or "")


def card_verify(*, request: HttpRequest, purpose: str, nonce: str, certificate_pem: str, signature: bytes):
    """Use the challenge and verify the card's signature over it. Raises :class:`AccountError`."""
    data = card_challenge_consume(nonce=nonce, purpose=purpose, session_key=request.session.session_key or "")
    try:
        return verify_signature(
            certificate_pem=certificate_pem,
            signature=signature,
            data=data,
            purpose="signing" if purpose == ChallengePurpose.REGISTER else "auth",
            trust=trust_store(),
            at=clock.now(),
        )
    except VerificationError as exc:
        raise AccountError(exc.code, MESSAGES.get(exc.code, MESSAGES["malformed"])) from exc


_MUNICIPALITY = re.compile(r"^(.+?[市区町村])")


def identity_from(verified) -> tuple[CardIdentity, dict[str, str]]:
    """The card's four items, and a first guess at prefecture and municipality from its address."""
    from zairyu.catalogue import get_catalogue

    items = verified.four_items
    not_after = verified.not_after
    valid_until = not_after.astimezone(clock.JST).date() if isinstance(not_after, dt.datetime) else not_after
    identity = CardIdentity(
        card_id=verified.card_id,
        name=items.name,
        sex=items.sex,
        date_of_birth=items.date_of_birth,
        address=items.address,
        valid_until=valid_until,
    )
    guess = {"prefecture": "", "municipality": "", "address_rest": items.address}
    for code, prefecture in get_catalogue().prefectures.items():
        if items.address.startswith(prefecture.name.ja):
            rest = items.address[len(prefecture.name.ja) :]
            guess["prefecture"] = code
            match = _MUNICIPALITY.match(rest)
            if match:
                guess["municipality"] = match.group(1)
                rest = rest[match.end() :]
            guess["address_rest"] = rest
            break
    return identity, guess
