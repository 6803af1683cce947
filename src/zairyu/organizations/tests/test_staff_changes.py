"""Staff and organization changes (F-14): leavers, own removal, additional applications, change
notifications, and a support organization adding a receiving organization between reports."""

from __future__ import annotations

import pytest

from zairyu.accounts.constants import UserState
from zairyu.accounts.services import SignInRefused, sign_in_verify
from zairyu.accounts.tests.conftest import PASSWORD
from zairyu.notifications.models import OutboundEmail
from zairyu.organizations import services
from zairyu.organizations.access import organizations_in_scope
from zairyu.organizations.constants import ChangeKind, FilingState, MembershipEnd
from zairyu.organizations.models import ChangeNotification, Enrolment, StaffMembership, UsageApplication
from zairyu.organizations.tests.conftest import signed_in
from zairyu.organizations.tests.factories import (
    EnrolmentFactory,
    officer,
    pdf,
    staff_member,
    support_enrolment,
)
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

pytestmark = pytest.mark.django_db


def test_a_reported_leaver_is_locked_out_at_once_and_told_by_email(django_capture_on_commit_callbacks):
    enrolment = EnrolmentFactory()
    reporter = staff_member(enrolment, email="boss@example.com")
    leaver = staff_member(enrolment, email="leaver@example.com")
    leaver_session = signed_in(leaver)
    assert leaver_session.get("/organizations/").status_code == 200

    client = signed_in(reporter)
    url = f"/organizations/staff/{leaver.staff_membership.pk}/left/"
    page = client.get(url)
    assert leaver.full_name in page.content.decode()
    assert client.post(url, {}).status_code == 200  # not confirmed: nothing happens
    assert StaffMembership.objects.get(user=leaver).ended_at is None
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, {"confirm": "on"}).status_code == 302

    leaver.refresh_from_db()
    assert leaver.state == UserState.REMOVED and not leaver.is_active
    membership = StaffMembership.objects.get(user=leaver)
    assert membership.end_reason == MembershipEnd.LEFT and membership.ended_by == reporter
    # The session they had open ends with the account, and they cannot sign in again.
    response = leaver_session.get("/organizations/")
    assert response.status_code == 302 and "/sign-in/" in response["Location"]
    with pytest.raises(SignInRefused):
        sign_in_verify(auth_id=leaver.auth_id, password=PASSWORD, card_id=None)
    assert list(OutboundEmail.objects.filter(to="leaver@example.com").values_list("kind", flat=True)) == [
        "account_removed"
    ]
    # Nobody can report the same person twice, nor a person of another organization.
    assert client.post(url, {"confirm": "on"}).status_code == 404
    stranger = staff_member()
    assert client.get(f"/organizations/staff/{stranger.staff_membership.pk}/left/").status_code == 404


def test_a_staff_member_removes_their_own_approval_at_once():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment)
    client = signed_in(member)
    assert client.post("/organizations/leave/", {}).status_code == 200
    response = client.post("/organizations/leave/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/"
    member.refresh_from_db()
    assert member.state == UserState.REMOVED
    assert StaffMembership.objects.get(user=member).end_reason == MembershipEnd.OWN_REQUEST
    assert client.get("/organizations/").status_code == 302  # signed out
    # No approved staff left: the organization's next filing is a new usage application.
    assert not Enrolment.objects.get().organization.staff_memberships.filter(ended_at__isnull=True).exists()


def test_the_reporter_cannot_report_themself_as_left():
    member = staff_member()
    with pytest.raises(services.OrganizationError) as refused:
        services.staff_report_left(reporter=member, membership_id=member.staff_membership.pk)
    assert refused.value.code == "own_membership"


def test_an_approved_staff_member_files_an_additional_application_for_a_colleague():
    enrolment = EnrolmentFactory(category_3_as_2=True)
    member = staff_member(enrolment)
    client = signed_in(member)
    data = {
        "full_name": "ITO AIKO",
        "email": "aiko@example.com",
        "email_again": "aiko@example.com",
        "language": "ja",
        "basis": "qualifies",
        "qualification_facts": "Attended the agent course on 2026-09-01.",
        "pledge": "on",
        "supporting_document": pdf(),
    }
    mismatch = client.post("/organizations/additional/", {**data, "email_again": "other@example.com"})
    assert mismatch.status_code == 400 and "email_again" in mismatch.context["form"].errors
    assert mismatch.context["form"]["full_name"].value() == "ITO AIKO"
    taken = client.post(
        "/organizations/additional/",
        {**data, "email": member.email, "email_again": member.email, "supporting_document": pdf()},
    )
    assert "already uses this e-mail" in str(taken.context["form"].errors["email"])
    response = client.post("/organizations/additional/", {**data, "supporting_document": pdf()})
    assert response.status_code == 302
    application = UsageApplication.objects.get()
    assert application.kind == "additional" and application.office == enrolment.office
    assert application.filed_by == member and application.category_3_as_2
    assert OutboundEmail.objects.filter(kind="org_application_received", to=member.email).count() == 1
    user = services.usage_application_approve(application_id=application.pk, officer=officer())
    assert user.kind == "U5" and user.language == "ja"
    assert StaffMembership.objects.get(user=user).organization == enrolment.organization


def test_a_support_organizations_colleague_gets_the_support_category():
    enrolment = support_enrolment()
    member = staff_member(enrolment)
    application = services.additional_application_submit(
        filer=member,
        staff=services.StaffDetails(
            full_name="ITO AIKO", email="aiko@example.com", qualification_facts="Trained."
        ),
        pledge=True,
        supporting_document=pdf(),
    )
    assert services.usage_application_approve(application_id=application.pk, officer=officer()).kind == "U7"


def test_a_change_of_address_to_another_offices_area_moves_the_organization_there():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment)
    client = signed_in(member)
    incomplete = client.post(
        "/organizations/changes/",
        {"kind": "organization", "new_prefecture": "27", "supporting_document": pdf()},
    )
    assert incomplete.status_code == 400 and "new_municipality" in incomplete.context["form"].errors
    response = client.post(
        "/organizations/changes/",
        {
            "kind": "organization",
            "new_name": "NEW NAME K.K.",
            "new_prefecture": "27",
            "new_municipality": "大阪市北区",
            "new_address_rest": "梅田1-1-1",
            "supporting_document": pdf(),
        },
    )
    assert response.status_code == 302
    change = ChangeNotification.objects.get()
    assert change.office == "tokyo"  # reviewed by the office the organization is with
    services.change_notification_approve(change_id=change.pk, officer=officer("tokyo"))
    organization = enrolment.organization
    organization.refresh_from_db()
    enrolment.refresh_from_db()
    assert (organization.name, organization.prefecture, enrolment.office) == ("NEW NAME K.K.", "27", "osaka")
    assert "accepted" in OutboundEmail.objects.get(kind="org_change_result").body


