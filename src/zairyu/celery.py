"""The Celery application.

In the embedded default (no broker configured) tasks run in-process, eagerly, after the
transaction that queued them commits. In production a broker (Redis) and workers run them.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zairyu.config.settings")

app = Celery("zairyu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
