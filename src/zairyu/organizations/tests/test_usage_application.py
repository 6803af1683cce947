"""The usage application without an account (F-12): e-mail confirmation, the two steps, the
office, the removal block, the organization's criteria, mandates, and nothing half-saved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.tests.conftest import EnglishClient, link_from_last_email, path_of
from zairyu.core import clock
from zairyu.documents.models import StoredDocument
from zairyu.documents.tests.factories import pdf_with_open_action_javascript, upload
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations import services
from zairyu.organizations.constants import FilingState, MembershipEnd
from zairyu.organizations.models import EmailVerification, Mandate, UsageApplication
from zairyu.organizations.tests.factories import (
    EnrolmentFactory,
    file_usage_application,
    officer,
    pdf,
    staff_member,
    verified_token,
)
from zairyu.registry.tests.factories import AgentCertificateFactory, ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db

EMAIL = "hr@example.com"


def request_link(client, email: str = EMAIL) -> str:
    response = client.post("/organizations/apply/", {"email": email, "email_again": email, "language": "en"})
    assert response.status_code == 200 and email in response.content.decode()
    return path_of(link_from_last_email("org_email_verification", to=email))


def step_one(client, link: str, organization, **changes):
    data = {
        "corporate_number": organization.corporate_number,
        "kind": organization.kind,
        "category": organization.category,
        "mandate_count": 1,
        **changes,
    }
    return client.post(link, data)


def details(**changes):
    data = {
        "full_name": "SATO KENJI",
        "department": "Human resources",
        "phone": "03-1111-2222",
        "language": "en",
        "basis": "qualifies",
        "qualification_facts": "Completed the agent training course in 2025.",
        "notifications_filed": "on",
        "pledge": "on",
        "supporting_document": pdf("checklist.pdf"),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].errors.values()) + " ".join(
        str(e) for e in response.context["form"].non_field_errors()
    )


def test_a_company_files_online_and_follows_the_state_with_its_status_link(
    django_capture_on_commit_callbacks,
):
    organization = ReceivingOrganizationFactory(prefecture="27", category=3)  # Osaka
    client = EnglishClient()
    link = request_link(client)
    assert client.get(link).status_code == 200
    response = step_one(client, link, organization)
    assert response.status_code == 302 and response["Location"].endswith("/details/")
    page = client.get(response["Location"])
    assert organization.name in page.content.decode()
    assert "category_3_as_2" in page.context["form"].fields  # a category 3 organization may ask
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{link}details/", details())
    assert response.status_code == 302
    application = UsageApplication.objects.get()
    assert (application.kind, application.state, application.office) == ("new", "submitted", "osaka")
    assert application.email == EMAIL and application.supporting_document.original_name == "checklist.pdf"
    assert EmailVerification.objects.get().used_at is not None

    status_link = path_of(link_from_last_email("org_application_received", to=EMAIL))
    assert response["Location"] == status_link
    status = client.get(status_link)
    assert 'data-state="submitted"' in status.content.decode()
    assert "Osaka Regional Immigration Services Bureau" in status.content.decode()
    assert EnglishClient().get("/organizations/status/not-the-secret/").status_code == 404

    # The link was used up by the filing.
    assert client.get(link).status_code == 410

    services.usage_application_refuse(
        application_id=application.pk, officer=officer("osaka"), reason="The pledge is not signed."
    )
    refused = client.get(status_link).content.decode()
    assert 'data-state="refused"' in refused and "The pledge is not signed." in refused


@pytest.mark.parametrize(
    "prefecture, office",
    [("13", "tokyo"), ("14", "yokohama"), ("27", "osaka"), ("01", "sapporo"), ("47", "naha")],
)
def test_the_office_is_the_one_that_covers_the_organizations_address(prefecture, office):
    organization = ReceivingOrganizationFactory(prefecture=prefecture)
    application = file_usage_application(organization)
    assert application.office == office
    # Only that office sees it.
    from zairyu.organizations.access import officer_queue

    assert list(officer_queue(officer(office))["new"]) == [application]
    other = "tokyo" if office != "tokyo" else "osaka"
    assert list(officer_queue(officer(other))["new"]) == []


def test_the_confirmation_link_expires_after_24_hours():
    organization = ReceivingOrganizationFactory()
    client = EnglishClient()
    link = request_link(client)
    with time_machine.travel(clock.now() + dt.timedelta(hours=23, minutes=59)):
        assert client.get(link).status_code == 200
    with time_machine.travel(clock.now() + dt.timedelta(hours=24, minutes=1)):
        assert client.get(link).status_code == 410
        assert step_one(client, link, organization).status_code == 410


def test_step_one_checks_the_organization_against_the_registry_and_keeps_what_was_typed():
    organization = ReceivingOrganizationFactory(kind="school")
    client = EnglishClient()
    link = request_link(client)

    typo = organization.corporate_number[:-1] + str((int(organization.corporate_number[-1]) + 1) % 10)
    response = step_one(client, link, organization, corporate_number=typo)
    assert response.status_code == 200 and "check digit" in errors(response)
    assert response.context["form"]["corporate_number"].value() == typo

    unknown = ReceivingOrganizationFactory.build().corporate_number  # valid number, not in the registry
    response = step_one(client, link, organization, corporate_number=unknown)
    assert "registry" in errors(response)

    response = step_one(client, link, organization, kind="employer")
    assert "School" in str(response.context["form"].errors["kind"])

    # Full-width digits with hyphens are normalised.
    spaced = f"{organization.corporate_number[:1]}-{organization.corporate_number[1:5]}-{organization.corporate_number[5:]}"
    full_width = spaced.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert step_one(client, link, organization, corporate_number=full_width).status_code == 302


def test_an_organization_with_approved_staff_is_told_to_file_an_additional_application():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment)
    client = EnglishClient()
    link = request_link(client)
    response = step_one(client, link, enrolment.organization)
    assert "additional usage application" in errors(response)

    # Once its last staff member has left, the next filing is a new usage application again.
    services.staff_remove_own(user=member)
    assert step_one(client, link, enrolment.organization).status_code == 302
    application = file_usage_application(enrolment.organization, email="next@example.com")
    assert application.kind == "new"


def test_a_bureau_removal_blocks_the_same_person_for_a_year_with_the_date_they_may_apply_again():
    enrolment = EnrolmentFactory()
    removed = staff_member(enrolment, full_name="SATO KENJI", email="kenji@example.com")
    membership = removed.staff_membership
    may_apply_from = services.staff_remove_by_bureau(
        membership_id=membership.pk, officer=officer(), reason="Filed for people of another company."
    )
    assert may_apply_from == services.add_years(clock.today(), 1)

    # Same e-mail address, any organization.
    other = ReceivingOrganizationFactory()
    with pytest.raises(services.OrganizationError) as refused:
        file_usage_application(other, email="KENJI@example.com ", full_name="ANOTHER NAME")
    assert refused.value.code == "removal_block"
    assert may_apply_from.isoformat() in refused.value.message
    # Same name in the same organization, another address (spacing and width do not matter).
    with pytest.raises(services.OrganizationError, match=may_apply_from.isoformat()):
        file_usage_application(enrolment.organization, email="new@example.com", full_name="ｓａｔｏ  kenji")
    # The page says it too.
    client = EnglishClient()
    link = request_link(client, "kenji@example.com")
    assert step_one(client, link, enrolment.organization).status_code == 302
    response = client.post(f"{link}details/", details())
    assert may_apply_from.isoformat() in errors(response)
    assert UsageApplication.objects.count() == 0 and StoredDocument.objects.count() == 0

    # Someone else at the same organization is not blocked.
    assert file_usage_application(enrolment.organization, email="aiko@example.com", full_name="ITO AIKO")
    with time_machine.travel(clock.start_of_day(may_apply_from) + dt.timedelta(hours=9)):
        assert file_usage_application(other, email="kenji@example.com").state == FilingState.SUBMITTED


@pytest.mark.parametrize("reason", [MembershipEnd.LEFT, MembershipEnd.OWN_REQUEST])
def test_leaving_or_an_own_request_does_not_block_a_new_application(reason):
    enrolment = EnrolmentFactory()
    colleague = staff_member(enrolment)
    leaver = staff_member(enrolment, full_name="SATO KENJI", email="kenji@example.com")
    if reason == MembershipEnd.LEFT:
        services.staff_report_left(reporter=colleague, membership_id=leaver.staff_membership.pk)
    else:
        services.staff_remove_own(user=leaver)
    other = ReceivingOrganizationFactory()
    assert file_usage_application(other, email="kenji@example.com").state == FilingState.SUBMITTED


def test_category_3_may_ask_to_be_treated_as_category_2_with_proof_and_category_4_gives_facts():
    category_3 = ReceivingOrganizationFactory(category=3)
    client = EnglishClient()
    link = request_link(client)
    step_one(client, link, category_3)
    response = client.post(f"{link}details/", details(category_3_as_2="on"))
    assert "proof of category 3" in str(response.context["form"].errors["category_proof_document"])
    assert response.context["form"]["full_name"].value() == "SATO KENJI"  # kept
    response = client.post(
        f"{link}details/", details(category_3_as_2="on", category_proof_document=pdf("proof.pdf"))
    )
    assert response.status_code == 302
    application = UsageApplication.objects.get()
    assert application.category_3_as_2 and application.category_proof_document.original_name == "proof.pdf"

    category_4 = ReceivingOrganizationFactory(category=4)
    client = EnglishClient()
    link = request_link(client, "new@example.com")
    step_one(client, link, category_4)
    page = client.get(f"{link}details/")
    assert "category_3_as_2" not in page.context["form"].fields
    response = client.post(f"{link}details/", details())
    assert "stability_facts" in response.context["form"].errors
    response = client.post(
        f"{link}details/", details(stability_facts="Capital of 30 million yen; two signed contracts.")
    )
    assert response.status_code == 302
    assert UsageApplication.objects.get(organization=category_4).stability_facts.startswith("Capital")


def test_the_agent_certificate_must_be_one_of_this_organizations_staff_and_valid():
    organization = ReceivingOrganizationFactory()
    mine = AgentCertificateFactory(staff=True, organization=organization, holder_name="SATO KENJI")
    elsewhere = AgentCertificateFactory(staff=True)
    expired = AgentCertificateFactory(staff=True, organization=organization, expired=True)
    staff = services.StaffDetails(full_name="SATO KENJI", email=EMAIL, basis="certificate")
    for certificate, code in [(elsewhere, "certificate_unknown"), (expired, "certificate_expired")]:
        with pytest.raises(services.OrganizationError) as refused:
            file_usage_application(
                organization,
                staff=services.StaffDetails(
                    **{**staff.__dict__, "agent_certificate_number": certificate.number}
                ),
            )
        assert refused.value.code == code and refused.value.field == "agent_certificate_number"
    application = file_usage_application(
        organization,
        staff=services.StaffDetails(**{**staff.__dict__, "agent_certificate_number": mine.number}),
    )
    assert application.agent_certificate == mine and application.basis == "certificate"


def test_a_refused_pdf_leaves_no_rows_and_the_link_still_works():
    organization = ReceivingOrganizationFactory()
    client = EnglishClient()
    link = request_link(client)
    step_one(client, link, organization)
    bad = upload(pdf_with_open_action_javascript(), "scripted.pdf")
    response = client.post(f"{link}details/", details(supporting_document=bad))
    assert response.status_code == 400
    assert "supporting_document" in response.context["form"].errors
    assert "data-files-note" in response.content.decode()  # the page says to choose the files again
    assert response.context["form"]["qualification_facts"].value().startswith("Completed")
    assert UsageApplication.objects.count() == 0 and StoredDocument.objects.count() == 0
    assert EmailVerification.objects.get().used_at is None
    assert client.post(f"{link}details/", details()).status_code == 302


def test_a_support_organization_files_with_the_mandates_of_two_receiving_organizations():
    support = ReceivingOrganizationFactory(kind="registered_support_organization", category=2)
    first, second = ReceivingOrganizationFactory(), ReceivingOrganizationFactory(kind="school")
    client = EnglishClient()
    link = request_link(client)
    assert step_one(client, link, support, mandate_count=2).status_code == 302
    page = client.get(f"{link}details/")
    assert len(page.context["mandates"]) == 2 and "notifications_filed" not in page.context["form"].fields

    def rows(*organizations):
        data = {}
        for index, organization in enumerate(organizations):
            data[f"mandate-{index}-corporate_number"] = organization.corporate_number
            data[f"mandate-{index}-mandate_document"] = pdf(f"mandate{index}.pdf")
            data[f"mandate-{index}-pledge_document"] = pdf(f"pledge{index}.pdf")
        return data

    twice = client.post(f"{link}details/", {**details(notifications_filed=None), **rows(first, first)})
    assert "listed twice" in str(twice.context["mandates"][1].errors["corporate_number"])
    not_receiving = ReceivingOrganizationFactory(kind="public_interest_corporation")
    response = client.post(
        f"{link}details/", {**details(notifications_filed=None), **rows(first, not_receiving)}
    )
    assert "not a receiving organization" in str(response.context["mandates"][1].errors["corporate_number"])
    assert Mandate.objects.count() == 0 and StoredDocument.objects.count() == 0

    response = client.post(f"{link}details/", {**details(notifications_filed=None), **rows(first, second)})
    assert response.status_code == 302
    application = UsageApplication.objects.get()
    assert {m.principal for m in application.new_mandates.all()} == {first, second}
    assert set(application.new_mandates.values_list("state", flat=True)) == {"pending"}


def test_a_support_organization_needs_at_least_one_mandate():
    support = ReceivingOrganizationFactory(kind="public_interest_corporation")
    with pytest.raises(services.OrganizationError) as refused:
        file_usage_application(support, notifications_filed=False)
    assert refused.value.code == "mandates_required"


def test_the_same_person_cannot_file_twice_while_the_first_is_waiting():
    organization = ReceivingOrganizationFactory()
    file_usage_application(organization)
    with pytest.raises(services.OrganizationError) as refused:
        file_usage_application(organization)
    assert refused.value.code == "already_filed"
    token = verified_token("colleague@example.com")
    assert (
        services.usage_application_precheck(
            raw_token=token,
            corporate_number=organization.corporate_number,
            organization_kind=organization.kind,
        )
        == organization
    )  # a colleague may file their own at the same time


def test_emails_of_the_filing_are_queued_once_in_the_filers_language():
    organization = ReceivingOrganizationFactory()
    file_usage_application(organization)
    assert OutboundEmail.objects.filter(kind="org_email_verification", to=EMAIL, language="en").count() == 1
    received = OutboundEmail.objects.get(kind="org_application_received", to=EMAIL)
    assert "/organizations/status/" in received.body and received.language == "en"


def test_confirmation_links_are_throttled_per_address():
    client = EnglishClient()
    for n in range(10):
        request_link(client, f"user{n}@example.com")
    response = client.post(
        "/organizations/apply/", {"email": "x@example.com", "email_again": "x@example.com", "language": "en"}
    )
    assert "Too many requests" in response.content.decode()
    assert OutboundEmail.objects.filter(kind="org_email_verification").count() == 10
