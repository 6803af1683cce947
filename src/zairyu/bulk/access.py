"""Reading bulk imports: the only way a view gets one, with the permission check built in."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from zairyu.accounts.models import User
from zairyu.bulk.models import BulkImport


def bulk_imports_of(user: User) -> QuerySet[BulkImport]:
    """The imports a user uploaded; nobody sees another user's."""
    if not getattr(user, "is_authenticated", False) or user.kind == "officer":
        return BulkImport.objects.none()
    return BulkImport.objects.filter(filer=user)


def bulk_import_of(user: User, public_id: uuid.UUID | str) -> BulkImport:
    """One of the user's imports, or 404 (never 403: nothing is said about others')."""
    bulk_import = bulk_imports_of(user).filter(public_id=public_id).first()
    if bulk_import is None:
        raise Http404
    return bulk_import
