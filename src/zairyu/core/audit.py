"""Writing the audit trail. Services call :func:`audit_record` inside their transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from zairyu.core.models import AuditEvent


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
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_kind=actor_kind,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip=ip,
        details=details or {},
    )
