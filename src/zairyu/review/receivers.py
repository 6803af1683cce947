"""What review does when the lifecycle tells of an event (``applications.lifecycle.application_events``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from zairyu.applications.lifecycle import application_events
from zairyu.applications.models import Application, ApplicationDocument, ApplicationEvent
from zairyu.review.services import document_request_answer


@receiver(application_events, sender=Application, dispatch_uid="zairyu.review.document_added")
def document_added(sender: type[Application], events: list[ApplicationEvent], **kwargs: Any) -> None:
    """A document the filer added answers the bureau's open request for documents, if any."""
    for event in events:
        if event.action != "document_added":
            continue
        attachment = ApplicationDocument.objects.get(pk=event.details["attachment"])
        document_request_answer(application=event.application, attachment=attachment, user=event.actor)
