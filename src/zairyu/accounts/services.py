"""Accounts: registration, passwords, sign-in protection, profile changes, officers.

Every function here is a service in the house sense: keyword-only, atomic, guarded, audited.
E-mails go through the outbox with idempotency keys, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import (
    CARD_KINDS,
    RELATIONS_BY_KIND,
    ChallengePurpose,
    OfficerRole,
    TokenPurpose,
    UserKind,
    UserState,
)
from zairyu.accounts.models import CardChallenge, EmailToken, User
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.notifications.services import email_queue

AUTH_ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed safely
AUTH_ID_LENGTH = 12

TOKEN_LIFETIMES = {
    TokenPurpose.SET_PASSWORD: dt.timedelta(days=3),
    TokenPurpose.RESET_PASSWORD: dt.timedelta(hours=1),
    TokenPurpose.CONFIRM_EMAIL: dt.timedelta(days=1),
}


class AccountError(Exception):
    """A refused account action; ``message`` is for the user, ``code`` for tests and the API."""

    def __init__(self, code: str, message) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


# --- helpers ------------------------------------------------------------------------------------


def auth_id_generate() -> str:
    """A fresh authentication ID that no user has or had."""
    while True:
        candidate = "".join(secrets.choice(AUTH_ID_ALPHABET) for _ in range(AUTH_ID_LENGTH))
        if not User.objects.filter(username=candidate).exists():
            return candidate


def auth_id_normalize(value: str) -> str:
    """What the user typed → the stored form: half-width, upper case, no spaces or hyphens."""
    import unicodedata

    value = unicodedata.normalize("NFKC", value or "").upper()
    return "".join(ch for ch in value if ch.isalnum())


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _mail(user: User, kind: str, *, key: str | None = None, to: str | None = None, **context) -> None:
    email_queue(
        kind=kind,
        to=to or user.email,
        language=user.language,
        context={"user_name": user.full_name, "auth_id": user.auth_id_display, **context},
        key=key,
    )


def email_token_issue(
    *, user: User, purpose: str, new_email: str = "", lifetime: dt.timedelta | None = None
) -> str:
    """Create a single-use token and return the raw value (only its hash is stored).
    Earlier unused tokens of the same purpose stop working."""
    now = clock.now()
    EmailToken.objects.filter(user=user, purpose=purpose, used_at__isnull=True).update(used_at=now)
    raw = secrets.token_urlsafe(32)
    EmailToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=_hash_token(raw),
        new_email=new_email,
        expires_at=now + (lifetime or TOKEN_LIFETIMES[purpose]),
    )
    return raw


def email_token_peek(*, raw_token: str, purpose: str) -> EmailToken | None:
    """The valid token behind ``raw_token`` without using it (for showing the form)."""
    token = (
        EmailToken.objects.select_related("user")
        .filter(token_hash=_hash_token(raw_token or ""), purpose=purpose)
        .first()
    )
    if token is None or token.used_at is not None or token.expires_at <= clock.now():
        return None
    return token


def _token_consume(*, raw_token: str, purposes: tuple[str, ...]) -> EmailToken:
    token = (
        EmailToken.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=_hash_token(raw_token or ""), purpose__in=purposes)
        .first()
    )
    if token is None or token.used_at is not None or token.expires_at <= clock.now():
        raise AccountError(
            "link_invalid",
            _("This link has expired or has already been used. Ask for a new one from the sign-in page."),
        )
    token.used_at = clock.now()
    token.save(update_fields=["used_at"])
    return token


def _send_password_link(*, user: User, purpose: str, lifetime: dt.timedelta | None = None) -> None:
    raw = email_token_issue(user=user, purpose=purpose, lifetime=lifetime)
    link = _site_url(reverse("accounts:password-set", kwargs={"token": raw}))
    kind = "set_password_link" if purpose == TokenPurpose.SET_PASSWORD else "password_reset_link"
    _mail(user, kind, link=link, hours=int((lifetime or TOKEN_LIFETIMES[purpose]).total_seconds() // 3600))


# --- registration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardIdentity:
    """What a verified signing certificate tells us (see zairyu.jpki.verify)."""

    card_id: str
    name: str
    sex: str
    date_of_birth: dt.date
    address: str
    valid_until: dt.date


@transaction.atomic
def user_register_with_card(
    *,
    kind: str,
    identity: CardIdentity,
    email: str,
    language: str,
    relation: str = "",
    prefecture: str = "",
    municipality: str = "",
    address_rest: str = "",
    ip: str | None = None,
) -> User:
    """Register a U1–U3 user from a verified signing-certificate signature."""
    if kind not in CARD_KINDS:
        raise AccountError(
            "wrong_kind", _("This registration is for foreign nationals, representatives and relatives.")
        )
    if kind in RELATIONS_BY_KIND and relation not in RELATIONS_BY_KIND[kind]:
        raise AccountError("relation_required", _("Say how you stand to the applicant."))
    if identity.valid_until < clock.today():
        raise AccountError("card_expired", _("The certificate on this card has expired."))
    if User.objects.filter(card_id=identity.card_id, kind=kind).exclude(state=UserState.REMOVED).exists():
        raise AccountError(
            "card_already_registered",
            _(
                "This card is already registered in this user category. Sign in, or recover your ID by e-mail."
            ),
        )
    user = User(
        username=auth_id_generate(),
        kind=kind,
        state=UserState.PENDING,
        full_name=identity.name,
        sex=identity.sex,
        date_of_birth=identity.date_of_birth,
        prefecture=prefecture,
        municipality=municipality,
        address_rest=address_rest or identity.address,
        email=email,
        language=language,
        valid_until=identity.valid_until,
        card_id=identity.card_id,
        relation=relation if kind in RELATIONS_BY_KIND else "",
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent registration of the same card won
        raise AccountError(
            "card_already_registered", _("This card is already registered in this user category.")
        ) from exc
    audit_record(action="accounts.registered", actor=None, target=user, ip=ip, details={"kind": kind})
    _send_password_link(user=user, purpose=TokenPurpose.SET_PASSWORD)
    return user


@transaction.atomic
def user_register_agent(
    *,
    number: str,
    holder_name: str,
    expires_on: dt.date,
    email: str,
    language: str,
    ip: str | None = None,
) -> User:
    """Register a lawyer or scrivener (U4) with the 12-digit number of their agent certificate.
    The holder's name and the expiry date must match the registry, as proof of possession."""
    from zairyu.registry.models import AgentCertificate
    from zairyu.registry.validators import normalize_agent_certificate_number, normalize_roman_name

    refused = AccountError(
        "agent_mismatch",
        _(
            "No valid agent certificate matches this number, name and expiry date. Check them against your certificate."
        ),
    )
    certificate = (
        AgentCertificate.objects.select_for_update()
        .filter(number=normalize_agent_certificate_number(number))
        .first()
    )
    if certificate is None or certificate.holder_kind not in ("lawyer", "administrative_scrivener"):
        raise refused

    def same_name(a: str, b: str) -> bool:
        def norm(s: str) -> str:
            try:
                return normalize_roman_name(s)
            except ValidationError:
                return "".join(s.split())

        return norm(a) == norm(b)

    if not same_name(certificate.holder_name, holder_name) or certificate.expires_on != expires_on:
        raise refused
    if certificate.expires_on < clock.today():
        raise AccountError(
            "agent_expired", _("This agent certificate has expired. Register again once it is renewed.")
        )
    if User.objects.filter(agent_certificate=certificate).exclude(state=UserState.REMOVED).exists():
        raise AccountError(
            "agent_already_registered",
            _("An account already exists for this certificate. Sign in, or recover your ID by e-mail."),
        )
    user = User(
        username=auth_id_generate(),
        kind=UserKind.U4,
        state=UserState.PENDING,
        full_name=certificate.holder_name,
        prefecture=certificate.office_prefecture,
        municipality=certificate.office_municipality,
        address_rest=certificate.office_address_rest,
        email=email,
        language=language,
        valid_until=certificate.expires_on,
        agent_certificate=certificate,
    )
    user.set_unusable_password()
    user.save()
    audit_record(action="accounts.registered", target=user, ip=ip, details={"kind": UserKind.U4})
    _send_password_link(user=user, purpose=TokenPurpose.SET_PASSWORD)
    return user


