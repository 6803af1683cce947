"""The bulk-filing demo for ``make run`` (development only; refused in production).

A language school with an approved staff member (fixed ID and TOTP key, as the organizations
demo has them) and its students in the registry, every one of whose stay ends within three
months — the time to file an extension — so that the school can file all of them with one file.
A ready-made 300-row file with a few deliberate errors, and a ZIP of the students' photos and
passport copies, are written to ``DATA_DIR/demo``; ``scripts/bulk_file.py`` makes others.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.db import transaction

from zairyu.accounts.constants import UserKind
from zairyu.catalogue.validators import corporate_number_with_check_digit
from zairyu.core import clock
from zairyu.organizations.models import Enrolment
from zairyu.registry.models import ReceivingOrganization, Resident

SCHOOL_NUMBER = corporate_number_with_check_digit(
    "009905000001"
)  # the demo range: "0099" after the check digit
SCHOOL_NAME = "Demo Japanese Language School"
STAFF_ID = "DEMOSCHOL001"
STUDENTS = 320
DEMO_ROWS = 300
DEMO_ERRORS = 12

_FAMILY = (
    "NGUYEN",
    "TRAN",
    "LE",
    "PHAM",
    "SHRESTHA",
    "GURUNG",
    "WANG",
    "LI",
    "ZHANG",
    "PERERA",
    "AUNG",
    "SARI",
)
_GIVEN = (
    "AN",
    "BINH",
    "CHI",
    "DUNG",
    "HOA",
    "KHANH",
    "LINH",
    "MINH",
    "NAM",
    "PHUONG",
    "QUAN",
    "THU",
    "RAM",
    "SITA",
    "WEI",
)
_NATIONALITY = {
    "NGUYEN": "VNM",
    "TRAN": "VNM",
    "LE": "VNM",
    "PHAM": "VNM",
    "SHRESTHA": "NPL",
    "GURUNG": "NPL",
    "WANG": "CHN",
    "LI": "CHN",
    "ZHANG": "CHN",
    "PERERA": "LKA",
    "AUNG": "MMR",
    "SARI": "IDN",
}


def card_number(serial: int) -> str:
    """``DS00000001JL`` …: a range the registry's random demo population does not use."""
    return f"DS{serial:08d}JL"


def _student(serial: int, school: ReceivingOrganization, today: dt.date) -> dict:
    family = _FAMILY[serial % len(_FAMILY)]
    given = _GIVEN[(serial // len(_FAMILY)) % len(_GIVEN)]
    expires = today + dt.timedelta(days=25 + serial % 60)  # within three months: time to extend
    return {
        "roman_name": f"{family} {given} {chr(65 + serial % 26)}",
        "kanji_name": "",
        "nationality": _NATIONALITY[family],
        "sex": "M" if serial % 2 else "F",
        "date_of_birth": dt.date(1998 + serial % 8, 1 + serial % 12, 1 + serial % 28),
        "prefecture": "13",
        "municipality": "新宿区",
        "address_rest": f"高田馬場{1 + serial % 4}丁目{1 + serial % 20}番{1 + serial % 9}号",
        "move_in_notified_on": None,
        "card_expires_on": expires,
        "status": "student",
        "period_of_stay": "1Y",
        "stay_expires_on": expires,
        "abroad_on_reentry": False,
        "affiliation": school,
    }


def bulk_load_demo(*, write_files: bool = True) -> list[tuple[str, str]]:
    """Create (or reset) the school, its staff member and students; return what to print."""
    if settings.PRODUCTION:
        raise RuntimeError("demo data is never created in production")
    from zairyu.organizations.demo import _staff

    today = clock.today()
    with transaction.atomic():
        school, _created = ReceivingOrganization.objects.update_or_create(
            corporate_number=SCHOOL_NUMBER,
            defaults={
                "name": SCHOOL_NAME,
                "kind": "school",
                "category": 2,
                "prefecture": "13",
                "municipality": "新宿区",
                "address_rest": "高田馬場1-1-1",
                "phone": "03-5000-0100",
            },
        )
        valid_until = today + dt.timedelta(days=300)
        Enrolment.objects.update_or_create(
            organization=school, defaults={"office": "tokyo", "valid_until": valid_until}
        )
        staff = _staff(
            auth_id=STAFF_ID,
            kind=UserKind.U5,
            organization=school,
            name="ITO HANA",
            email="office@demo-school.zairyu.example",
            valid_until=valid_until,
        )
        existing = {
            r.card_number: r
            for r in Resident.objects.filter(card_number__startswith="DS", card_number__endswith="JL")
        }
        new, changed = [], []
        for serial in range(1, STUDENTS + 1):
            values = _student(serial, school, today)
            resident = existing.get(card_number(serial))
            if resident is None:
                new.append(Resident(card_number=card_number(serial), **values))
            else:
                for name, value in values.items():
                    setattr(resident, name, value)
                changed.append(resident)
        Resident.objects.bulk_create(new)
        if changed:
            Resident.objects.bulk_update(changed, list(_student(1, school, today)))
    lines = [
        (
            "Language school (U5)",
            f"ID {STAFF_ID}  TOTP key {staff.totp_secret}  ({SCHOOL_NAME}, {STUDENTS} students due to extend)",
        )
    ]
    if write_files:
        lines += _demo_files(school)
    return lines


def _demo_files(school: ReceivingOrganization) -> list[tuple[str, str]]:
    from zairyu.bulk.columns import bulk_form
    from zairyu.bulk.samples import attachments_zip, bulk_file, bulk_rows

    directory = Path(settings.DATA_DIR) / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    students = list(
        Resident.objects.filter(affiliation=school, status="student").order_by("card_number")[:DEMO_ROWS]
    )
    form = bulk_form(procedure="P3", status="student", user_category=UserKind.U5)
    rows, injected = bulk_rows(form, students, errors=DEMO_ERRORS)
    workbook = directory / f"bulk-students-{len(rows)}.xlsx"
    workbook.write_bytes(bulk_file(form, rows, kind="xlsx"))
    photos = directory / f"bulk-photos-{len(rows)}.zip"
    photos.write_bytes(attachments_zip([s.card_number for s in students]))
    return [
        ("Bulk file to upload", f"{workbook}  ({len(rows)} students, {len(injected)} deliberate errors)"),
        ("Its photos and PDFs", f"{photos}  (<card number>_photo.jpg, <card number>_passport_copy.pdf)"),
        ("Another bulk file", ".venv/bin/python scripts/bulk_file.py --rows 300 --errors 12 --out FILE.xlsx"),
    ]
