"""The electronic COE: issued at the permission, e-mailed with a download link, verified on the
public page — the exact bytes are genuine, one changed byte is not, a changed record fails its
signature. Also the paper COE and the employment certificate by post."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.accounts.tests.conftest import EnglishClient
from zairyu.applications.constants import ApplicationState
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.documents.services import document_open
from zairyu.notifications.models import OutboundEmail
from zairyu.review import services, signing
from zairyu.review.models import EcoeRecord, Issue
from zairyu.review.tests.factories import filer, officer, submitted

pytestmark = pytest.mark.django_db


def permitted_coe(*, method: str = "email", photo: bool = False, by=None):
    application = submitted(procedure="P1", method=method, photo=photo, by=by or filer())
    desk = officer(application.office)
    services.application_take_up(application_id=application.pk, officer=desk)
    services.application_decide(
        application_id=application.pk, officer=desk, outcome="permit", status="engineer_humanities"
    )
    application.refresh_from_db()
    return application, desk


def link(body: str, path: str) -> str:
    return re.search(rf"http://testserver({re.escape(path)}\S+)", body).group(1)


def ecoe_bytes(application) -> bytes:
    issue = Issue.objects.get(application=application)
    with document_open(issue.document) as handle:
        return handle.read()


def upload(data: bytes, name: str = "coe.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_a_coe_by_email_is_issued_at_the_permission_and_emailed_once(django_capture_on_commit_callbacks):
    scrivener = filer(email="scrivener@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        application, _desk = permitted_coe(by=scrivener)
    assert application.state == ApplicationState.COMPLETE  # never "awaiting issue": nothing to wait for
    record = EcoeRecord.objects.get()
    issue = record.issue
    assert (issue.kind, issue.method, issue.state) == ("ecoe", "email", "issued")
    assert (
        re.fullmatch(r"TOK-N-\d{4}-\d{6}", record.coe_number)
        and record.coe_number == issue.certificate_number
    )
    assert record.valid_until == clock.today().replace(day=1) or record.valid_until > clock.today()
    (mail,) = OutboundEmail.objects.filter(kind="review_ecoe_issued")
    assert mail.to == "scrivener@example.com" and record.coe_number in mail.body
    assert services.display_code(record.code) in mail.body
    data = ecoe_bytes(application)
    # The PDF: no photo, the code and the verification address in it, its hash on record.
    with pikepdf.open(__import__("io").BytesIO(data)) as pdf:
        text = b"".join(
            page.Contents.read_bytes() if not isinstance(page.Contents, pikepdf.Array) else b""
            for page in pdf.pages
        )
        images = [name for page in pdf.pages for name in page.get_images()]
    assert not images
    assert services.display_code(record.code).encode() in text
    assert f"/public/ecoe/{record.code}/".encode() in text
    import hashlib

    assert hashlib.sha256(data).hexdigest() == record.sha256

    # The download link of the e-mail works without signing in (it is forwarded abroad).
    download = EnglishClient().get(link(mail.body, "/public/ecoe/download/"))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == data
    assert EnglishClient().get("/public/ecoe/download/not-a-token/").status_code == 404
    # The filer has it on the application's page too; nobody else does.
    client = signed_in_client(scrivener)
    detail = client.get(f"/applications/{application.public_id}/").content.decode()
    assert record.coe_number in detail and "Complete" in detail
    response = client.get(f"/public/applications/{application.public_id}/ecoe.pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content) == data
    assert (
        signed_in_client(filer()).get(f"/public/applications/{application.public_id}/ecoe.pdf").status_code
        == 404
    )


def test_the_public_page_confirms_the_exact_pdf_and_refuses_one_changed_byte():
    application, _desk = permitted_coe()
    record = EcoeRecord.objects.get()
    data = ecoe_bytes(application)
    public = EnglishClient()
    page = public.get(f"/public/ecoe/{record.code}/")
    assert page.status_code == 200 and page.context["record"] == record and page.context["signature_ok"]
    content = page.content.decode()
    assert record.coe_number in content and application.applicant_name not in content  # no personal data
    # Typed with dashes and in lower case, the code still leads there.
    lookup = public.get("/public/ecoe/", {"code": services.display_code(record.code).lower()})
    assert lookup.status_code == 302 and lookup["Location"] == f"/public/ecoe/{record.code}/"

    genuine = public.post(f"/public/ecoe/{record.code}/", {"file": upload(data)})
    assert genuine.context["verdict"].code == "genuine"
    for position in (len(data) // 2, len(data) - 10, 20):
        changed = bytearray(data)
        changed[position] ^= 0x01
        response = public.post(f"/public/ecoe/{record.code}/", {"file": upload(bytes(changed))})
        assert response.context["verdict"].code == "changed", position
    assert (
        public.post(f"/public/ecoe/{record.code}/", {"file": upload(data + b"\n")}).context["verdict"].code
        == "changed"
    )
    unknown = public.post("/public/ecoe/ABCDABCDABCDABCD/", {"file": upload(data)})
    assert unknown.context["verdict"].code == "unknown"
    assert public.get("/public/ecoe/ABCDABCDABCDABCD/").status_code == 404


def test_a_record_changed_in_the_database_fails_its_signature():
    application, _desk = permitted_coe()
    record = EcoeRecord.objects.get()
    forged = bytearray(ecoe_bytes(application))
    forged[100] ^= 0x01
    import hashlib

    EcoeRecord.objects.filter(pk=record.pk).update(sha256=hashlib.sha256(bytes(forged)).hexdigest())
    public = EnglishClient()
    page = public.get(f"/public/ecoe/{record.code}/")
    assert not page.context["signature_ok"] and "signature check" in page.content.decode()
    verdict = public.post(f"/public/ecoe/{record.code}/", {"file": upload(bytes(forged))}).context["verdict"]
    assert verdict.code == "record_invalid"


def test_the_signing_key_is_made_once_private_and_kept_for_old_signatures(settings, tmp_path):
    path = tmp_path / "keys" / "ecoe-signing.pem"
    assert str(path) == settings.ECOE_SIGNING_KEY
    signature, key_id = signing.sign(b"message")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert signing.verify(b"message", signature=signature, key_id=key_id)
    assert not signing.verify(b"messagE", signature=signature, key_id=key_id)
    # A new key (rotation): records signed with the old one still verify.
    settings.ECOE_SIGNING_KEY = str(tmp_path / "keys" / "ecoe-signing-2026.pem")
    _new_signature, new_id = signing.sign(b"other")
    assert new_id != key_id
    assert signing.verify(b"message", signature=signature, key_id=key_id)
    assert not signing.verify(b"message", signature=signature, key_id="0123456789abcdef")


def test_the_public_page_is_rate_limited(settings):
    settings.ECOE_VERIFY_LIMIT_PER_HOUR = 3
    public = EnglishClient()
    statuses = [public.get("/public/ecoe/ABCDABCDABCDABCD/").status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]


def test_a_coe_by_post_is_printed_at_the_permission_and_complete_when_posted(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        application, desk = permitted_coe(method="post", photo=True)
    assert application.state == ApplicationState.AWAITING_ISSUE
    issue = Issue.objects.get(application=application)
    assert issue.kind == "coe_paper" and issue.certificate_number and issue.document is not None
    with pikepdf.open(__import__("io").BytesIO(ecoe_bytes(application))) as pdf:
        assert any(page.get_images() for page in pdf.pages)  # the photo is on the paper one
    assert not EcoeRecord.objects.exists()
    page = signed_in_client(desk).get(f"/staff/review/applications/{application.pk}/issued.pdf")
    assert page.status_code == 200
    with pytest.raises(services.ReviewRefused, match="items_missing"):
        services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    services.postal_items_record(application_id=application.pk, officer=desk, envelope=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP77")
    application.refresh_from_db()
    assert application.state == ApplicationState.COMPLETE
    assert "JP77" in OutboundEmail.objects.get(kind="review_card_issued").body


def test_an_employment_certificate_by_post_needs_the_fee_and_is_issued_as_a_pdf():
    application = submitted(procedure="P5", method="post")
    desk = officer("tokyo")
    services.application_take_up(application_id=application.pk, officer=desk)
    decision = services.application_decide(application_id=application.pk, officer=desk, outcome="permit")
    assert decision.fee_yen == 1600 and decision.status == application.applicant_resident.status
    services.postal_items_record(application_id=application.pk, officer=desk, envelope=True)
    with pytest.raises(services.ReviewRefused, match="items_missing"):
        services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP2")
    services.postal_items_record(application_id=application.pk, officer=desk, fee_form=True)
    issue = services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP2")
    assert re.fullmatch(r"TOK-E-\d{4}-\d{6}", issue.certificate_number) and issue.document is not None
    card = application.applicant_resident.card_number
    application.applicant_resident.refresh_from_db()
    assert application.applicant_resident.card_number == card  # a certificate changes no card


def test_coe_numbers_are_gap_free_per_office_and_year():
    numbers = [
        services.certificate_number(kind="coe", office="tokyo", day=dt.date(2026, 5, 1)) for _ in range(3)
    ]
    assert numbers == ["TOK-N-2026-000001", "TOK-N-2026-000002", "TOK-N-2026-000003"]
    assert (
        services.certificate_number(kind="coe", office="osaka", day=dt.date(2026, 5, 1))
        == "OSA-N-2026-000001"
    )
