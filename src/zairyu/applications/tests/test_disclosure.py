"""The disclosure policy (ADR 0014): an agent who types a stranger's residence-card number learns
nothing of the registry through any route — the web steps, the API, a bulk file and its
results, the PDFs — while a foreign national filing for themselves and an organization filing
for its own people have the form filled in. The identity cross-check answers only "matches" or
"this item does not match", and once its limit is passed it refuses every try, a right one too."""

from __future__ import annotations

import io

import pikepdf
import pytest
from django.core.cache import cache

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.applications import services
from zairyu.applications.disclosure import registry_answers, registry_disclosure
from zairyu.applications.models import Application
from zairyu.applications.rules.timing import timing_problems
from zairyu.applications.tests.helpers import signed_in_client, step_post, today_plus
from zairyu.core import clock
from zairyu.core.models import AuditEvent
from zairyu.organizations.tests.factories import EnrolmentFactory, staff_member
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def stranger():
    """A resident in another prefecture whom the agent has never met."""
    return ResidentFactory(
        roman_name="PHAM THI STRANGER",
        kanji_name="",
        status="engineer_humanities",
        period_of_stay="3Y",
        stay_expires_on=today_plus(400),  # far ahead: the extension's timing warning names dates
        card_expires_on=today_plus(400),
        prefecture="27",
        municipality="大阪市北区",
        address_rest="梅田9-9-9 ストレンジャー館",
        move_in_notified_on=None,
        abroad_on_reentry=False,
    )


@pytest.fixture
def scrivener():
    return active_user(UserKind.U4, email="agent@example.com")


def _secrets(resident) -> list[str]:
    """What the registry holds that the agent must never be shown."""
    return [
        resident.roman_name,
        resident.date_of_birth.isoformat(),
        resident.address_rest,
        resident.municipality,
        resident.card_expires_on.isoformat(),
        resident.stay_expires_on.isoformat(),
    ]


def _start(client, resident, *, own_card: bool = False):
    """Start an extension; past the early-filing warning (which, but to the card's holder, must
    not name the record's dates either) with "start anyway"."""
    data = {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number}
    response = client.post("/applications/new/", data)
    if response.status_code == 200 and response.context.get("warnings"):
        page = response.content.decode()
        assert own_card or not [secret for secret in _secrets(resident) if secret in page]
        assert not own_card or resident.stay_expires_on.isoformat() in page
        response = client.post(
            "/applications/new/", {**data, "warnings_seen": response.context["warnings_key"]}
        )
    return response


def test_an_agent_gets_nothing_of_a_strangers_record_through_the_web(scrivener, stranger):
    client = signed_in_client(scrivener)
    assert _start(client, stranger).status_code == 302
    application = Application.objects.get(filer=scrivener)
    assert set(application.answers) == {"card_number"} and application.applicant_name == ""
    pages = [
        client.get(f"/applications/{application.public_id}/step/{step}/")
        for step in services.application_form(application).step_ids
    ]
    pages += [
        client.get(f"/applications/{application.public_id}/"),
        client.get(f"/applications/{application.public_id}/confirm/"),
        client.get("/applications/"),
    ]
    assert b"data-type-from-card" in pages[0].content  # the first step says why nothing is filled in
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        for secret in _secrets(stranger):
            assert secret not in html, (page.request["PATH_INFO"], secret)
    document = pikepdf.open(
        io.BytesIO(client.get(f"/applications/{application.public_id}/application.pdf").content)
    )
    content = b"".join(page.Contents.read_bytes() for page in document.pages)
    assert (
        stranger.roman_name.encode() not in content
        and stranger.date_of_birth.isoformat().encode() not in content
    )


