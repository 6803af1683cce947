"""Reading applications: the only way a view gets one, with the permission check built in."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from zairyu.accounts.models import User
from zairyu.applications.models import Application


def applications_of(user: User) -> QuerySet[Application]:
    """The applications a user filed. A user never sees another user's applications."""
    if not user.is_authenticated or user.kind == "officer":
        return Application.objects.none()
    return Application.objects.filter(filer=user)


def application_of(user: User, public_id: uuid.UUID | str) -> Application:
    """One of the user's applications, or 404 (never 403: nothing is said about others')."""
    application = (
        applications_of(user)
        .select_related("applicant_resident", "receiving_organization")
        .filter(public_id=public_id)
        .first()
    )
    if application is None:
        raise Http404
    return application