@transaction.atomic
def user_register_window(*, full_name: str, email: str, language: str, ip: str | None = None) -> User:
    """Register a window applicant (U8) who receives the electronic COE by e-mail."""
    user = User(
        username=auth_id_generate(),
        kind=UserKind.U8,
        state=UserState.PENDING,
        full_name=full_name.strip(),
        email=email,
        language=language,
    )
    user.set_unusable_password()
    user.save()
    audit_record(action="accounts.registered", target=user, ip=ip, details={"kind": UserKind.U8})
    _send_password_link(user=user, purpose=TokenPurpose.SET_PASSWORD)
    return user


# --- passwords ----------------------------------------------------------------------------------


@transaction.atomic
def password_set_with_token(*, raw_token: str, password: str, ip: str | None = None) -> User:
    """Set the first password, or a new one after a reset. A reset also lifts a lock-out."""
    token = _token_consume(
        raw_token=raw_token, purposes=(TokenPurpose.SET_PASSWORD, TokenPurpose.RESET_PASSWORD)
    )
    user = User.objects.select_for_update().get(pk=token.user_id)
    if user.state in (UserState.REMOVED, UserState.SUSPENDED):
        raise AccountError("account_inactive", _("This account is not active. Contact the bureau."))
    validate_password(password, user)
    first = user.state == UserState.PENDING
    user.set_password(password)
    user.password_changed_at = clock.now()
    user.failed_logins = 0
    user.locked_until = None
    if first:
        user.state = UserState.ACTIVE
        if user.kind in (UserKind.U5, UserKind.U6, UserKind.U7):
            # Staff IDs are valid as long as their organization: the first password starts it.
            from zairyu.organizations.services import staff_first_password_set

            user.valid_until = staff_first_password_set(user=user)
    user.save()
    audit_record(
        action="accounts.password_set" if first else "accounts.password_reset", actor=user, target=user, ip=ip
    )
    if first:
        _mail(user, "registration_complete", key=f"registration_complete:{user.pk}")
    else:
        _mail(user, "password_changed", how="reset")
    return user


