"""The kinds of e-mail the system sends (F-16). Each kind has a translatable subject and a plain
text template rendered in the recipient's language. Later features register their kinds here."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class EmailKind:
    code: str
    subject: Promise
    template: str


EMAIL_KINDS: dict[str, EmailKind] = {}


def register(code: str, subject: Promise, *, app: str = "notifications") -> EmailKind:
    """Declare a kind of e-mail; its body is the template ``<app>/email/<code>.txt``."""
    kind = EmailKind(code=code, subject=subject, template=f"{app}/email/{code}.txt")
    EMAIL_KINDS[code] = kind
    return kind


ANNOUNCEMENT = register("announcement", _("Announcement from the online residence application service"))
