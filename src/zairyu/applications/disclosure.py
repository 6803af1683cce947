"""The disclosure policy: which registry facts a filer may see about an applicant (ADR 0014).

The residence registry is the bureau's record of every mid- to long-term resident. Filing for
someone must not become a way to read that record: a residence-card number is printed on a card
that passes through many hands, and knowing one proves nothing. So the registry is shown (the
form pre-filled with the name, date of birth, address, card and stay facts; the stay's dates in
the timing messages) only where the link between the filer and the applicant is **proven**:

* ``own_card`` — a foreign national (U1) filing for themselves: the basic four items read from
  their My Number Card when they registered (name, sex, date of birth) are those of the record;
* ``organization_scope`` — a receiving organization's staff (U5–U7) filing for someone whose
  affiliation is in the organization's scope (its own people, or a mandating organization's);
* ``identity_matched`` — anybody else (a representative, a relative, a lawyer or scrivener)
  once the identity items they typed match the record: they have shown they hold the card, so
  the facts printed on it (the period of stay and its end) may be named back to them.

Everybody else types the identity items; the cross-check then answers only "matches" or "this
item does not match", never what the record holds, and repeated mismatches are blocked for the
filer and for the card number (:mod:`zairyu.applications.crosscheck_guard`).

Every surface — the web steps, the API, bulk files and their annotated workbooks, the PDFs —
pre-fills and words its messages through :func:`registry_disclosure` and :func:`prefill_answers`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from zairyu.accounts.constants import UserKind
from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.catalogue.formspec import role_field_id
from zairyu.catalogue.validators import roman_name_match_key
from zairyu.registry.models import Resident

OWN_CARD = "own_card"
ORGANIZATION_SCOPE = "organization_scope"
IDENTITY_MATCHED = "identity_matched"


@dataclass(frozen=True)
class Disclosure:
    """The answer of :func:`registry_disclosure`: why the record may be shown ("" when not)."""

    link: str = ""

    @property
    def prefill(self) -> bool:
        """The form may be filled from the record (a proven link before anything is typed)."""
        return self.link in (OWN_CARD, ORGANIZATION_SCOPE)

    @property
    def facts(self) -> bool:
        """The record's facts (the period of stay and its end) may be named in messages."""
        return bool(self.link)


NOTHING = Disclosure()


def is_own_record(user: Any, resident: Resident) -> bool:
    """A U1 user's card-verified name, sex and date of birth are those of ``resident``."""
    if user.kind != UserKind.U1 or not user.card_id or user.date_of_birth is None:
        return False
    return (
        user.date_of_birth == resident.date_of_birth
        and (user.sex or "") == (resident.sex or "")
        and roman_name_match_key(user.full_name) == roman_name_match_key(resident.roman_name)
    )


def registry_disclosure(
    user: Any,
    resident: Resident | None,
    *,
    identity_matched: bool = False,
    scope_ids: Collection[int] | None = None,
) -> Disclosure:
    """What ``user`` may see of ``resident``'s record. ``identity_matched``: the identity items
    the user typed match the record (the cross-check said so). ``scope_ids``: the primary keys
    of the organizations in the user's scope, when the caller has them already (bulk files)."""
    if resident is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.kind == UserKind.OFFICER:
        return Disclosure(ORGANIZATION_SCOPE)  # officers review against the record itself
    if is_own_record(user, resident):
        return Disclosure(OWN_CARD)
    if user.kind in ORGANIZATION_STAFF_KINDS and resident.affiliation_id is not None:
        if scope_ids is None:
            from zairyu.organizations import access as organization_access

            in_scope = organization_access.applicant_in_scope(user, resident)
        else:
            in_scope = resident.affiliation_id in scope_ids
        if in_scope:
            return Disclosure(ORGANIZATION_SCOPE)
    if identity_matched:
        return Disclosure(IDENTITY_MATCHED)
    return NOTHING


# What the record fills in, by the catalogue's role of the field (the card number is the key).
_FROM_RECORD: dict[str, Callable[[Resident], Any]] = {
    "identity.nationality": lambda r: r.nationality,
    "identity.roman_name": lambda r: r.roman_name,
    "applicant.kanji_name": lambda r: r.kanji_name,
    "identity.sex": lambda r: {"M": "male", "F": "female"}.get(r.sex, ""),
    "identity.date_of_birth": lambda r: r.date_of_birth.isoformat(),
    "identity.prefecture": lambda r: r.prefecture,
    "identity.municipality": lambda r: r.municipality,
    "applicant.address_street": lambda r: r.address_rest,
    "identity.card_expires_on": lambda r: r.card_expires_on.isoformat(),
    "stay.period": lambda r: r.period_of_stay,
    "stay.expires_on": lambda r: r.stay_expires_on.isoformat() if r.stay_expires_on else "",
}
REGISTRY_ROLES = frozenset({*_FROM_RECORD, "identity.card_number"})


def registry_field_ids() -> frozenset[str]:
    """The fields a draft may take from the record (where the policy allows pre-filling)."""
    return frozenset(role_field_id(role) for role in REGISTRY_ROLES)


def registry_answers(resident: Resident) -> dict[str, Any]:
    """The record as form answers (keyed by the fields of the catalogue's roles). Only for
    :func:`prefill_answers` and officers' tools: a filer's form is filled through
    :func:`prefill_answers`, which applies the policy."""
    return {role_field_id(role): read(resident) for role, read in _FROM_RECORD.items()}


def prefill_answers(disclosure: Disclosure, resident: Resident | None) -> dict[str, Any]:
    """What a new draft starts with: the record where the link is proven, otherwise only the
    card number the filer typed (as the registry writes it)."""
    if resident is None:
        return {}
    card = {role_field_id("identity.card_number"): resident.card_number}
    if disclosure.prefill:
        return {**registry_answers(resident), **card}
    return card


def applicant_label(disclosure: Disclosure, resident: Resident | None, typed: str = "") -> str:
    """The name a filer's lists show for an application: what the filer typed, or the record's
    name where the link is proven."""
    if typed:
        return typed[:200]
    if resident is not None and disclosure.prefill:
        return resident.roman_name[:200]
    return ""
