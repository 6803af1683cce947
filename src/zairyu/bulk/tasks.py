from celery import shared_task

from zairyu.bulk import services


@shared_task(name="zairyu.bulk.tasks.bulk_import_process", ignore_result=True, acks_late=True)
def bulk_import_process(import_id: int) -> str:
    """Process an uploaded bulk file; safe to run again (it resumes, never duplicates)."""
    return services.bulk_import_run(import_id=import_id)


@shared_task(name="zairyu.bulk.tasks.bulk_imports_resume", ignore_result=True)
def bulk_imports_resume() -> int:
    """Periodic: queue again the imports whose run was lost."""
    return services.bulk_imports_resume()
