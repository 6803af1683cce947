"""The lifecycle of an application: its states, what may happen in each, who may make it happen.

This module is the only code that writes ``Application.state`` (``core/tests/test_code_shape.py``
checks it) and the only code that writes an application's history. A service decides *whether*
something may be done with the facts of its domain (a decision exists, the receipt number was
obtained, the postal items arrived) and then calls :func:`transition` (the state changes) or
:func:`record` (something happened, the state stays). Both check the table below — the state the
application is in and who acts — write the history row and the audit row, and send
:data:`application_events`, the one signal other apps hear (the API's webhook outbox, review's
answer to an open document request). Bulk writes thousands of rows at once and uses
:func:`transition_in_bulk` / :func:`record_in_bulk`, which check and signal the same way.

The table (ADR 0015) reads left to right: the action, the states it may start from, the states it
may lead to (empty: the state stays), who may do it, and the service that checks the rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import UserKind
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application, ApplicationEvent
from zairyu.applications.rules.results import format_message
from zairyu.core import clock
from zairyu.core.audit import audit_record
from zairyu.core.errors import Refused
from zairyu.core.models import AuditEvent
from zairyu.notifications.services import email_queue, email_queue_all

if TYPE_CHECKING:
    from zairyu.accounts.models import User

S = ApplicationState


class By(StrEnum):
    """Who makes a change: the filer (any user category), an officer, or a job (no actor)."""

    FILER = "filer"
    OFFICER = "officer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Step:
    action: str
    sources: frozenset[str]  # empty: the application is being created
    targets: frozenset[str]  # empty: the state stays
    by: frozenset[By]
    checked_by: str  # the service that checks the facts of its domain before calling

    @property
    def changes_state(self) -> bool:
        return bool(self.targets)


def _step(
    action: str, sources: Iterable[str], targets: Iterable[str], by: Iterable[By], checked_by: str
) -> Step:
    return Step(action, frozenset(sources), frozenset(targets), frozenset(by), checked_by)


FIL, OFF, JOB = By.FILER, By.OFFICER, By.SYSTEM
EDITABLE = (S.DRAFT, S.ERROR_BULK)
PENDING = (S.SUBMITTED, S.UNDER_REVIEW)  # submitted, not yet decided: the filer may still ask
OPEN = (S.SUBMITTED, S.UNDER_REVIEW, S.AWAITING_ISSUE, S.ERROR_RECEIPT)  # the bureau has work

# fmt: off
STEPS: tuple[Step, ...] = (
    # action                       from               to                            by         checked by
    # -- changes of state --
    _step("created",               (),                (S.DRAFT, S.ERROR_BULK),      (FIL,),      "applications.application_create / bulk"),
    _step("bulk_updated",          EDITABLE,          (S.DRAFT, S.ERROR_BULK),      (FIL,),      "bulk: the row's cells"),
    _step("bulk_checked",          EDITABLE,          (S.DRAFT, S.ERROR_BULK),      (FIL,),      "bulk: the row's cells"),
    _step("submitted",             EDITABLE,          (S.SUBMITTED, S.ERROR_RECEIPT), (FIL,),    "applications.application_submit"),
    _step("receipt_number_obtained", (S.ERROR_RECEIPT,), (S.SUBMITTED,),            (JOB, OFF),    "applications.receipt_number_obtain"),
    _step("taken_up",              (S.SUBMITTED,),    (S.UNDER_REVIEW,),            (OFF,),      "review.application_take_up"),
    _step("decided",               (S.UNDER_REVIEW,), (S.AWAITING_ISSUE, S.COMPLETE), (OFF,),    "review.application_decide"),
    _step("issued_by_post",        (S.AWAITING_ISSUE,), (S.COMPLETE,),              (OFF,),      "review.issue_by_post"),
    _step("withdrawal_accepted",   PENDING,           (S.WITHDRAWN,),               (OFF,),      "review.application_request_accept"),
    # -- events: the state stays --
    _step("assigned",              OPEN,              (),                           (OFF,),      "review.application_assign"),
    _step("documents_requested",   (S.UNDER_REVIEW,), (),                           (OFF,),      "review.documents_request"),
    _step("document_added",        PENDING,           (),                           (FIL,),      "applications.application_add_documents"),
    _step("documents_request_answered", PENDING,      (),                           (FIL,),      "review.document_request_answer"),
    _step("receipt_method_changed", PENDING,          (),                           (FIL,),      "applications.application_change_receipt_method"),
    _step("withdrawal_requested",  PENDING,           (),                           (FIL,),      "applications.application_request"),
    _step("correction_requested",  PENDING,           (),                           (FIL,),      "applications.application_request"),
    _step("correction_accepted",   PENDING,           (),                           (OFF,),      "review.application_request_accept"),
    _step("withdrawal_declined",   OPEN,              (),                           (OFF,),      "review.application_request_decline"),
    _step("correction_declined",   OPEN,              (),                           (OFF,),      "review.application_request_decline"),
    _step("postal_items_received", (S.AWAITING_ISSUE,), (),                         (OFF,),      "review.postal_items_record"),
    _step("postal_reminder_sent",  (S.AWAITING_ISSUE,), (),                         (OFF, JOB),    "review.postal_reminder_send / postal_reminders_send"),
    _step("fee_paid_online",       (S.AWAITING_ISSUE, S.COMPLETE), (),              (FIL,),      "review.payment_pay_online"),
    _step("handed_over_at_window", (S.COMPLETE,),     (),                           (OFF,),      "review.issue_at_window"),
)
# fmt: on

STEP_BY_ACTION: dict[str, Step] = {step.action: step for step in STEPS}


@dataclass(frozen=True)
class Mail:
    """An e-mail that tells of the event: one text (``kind`` rendered in ``language`` with
    ``context``) to each of ``recipients`` (address, key: an e-mail is queued once per key)."""

    kind: str
    language: str
    context: dict[str, Any]
    recipients: tuple[tuple[str, str], ...]

    @classmethod
    def to(cls, address: str, *, kind: str, language: str, context: dict[str, Any], key: str) -> Mail:
        return cls(kind=kind, language=language, context=context, recipients=((address, key),))


def _send(mail: Sequence[Mail]) -> None:
    for item in mail:
        if len(item.recipients) == 1:
            ((address, key),) = item.recipients
            email_queue(kind=item.kind, to=address, language=item.language, context=item.context, key=key)
        else:
            email_queue_all(
                kind=item.kind, recipients=list(item.recipients), language=item.language, context=item.context
            )


application_events = Signal()
"""Sent once for every event written (``events``: a list of ``ApplicationEvent``; ``at``: their
time, for events whose ``at`` is a database expression), inside the transaction that wrote them."""


def who(actor: User | None) -> By:
    if actor is None:
        return By.SYSTEM
    return By.OFFICER if actor.kind == UserKind.OFFICER else By.FILER


def _refused_state(application: Application) -> Refused:
    return Refused(
        "wrong_state",
        format_message(
            _("This is not possible while the application is “%(state)s”; nothing was changed."),
            state=S(application.state).label,
        ),
    )


def allowed(application: Application, action: str, *, actor: User | None) -> bool:
    """Whether ``actor`` may do ``action`` in the application's present state (for pages: which
    buttons to show)."""
    step = STEP_BY_ACTION[action]
    return who(actor) in step.by and (not step.sources or application.state in step.sources)


def check(application: Application, action: str, *, actor: User | None, to: str | None = None) -> Step:
    """Refuse (``Refused("wrong_state")``) unless the table allows ``action`` now, by ``actor``,
    to ``to``. A wrong actor or target is a programming error and raises ``ValueError``."""
    step = STEP_BY_ACTION[action]
    if who(actor) not in step.by:
        raise ValueError(f"{action} is not done by {who(actor)}")
    if step.sources and application.state not in step.sources:
        raise _refused_state(application)
    if to is not None and to not in step.targets:
        raise ValueError(f"{action} does not lead to {to}")
    return step


def _audit(
    application: Application,
    audit: str | None,
    *,
    actor: User | None,
    ip: str | None,
    details: dict[str, Any],
) -> None:
    if audit is None:
        return
    kind = AuditEvent.ActorKind.OFFICER if actor is not None and who(actor) is By.OFFICER else None
    audit_record(action=audit, actor=actor, actor_kind=kind, target=application, ip=ip, details=details)


def record(
    application: Application,
    action: str,
    *,
    actor: User | None,
    audit: str | None = None,
    ip: str | None = None,
    audit_details: dict[str, Any] | None = None,
    mail: Sequence[Mail] = (),
    from_state: str | None = None,
    **details: Any,
) -> ApplicationEvent:
    """Something happened to the application (its state is as it is now): the history row, the
    audit row (``audit``: its action, e.g. ``"review.assigned"``; ``audit_details``: codes only),
    the e-mails that tell of it (``mail``, queued in the outbox) and the signal (the webhooks).
    ``from_state`` is for :func:`transition` only."""
    step = STEP_BY_ACTION[action]
    if from_state is None:
        check(application, action, actor=actor)
        if step.changes_state:
            raise ValueError(f"{action} changes the state: use transition()")
    event = ApplicationEvent.objects.create(
        application=application,
        actor=actor,
        action=action,
        from_state=application.state if from_state is None else from_state,
        to_state=application.state,
        details=details,
    )
    _audit(application, audit, actor=actor, ip=ip, details=dict(audit_details or {}))
    _send(mail)
    application_events.send(sender=Application, events=[event], at=None)
    return event


def transition(
    application: Application,
    action: str,
    to: str,
    *,
    actor: User | None,
    fields: Sequence[str] = (),
    audit: str | None = None,
    ip: str | None = None,
    audit_details: dict[str, Any] | None = None,
    mail: Sequence[Mail] = (),
    **details: Any,
) -> ApplicationEvent:
    """Move the (locked) application to ``to`` by ``action``, saving ``fields`` the service set
    with it in the same write, and record it (see :func:`record`)."""
    check(application, action, actor=actor, to=to)
    from_state = application.state
    application.state = to
    application.updated_at = clock.now()
    application.save(update_fields=sorted({"state", "updated_at", *fields}))
    return record(
        application,
        action,
        actor=actor,
        audit=audit,
        ip=ip,
        audit_details=audit_details,
        mail=mail,
        from_state=from_state,
        **details,
    )


def created(
    application: Application, *, actor: User, audit_details: dict[str, Any], ip: str | None = None
) -> ApplicationEvent:
    """A new application was saved in its first state: the history starts."""
    check(application, "created", actor=actor, to=application.state)
    return record(
        application,
        "created",
        actor=actor,
        audit="applications.created",
        ip=ip,
        audit_details=audit_details,
        from_state="",
    )


def set_state(application: Application, action: str, to: str, *, actor: User | None) -> str:
    """For bulk, which writes many rows with one ``bulk_create``/``bulk_update``: check and set the
    state in memory (nothing saved) and return the state it was in; then save the rows and call
    :func:`record_in_bulk` with the same action."""
    step = check(application, action, actor=actor, to=to)
    before = "" if not step.sources else application.state
    application.state = to
    return before


def record_in_bulk(
    rows: Sequence[tuple[Application, str]],
    action: str,
    *,
    actor: User,
    at: dt.datetime | Any,
    when: dt.datetime,
    details: dict[str, Any],
) -> list[ApplicationEvent]:
    """The history of many applications changed by :func:`set_state` (``rows``: each application
    and the state it came from), in one insert, and one signal for all of them (``at``: the
    events' time as stored, ``when``: that time as a value)."""
    events = ApplicationEvent.objects.bulk_create(
        [
            ApplicationEvent(
                application=application,
                at=at,
                actor=actor,
                action=action,
                from_state=before,
                to_state=application.state,
                details=details,
            )
            for application, before in rows
        ]
    )
    application_events.send(sender=Application, events=events, at=when)
    return events
