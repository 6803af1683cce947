"""The public API: the e-COE verification (what the public page shows and no more, the exact PDF
genuine and a changed byte not, a forged record invalid, one budget with the page) and the
scorecard."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.api.tests.conftest import ApiCaller
from zairyu.core import clock
from zairyu.documents.services import document_open
from zairyu.review import services as review
from zairyu.review.models import EcoeRecord, Issue, WindowCount
from zairyu.review.tests.factories import filer, officer, submitted

pytestmark = pytest.mark.django_db

BASE = "/api/v1/public"


@pytest.fixture(autouse=True)
def review_settings(settings, tmp_path):
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.SITE_URL = "http://testserver"
    settings.ECOE_SIGNING_KEY = str(tmp_path / "keys" / "ecoe-signing.pem")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anonymous() -> ApiCaller:
    return ApiCaller(None)


@pytest.fixture
def coe():
    """A certificate of eligibility permitted and issued electronically: (application, record, pdf)."""
    application = submitted(procedure="P1", method="email", by=filer())
    desk = officer(application.office)
    review.application_take_up(application_id=application.pk, officer=desk)
    review.application_decide(
        application_id=application.pk, officer=desk, outcome="permit", status="engineer_humanities"
    )
    record = EcoeRecord.objects.get(issue__application=application)
    with document_open(Issue.objects.get(application=application).document) as handle:
        data = handle.read()
    return application, record, data


def _pdf(data: bytes):
    return SimpleUploadedFile("coe.pdf", data, content_type="application/pdf")


def test_the_record_shows_what_the_page_shows_and_no_personal_data(anonymous, coe):
    application, record, _data = coe
    shown = review.display_code(record.code)
    response = anonymous.get(f"{BASE}/ecoe/{record.code}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "code": shown,
        "state": "valid",
        "signature_valid": True,
        "coe_number": record.coe_number,
        "status": "engineer_humanities",
        "status_name": {
            "ja": "技術・人文知識・国際業務",
            "en": "Engineer/Specialist in Humanities/International Services",
        },
        "issued_on": record.issued_on.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "revoked_on": None,
        "sha256": record.sha256,
    }
    assert application.applicant_name not in response.content.decode()
    # Typed with dashes and in lower case, the code is understood.
    assert anonymous.get(f"{BASE}/ecoe/{shown.lower()}").json()["coe_number"] == record.coe_number


def test_expired_and_revoked_records_say_so(anonymous, coe):
    _application, record, _data = coe
    with time_machine.travel(clock.start_of_day(record.valid_until + dt.timedelta(days=1)), tick=False):
        assert anonymous.get(f"{BASE}/ecoe/{record.code}").json()["state"] == "expired"
    EcoeRecord.objects.filter(pk=record.pk).update(revoked_at=clock.now())
    body = anonymous.get(f"{BASE}/ecoe/{record.code}").json()
    assert body["state"] == "revoked" and body["revoked_on"] == clock.today().isoformat()


def test_the_exact_pdf_is_genuine_and_a_changed_byte_is_not(anonymous, coe):
    _application, record, data = coe
    genuine = anonymous.upload(f"{BASE}/ecoe/{record.code}/verify", {"file": _pdf(data)})
    assert genuine.status_code == 200, genuine.content
    assert genuine.json()["verdict"] == "genuine"
    assert genuine.json()["detail"].startswith("Genuine and unchanged")
    assert genuine.json()["record"]["coe_number"] == record.coe_number
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0x01
    verdict = anonymous.upload(f"{BASE}/ecoe/{record.code}/verify", {"file": _pdf(bytes(changed))}).json()
    assert verdict["verdict"] == "changed"
    japanese = ApiCaller(None, language="ja")
    ja = japanese.upload(f"{BASE}/ecoe/{record.code}/verify", {"file": _pdf(data + b"\n")}).json()
    assert ja["verdict"] == "changed" and ja["detail"] != verdict["detail"]
    missing = anonymous.upload(f"{BASE}/ecoe/{record.code}/verify", {})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["parameter"] == "file"


def test_a_record_changed_in_the_database_fails_its_signature(anonymous, coe):
    _application, record, data = coe
    forged = bytearray(data)
    forged[100] ^= 0x01
    EcoeRecord.objects.filter(pk=record.pk).update(sha256=hashlib.sha256(bytes(forged)).hexdigest())
    body = anonymous.get(f"{BASE}/ecoe/{record.code}").json()
    assert body["state"] == "invalid" and body["signature_valid"] is False
    verdict = anonymous.upload(f"{BASE}/ecoe/{record.code}/verify", {"file": _pdf(bytes(forged))}).json()
    assert verdict["verdict"] == "record_invalid"


def test_an_unknown_code_is_not_found_and_a_blank_one_is_invalid(anonymous):
    unknown = anonymous.get(f"{BASE}/ecoe/ABCDABCDABCDABCD")
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert "No certificate was issued under this code" in unknown.json()["detail"]
    ja = ApiCaller(None, language="ja").get(f"{BASE}/ecoe/ABCDABCDABCDABCD").json()
    assert ja["detail"] != unknown.json()["detail"]
    blank = anonymous.get(f"{BASE}/ecoe/----")
    assert blank.status_code == 422 and blank.json()["errors"][0]["parameter"] == "code"
    # The document's pattern says what a code may hold: other characters are refused by it.
    for malformed in ("%C2%B2%C2%B2", "ABCD_EFGH", "ABCD%2FEFGH"):
        refused = anonymous.get(f"{BASE}/ecoe/{malformed}")
        assert refused.status_code in (404, 422), malformed
        if refused.status_code == 422:
            assert refused.json()["errors"][0]["code"] == "string_pattern_mismatch"
    lower = anonymous.get(f"{BASE}/ecoe/abcd-abcd abcd-abcd")
    assert lower.status_code == 404
    upload = anonymous.upload(f"{BASE}/ecoe/ABCDABCDABCDABCD/verify", {"file": _pdf(b"%PDF-1.4")})
    assert upload.status_code == 404


def test_the_api_and_the_page_share_one_budget_per_address(anonymous, settings):
    settings.ECOE_VERIFY_LIMIT_PER_HOUR = 3
    assert anonymous.get(f"{BASE}/ecoe/ABCDABCDABCDABCD").status_code == 404
    assert anonymous.http.get("/public/ecoe/ABCDABCDABCDABCD/").status_code == 404
    assert anonymous.get(f"{BASE}/ecoe/ABCDABCDABCDABCD").status_code == 404
    limited = anonymous.get(f"{BASE}/ecoe/ABCDABCDABCDABCD")
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    assert limited.json()["code"] == "rate_limited"
    assert anonymous.http.get("/public/ecoe/ABCDABCDABCDABCD/").status_code == 429
    # Another address has its own budget.
    other = anonymous.http.get(f"{BASE}/ecoe/ABCDABCDABCDABCD", REMOTE_ADDR="192.0.2.9")
    assert other.status_code == 404


def test_the_scorecard(anonymous):
    today = clock.today()
    submitted(procedure="P3", office="tokyo", received=today)
    submitted(procedure="P3", office="osaka", received=today)
    WindowCount.objects.create(office="tokyo", month=today.replace(day=1), procedure="P3", count=6)
    response = anonymous.get(f"{BASE}/scorecard")
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["target"] == 0.2 and len(card["quarters"]) == 8
    assert card["quarters"][-1]["start"] <= today.isoformat() < card["quarters"][-1]["end"]
    p3 = next(p for p in card["procedures"] if p["procedure"] == "P3")
    assert p3["target"] is True and p3["name"]["en"] == "Extension of period of stay"
    current = p3["quarters"][-1]
    assert (current["online"], current["window"]) == (2, 6)
    assert current["rate"] == pytest.approx(0.25) and current["complete"] is False
    assert current["meets_target"] is True
    assert {o["office"] for o in card["offices"]} >= {"tokyo", "osaka"}
    # Counts and rates only: no name, no receipt number.
    assert "NGUYEN" not in response.content.decode()
