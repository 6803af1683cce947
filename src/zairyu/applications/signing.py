"""The card signature over an application (U1–U3 filing through software).

On the web, a filer whose identity is the My Number Card signs in with the card, and that session
submits. Software holds only an access token, so for those user categories the card itself must sign
the exact data submitted: :func:`signing_data` is what it signs, :func:`signature_problems` checks
it, and ``services.application_submit`` refuses a submission through a client without it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from zairyu.accounts.cards import MESSAGES, trust_store
from zairyu.accounts.models import User
from zairyu.applications.models import Application
from zairyu.applications.rules.results import Problem
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.jpki.verify import VerificationError, verify_signature

SIGNING_DOMAIN = b"zairyu-application-signature-v1\n"


@dataclass(frozen=True)
class CardSignature:
    """What the software sends: the base64 signature and the card's signing certificate (PEM)."""

    signature: str | None
    certificate: str | None


def card_signature_kinds() -> frozenset[str]:
    """The user categories whose identity is the card (user_categories.yaml: ``identity: card``)."""
    return frozenset(code for code, c in get_catalogue().user_categories.items() if c.identity == "card")


def signature_required(user: User, *, through_client: bool) -> bool:
    return through_client and user.kind in card_signature_kinds()


def signing_data(application: Application) -> tuple[bytes, dict[str, Any]]:
    """The canonical application data the card signs: what would be submitted, nothing else."""
    documents = sorted(
        application.documents.select_related("document")
        .filter(document__deleted_at__isnull=True)
        .values_list("role", "document_type", "document__sha256")
    )
    canonical = {
        "application": str(application.public_id),
        "procedure": application.procedure,
        "add_ons": sorted(application.add_ons),
        "status": application.status,
        "answers": application.answers,
        "receipt_methods": application.receipt_methods,
        "documents": [{"role": r, "document_type": t, "sha256": s} for r, t, s in documents],
    }
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return SIGNING_DOMAIN + body.encode("utf-8"), canonical


def _problem(code: str, message: Any, field: str) -> Problem:
    return Problem(code=code, message=message, field=field)


def signature_problems(
    application: Application, *, user: User, signed: CardSignature | None
) -> list[Problem]:
    """Empty if ``signed`` is the user's own card signing exactly this application's data; else one
    problem per wrong value (``field``: ``signature`` or ``certificate``)."""
    if signed is None or not signed.signature or not signed.certificate:
        return [
            _problem("missing", _("This is required."), "signature"),
            _problem("missing", _("This is required."), "certificate"),
        ]
    try:
        signature = base64.b64decode(signed.signature, validate=True)
    except (binascii.Error, ValueError):
        return [_problem("base64", _("Give base64 here."), "signature")]
    data, _canonical = signing_data(application)
    try:
        verified = verify_signature(
            certificate_pem=signed.certificate,
            signature=signature,
            data=data,
            purpose="signing",
            trust=trust_store(),
            at=clock.now(),
        )
    except VerificationError as exc:
        return [_problem(exc.code, MESSAGES.get(exc.code, MESSAGES["malformed"]), "signature")]
    if not user.card_id or verified.card_id != user.card_id:
        return [_problem("other_card", _("This is not the card registered to your account."), "certificate")]
    return []
