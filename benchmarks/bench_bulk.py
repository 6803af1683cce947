"""Bulk filing: a 300-row file (10 rows with a deliberate error), from upload to every row
validated and stored (the task run in this process, as the embedded default does), as CSV and as
Excel: p50 of a few runs, rows per second, peak memory (tracemalloc, in a separate run) and the
queries of one import (a constant number, whatever the rows: none is made per row).

Targets (issue #7), on SQLite and on PostgreSQL: p50 ≤ 1 s as CSV, ≤ 2 s as Excel. The machine's
load average is printed first: figures taken while something else runs are not comparable."""

from __future__ import annotations

import datetime as dt
import os
import time
import tracemalloc

from _setup import django_setup, median, report

django_setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from zairyu.bulk import services  # noqa: E402
from zairyu.bulk.columns import bulk_form  # noqa: E402
from zairyu.bulk.models import BulkImport  # noqa: E402
from zairyu.bulk.samples import bulk_file, bulk_rows  # noqa: E402
from zairyu.bulk.workbook import template_sheet, workbook_bytes  # noqa: E402
from zairyu.core import clock  # noqa: E402
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member  # noqa: E402
from zairyu.registry.models import Resident  # noqa: E402
from zairyu.registry.tests.factories import ReceivingOrganizationFactory  # noqa: E402

ROWS, ERRORS, RUNS = 300, 10, 5
vendor = connection.vendor
today = clock.today()
report(f"bulk_load_average_1min_{vendor}", os.getloadavg()[0], "load")

school = ReceivingOrganizationFactory(kind="school")
enrolment = EnrolmentFactory(organization=school)
expires = today + dt.timedelta(days=60)
Resident.objects.bulk_create(
    [
        Resident(
            roman_name=f"NGUYEN VAN {chr(65 + n % 26)}{chr(65 + n // 26 % 26)}",
            nationality="VNM",
            sex="M",
            date_of_birth=dt.date(2000, 1, 1 + n % 28),
            prefecture="13",
            municipality="新宿区",
            address_rest="高田馬場1丁目1番1号",
            card_number=f"BK{n:08d}JL",
            card_expires_on=expires,
            status="student",
            period_of_stay="1Y",
            stay_expires_on=expires,
            affiliation=school,
        )
        for n in range(ROWS)
    ]
)
students = list(Resident.objects.filter(affiliation=school).order_by("card_number"))
form = bulk_form(procedure="P3", status="student", user_category="U5")
rows, _injected = bulk_rows(form, students, errors=ERRORS)
files = {kind: bulk_file(form, rows, kind=kind) for kind in ("csv", "xlsx")}


def one_upload(kind: str, user) -> BulkImport:
    bulk_import = services.bulk_import_create(
        user=user,
        procedure="P3",
        status="student",
        upload=SimpleUploadedFile(f"students.{kind}", files[kind]),
    )
    bulk_import.refresh_from_db()
    assert bulk_import.state == "done" and bulk_import.rows_done == ROWS, (
        bulk_import.state,
        bulk_import.error_summary,
    )
    assert bulk_import.rows_error == ERRORS, bulk_import.rows_error
    return bulk_import


for kind in ("csv", "xlsx"):
    # A new filer for each run (made before the clock starts): every row is new, none recognised.
    users = [staff_member(enrolment) for _ in range(RUNS + 3)]
    one_upload(kind, users.pop())  # warm-up: first imports, caches of the catalogue
    times = []
    for user in users[:RUNS]:
        started = time.perf_counter()
        one_upload(kind, user)
        times.append((time.perf_counter() - started) * 1000)
    p50 = median(times)
    report(f"bulk_{kind}_{ROWS}_rows_upload_to_stored_p50_{vendor}", p50, "ms")
    report(f"bulk_{kind}_rows_per_second_{vendor}", ROWS / (p50 / 1000), "rows/s")
    tracemalloc.start()
    one_upload(kind, users[RUNS])
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report(f"bulk_{kind}_{ROWS}_rows_peak_memory_{vendor}", peak / 1024 / 1024, "MiB")
    with CaptureQueriesContext(connection) as queries:
        one_upload(kind, users[RUNS + 1])
    report(f"bulk_{kind}_{ROWS}_rows_queries_{vendor}", len(queries.captured_queries), "queries")
    report(f"bulk_{kind}_{ROWS}_rows_file_size", len(files[kind]) / 1024, "KiB")

started = time.perf_counter()
workbook_bytes(template_sheet(form, language="ja"))
report(f"bulk_template_xlsx_{vendor}", (time.perf_counter() - started) * 1000, "ms")
