"""Settings of the Celery worker that ``test_worker_kill`` kills: the production code, with small
chunks so that a 300-row import takes many transactions and can be killed in the middle."""

from zairyu.config.settings import *  # noqa: F403

BULK_CHUNK_ROWS = 3
