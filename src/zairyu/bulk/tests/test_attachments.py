"""Photos and PDFs for many applications as one ZIP (names map to rows, the single checks apply,
hostile ZIPs are refused), and submitting many at once (each its receipt number; one that fails a
check stays a draft, with the reason)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.applications.constants import ApplicationState, DocumentRole
from zairyu.applications.models import Application
from zairyu.bulk.models import BulkRow
from zairyu.bulk.parsing import FileRefused
from zairyu.bulk.samples import attachments_zip, photo_jpeg
from zairyu.bulk.tests.conftest import make_file, signed_in, upload
from zairyu.bulk.zipfiles import bulk_attach_zip, inspect_zip
from zairyu.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def imported(staff, students):
    return upload(staff, make_file(students[:4]))


def zip_of(entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_zip_attaches_photos_and_pdfs_to_the_rows_its_names_say(staff, students, imported):
    data = attachments_zip([s.card_number for s in students[:3]])
    # Row numbers work as keys too, and folders inside the ZIP are ignored.
    extra = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: extra.read(info) for info in extra.infolist()}
    entries["photos/row9_photo.jpg"] = photo_jpeg(9)
    entries["notes.txt"] = b"hello"
    entries[f"{students[0].card_number}_diploma.pdf"] = b"%PDF-1.4 not really"
    archive = zip_of(entries)
    client = signed_in(staff)
    response = client.post(
        f"/applications/bulk/{imported.public_id}/attachments/",
        {"file": SimpleUploadedFile("files.zip", archive), "taken_within_6_months": "on"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    for student in students[:4]:
        application = Application.objects.get(applicant_resident=student)
        roles = sorted(application.documents.values_list("role", flat=True))
        expected = (
            [DocumentRole.PHOTO] if student == students[3] else [DocumentRole.PHOTO, DocumentRole.SUPPORTING]
        )
        assert roles == sorted(expected), student
    assert 'data-zip-entry="notes.txt" data-ok="0"' in html  # a name that says nothing: reported
    assert (
        f'data-zip-entry="{students[0].card_number}_diploma.pdf" data-ok="0"' in html
    )  # a bad PDF: the PDF checks
    # The same ZIP again: the photo is replaced (one per application), a PDF is not attached twice.
    bulk_attach_zip(
        bulk_import=imported,
        user=staff,
        upload=SimpleUploadedFile("files.zip", archive),
        taken_within_6_months=True,
    )
    first = Application.objects.get(applicant_resident=students[0])
    assert first.documents.filter(role=DocumentRole.SUPPORTING).count() == 1
    assert first.documents.filter(role=DocumentRole.PHOTO).count() == 1


def test_photos_need_the_six_months_confirmation(staff, students, imported):
    results = bulk_attach_zip(
        bulk_import=imported,
        user=staff,
        upload=SimpleUploadedFile("f.zip", attachments_zip([students[0].card_number], documents=())),
        taken_within_6_months=False,
    )
    assert [r.ok for r in results] == [False] and "6 months" in str(results[0].message)


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ({"../../etc/AB00000001CD_photo.jpg": b"x"}, "zip_path"),
        ({"/abs/AB00000001CD_photo.jpg": b"x"}, "zip_path"),
        ({"inner.zip": zip_of({"a.txt": b"a"})}, "zip_nested"),
        ({"big_photo.jpg": b"\x00" * (30 * 1024 * 1024)}, "zip_bomb"),
    ],
    ids=["climbing-path", "absolute-path", "nested-zip", "bomb"],
)
def test_hostile_zips_are_refused_whole(entries, code):
    with pytest.raises(FileRefused) as refused:
        inspect_zip(SimpleUploadedFile("f.zip", zip_of(entries)))
    assert refused.value.code == code


def test_too_many_entries_and_too_much_unpacked_are_refused(settings):
    settings.BULK_ZIP_MAX_FILES = 3
    with pytest.raises(FileRefused) as refused:
        inspect_zip(SimpleUploadedFile("f.zip", zip_of({f"row{n}_photo.jpg": b"x" for n in range(4)})))
    assert refused.value.code == "zip_too_many"
    settings.BULK_ZIP_MAX_UNPACKED_BYTES = 1000
    with pytest.raises(FileRefused) as refused:
        inspect_zip(
            SimpleUploadedFile(
                "f.zip", zip_of({"row6_photo.jpg": b"x" * 2000}, compression=zipfile.ZIP_STORED)
            )
        )
    assert refused.value.code == "zip_too_large_unpacked"
    with pytest.raises(FileRefused) as refused:
        inspect_zip(SimpleUploadedFile("f.zip", b"not a zip at all"))
    assert refused.value.code == "zip_damaged"


def test_drafts_are_submitted_together_each_with_its_receipt_number(staff, students, imported, settings):
    bulk_attach_zip(
        bulk_import=imported,
        user=staff,
        upload=SimpleUploadedFile("f.zip", attachments_zip([s.card_number for s in students[:3]])),
        taken_within_6_months=True,
    )
    client = signed_in(staff)
    page = client.get(f"/applications/bulk/{imported.public_id}/submit/")
    assert page.status_code == 200 and page.content.decode().count('name="application"') == 4
    ids = [r.application_id for r in BulkRow.objects.filter(bulk_import=imported)]
    response = client.post(
        f"/applications/bulk/{imported.public_id}/submit/",
        {"application": ids, "receipt_method": "post", "confirm": "yes"},
    )
    assert response.status_code == 200
    submitted = Application.objects.filter(state=ApplicationState.SUBMITTED)
    assert submitted.count() == 3
    numbers = set(submitted.values_list("receipt_number", flat=True))
    assert len(numbers) == 3 and all(re.fullmatch(r"東オン-\w+-\d{4}-\d{6}", n) for n in numbers)
    # The one without its photo and passport copy stays a draft, with the reason shown.
    left = Application.objects.get(applicant_resident=students[3])
    assert left.state == ApplicationState.DRAFT
    row = BulkRow.objects.get(application=left)
    assert any("photo" in problem["en"] for problem in row.submit_errors)
    html = response.content.decode()
    assert 'data-submitted="0"' in html and "face photo" in html
    assert OutboundEmail.objects.filter(kind="application_received", to=staff.email).count() == 3
    # Submitting again does not submit twice.
    client.post(
        f"/applications/bulk/{imported.public_id}/submit/",
        {"application": ids, "receipt_method": "post", "confirm": "yes"},
    )
    assert Application.objects.filter(state=ApplicationState.SUBMITTED).count() == 3
    assert OutboundEmail.objects.filter(kind="application_received", to=staff.email).count() == 3
