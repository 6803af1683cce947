"""The webhook outbox hears of every event of an application.

Every event is written by ``applications.lifecycle`` (one at a time or in bulk), which sends
``application_events`` inside the service's transaction; listening here means no change is missed
and the applications, review and bulk apps need not know the API exists. The delivery row is
written in the same transaction: no notification of a change that was rolled back, no change
without its notification.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from zairyu.api.webhooks import status_changes_queue
from zairyu.applications.lifecycle import application_events
from zairyu.applications.models import Application, ApplicationEvent


@receiver(application_events, sender=Application, dispatch_uid="zairyu.api.webhook_outbox")
def application_events_recorded(
    sender: type[Application], events: list[ApplicationEvent], at: dt.datetime | None = None, **kwargs: Any
) -> None:
    filed_via = [event for event in events if event.application.filed_via_id is not None]
    if filed_via:  # the usual case (filed on the web) is decided without a query
        status_changes_queue(events=filed_via, at=at)