def test_a_staff_members_new_name_is_recorded_once_approved_and_a_refusal_says_why():
    enrolment = EnrolmentFactory()
    member = staff_member(enrolment)
    colleague = staff_member(enrolment, full_name="SUZUKI HANA")
    change = services.change_notification_submit(
        filer=member,
        kind=ChangeKind.STAFF_NAME,
        staff_membership_id=colleague.staff_membership.pk,
        new_name="TANAKA HANA",
        supporting_document=pdf(),
    )
    colleague.refresh_from_db()
    assert colleague.full_name == "SUZUKI HANA"
    services.change_notification_approve(change_id=change.pk, officer=officer())
    colleague.refresh_from_db()
    assert colleague.full_name == "TANAKA HANA"

    refused = services.change_notification_submit(
        filer=member, kind=ChangeKind.ORGANIZATION, new_name="OTHER K.K.", supporting_document=pdf()
    )
    services.change_notification_refuse(
        change_id=refused.pk, officer=officer(), reason="The certificate is old."
    )
    assert refused.__class__.objects.get(pk=refused.pk).state == FilingState.REFUSED
    assert (
        "The certificate is old."
        in OutboundEmail.objects.get(kind="org_change_result", key__endswith=f":{refused.pk}").body
    )
    # A membership of another organization cannot be named.
    with pytest.raises(services.OrganizationError):
        services.change_notification_submit(
            filer=member,
            kind=ChangeKind.STAFF_NAME,
            staff_membership_id=staff_member().staff_membership.pk,
            new_name="X",
            supporting_document=pdf(),
        )


def test_a_support_organization_adds_a_receiving_organization_between_reports():
    enrolment = support_enrolment()
    member = staff_member(enrolment)
    principal = ReceivingOrganizationFactory()
    client = signed_in(member)
    page = client.get("/organizations/mandates/?count=2")
    assert len(page.context["mandates"]) == 2
    response = client.post(
        "/organizations/mandates/?count=1",
        {
            "mandate-0-corporate_number": principal.corporate_number,
            "mandate-0-mandate_document": pdf(),
            "mandate-0-pledge_document": pdf(),
        },
    )
    assert response.status_code == 302
    change = ChangeNotification.objects.get(kind=ChangeKind.MANDATE_ADDED)
    assert principal not in organizations_in_scope(member)
    services.change_notification_approve(change_id=change.pk, officer=officer())
    assert principal in organizations_in_scope(member)
    # A company's staff have no such page.
    assert signed_in(staff_member()).get("/organizations/mandates/").status_code == 403


def test_organization_pages_are_for_approved_staff_only():
    from zairyu.accounts.tests.conftest import active_user

    assert signed_in(active_user("U4")).get("/organizations/").status_code == 403
    response = signed_in(officer()).get("/organizations/")
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert signed_in(staff_member()).get("/accounts/").content.decode().count('data-link="organization"') == 1
