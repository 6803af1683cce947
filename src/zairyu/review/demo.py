"""Demo work for the officers' portal in ``make run`` (development only; refused in production).

The demo scrivener (DEMOSCRIV001) files, through the same services as the pages, a few
extensions and changes for demo residents of the Tokyo office's prefectures (by post and at the
window, one with re-entry and activity permission), and a certificate of eligibility to be
received by e-mail; window counts of the Tokyo office fill the scorecard. Idempotent: the
applications are marked by their submission key and filed once.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.accounts.models import User
from zairyu.applications import services as applications
from zairyu.applications.checklist import checklist
from zairyu.applications.constants import DocumentRole
from zairyu.applications.disclosure import registry_answers
from zairyu.applications.models import Application
from zairyu.applications.samples import sample_answers
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.review.models import WindowCount
from zairyu.review.scorecard import recent_quarters

logger = logging.getLogger(__name__)

KEY = "review-demo"

# (procedure, add-ons, receipt method)
APPLICATIONS = [
    ("P3", ("P6", "P7"), "post"),
    ("P3", (), "post"),
    ("P3", (), "window"),
    ("P2", (), "post"),
]
WINDOW_COUNTS = {"P1": 14, "P2": 9, "P3": 22}  # per month, demo scale


def _pdf(name: str) -> SimpleUploadedFile:
    from zairyu.organizations.demo import sample_pdf_bytes

    return SimpleUploadedFile(name, sample_pdf_bytes(), content_type="application/pdf")


def _photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (300, 400), (220, 225, 235))
    ImageDraw.Draw(image).ellipse((80, 80, 220, 280), fill=(190, 150, 130))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return SimpleUploadedFile("photo.jpg", out.getvalue(), content_type="image/jpeg")


def _file(
    scrivener: User, *, key: str, start: applications.Start, method: str, today: dt.date
) -> Application | None:
    """File one application through the applications' services, as the pages would."""
    application = applications.application_create(user=scrivener, start=start)
    form = applications.application_form(application)
    # The demo scrivener holds the applicant's card: they type what it shows (the registry is
    # never pre-filled for an agent, see zairyu.applications.disclosure).
    record = registry_answers(application.applicant_resident) if application.applicant_resident else {}
    answers = sample_answers(form, today=today, overrides={**record, **application.answers})
    for step in form.step_ids:
        applications.application_save_step(
            application=application, user=scrivener, step=step, answers=answers
        )
    for item in checklist(
        procedure=application.procedure, group=application.group, user_category=scrivener.kind
    ):
        if item.required:
            applications.application_attach(
                application=application,
                user=scrivener,
                upload=_pdf(f"{item.document_type}.pdf"),
                role=DocumentRole.SUPPORTING,
                document_type=item.document_type,
            )
    if form.organization_part_as_pdf:
        applications.application_attach(
            application=application,
            user=scrivener,
            upload=_pdf("organization-part.pdf"),
            role=DocumentRole.ORGANIZATION_PART,
            document_type="organization_part",
        )
    applications.application_set_receipt_method(application=application, user=scrivener, method=method)
    if applications.photo_required(application):
        applications.application_attach(
            application=application,
            user=scrivener,
            upload=_photo(),
            role=DocumentRole.PHOTO,
            document_type="face_photo",
            taken_within_6_months=True,
        )
    return applications.application_submit(application_id=application.pk, user=scrivener, submission_key=key)


def _candidates(today: dt.date) -> list[Any]:
    from zairyu.registry.models import Resident

    catalogue = get_catalogue()
    tokyo = catalogue.offices["tokyo"].prefectures
    online = {entry.key for entry in catalogue.entries_in_force(today, online_only=True)}
    return [
        resident
        for resident in Resident.objects.filter(
            prefecture__in=tokyo,
            abroad_on_reentry=False,
            stay_expires_on__gt=today + dt.timedelta(days=20),
            stay_expires_on__lt=today + dt.timedelta(days=85),
            card_expires_on__gt=today + dt.timedelta(days=20),
            move_in_notified_on__lt=today,
        ).order_by("card_number")[:60]
        if resident.status in online
    ]


def review_load_demo() -> list[tuple[str, str]]:
    """File the demo applications (once) and enter window counts; return what to print."""
    if settings.PRODUCTION:
        raise RuntimeError("demo data is never created in production")
    scrivener = User.objects.filter(username="DEMOSCRIV001").first()
    lines: list[tuple[str, str]] = []
    today = clock.today()
    if scrivener is not None:
        filed = 0
        residents = iter(_candidates(today))
        for index, (procedure, add_ons, method) in enumerate(APPLICATIONS):
            key = f"{KEY}-{index}"
            if Application.objects.filter(filer=scrivener, submission_key=key).exists():
                filed += 1
                continue
            for resident in residents:
                status = resident.status if procedure == "P3" else "engineer_humanities"
                if procedure == "P2" and resident.status == status:
                    continue
                start = applications.Start(
                    procedure=procedure, status=status, add_ons=add_ons, card_number=resident.card_number
                )
                try:
                    _file(scrivener, key=key, start=start, method=method, today=today)
                except (applications.ApplicationRefused, ValueError) as refused:
                    logger.info("demo resident %s skipped: %s", resident.pk, refused)
                    Application.objects.filter(
                        filer=scrivener, applicant_resident=resident, submitted_at__isnull=True
                    ).delete()
                    continue
                filed += 1
                break
        key = f"{KEY}-coe"
        if not Application.objects.filter(filer=scrivener, submission_key=key).exists():
            from zairyu.organizations.demo import ORGANIZATIONS
            from zairyu.registry.models import ReceivingOrganization

            number = next(n for k, n, *_rest in ORGANIZATIONS if k == "company")
            if ReceivingOrganization.objects.filter(corporate_number=number).exists():
                start = applications.Start(
                    procedure="P1", status="engineer_humanities", organization_corporate_number=number
                )
                try:
                    _file(scrivener, key=key, start=start, method="email", today=today)
                except applications.ApplicationRefused as refused:
                    logger.warning("demo COE not filed: %s", refused)
        lines.append(
            (
                "Officer queue (Tokyo)",
                f"{filed} applications and a COE (e-mail receipt) filed by DEMOSCRIV001: /staff/review/",
            )
        )
    for quarter in recent_quarters(today, 4):
        for month in quarter.months:
            if month > today:
                continue
            for procedure, count in WINDOW_COUNTS.items():
                WindowCount.objects.get_or_create(
                    office="tokyo",
                    month=month,
                    procedure=procedure,
                    defaults={"count": count + (month.month * 7 + len(procedure)) % 9},
                )
    lines.append(("Scorecard", "/public/scorecard/ (window counts of the Tokyo office, demo scale)"))
    lines.append(("e-COE check", "/public/ecoe/ (the code is on the e-COE once an officer permits the COE)"))
    return lines