def test_an_agent_gets_nothing_of_a_strangers_record_through_the_api(scrivener, stranger):
    from zairyu.api.tests.conftest import api_caller

    api = api_caller(scrivener)
    created = api.post(
        "/api/v1/applications",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": stranger.card_number},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body["answers"]) <= {"card_number"}
    fetched = api.get(f"/api/v1/applications/{body['id']}")
    checked = api.post(f"/api/v1/applications/{body['id']}/validate")
    for response in (created, fetched, checked):
        text = response.content.decode()
        for secret in _secrets(stranger):
            assert secret not in text, secret


def test_an_agents_bulk_file_of_card_numbers_only_gets_no_registry_data(
    scrivener, stranger, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zairyu.bulk import services as bulk
    from zairyu.bulk.columns import bulk_form
    from zairyu.bulk.models import BulkImport, BulkRow
    from zairyu.bulk.samples import bulk_file

    settings.MEDIA_ROOT = tmp_path / "files"
    form = bulk_form(procedure="P3", status="engineer_humanities", user_category="U4")
    data = bulk_file(form, [{"card_number": stranger.card_number}], kind="csv")
    created = bulk.bulk_import_create(
        user=scrivener,
        procedure="P3",
        status="engineer_humanities",
        upload=SimpleUploadedFile("agent.csv", data),
    )
    bulk.bulk_import_run(import_id=created.pk)
    bulk_import = BulkImport.objects.get(pk=created.pk)
    (row,) = BulkRow.objects.filter(bulk_import=bulk_import)
    assert row.errors  # the identity items are missing: the agent must type them
    application = row.application
    assert application is not None and application.applicant_name == ""
    assert "roman_name" not in application.answers and "date_of_birth" not in application.answers
    client = signed_in_client(scrivener)
    surfaces = [
        client.get(f"/applications/bulk/{bulk_import.public_id}/").content,
        client.get(f"/applications/bulk/{bulk_import.public_id}/annotated.csv").content,
        client.get(f"/applications/bulk/{bulk_import.public_id}/annotated.xlsx").content,
        str(row.errors).encode(),
    ]
    for surface in surfaces[:2] + surfaces[3:]:
        text = surface.decode()
        for secret in _secrets(stranger):
            assert secret not in text, secret
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(surfaces[2]))
    cells = " ".join(str(c.value) for sheet in workbook for r in sheet.iter_rows() for c in r if c.value)
    for secret in _secrets(stranger):
        assert secret not in cells, secret


def test_the_extension_warning_names_no_date_until_the_identity_matches(scrivener, stranger):
    (warning,) = timing_problems(procedure="P3", resident=stranger, today=clock.today(), disclose_dates=False)
    assert warning.code == "extension_too_early" and not warning.data
    assert stranger.stay_expires_on.isoformat() not in str(warning.message)
    assert not registry_disclosure(scrivener, stranger).facts
    assert registry_disclosure(scrivener, stranger, identity_matched=True).facts
    (named,) = timing_problems(procedure="P3", resident=stranger, today=clock.today())
    assert stranger.stay_expires_on.isoformat() in str(named.message)


def test_a_foreign_national_filing_for_themselves_has_the_form_filled_in(stranger):
    own = active_user(
        UserKind.U1,
        card_id="CARD-OWN",
        full_name=stranger.roman_name,
        sex=stranger.sex,
        date_of_birth=stranger.date_of_birth,
    )
    other = ResidentFactory(status="engineer_humanities", stay_expires_on=today_plus(60))
    assert registry_disclosure(own, stranger).prefill
    assert not registry_disclosure(own, other).prefill  # somebody else's card
    client = signed_in_client(own)
    assert _start(client, stranger, own_card=True).status_code == 302
    application = Application.objects.get(filer=own)
    assert application.answers["roman_name"] == stranger.roman_name
    first = client.get(f"/applications/{application.public_id}/step/2-1/")
    assert b"data-type-from-card" not in first.content
    assert application.answers["date_of_birth"] == stranger.date_of_birth.isoformat()


def test_an_organization_has_its_own_peoples_forms_filled_in_and_no_one_elses():
    company = ReceivingOrganizationFactory(kind="employer")
    hr = staff_member(EnrolmentFactory(organization=company))
    own = ResidentFactory(affiliation=company, status="engineer_humanities")
    outsider = ResidentFactory(affiliation=ReceivingOrganizationFactory(kind="employer"))
    assert registry_disclosure(hr, own).prefill
    assert not registry_disclosure(hr, outsider).prefill
    assert registry_disclosure(hr, own, scope_ids={company.pk}).prefill
    assert not registry_disclosure(hr, outsider, scope_ids={company.pk}).prefill


def _post_identity(client, application, **identity):
    """Type the identity items (step 2-1) and save step 2-2, where the cross-check runs."""
    base = f"/applications/{application.public_id}/step"
    client.post(f"{base}/2-1/", step_post(application, "2-1", overrides=identity))
    application.refresh_from_db()
    return client.post(f"{base}/2-2/", step_post(application, "2-2", overrides=identity))


def _errors(response) -> str:
    return " ".join(str(e) for errors in response.context["form"].errors.values() for e in errors)


THROTTLED = "Too many attempts"


def test_after_the_limit_even_the_right_identity_is_refused_for_the_filer_and_for_the_card(
    scrivener, stranger, settings
):
    settings.CROSSCHECK_MISMATCH_LIMIT = 3
    client = signed_in_client(scrivener)
    _start(client, stranger)
    application = Application.objects.get(filer=scrivener)
    right = registry_answers(stranger)
    for year in range(1950, 1953):  # three wrong guesses of the date of birth
        response = _post_identity(client, application, **{**right, "date_of_birth": f"{year}-01-01"})
        assert response.status_code == 200
        assert "date of birth does not match" in _errors(response) and THROTTLED not in _errors(response)
    response = _post_identity(client, application, **right)  # the right answer, now refused
    assert response.status_code == 200 and THROTTLED in _errors(response)
    assert "does not match" not in _errors(response)
    application.refresh_from_db()
    assert "2-2" not in application.steps_done
    problems = services.application_problems(application, today=clock.today(), at_submission=True)
    assert "crosscheck_throttled" in {p.code for p in problems}

    # Another agent, the same card: blocked too (the card number has its own count).
    colleague = active_user(UserKind.U4, email="colleague@example.com")
    other_client = signed_in_client(colleague)
    _start(other_client, stranger)
    theirs = Application.objects.get(filer=colleague)
    response = _post_identity(other_client, theirs, **right)
    assert THROTTLED in _errors(response)

    # Every try is audited: three mismatches, then the blocked ones, with codes only.
    actions = list(
        AuditEvent.objects.filter(action__startswith="applications.crosscheck").values_list(
            "action", flat=True
        )
    )
    assert actions.count("applications.crosscheck_mismatch") == 3
    assert actions.count("applications.crosscheck_blocked") == 2
    for event in AuditEvent.objects.filter(action__startswith="applications.crosscheck"):
        assert stranger.card_number not in str(event.details) and stranger.roman_name not in str(
            event.details
        )


def test_a_matching_identity_within_the_limit_goes_through_and_is_audited(scrivener, stranger):
    client = signed_in_client(scrivener)
    _start(client, stranger)
    application = Application.objects.get(filer=scrivener)
    response = _post_identity(client, application, **registry_answers(stranger))
    assert response.status_code == 302
    application.refresh_from_db()
    assert "2-2" in application.steps_done
    assert AuditEvent.objects.filter(action="applications.crosscheck_match").count() == 1
