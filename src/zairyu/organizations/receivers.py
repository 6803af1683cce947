"""What organizations does when accounts tells of an event (``accounts.signals``): the validity of
a staff ID starts with its first password, and the officer home shows the organizations queue."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from zairyu.accounts.kinds import ORGANIZATION_STAFF_KINDS
from zairyu.accounts.models import User
from zairyu.accounts.signals import first_password_set, officer_home
from zairyu.organizations.access import officer_queue_counts
from zairyu.organizations.services import staff_first_password_set


@receiver(first_password_set, sender=User, dispatch_uid="zairyu.organizations.staff_validity")
def staff_validity(sender: type[User], user: User, **kwargs: Any) -> None:
    """Staff IDs are valid as long as their organization: the first password of the organization
    starts its validity, and the account takes the organization's ``valid_until``."""
    if user.kind in ORGANIZATION_STAFF_KINDS:
        user.valid_until = staff_first_password_set(user=user)


@receiver(officer_home, sender=User, dispatch_uid="zairyu.organizations.officer_home")
def officer_home_queue(sender: type[User], officer: User, **kwargs: Any) -> dict[str, Any]:
    """The organizations queue of the officer's office, counted for the officer home."""
    return {"organization_queue": officer_queue_counts(officer)}
