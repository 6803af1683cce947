"""Fixtures of the bulk tests: a language school with an approved staff member and students whose
stay ends within three months (the time to file an extension), and helpers to upload files."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.accounts.tests.conftest import EnglishClient, english  # noqa: F401 - English pages and texts
from zairyu.bulk import services
from zairyu.bulk.columns import bulk_form
from zairyu.bulk.models import BulkImport
from zairyu.bulk.samples import bulk_file, bulk_rows
from zairyu.core import clock
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory


@pytest.fixture(autouse=True)
def private_files(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SITE_URL = "http://testserver"
    cache.clear()  # throttles start afresh in every test


def student_of(school, **fields):
    today = clock.today()
    values = {
        "status": "student",
        "period_of_stay": "1Y",
        "stay_expires_on": today + dt.timedelta(days=60),
        "card_expires_on": today + dt.timedelta(days=60),
        "move_in_notified_on": None,
        "abroad_on_reentry": False,
        "affiliation": school,
        **fields,
    }
    return ResidentFactory(**values)


@pytest.fixture
def school(db):
    return ReceivingOrganizationFactory(kind="school", name="Demo Japanese Language School")


@pytest.fixture
def enrolment(school):
    return EnrolmentFactory(organization=school)


@pytest.fixture
def staff(enrolment):
    return staff_member(enrolment, email="office@school.example")


@pytest.fixture
def students(school):
    return [student_of(school) for _ in range(6)]


def student_form(user_category: str = "U5"):
    return bulk_form(procedure="P3", status="student", user_category=user_category)


def make_file(residents, *, kind: str = "csv", errors: int = 0, user_category: str = "U5", **kwargs) -> bytes:
    form = student_form(user_category)
    rows, _injected = bulk_rows(form, residents, errors=errors, **kwargs)
    return bulk_file(form, rows, kind=kind)


def upload(user, data: bytes, *, name: str = "students.csv", procedure: str = "P3", status: str = "student"):
    """Upload through the service and run the task in this process (as the embedded default does)."""
    bulk_import = services.bulk_import_create(
        user=user, procedure=procedure, status=status, upload=SimpleUploadedFile(name, data)
    )
    services.bulk_import_run(import_id=bulk_import.pk)
    return BulkImport.objects.get(pk=bulk_import.pk)


def signed_in(user) -> EnglishClient:
    from zairyu.applications.tests.helpers import signed_in_client

    return signed_in_client(user)