@transaction.atomic
def password_reset_request(*, auth_id: str, email: str, ip: str | None = None) -> None:
    """Send a reset link when the ID and e-mail match an account; say nothing either way."""
    user = (
        User.objects.select_for_update()
        .filter(username=auth_id_normalize(auth_id), email__iexact=email.strip())
        .exclude(state__in=[UserState.REMOVED, UserState.SUSPENDED])
        .first()
    )
    audit_record(
        action="accounts.password_reset_requested", target=user, ip=ip, details={"matched": bool(user)}
    )
    if user is None:
        return
    purpose = TokenPurpose.SET_PASSWORD if user.state == UserState.PENDING else TokenPurpose.RESET_PASSWORD
    _send_password_link(user=user, purpose=purpose)


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, ip: str | None = None) -> User:
    """Change the password; the caller keeps its session (update_session_auth_hash), every other
    session of the user ends because Django's session hash follows the password."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        raise AccountError("wrong_password", _("The current password is not correct."))
    validate_password(new_password, user)
    user.set_password(new_password)
    user.password_changed_at = clock.now()
    user.save()
    audit_record(action="accounts.password_changed", actor=user, target=user, ip=ip)
    _mail(user, "password_changed", how="change")
    return user


# --- sign-in ------------------------------------------------------------------------------------


class SignInRefused(AccountError):
    pass


GENERIC_REFUSAL = _(
    "The ID, password or card did not match, or the account cannot be used now. Check and try again; "
    "after 5 failures the account is locked for 24 hours."
)


def sign_in_verify(*, auth_id: str, password: str, card_id: str | None, ip: str | None = None) -> User:
    """Check ID + password (+ the card, for U1–U3). Every refusal is the same :class:`SignInRefused`
    so that nothing can be learnt about which IDs exist, are locked or need a card.

    ``card_id``: the card that signed this sign-in's challenge, or ``None`` for a password-only
    sign-in (U4–U8 and officers; U1–U3 only to follow up after their card certificate expired).
    The failure count and the lock are committed even though the sign-in is refused.
    """
    with transaction.atomic():
        user = _sign_in_check(auth_id=auth_id, password=password, card_id=card_id, ip=ip)
    if user is None:
        raise SignInRefused("sign_in_refused", GENERIC_REFUSAL)
    return user


def _sign_in_check(*, auth_id: str, password: str, card_id: str | None, ip: str | None) -> User | None:
    user = User.objects.select_for_update().filter(username=auth_id_normalize(auth_id)).first()
    if user is None:
        # Spend the time a real check takes, so timing tells nothing either.
        User().set_password(password)
        audit_record(action="accounts.sign_in_failed", ip=ip, details={"reason": "unknown_id"})
        return None
    now = clock.now()
    if user.is_locked():
        audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details={"reason": "locked"})
        return None
    if not user.check_password(password):
        _count_failed_attempt(user, ip=ip, reason="wrong_password")
        return None
    refusal = None
    if user.state != UserState.ACTIVE:
        refusal = user.state
    elif user.kind in CARD_KINDS:
        card_valid = user.valid_until is not None and user.valid_until >= clock.today()
        if card_id is None and card_valid:
            refusal = "card_required"
        elif card_id is not None and card_id != user.card_id:
            refusal = "other_card"
    elif card_id is not None:
        refusal = "card_not_expected"
    if refusal:
        audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details={"reason": refusal})
        return None
    user.failed_logins = 0
    user.last_login = now
    user.save(update_fields=["failed_logins", "last_login"])
    audit_record(
        action="accounts.signed_in", actor=user, target=user, ip=ip, details={"card": card_id is not None}
    )
    return user


def _count_failed_attempt(user: User, *, ip: str | None, reason: str) -> None:
    """One more failure (wrong password or code); the fifth locks the account for 24 hours."""
    user.failed_logins += 1
    details = {"reason": reason, "failures": user.failed_logins}
    if user.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
        user.locked_until = clock.now() + dt.timedelta(hours=settings.LOGIN_LOCK_HOURS)
        user.failed_logins = 0
        audit_record(action="accounts.locked", target=user, ip=ip)
        _mail(
            user,
            "account_locked",
            key=f"locked:{user.pk}:{user.locked_until.isoformat()}",
            until=user.locked_until,
        )
    user.save(update_fields=["failed_logins", "locked_until"])
    audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details=details)


@transaction.atomic
def user_unlock(*, user: User, actor: User, ip: str | None = None) -> None:
    User.objects.filter(pk=user.pk).update(locked_until=None, failed_logins=0)
    audit_record(action="accounts.unlocked", actor=actor, target=user, ip=ip)


# --- second factor ------------------------------------------------------------------------------


def mfa_required(user: User) -> bool:
    return user.kind in settings.MFA_REQUIRED_KINDS


@transaction.atomic
def totp_begin(*, user: User) -> str:
    """A new secret for enrolment (not active until confirmed with a code)."""
    import pyotp

    secret = pyotp.random_base32()
    User.objects.filter(pk=user.pk).update(totp_secret=secret, totp_confirmed_at=None, totp_last_step=0)
    user.totp_secret, user.totp_confirmed_at = secret, None
    return secret


def _totp_step_if_valid(user: User, code: str) -> int | None:
    import pyotp

    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if not user.totp_secret or len(code) != 6:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    now = clock.now().timestamp()
    for drift in (0, -1, 1):
        at = now + drift * totp.interval
        step = int(at // totp.interval)
        if step > user.totp_last_step and secrets.compare_digest(totp.at(at), code):
            return step
    return None


@transaction.atomic
def totp_confirm(*, user: User, code: str, ip: str | None = None) -> bool:
    user = User.objects.select_for_update().get(pk=user.pk)
    step = _totp_step_if_valid(user, code)
    if step is None:
        return False
    user.totp_confirmed_at, user.totp_last_step = clock.now(), step
    user.save(update_fields=["totp_confirmed_at", "totp_last_step"])
    audit_record(action="accounts.totp_enrolled", actor=user, target=user, ip=ip)
    return True


@transaction.atomic
def totp_verify(*, user: User, code: str, ip: str | None = None) -> bool:
    """Check a sign-in code; a code is accepted once (replay refused). Failures count towards
    the same lock-out as wrong passwords."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return False
    step = _totp_step_if_valid(user, code)
    if step is None:
        _count_failed_attempt(user, ip=ip, reason="wrong_code")
        return False
    user.totp_last_step = step
    user.failed_logins = 0
    user.save(update_fields=["totp_last_step", "failed_logins"])
    return True


