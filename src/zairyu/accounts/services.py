"""Accounts: registration, passwords, sign-in protection, profile changes, officers.

Every function here is a service in the house sense: keyword-only, atomic, guarded, audited.
E-mails go through the outbox with idempotency keys, in the user's language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
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
from zairyu.accounts.models import CardChallenge, EmailToken, User, WebAuthnCredential
from zairyu.accounts.passkeys import (
    PasskeyResponseInvalid,
    RelyingParty,
    authentication_options_json,
    challenge_of,
    counter_lags,
    parse_credential,
    registration_options_json,
    verify_authentication,
    verify_registration,
)
from zairyu.accounts.signals import first_password_set
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Message
from zairyu.notifications.services import email_queue

AUTH_ID_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed safely
AUTH_ID_LENGTH = 12

TOKEN_LIFETIMES: dict[str, dt.timedelta] = {
    TokenPurpose.SET_PASSWORD: dt.timedelta(days=3),
    TokenPurpose.RESET_PASSWORD: dt.timedelta(hours=1),
    TokenPurpose.CONFIRM_EMAIL: dt.timedelta(days=1),
}


class AccountError(Exception):
    """A refused account action; ``message`` is for the user, ``code`` for tests and the API."""

    def __init__(self, code: str, message: Message) -> None:
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


def _mail(user: User, kind: str, *, key: str | None = None, to: str | None = None, **context: Any) -> None:
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
    if kind in RELATIONS_BY_KIND and relation not in RELATIONS_BY_KIND[UserKind(kind)]:
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
    from zairyu.catalogue.validators import normalize_agent_certificate_number, normalize_roman_name
    from zairyu.registry.models import AgentCertificate

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
        # Staff IDs are valid as long as their organization: organizations sets ``valid_until``.
        first_password_set.send(sender=User, user=user)
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


def sign_in_verify(
    *,
    auth_id: str,
    password: str,
    card_id: str | None,
    ip: str | None = None,
    officer_side: bool | None = None,
) -> User:
    """Check ID + password (+ the card, for U1–U3). Every refusal is the same :class:`SignInRefused`
    so that nothing can be learnt about which IDs exist, are locked or need a card.

    ``card_id``: the card that signed this sign-in's challenge, or ``None`` for a password-only
    sign-in (U4–U8 and officers; U1–U3 only to follow up after their card certificate expired).
    ``officer_side``: when given, the page signed in on (officers' or applicants'); the other
    side's accounts are refused like anything else.
    The failure count and the lock are committed even though the sign-in is refused. When a second
    factor follows (:func:`second_factor_needed`), the count is *not* reset here: only a completed
    sign-in resets it, so a stolen password does not buy endless guesses at the code.
    """
    with transaction.atomic():
        user = _sign_in_check(
            auth_id=auth_id, password=password, card_id=card_id, ip=ip, officer_side=officer_side
        )
    if user is None:
        raise SignInRefused("sign_in_refused", GENERIC_REFUSAL)
    return user


def _spend_a_password_hash(password: str) -> None:
    """The work of one password check with the configured hasher and its parameters (Argon2 in
    production), for refusals that need no check: unknown IDs, locked accounts, accounts without
    a usable password. Every refusal then costs the same, so timing does not tell them apart."""
    make_password(password)


def _sign_in_check(
    *, auth_id: str, password: str, card_id: str | None, ip: str | None, officer_side: bool | None
) -> User | None:
    user = User.objects.select_for_update().filter(username=auth_id_normalize(auth_id)).first()
    if user is None or user.is_locked() or not user.has_usable_password():
        _spend_a_password_hash(password)
        if user is None:
            reason = "unknown_id"
        elif user.is_locked():
            reason = "locked"
        else:
            reason = user.state if user.state != UserState.ACTIVE else "no_password"
        audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details={"reason": reason})
        return None
    if not user.check_password(password):
        _count_failed_attempt(user, ip=ip, reason="wrong_password")
        return None
    refusal = None
    if user.state != UserState.ACTIVE:
        refusal = user.state
    elif officer_side is not None and user.is_officer != officer_side:
        refusal = "other_side"
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
    if second_factor_needed(user):
        audit_record(
            action="accounts.password_accepted",
            actor=user,
            target=user,
            ip=ip,
            details={"card": card_id is not None},
        )
        return user
    _sign_in_completed(user, ip=ip, details={"card": card_id is not None})
    return user


def _sign_in_completed(user: User, *, ip: str | None, details: dict[str, Any]) -> None:
    """The whole sign-in succeeded (password, card where needed, second factor where needed):
    only now is the failure count reset."""
    user.failed_logins = 0
    user.last_login = clock.now()
    user.save(update_fields=["failed_logins", "last_login"])
    audit_record(action="accounts.signed_in", actor=user, target=user, ip=ip, details=details)


def _count_failed_attempt(user: User, *, ip: str | None, reason: str) -> None:
    """One more failure (wrong password, code or passkey); the fifth locks the account for 24 hours."""
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


def has_passkeys(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user).exists()


def second_factor_needed(user: User) -> bool:
    """After the password: a second step when the category requires one, or when the user set
    one up (an authenticator app or a passkey)."""
    return user.has_totp or mfa_required(user) or has_passkeys(user)


@transaction.atomic
def totp_begin(*, user: User, renew: bool = False, ip: str | None = None) -> str:
    """The secret for enrolment (not active until confirmed with a code). A pending secret is
    kept — through reloads, wrong codes and a new sign-in — so that a key already scanned into
    an app keeps working; ``renew`` (the user asked for a new key) replaces it."""
    import pyotp

    user = User.objects.select_for_update().get(pk=user.pk)
    if user.has_totp:
        raise AccountError("totp_active", _("An authenticator app is already set up for this account."))
    if user.totp_secret and not renew:
        return user.totp_secret
    secret = pyotp.random_base32()
    renewed = bool(user.totp_secret)
    User.objects.filter(pk=user.pk).update(totp_secret=secret, totp_confirmed_at=None, totp_last_step=0)
    if renewed:
        audit_record(action="accounts.totp_key_renewed", actor=user, target=user, ip=ip)
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
    """Enrolment at sign-in: the first right code activates the app and completes the sign-in."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return False
    step = _totp_step_if_valid(user, code)
    if step is None:
        return False
    user.totp_confirmed_at, user.totp_last_step = clock.now(), step
    user.save(update_fields=["totp_confirmed_at", "totp_last_step"])
    audit_record(action="accounts.totp_enrolled", actor=user, target=user, ip=ip)
    _sign_in_completed(user, ip=ip, details={"second_factor": "totp"})
    return True


