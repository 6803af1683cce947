from celery import shared_task

from zairyu.review import services


@shared_task(name="zairyu.review.tasks.postal_reminders_send", ignore_result=True)
def postal_reminders_send() -> int:
    """Remind filers whose 14 days for a postal receipt passed (schedule it every few hours)."""
    return services.postal_reminders_send()


@shared_task(name="zairyu.review.tasks.scorecard_months_summarise", ignore_result=True)
def scorecard_months_summarise() -> int:
    """Summarise the closed months of the scorecard (schedule it nightly)."""
    from zairyu.review.scorecard import summarise_closed_months

    return summarise_closed_months()
