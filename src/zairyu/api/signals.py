"""The webhook outbox hears of every state change of an application.

Every state change is written as an ``ApplicationEvent`` by the service that makes it, inside that
service's transaction; listening here (rather than in each of the many services of the
applications and review apps) means no change is missed and those apps need not know the API
exists. The delivery row is written in the same transaction: no notification of a change that was
rolled back, no change without its notification.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender="applications.ApplicationEvent", dispatch_uid="zairyu.api.webhook_outbox")
def application_event_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if not created or raw:
        return
    if getattr(instance.application, "filed_via_id", None) is None:
        return  # the usual case, decided without a query
    from zairyu.api.webhooks import status_change_queue

    status_change_queue(event=instance)