@transaction.atomic
def totp_verify(*, user: User, code: str, ip: str | None = None) -> bool:
    """Check a sign-in code; a code is accepted once (replay refused). Failures count towards
    the same lock-out as wrong passwords, and the count is reset only here, when the sign-in
    completes."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details={"reason": "locked"})
        return False
    step = _totp_step_if_valid(user, code)
    if step is None:
        _count_failed_attempt(user, ip=ip, reason="wrong_code")
        return False
    user.totp_last_step = step
    user.save(update_fields=["totp_last_step"])
    _sign_in_completed(user, ip=ip, details={"second_factor": "totp"})
    return True


# --- passkeys (WebAuthn, ADR 0012) --------------------------------------------------------------


def _passkey_challenge_issue(*, purpose: str, session_key: str) -> bytes:
    nonce = _challenge_issue(
        purpose=purpose, session_key=session_key, seconds=settings.WEBAUTHN_CHALLENGE_SECONDS
    )
    return bytes.fromhex(nonce)


def _passkey_challenge_use(*, credential: dict[str, Any], purpose: str, session_key: str) -> bytes:
    """The challenge the answer is for, used up now; refused when unknown, expired, used, for
    another purpose or issued to another session."""
    challenge = challenge_of(credential)
    _challenge_use(
        nonce=challenge.hex(),
        purpose=purpose,
        session_key=session_key,
        message=_("The passkey's answer is stale or was used already. Try again."),
    )
    return challenge


def _credential_pairs(user: User) -> list[tuple[str, list[str]]]:
    return [
        (credential_id, transports or [])
        for credential_id, transports in WebAuthnCredential.objects.filter(user=user).values_list(
            "credential_id", "transports"
        )
    ]


@transaction.atomic
def passkey_registration_begin(*, user: User, rp: RelyingParty, session_key: str) -> str:
    """Options for ``navigator.credentials.create()`` (JSON), with a fresh challenge bound to this
    session. Keys the user already has are excluded, so one authenticator is not added twice."""
    challenge = _passkey_challenge_issue(purpose=ChallengePurpose.PASSKEY_REGISTER, session_key=session_key)
    return registration_options_json(
        rp=rp,
        challenge=challenge,
        username=user.auth_id_display,
        display_name=user.full_name,
        existing=_credential_pairs(user),
    )


PASSKEY_LIMIT = 10


def passkey_register(
    *, user: User, name: str, credential_json: str, rp: RelyingParty, session_key: str, ip: str | None = None
) -> WebAuthnCredential:
    """Verify the browser's answer and keep the new passkey (its public key only)."""
    refused = AccountError(
        "passkey_invalid", _("The passkey could not be added. Try again, or use another passkey.")
    )
    try:
        credential = parse_credential(credential_json)
        try:
            # Used up in its own transaction: a refused answer cannot be tried again with it.
            challenge = _passkey_challenge_use(
                credential=credential, purpose=ChallengePurpose.PASSKEY_REGISTER, session_key=session_key
            )
        except AccountError:
            raise PasskeyResponseInvalid("challenge") from None
        new = verify_registration(rp=rp, credential=credential, challenge=challenge)
    except PasskeyResponseInvalid as exc:
        audit_record(
            action="accounts.passkey_refused",
            actor=user,
            target=user,
            ip=ip,
            details={"step": "register", "reason": exc.code},
        )
        raise refused from None
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        if WebAuthnCredential.objects.filter(credential_id=new.credential_id).exists():
            raise AccountError("passkey_exists", _("This passkey is already registered."))
        if WebAuthnCredential.objects.filter(user=user).count() >= PASSKEY_LIMIT:
            raise AccountError(
                "passkey_limit", _("You have 10 passkeys already. Remove one before adding another.")
            )
        passkey = WebAuthnCredential.objects.create(
            user=user,
            name=name.strip()[:64],
            credential_id=new.credential_id,
            public_key=new.public_key,
            sign_count=new.sign_count,
            transports=new.transports,
            aaguid=new.aaguid,
        )
        audit_record(
            action="accounts.passkey_registered",
            actor=user,
            target=user,
            ip=ip,
            details={"passkey": passkey.pk, "aaguid": new.aaguid},
        )
        _mail(user, "passkey_added", key=f"passkey_added:{passkey.pk}", name=passkey.name)
    return passkey


