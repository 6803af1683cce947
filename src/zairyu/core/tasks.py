"""Dispatching background work after the surrounding transaction commits."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.conf import settings
from django.db import transaction


def enqueue_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue ``task`` once the current transaction commits; never if it rolls back.

    Without a broker (the embedded default) the task runs in this process right after the commit.
    Tasks take IDs, never objects, and are written so that running one twice does no harm.
    """
    propagate = getattr(settings, "CELERY_TASK_EAGER_PROPAGATES", False)
    transaction.on_commit(lambda: task.delay(*args, **kwargs), robust=not propagate)
