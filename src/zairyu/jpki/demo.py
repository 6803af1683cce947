"""Helpers that give a demo installation its CA and its residents their cards.

``make run`` calls these on every start, so both are idempotent: the CA is created once and its
CRL refreshed when it is about to go stale (a stale CRL makes the server refuse every card);
a card with a given id is issued once and its file reused afterwards.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from zairyu.jpki.ca import DEFAULT_CRL_LIFETIME, DemoCA
from zairyu.jpki.cardfile import CARD_FILE_SUFFIX, CardFile
from zairyu.jpki.profile import JST, BasicFourItems, normalize_card_id, require_aware, utc_now

#: Publish a fresh CRL on start when the current one has less than this left.
CRL_REFRESH_MARGIN = timedelta(days=3)


def ensure_demo_ca(directory: str | Path, *, now: datetime | None = None) -> DemoCA:
    """Load the demo CA in ``directory``, creating it if absent; keep its CRL fresh."""
    directory = Path(directory)
    current = require_aware(now, name="now") if now else utc_now()
    if not DemoCA.exists(directory):
        return DemoCA.create(directory, now=current)
    ca = DemoCA.load(directory)
    next_update = ca.crl_next_update()
    if next_update is None or next_update - current < CRL_REFRESH_MARGIN:
        ca.write_crl(now=current, next_update_in=DEFAULT_CRL_LIFETIME)
    return ca


def fifth_birthday_after(issued: date, born: date) -> date:
    """The holder's 5th birthday after ``issued``: when a real signing certificate expires.

    The first birthday strictly after the issue date counts as the 1st. A 29 February
    birthday falls on 28 February in common years.
    """
    year = issued.year + (1 if (born.month, born.day) <= (issued.month, issued.day) else 0) + 4
    try:
        return born.replace(year=year)
    except ValueError:  # 29 February in a common year
        return date(year, 2, 28)


def card_path(directory: str | Path, card_id: str) -> Path:
    """Where :func:`issue_demo_card` keeps the card with this id."""
    return Path(directory) / f"{normalize_card_id(card_id)}{CARD_FILE_SUFFIX}"


def issue_demo_card(
    ca: DemoCA,
    *,
    holder: BasicFourItems,
    directory: str | Path,
    signing_pin: str,
    auth_pin: str,
    card_id: str | None = None,
    valid_from: date | datetime | None = None,
    valid_until: date | datetime | None = None,
    now: datetime | None = None,
) -> Path:
    """Issue a card to ``holder`` and write ``<card_id>.card.json`` in ``directory``; return its path.

    Defaults follow real JPKI: valid from today (JST) until the 5th birthday after issue. With an
    explicit ``card_id`` that this CA already issued and whose file exists, nothing is issued
    and the existing path is returned, so seeding demo data can run again safely.
    """
    current = require_aware(now, name="now") if now else utc_now()
    if card_id is not None:
        existing = card_path(directory, card_id)
        if normalize_card_id(card_id) in ca.cards() and existing.is_file():
            return existing
    today = current.astimezone(JST).date()
    card: CardFile = ca.issue_card(
        holder=holder,
        card_id=card_id,
        valid_from=valid_from if valid_from is not None else today,
        valid_until=valid_until
        if valid_until is not None
        else fifth_birthday_after(today, holder.date_of_birth),
        signing_pin=signing_pin,
        auth_pin=auth_pin,
        now=current,
    )
    return card.save(card_path(directory, card.card_id))