# --- card challenges ----------------------------------------------------------------------------


@transaction.atomic
def card_challenge_issue(*, purpose: str, session_key: str) -> str:
    """A fresh nonce for the card to sign, valid for a few minutes, once, in this session."""
    if purpose not in ChallengePurpose.values:
        raise ValueError(purpose)
    now = clock.now()
    CardChallenge.objects.filter(expires_at__lt=now - dt.timedelta(hours=1)).delete()
    nonce = secrets.token_hex(32)
    CardChallenge.objects.create(
        purpose=purpose,
        nonce=nonce,
        session_key=session_key,
        expires_at=now + dt.timedelta(seconds=settings.CARD_CHALLENGE_SECONDS),
    )
    return nonce


@transaction.atomic
def card_challenge_consume(*, nonce: str, purpose: str, session_key: str) -> bytes:
    """Use a challenge; refuse it when unknown, expired, for another purpose or session, or used."""
    challenge = CardChallenge.objects.select_for_update().filter(nonce=nonce or "").first()
    if (
        challenge is None
        or challenge.used_at is not None
        or challenge.expires_at <= clock.now()
        or challenge.purpose != purpose
        or not secrets.compare_digest(challenge.session_key, session_key or "")
    ):
        raise AccountError(
            "challenge_invalid", _("The card's answer is stale or was used already. Read the card again.")
        )
    challenge.used_at = clock.now()
    challenge.save(update_fields=["used_at"])
    return challenge_bytes(nonce=nonce, purpose=purpose)


