"""Foundation figures: catalogue, eligibility, demo data, health check, outbox."""

from __future__ import annotations

import io
import time

from _setup import django_setup, median, percentile, report, timings

django_setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from zairyu.catalogue import get_catalogue  # noqa: E402
from zairyu.catalogue.loader import load_catalogue  # noqa: E402
from zairyu.catalogue.rules import eligibility  # noqa: E402
from zairyu.core import clock  # noqa: E402
from zairyu.notifications.services import email_queue  # noqa: E402

vendor = connection.vendor

report("catalogue_load_p50", median(timings(load_catalogue, repeat=20)), "ms")

catalogue = get_catalogue()
today = clock.today()
cells = [
    (u, p, e.key)
    for u in catalogue.user_categories
    for p in catalogue.procedures
    for e in catalogue.entries_in_force(today)
]
started = time.perf_counter()
for user, procedure, status in cells:
    eligibility(user_category=user, procedure=procedure, status=status, on=today)
report("eligibility_checks_per_second", len(cells) / (time.perf_counter() - started), "checks/s")

residents = settings.DEMO_RESIDENTS
started = time.perf_counter()
call_command("load_demo_registry", verbosity=0, stdout=io.StringIO())
report(f"demo_load_{residents}_residents_{vendor}", time.perf_counter() - started, "s")
started = time.perf_counter()
call_command("load_demo_registry", verbosity=0, stdout=io.StringIO())
report(f"demo_reload_{residents}_residents_{vendor}", time.perf_counter() - started, "s")

client = Client()
health = timings(lambda: client.get("/healthz"), repeat=200)
report(f"healthz_p50_{vendor}", median(health), "ms")
report(f"healthz_p95_{vendor}", percentile(health, 0.95), "ms")

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
count = 500
started = time.perf_counter()
for n in range(count):
    with transaction.atomic():
        email_queue(kind="announcement", to=f"user{n}@example.com", context={"title": "t", "text": "x"})
report(f"outbox_queue_and_deliver_{vendor}", count / (time.perf_counter() - started), "emails/s")
