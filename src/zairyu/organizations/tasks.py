from celery import shared_task

from zairyu.organizations import services


@shared_task(name="zairyu.organizations.tasks.organizations_daily", ignore_result=True)
def organizations_daily() -> dict[str, int]:
    """Remind every user of an organization whose approval ends within 2 months to file the
    periodic report (keyed per user and period: safe to re-run)."""
    return {"report_reminders": services.report_reminders_send()}
