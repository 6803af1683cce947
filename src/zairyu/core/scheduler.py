"""The in-process stand-in for Celery beat, used by ``make run`` when no broker is configured.

It runs the entries of ``CELERY_BEAT_SCHEDULE`` on their intervals in a daemon thread, so that the
embedded default retries e-mails and runs reminders exactly as production does with beat.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _run_forever(stop: threading.Event) -> None:
    schedule = {name: float(entry["schedule"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    tasks = {name: import_string(entry["task"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    due = {name: time.monotonic() + 5 for name in schedule}
    while not stop.wait(1.0):
        for name, interval in schedule.items():
            if time.monotonic() < due[name]:
                continue
            due[name] = time.monotonic() + interval
            close_old_connections()
            try:
                tasks[name].apply()
            except Exception:  # a failing periodic task is logged and tried again next round
                logger.exception("periodic task %s failed", name)
            finally:
                close_old_connections()


def start_in_process_scheduler() -> threading.Event:
    """Start the scheduler thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_run_forever, args=(stop,), name="zairyu-scheduler", daemon=True).start()
    return stop