@transaction.atomic
def passkey_sign_in_begin(*, user: User, rp: RelyingParty, session_key: str) -> str:
    """Options for ``navigator.credentials.get()`` at the second step, for this user's keys."""
    challenge = _passkey_challenge_issue(purpose=ChallengePurpose.PASSKEY_SIGN_IN, session_key=session_key)
    return authentication_options_json(rp=rp, challenge=challenge, credentials=_credential_pairs(user))


@transaction.atomic
def passkey_sign_in(
    *, user: User, credential_json: str, rp: RelyingParty, session_key: str, ip: str | None = None
) -> bool:
    """The second step with a passkey instead of a code. A refusal counts like a wrong code (and
    is committed); a counter that lags behind the stored one (a cloned authenticator?) is refused
    and audited apart. Success completes the sign-in."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        audit_record(action="accounts.sign_in_failed", target=user, ip=ip, details={"reason": "locked"})
        return False
    passkey = None
    try:
        credential = parse_credential(credential_json)
        try:
            challenge = _passkey_challenge_use(
                credential=credential, purpose=ChallengePurpose.PASSKEY_SIGN_IN, session_key=session_key
            )
        except AccountError:
            raise PasskeyResponseInvalid("challenge") from None
        passkey = (
            WebAuthnCredential.objects.select_for_update()
            .filter(user=user, credential_id=str(credential.get("id") or ""))
            .first()
        )
        if passkey is None:
            raise PasskeyResponseInvalid("unknown_credential")
        counter = verify_authentication(
            rp=rp,
            credential=credential,
            challenge=challenge,
            public_key=bytes(passkey.public_key),
            sign_count=passkey.sign_count,
        )
        if counter_lags(stored=passkey.sign_count, received=counter):
            audit_record(
                action="accounts.passkey_clone_suspected",
                target=user,
                ip=ip,
                details={"passkey": passkey.pk, "stored": passkey.sign_count, "received": counter},
            )
            raise PasskeyResponseInvalid("counter")
    except PasskeyResponseInvalid as exc:
        audit_record(
            action="accounts.passkey_refused",
            target=user,
            ip=ip,
            details={"step": "sign_in", "reason": exc.code, "passkey": passkey.pk if passkey else None},
        )
        _count_failed_attempt(user, ip=ip, reason="wrong_passkey")
        return False
    passkey.sign_count, passkey.last_used_at = counter, clock.now()
    passkey.save(update_fields=["sign_count", "last_used_at"])
    audit_record(
        action="accounts.passkey_used", actor=user, target=user, ip=ip, details={"passkey": passkey.pk}
    )
    _sign_in_completed(user, ip=ip, details={"second_factor": "passkey"})
    return True


@transaction.atomic
def passkey_remove(*, user: User, passkey_id: int, password: str, ip: str | None = None) -> None:
    """Remove one of the user's passkeys, confirmed with the password. An account that must use
    a second factor keeps at least one (its authenticator app, or another passkey)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    passkey = WebAuthnCredential.objects.filter(user=user, pk=passkey_id).first()
    if passkey is None:
        raise AccountError("passkey_unknown", _("This passkey is not registered to your account."))
    if not user.check_password(password):
        raise AccountError("wrong_password", _("The password is not correct."))
    others = WebAuthnCredential.objects.filter(user=user).exclude(pk=passkey.pk).exists()
    if mfa_required(user) and not user.has_totp and not others:
        raise AccountError(
            "last_factor",
            _("This is your only second factor and your account needs one. Add another passkey first."),
        )
    name = passkey.name
    passkey.delete()
    audit_record(
        action="accounts.passkey_removed", actor=user, target=user, ip=ip, details={"passkey": passkey_id}
    )
    _mail(user, "passkey_removed", key=f"passkey_removed:{passkey_id}", name=name)


