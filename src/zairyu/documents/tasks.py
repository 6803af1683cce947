"""Periodic upkeep of stored files, registered in ``CELERY_BEAT_SCHEDULE`` (and run by the
in-process scheduler of ``make run``). Safe to run twice."""

from celery import shared_task

from zairyu.documents import services


@shared_task(name="zairyu.documents.tasks.documents_purge_orphans", ignore_result=True)
def documents_purge_orphans() -> dict[str, int]:
    return {"orphan_files_removed": services.documents_purge_orphan_files()}


@shared_task(name="zairyu.documents.tasks.documents_rescan_held", ignore_result=True)
def documents_rescan_held() -> dict[str, int]:
    """Every 5 minutes: scan the files held while clamd was unreachable (ADR 0013)."""
    return services.documents_rescan_held()
