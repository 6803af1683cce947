"""Writing the audit trail. Services call :func:`audit_record` inside their transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import models

from zairyu.core.models import AuditEvent

_via: ContextVar[dict[str, str] | None] = ContextVar("zairyu_audit_via", default=None)


@contextmanager
def audit_via(**identity: str) -> Iterator[None]:
    """Everything audited inside this block also names ``identity`` (e.g. the API client acting for
    the user), so the trail says which software did what for whom."""
    token = _via.set(identity)
    try:
        yield
    finally:
        _via.reset(token)


@contextmanager
def audit_via_isolated() -> Iterator[None]:
    """Nothing set inside (by :func:`audit_via_request`) outlives the block: one request's
    identity never leaks into the next handled by the same thread."""
    token = _via.set(None)
    try:
        yield
    finally:
        _via.reset(token)


def audit_via_request(**identity: str) -> None:
    """Everything audited from now on in this request (or task) also names ``identity`` (set once
    the API has authenticated the client; the context is the request's own)."""
    _via.set(identity)


def audit_via_current() -> dict[str, str] | None:
    return _via.get()


def audit_record(
    *,
    action: str,
    actor: Any = None,
    actor_kind: str | None = None,
    target: models.Model | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one audited action. ``details`` must hold identifiers and codes, not personal data."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if actor_kind is None:
        actor_kind = AuditEvent.ActorKind.SYSTEM if actor is None else AuditEvent.ActorKind.USER
        if actor is not None and getattr(actor, "is_staff", False):
            actor_kind = AuditEvent.ActorKind.OFFICER
    via = _via.get()
    if via:
        details = {**(details or {}), "via": via}
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_kind=actor_kind,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=ip,
        details=details or {},
    )