@transaction.atomic
def second_factor_reset(*, user: User, actor: User, ip: str | None = None) -> None:
    """Recovery for a user who lost every second factor (phone and passkeys), once a supervisor
    has confirmed who they are — the same path as lifting a lock-out. The authenticator app and
    every passkey are removed; a category that needs a second factor sets up a new app at the next
    sign-in. A password reset by e-mail does *not* do this (ADR 0012)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    passkeys = WebAuthnCredential.objects.filter(user=user)
    details = {"totp": user.has_totp, "passkeys": passkeys.count()}
    passkeys.delete()
    user.totp_secret, user.totp_confirmed_at, user.totp_last_step = "", None, 0
    user.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
    audit_record(action="accounts.second_factor_reset", actor=actor, target=user, ip=ip, details=details)
    _mail(user, "second_factor_reset", key=f"second_factor_reset:{user.pk}:{clock.now().isoformat()}")


# --- card challenges ----------------------------------------------------------------------------


def _challenge_issue(*, purpose: str, session_key: str, seconds: int) -> str:
    if purpose not in ChallengePurpose.values:
        raise ValueError(purpose)
    now = clock.now()
    CardChallenge.objects.filter(expires_at__lt=now - dt.timedelta(hours=1)).delete()
    nonce = secrets.token_hex(32)
    CardChallenge.objects.create(
        purpose=purpose, nonce=nonce, session_key=session_key, expires_at=now + dt.timedelta(seconds=seconds)
    )
    return nonce


def _challenge_use(*, nonce: str, purpose: str, session_key: str, message: Message) -> None:
    """Use a challenge once; refuse it when unknown, expired, for another purpose or session, or used.
    Committed at once (its own transaction when called outside one)."""
    with transaction.atomic():
        challenge = CardChallenge.objects.select_for_update().filter(nonce=nonce or "").first()
        if (
            challenge is None
            or challenge.used_at is not None
            or challenge.expires_at <= clock.now()
            or challenge.purpose != purpose
            or not secrets.compare_digest(challenge.session_key, session_key or "")
        ):
            raise AccountError("challenge_invalid", message)
        challenge.used_at = clock.now()
        challenge.save(update_fields=["used_at"])


@transaction.atomic
def card_challenge_issue(*, purpose: str, session_key: str) -> str:
    """A fresh nonce for the card to sign, valid for a few minutes, once, in this session."""
    return _challenge_issue(purpose=purpose, session_key=session_key, seconds=settings.CARD_CHALLENGE_SECONDS)


@transaction.atomic
def card_challenge_consume(*, nonce: str, purpose: str, session_key: str) -> bytes:
    """Use a challenge; refuse it when unknown, expired, for another purpose or session, or used."""
    _challenge_use(
        nonce=nonce,
        purpose=purpose,
        session_key=session_key,
        message=_("The card's answer is stale or was used already. Read the card again."),
    )
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
        assert certificate is not None  # the query asks for agent_certificate__isnull=False
        seen = {certificate.pk}
        while certificate.renewed_to_id is not None and certificate.renewed_to_id not in seen:
            assert certificate.renewed_to is not None  # renewed_to_id is set (checked just above)
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
            assert user.password_changed_at is not None  # the query asks for password_changed_at__gt
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
