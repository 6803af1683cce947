from celery import shared_task

from zairyu.accounts import services


@shared_task(name="zairyu.accounts.tasks.accounts_daily", ignore_result=True)
def accounts_daily() -> dict[str, int]:
    """Follow agent-certificate renewals, then send expiry reminders (keyed: safe to re-run)."""
    return {
        "validity_extended": services.agent_validity_refresh(),
        "expiry_reminders": services.expiry_reminders_send(),
        "password_warnings": services.password_expiry_warnings_send(),
    }
