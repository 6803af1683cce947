"""Organization staff file for the foreigners of their organizations only (the organizations'
scope rule), and a company's staff member files a certificate of eligibility for a new hire."""

from __future__ import annotations

import re

import pytest

from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.services import application_form
from zairyu.applications.tests.helpers import (
    pdf_upload,
    photo_upload,
    signed_in_client,
    step_post,
    today_plus,
)
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations.tests.factories import EnrolmentFactory, mandate, staff_member, support_enrolment
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

pytestmark = pytest.mark.django_db


def worker_of(organization, **fields):
    values = {"status": "engineer_humanities", "period_of_stay": "1Y", **fields}
    return ResidentFactory(
        stay_expires_on=today_plus(60),
        card_expires_on=today_plus(60),
        move_in_notified_on=None,
        abroad_on_reentry=False,
        affiliation=organization,
        **values,
    )


def test_a_company_staff_member_files_a_coe_for_a_new_hire(django_capture_on_commit_callbacks):
    company = ReceivingOrganizationFactory(kind="employer", prefecture="23")  # Aichi → Nagoya office
    hr = staff_member(EnrolmentFactory(organization=company, office="nagoya"))
    client = signed_in_client(hr)
    response = client.post(
        "/applications/new/",
        {"procedure": "P1", "status": "engineer_humanities", "organization": company.corporate_number},
    )
    assert response.status_code == 302, response.context["form"].errors
    application = Application.objects.get(filer=hr)
    assert application.receiving_organization == company and application.applicant_resident is None
    for step in application_form(application).step_ids:
        application.refresh_from_db()
        answers = step_post(application, step, overrides={"address_prefecture": "13"})
        assert client.post(f"/applications/{application.public_id}/step/{step}/", answers).status_code == 302
    base = f"/applications/{application.public_id}"
    client.post(
        f"{base}/documents/", {"upload": "document", "document_type": "passport_copy", "file": pdf_upload()}
    )
    client.post(
        f"{base}/documents/", {"upload": "photo", "photo": photo_upload(), "taken_within_6_months": "on"}
    )
    assert client.post(f"{base}/receipt/", {"method": "post"}).status_code == 302
    confirm = client.get(f"{base}/confirm/")
    assert not confirm.context["problems"], confirm.context["problems"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{base}/submit/", {"confirm": "yes", "submission_key": confirm.context["submit_key"]})
    application.refresh_from_db()
    assert application.state == ApplicationState.SUBMITTED
    # A COE goes to the office of the receiving organization's address, not the planned address.
    assert re.fullmatch(r"名オン-NN-\d{4}-\d{6}", application.receipt_number)
    assert OutboundEmail.objects.filter(kind="application_received", to=hr.email).count() == 1


def test_staff_file_only_for_the_foreigners_of_their_organization():
    company = ReceivingOrganizationFactory(kind="employer")
    hr = staff_member(EnrolmentFactory(organization=company))
    own, other = worker_of(company), worker_of(ReceivingOrganizationFactory(kind="employer"))
    client = signed_in_client(hr)
    assert (
        client.post(
            "/applications/new/",
            {"procedure": "P3", "status": "engineer_humanities", "card_number": own.card_number},
        ).status_code
        == 302
    )
    refused = client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": other.card_number},
    )
    assert refused.status_code == 200 and Application.objects.count() == 1


def test_a_support_organization_acts_only_for_the_organizations_that_mandated_it():
    agent = support_enrolment()
    principal, stranger = ReceivingOrganizationFactory(), ReceivingOrganizationFactory()
    mandate(agent, principal)
    supporter = staff_member(agent)
    client = signed_in_client(supporter)
    mandated = worker_of(principal, status="specified_skilled_worker/i", period_of_stay="1Y")
    not_mandated = worker_of(stranger, status="specified_skilled_worker/i", period_of_stay="1Y")
    ok = client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "specified_skilled_worker/i", "card_number": mandated.card_number},
    )
    assert ok.status_code == 302
    refused = client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "specified_skilled_worker/i", "card_number": not_mandated.card_number},
    )
    assert refused.status_code == 200 and Application.objects.count() == 1


def test_staff_of_an_expired_organization_can_read_but_not_file():
    company = ReceivingOrganizationFactory(kind="employer")
    enrolment = EnrolmentFactory(organization=company, valid_until=today_plus(-1))
    hr = staff_member(enrolment)
    client = signed_in_client(hr)
    assert client.get("/applications/").status_code == 200
    refused = client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": worker_of(company).card_number},
    )
    assert refused.status_code == 200 and not Application.objects.exists()
