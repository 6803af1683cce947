"""Test overlay: the embedded default, made fast and deterministic.

``ZAIRYU_DATABASE_URL`` still chooses the database, so the same suite runs on SQLite
(``make test``) and on PostgreSQL (``.ci/run``).
"""

import os
import tempfile

os.environ.setdefault("ZAIRYU_ENV", "test")
os.environ.setdefault("ZAIRYU_DATA_DIR", os.path.join(tempfile.gettempdir(), "zairyu-test"))
os.environ.setdefault("ZAIRYU_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")

from zairyu.config.settings import *  # noqa: E402,F403
from zairyu.config.settings import DATA_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; production uses Argon2
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
MEDIA_ROOT = DATA_DIR / f"files-{os.getpid()}"
DEMO_RESIDENTS = 300
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in memory, one per xdist worker