def challenge_bytes(*, nonce: str, purpose: str) -> bytes:
    """What the card signs: the purpose is part of it, so a sign-in answer cannot register.
    The page hands it to the card program in hex (``--challenge``)."""
    return f"zairyu-jpki:{purpose}:{nonce}".encode()


# --- profile ------------------------------------------------------------------------------------


@transaction.atomic
def email_change_request(*, user: User, new_email: str, ip: str | None = None) -> None:
    raw = email_token_issue(user=user, purpose=TokenPurpose.CONFIRM_EMAIL, new_email=new_email)
    link = _site_url(reverse("accounts:email-confirm", kwargs={"token": raw}))
    _mail(user, "email_change_confirm", to=new_email, link=link)
    audit_record(action="accounts.email_change_requested", actor=user, target=user, ip=ip)


@transaction.atomic
def email_change_confirm(*, raw_token: str, ip: str | None = None) -> User:
    token = _token_consume(raw_token=raw_token, purposes=(TokenPurpose.CONFIRM_EMAIL,))
    user = User.objects.select_for_update().get(pk=token.user_id)
    old_email = user.email
    user.email = token.new_email
    user.save(update_fields=["email"])
    audit_record(action="accounts.email_changed", actor=user, target=user, ip=ip)
    for address in {old_email, user.email}:
        _mail(user, "email_changed", to=address, key=f"email_changed:{token.pk}:{address}")
    return user


@transaction.atomic
def address_change(
    *, user: User, prefecture: str, municipality: str, address_rest: str, ip: str | None = None
) -> User:
    if user.kind not in (UserKind.U1, UserKind.U2, UserKind.U3, UserKind.U4):
        raise AccountError(
            "not_allowed", _("Organization staff change their details by a change notification.")
        )
    User.objects.filter(pk=user.pk).update(
        prefecture=prefecture, municipality=municipality.strip(), address_rest=address_rest.strip()
    )
    audit_record(action="accounts.address_changed", actor=user, target=user, ip=ip)
    user.refresh_from_db()
    return user


