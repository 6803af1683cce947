"""Demo accounts and My Number Cards for ``make run`` (development only; refused in production).

Every run gives the same accounts, passwords and authenticator keys, so a person can follow the
README without reading the database. Cards are issued by the demo J-LIS authority in JPKI_DIR.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Case, When

from zairyu.accounts.constants import OfficerRole, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.core import clock

SIGNING_PIN = "ZAIRYU2026"
AUTH_PIN = "1234"


@dataclass(frozen=True)
class DemoLine:
    label: str
    text: str


def _totp_secret(seed: str) -> str:
    digest = hashlib.sha256(f"{settings.DEMO_SEED}:{seed}".encode()).digest()
    return base64.b32encode(digest[:20]).decode().rstrip("=")


def _account(*, auth_id: str, kind: str, password: str, totp: bool, **fields) -> User:
    user = User.objects.filter(username=auth_id).first() or User(username=auth_id)
    user.kind = kind
    user.state = UserState.ACTIVE
    user.is_active = True
    user.failed_logins = 0
    user.locked_until = None
    for name, value in fields.items():
        setattr(user, name, value)
    user.set_password(password)
    user.password_changed_at = clock.now()
    if totp:
        user.totp_secret = _totp_secret(auth_id)
        user.totp_confirmed_at = user.totp_confirmed_at or clock.now()
    user.save()
    return user


def _card_for(resident, directory: Path, ca) -> Path:
    from zairyu.catalogue import get_catalogue
    from zairyu.jpki.demo import issue_demo_card
    from zairyu.jpki.profile import BasicFourItems

    prefecture = get_catalogue().prefectures[resident.prefecture].name.ja
    holder = BasicFourItems(
        name=resident.roman_name,
        sex=resident.sex,
        date_of_birth=resident.date_of_birth,
        address=f"{prefecture}{resident.municipality}{resident.address_rest}",
    )
    today = clock.today()
    until = min(resident.card_expires_on, today + dt.timedelta(days=5 * 365))
    if until <= today:
        until = today + dt.timedelta(days=365)
    return issue_demo_card(
        ca,
        holder=holder,
        directory=directory,
        signing_pin=SIGNING_PIN,
        auth_pin=AUTH_PIN,
        card_id=f"DEMO{resident.card_number}",
        valid_until=until,
    )


_DEMO_OFFICERS = [
    ("DEMOADMIN001", "tokyo", OfficerRole.ADMINISTRATOR, "ADMIN TARO"),
    ("DEMOTOKYO001", "tokyo", OfficerRole.REVIEWER, "SATO HANAKO"),
    ("DEMOTOKYO002", "tokyo", OfficerRole.SUPERVISOR, "SUZUKI ICHIRO"),
    ("DEMOOSAKA001", "osaka", OfficerRole.REVIEWER, "TANAKA JIRO"),
]


def _officer_accounts(password: str) -> list[DemoLine]:
    """The immigration officers, one per office and role; the administrator may use the admin."""
    lines: list[DemoLine] = []
    for auth_id, office, role, name in _DEMO_OFFICERS:
        user = _account(
            auth_id=auth_id,
            kind=UserKind.OFFICER,
            password=password,
            totp=True,
            office=office,
            role=role,
            full_name=name,
            email=f"{auth_id.lower()}@officer.zairyu.example",
            is_staff=role == OfficerRole.ADMINISTRATOR,
            is_superuser=role == OfficerRole.ADMINISTRATOR,
        )
        lines.append(DemoLine(f"Officer ({office}, {role})", f"ID {auth_id}  TOTP key {user.totp_secret}"))
    return lines


def _scrivener_account(password: str) -> list[DemoLine]:
    """The U4 agent on the first valid certificate; the next ones are left free to register with."""
    from zairyu.registry.models import AgentCertificate

    certificates = list(
        AgentCertificate.objects.filter(
            holder_kind__in=["administrative_scrivener", "lawyer"],
            expires_on__gt=clock.today() + dt.timedelta(days=60),
            renewed_to__isnull=True,
        ).order_by("number")[:4]
    )
    if not certificates:
        return []
    scrivener_certificate = certificates[0]
    User.objects.filter(agent_certificate=scrivener_certificate).exclude(username="DEMOSCRIV001").update(
        agent_certificate=None, state=UserState.REMOVED
    )
    scrivener = _account(
        auth_id="DEMOSCRIV001",
        kind=UserKind.U4,
        password=password,
        totp=True,
        full_name=scrivener_certificate.holder_name,
        email="scrivener@demo.zairyu.example",
        agent_certificate=scrivener_certificate,
        valid_until=scrivener_certificate.expires_on,
        prefecture=scrivener_certificate.office_prefecture,
        municipality=scrivener_certificate.office_municipality,
        address_rest=scrivener_certificate.office_address_rest,
    )
    lines = [DemoLine("Scrivener (U4)", f"ID DEMOSCRIV001  TOTP key {scrivener.totp_secret}")]
    for certificate in certificates[1:]:
        if not User.objects.filter(agent_certificate=certificate).exclude(state=UserState.REMOVED).exists():
            lines.append(
                DemoLine(
                    "Register as U4 with",
                    f"number {certificate.number}  name {certificate.holder_name}  expiry {certificate.expires_on}",
                )
            )
    return lines


def _card_residents() -> list:
    """Four residents who can file for some weeks yet, to be given demo My Number Cards."""
    from zairyu.registry.models import Resident

    return list(
        Resident.objects.filter(
            stay_expires_on__gt=clock.today() + dt.timedelta(days=30),
            card_expires_on__gt=clock.today() + dt.timedelta(days=30),
            abroad_on_reentry=False,
        )
        .exclude(status="permanent_resident")
        # Tokyo first: the demo officers work at the Tokyo and Osaka offices, so what the demo
        # foreign national files can be taken up by a demo officer.
        .order_by(Case(When(prefecture="13", then=0), default=1), "card_number")[:4]
    )


def _resident_account(resident, path: Path, password: str) -> DemoLine:
    """The U1 foreign national signed up with the card at ``path``; whoever held that card is removed."""
    from zairyu.jpki.cardfile import CardFile

    card = CardFile.load(path)
    with transaction.atomic():
        User.objects.filter(card_id=card.card_id, kind=UserKind.U1).exclude(username="DEMORESID001").update(
            card_id="", state=UserState.REMOVED
        )
        _account(
            auth_id="DEMORESID001",
            kind=UserKind.U1,
            password=password,
            totp=False,
            full_name=resident.roman_name,
            sex=resident.sex,
            date_of_birth=resident.date_of_birth,
            prefecture=resident.prefecture,
            municipality=resident.municipality,
            address_rest=resident.address_rest,
            email="resident@demo.zairyu.example",
            card_id=card.card_id,
            valid_until=card.certificate("auth").not_valid_after_utc.astimezone(clock.JST).date(),
        )
    return DemoLine(
        "Foreign national (U1)",
        f"ID DEMORESID001, card {path}, residence card {resident.card_number} ({resident.status})",
    )


def _resident_cards(password: str, ca, cards_dir: Path) -> list[DemoLine]:
    """A card for each demo resident: the first has an account, the others are to register with."""
    lines: list[DemoLine] = []
    for index, resident in enumerate(_card_residents()):
        path = _card_for(resident, cards_dir, ca)
        if index == 0:
            lines.append(_resident_account(resident, path, password))
        else:
            lines.append(DemoLine("Card to register with", str(path)))
    return lines


def accounts_load_demo() -> list[DemoLine]:
    """Create (or reset) the demo accounts and cards; return what to print."""
    from zairyu.jpki.demo import ensure_demo_ca

    if settings.PRODUCTION:
        raise RuntimeError("demo accounts are never created in production")
    password = settings.DEMO_PASSWORD
    ca = ensure_demo_ca(settings.JPKI_DIR)
    cards_dir = Path(settings.JPKI_DIR) / "cards"
    cards_dir.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        lines = _officer_accounts(password)
        lines += _scrivener_account(password)
    lines += _resident_cards(password, ca, cards_dir)
    lines.append(DemoLine("Card PINs", f"signing {SIGNING_PIN}, user authentication {AUTH_PIN}"))
    return lines
