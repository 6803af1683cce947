"""Periodic upkeep of stored files. Safe to run twice.

To run it daily, add to ``CELERY_BEAT_SCHEDULE``:
``"documents-daily": {"task": "zairyu.documents.tasks.documents_purge_orphans", "schedule": 24 * 60 * 60.0}``.
"""

from celery import shared_task

from zairyu.documents import services


@shared_task(name="zairyu.documents.tasks.documents_purge_orphans", ignore_result=True)
def documents_purge_orphans() -> dict[str, int]:
    return {"orphan_files_removed": services.documents_purge_orphan_files()}
