"""What review does when the lifecycle tells of an event (``applications.lifecycle.application_events``),
and what it adds to the officer home (``accounts.signals.officer_home``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from zairyu.accounts.models import User
from zairyu.accounts.signals import officer_home
from zairyu.applications.lifecycle import application_events
from zairyu.applications.models import Application, ApplicationDocument, ApplicationEvent
from zairyu.review.access import queue_counts
from zairyu.review.services import document_request_answer


@receiver(application_events, sender=Application, dispatch_uid="zairyu.review.document_added")
def document_added(sender: type[Application], events: list[ApplicationEvent], **kwargs: Any) -> None:
    """A document the filer added answers the bureau's open request for documents, if any."""
    for event in events:
        if event.action != "document_added":
            continue
        attachment = ApplicationDocument.objects.get(pk=event.details["attachment"])
        document_request_answer(application=event.application, attachment=attachment, user=event.actor)


@receiver(officer_home, sender=User, dispatch_uid="zairyu.review.officer_home")
def officer_home_queues(sender: type[User], officer: User, **kwargs: Any) -> dict[str, Any]:
    """The application queues of the officer's office, counted for the officer home."""
    return {"application_queue": queue_counts(officer)}
