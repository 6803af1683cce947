"""Taking an application up and assigning it to an officer."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.applications import lifecycle
from zairyu.applications.models import Application
from zairyu.core import clock
from zairyu.review.models import Assignment
from zairyu.review.services.common import ReviewRefused, S, guard, is_supervisor, locked, may_work_on


@transaction.atomic
def application_take_up(*, application_id: int, officer: User, ip: str | None = None) -> Application:
    """Submitted → under review; the application is assigned to the officer unless it already is
    to someone (a supervisor may have assigned it)."""
    application = locked(application_id, officer)
    guard(application, "taken_up", officer)
    may_work_on(application, officer)
    Assignment.objects.get_or_create(
        application=application, defaults={"officer": officer, "assigned_by": officer}
    )
    lifecycle.transition(
        application, "taken_up", S.UNDER_REVIEW, actor=officer, audit="review.taken_up", ip=ip
    )
    return application


@transaction.atomic
def application_assign(
    *, application_id: int, officer: User, assignee_id: int, ip: str | None = None
) -> Assignment:
    """A supervisor gives an open application to an officer of the same office."""
    application = locked(application_id, officer)
    if not is_supervisor(officer):
        raise ReviewRefused("not_supervisor", _("Only a supervisor reassigns applications."))
    guard(application, "assigned", officer)
    assignee = User.objects.filter(
        pk=assignee_id, kind=UserKind.OFFICER, office=officer.office, state=UserState.ACTIVE
    ).first()
    if assignee is None:
        raise ReviewRefused(
            "assignee_invalid",
            _("Choose an officer of your office."),
            errors={"assignee": _("Choose an officer of your office.")},
        )
    assignment, _created = Assignment.objects.update_or_create(
        application=application,
        defaults={"officer": assignee, "assigned_by": officer, "assigned_at": clock.now()},
    )
    lifecycle.record(
        application,
        "assigned",
        actor=officer,
        audit="review.assigned",
        ip=ip,
        audit_details={"assignee": assignee.pk},
        assignee=assignee.pk,
    )
    return assignment