@transaction.atomic
def user_remove(*, user: User, actor: User | None, reason: str, ip: str | None = None) -> None:
    """Remove an account (at the user's request or an officer's). The ID is never reused."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.state == UserState.REMOVED:
        return
    user.state = UserState.REMOVED
    user.removed_at = clock.now()
    user.is_active = False
    user.set_unusable_password()
    user.save()
    audit_record(action="accounts.removed", actor=actor, target=user, ip=ip, details={"reason": reason})
    _mail(user, "account_removed", key=f"removed:{user.pk}", reason=reason)


@transaction.atomic
def user_suspend(*, user: User, actor: User, ip: str | None = None) -> None:
    updated = User.objects.filter(pk=user.pk, state=UserState.ACTIVE).update(state=UserState.SUSPENDED)
    if updated:
        audit_record(action="accounts.suspended", actor=actor, target=user, ip=ip)
        _mail(user, "account_suspended", key=f"suspended:{user.pk}:{clock.now().isoformat()}")


@transaction.atomic
def user_resume(*, user: User, actor: User, ip: str | None = None) -> None:
    updated = User.objects.filter(pk=user.pk, state=UserState.SUSPENDED).update(state=UserState.ACTIVE)
    if updated:
        audit_record(action="accounts.resumed", actor=actor, target=user, ip=ip)
        _mail(user, "account_resumed", key=f"resumed:{user.pk}:{clock.now().isoformat()}")


@transaction.atomic
def auth_id_recover(*, email: str, ip: str | None = None) -> None:
    """E-mail the IDs of the active accounts at this address; the page says the same either way."""
    users = list(
        User.objects.filter(email__iexact=email.strip())
        .exclude(state=UserState.REMOVED)
        .exclude(kind=UserKind.OFFICER)
        .order_by("date_joined")
    )
    audit_record(action="accounts.id_recovery_requested", ip=ip, details={"matched": len(users)})
    for user in users:
        _mail(user, "auth_id_recovery")


# --- officers -----------------------------------------------------------------------------------


@transaction.atomic
def officer_create(
    *, full_name: str, email: str, office: str, role: str, actor: User | None = None, language: str = "ja"
) -> User:
    from zairyu.catalogue import get_catalogue

    if office not in get_catalogue().offices:
        raise AccountError("unknown_office", _("Unknown office."))
    if role not in OfficerRole.values:
        raise AccountError("unknown_role", _("Unknown role."))
    user = User(
        username=auth_id_generate(),
        kind=UserKind.OFFICER,
        state=UserState.PENDING,
        full_name=full_name,
        email=email,
        language=language,
        office=office,
        role=role,
        is_staff=role == OfficerRole.ADMINISTRATOR,
        is_superuser=role == OfficerRole.ADMINISTRATOR,
    )
    user.set_unusable_password()
    user.save()
    audit_record(
        action="accounts.officer_created", actor=actor, target=user, details={"office": office, "role": role}
    )
    _send_password_link(user=user, purpose=TokenPurpose.SET_PASSWORD)
    return user


# --- periodic -----------------------------------------------------------------------------------


def expiry_reminders_send() -> int:
    """Remind U1–U3 of their card certificate and U4 of their agent certificate expiring in 30
    and 7 days. Keyed, so running twice (or catching up after downtime) mails once."""
    today = clock.today()
    sent = 0
    for days in settings.EXPIRY_REMINDER_DAYS:
        users = User.objects.filter(
            state=UserState.ACTIVE,
            kind__in=[UserKind.U1, UserKind.U2, UserKind.U3, UserKind.U4],
            valid_until__gt=today,
            valid_until__lte=today + dt.timedelta(days=days),
        )
        for user in users:
            kind = "agent_certificate_expiring" if user.kind == UserKind.U4 else "card_expiring"
            with transaction.atomic():
                _mail(
                    user,
                    kind,
                    key=f"{kind}:{user.pk}:{user.valid_until}:{days}",
                    until=user.valid_until,
                    days=days,
                )
            sent += 1
    return sent


def agent_validity_refresh() -> int:
    """Follow renewals in the registry: a renewal is a new certificate that the old one's
    ``renewed_to`` points at; the account moves to the newest one and is valid as long as it."""
    updated = 0
    users = (
        User.objects.filter(kind=UserKind.U4, agent_certificate__isnull=False)
        .exclude(state=UserState.REMOVED)
        .select_related("agent_certificate")
    )
    for user in users:
        certificate = user.agent_certificate
        seen = {certificate.pk}
        while certificate.renewed_to_id is not None and certificate.renewed_to_id not in seen:
            certificate = certificate.renewed_to
            seen.add(certificate.pk)
        if certificate.pk != user.agent_certificate_id or certificate.expires_on != user.valid_until:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(
                    agent_certificate=certificate, valid_until=certificate.expires_on
                )
                audit_record(
                    action="accounts.validity_extended",
                    target=user,
                    details={"certificate": certificate.pk, "until": certificate.expires_on.isoformat()},
                )
            updated += 1
    return updated


def password_expiry_warnings_send() -> int:
    """When a maximum password age is configured (off by default, as NIST SP 800-63B advises),
    warn 30 and 7 days before the password expires."""
    max_age = settings.PASSWORD_MAX_AGE_DAYS
    if not max_age:
        return 0
    now = clock.now()
    sent = 0
    for days in (30, 7):
        limit_low = now - dt.timedelta(days=max_age - days + 1)
        limit_high = now - dt.timedelta(days=max_age - days)
        for user in User.objects.filter(
            state=UserState.ACTIVE, password_changed_at__gt=limit_low, password_changed_at__lte=limit_high
        ):
            expires = (user.password_changed_at + dt.timedelta(days=max_age)).date()
            with transaction.atomic():
                _mail(
                    user,
                    "password_expiring",
                    key=f"password_expiring:{user.pk}:{expires}:{days}",
                    until=expires,
                    days=days,
                )
            sent += 1
    return sent
