from celery import shared_task

from zairyu.applications import services


@shared_task(name="zairyu.applications.tasks.receipt_numbers_retry", ignore_result=True)
def receipt_numbers_retry() -> int:
    return services.receipt_numbers_retry()


@shared_task(name="zairyu.applications.tasks.drafts_expire", ignore_result=True)
def drafts_expire() -> dict[str, int]:
    return services.drafts_expire()
