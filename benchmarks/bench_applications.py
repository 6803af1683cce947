"""Applications: a form step renders, a submission with a 5 MB PDF and a photo, and 200
concurrent submissions to one office (distinct, gap-free receipt numbers)."""

from __future__ import annotations

import datetime as dt
import io
import os
import threading
import time

from _setup import django_setup, median, percentile, report, timings

django_setup()

import pikepdf  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from zairyu.accounts.constants import UserKind, UserState  # noqa: E402
from zairyu.accounts.models import User  # noqa: E402
from zairyu.applications import services  # noqa: E402
from zairyu.applications.constants import DocumentRole  # noqa: E402
from zairyu.applications.models import Application  # noqa: E402
from zairyu.applications.samples import sample_answers  # noqa: E402
from zairyu.core import clock  # noqa: E402
from zairyu.documents.tests.factories import jpeg_bytes, pdf_bytes  # noqa: E402
from zairyu.registry.tests.factories import ResidentFactory  # noqa: E402

vendor = connection.vendor
today = clock.today()


def big_pdf(size: int) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    payload = os.urandom(size)
    image = pikepdf.Stream(pdf, payload)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = 1024, size // (1024 * 3)
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceRGB, 8
    pdf.pages[0].Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


user = User(
    username=f"BENCH{vendor[:4].upper()}0001", kind=UserKind.U4, state=UserState.ACTIVE, email="b@example.com"
)
user.set_unusable_password()
user.save()


def ready_application(*, with_files: bool = True) -> Application:
    resident = ResidentFactory(
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=today + dt.timedelta(days=60),
        card_expires_on=today + dt.timedelta(days=60),
        prefecture="23",
        municipality="名古屋市",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )
    application = services.application_create(
        user=user,
        start=services.Start(procedure="P3", status="engineer_humanities", card_number=resident.card_number),
    )
    form = services.application_form(application)
    answers = sample_answers(form, today=today, overrides=application.answers)
    for step in form.step_ids:
        services.application_save_step(application=application, user=user, step=step, answers=answers)
    services.application_set_receipt_method(application=application, user=user, method="post")
    if with_files:
        services.application_attach(
            application=application,
            user=user,
            role=DocumentRole.SUPPORTING,
            document_type="passport_copy",
            upload=SimpleUploadedFile("p.pdf", pdf_bytes(), content_type="application/pdf"),
        )
        services.application_attach(
            application=application,
            user=user,
            role=DocumentRole.PHOTO,
            document_type="face_photo",
            taken_within_6_months=True,
            upload=SimpleUploadedFile("f.jpg", jpeg_bytes(), content_type="image/jpeg"),
        )
    return application


# 1. A form step renders (GET of step 2-2, the largest applicant step).
application = ready_application(with_files=False)
client = Client()
client.force_login(user)
session = client.session
session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
session.save()
url = f"/applications/{application.public_id}/step/2-2/"
assert client.get(url).status_code == 200
step = timings(lambda: client.get(url), repeat=40)
report(f"form_step_render_p50_{vendor}", median(step), "ms")
report(f"form_step_render_p95_{vendor}", percentile(step, 0.95), "ms")

# 2. Submitting with a 5 MB PDF and a photo, all checks included (upload checks + submission).
five_mb = big_pdf(5 * 1024 * 1024)
photo = jpeg_bytes()
durations = []
for _ in range(12):
    application = ready_application(with_files=False)
    started = time.perf_counter()
    services.application_attach(
        application=application,
        user=user,
        role=DocumentRole.SUPPORTING,
        document_type="passport_copy",
        upload=SimpleUploadedFile("big.pdf", five_mb, content_type="application/pdf"),
    )
    services.application_attach(
        application=application,
        user=user,
        role=DocumentRole.PHOTO,
        document_type="face_photo",
        taken_within_6_months=True,
        upload=SimpleUploadedFile("f.jpg", photo, content_type="image/jpeg"),
    )
    submitted = services.application_submit(application_id=application.pk, user=user, submission_key="k")
    durations.append((time.perf_counter() - started) * 1000)
    assert submitted.receipt_number, submitted.state
report(f"submit_with_5mb_pdf_and_photo_p50_{vendor}", median(durations), "ms")

# 3. 200 concurrent submissions to one office. PostgreSQL allows 100 connections by default, so
# there the 200 submissions share a pool of 60 connections (as web workers would), all at once.
ready = [ready_application() for _ in range(200)]
connection.close()
workers = 200 if vendor == "sqlite" else 60
numbers: list[str] = []
errors: list[BaseException] = []
pending = list(ready)
lock = threading.Lock()
barrier = threading.Barrier(workers)


def worker() -> None:
    barrier.wait()
    try:
        while True:
            with lock:
                if not pending:
                    return
                app = pending.pop()
            try:
                result = services.application_submit(application_id=app.pk, user=user, submission_key="c")
                numbers.append(result.receipt_number)
            except BaseException as exc:
                errors.append(exc)
    finally:
        connection.close()


started = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(workers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - started
if errors:
    print(f"# first error: {errors[0]!r}", flush=True)
serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers if n)
first = serials[0] if serials else 0
gap_free = serials == list(range(first, first + len(serials)))
report(f"concurrent_submissions_{vendor}", len(ready), "submissions")
report(f"concurrent_connections_{vendor}", workers, "connections")
report(f"concurrent_distinct_receipt_numbers_{vendor}", len(set(numbers)), "numbers")
report(f"concurrent_gap_free_{vendor}", 1 if gap_free and len(serials) == len(ready) else 0, "bool")
report(f"concurrent_errors_{vendor}", len(errors), "errors")
report(f"concurrent_submissions_per_second_{vendor}", len(ready) / elapsed, "submissions/s")
