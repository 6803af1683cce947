"""U4 and U8 registration, the profile, ID recovery, removal, and the periodic jobs."""

import datetime as dt

import pytest
import time_machine

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.accounts.services import agent_validity_refresh, expiry_reminders_send
from zairyu.accounts.tests.conftest import PASSWORD, EnglishClient, active_user, link_from_last_email, path_of
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail
from zairyu.registry.tests.factories import AgentCertificateFactory

pytestmark = pytest.mark.django_db


def agent_form(certificate, **changes):
    data = {
        "number": certificate.number,
        "holder_name": certificate.holder_name,
        "expires_on": certificate.expires_on.isoformat(),
        "email": "office@example.com",
        "email_again": "office@example.com",
        "language": "ja",
    }
    data.update(changes)
    return data


def non_field(response):
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


def test_a_scrivener_registers_with_the_agent_certificate_number(django_capture_on_commit_callbacks):
    certificate = AgentCertificateFactory(
        holder_kind="administrative_scrivener", expires_on=clock.today() + dt.timedelta(days=400)
    )
    client = EnglishClient()
    wrong_name = client.post(
        "/accounts/register/agent/", agent_form(certificate, holder_name="SOMEBODY ELSE")
    )
    wrong_date = client.post(
        "/accounts/register/agent/",
        agent_form(certificate, expires_on=(certificate.expires_on + dt.timedelta(days=1)).isoformat()),
    )
    unknown = client.post("/accounts/register/agent/", agent_form(certificate, number="999999999999"))
    assert non_field(wrong_name) == non_field(wrong_date) == non_field(unknown)  # says nothing more
    assert wrong_name.context["form"]["email"].value() == "office@example.com"  # input kept

    spaced = " ".join(certificate.number[i : i + 4] for i in range(0, 12, 4)).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )  # full-width, with spaces: normalised
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/register/agent/", agent_form(certificate, number=spaced))
    assert response.status_code == 302
    user = User.objects.get(kind=UserKind.U4)
    assert user.agent_certificate == certificate and user.valid_until == certificate.expires_on
    assert (user.prefecture, user.municipality) == (
        certificate.office_prefecture,
        certificate.office_municipality,
    )
    assert (
        OutboundEmail.objects.filter(kind="set_password_link", to="office@example.com", language="ja").count()
        == 1
    )

    again = EnglishClient().post("/accounts/register/agent/", agent_form(certificate))
    assert "already exists" in non_field(again)


def test_an_organization_staff_certificate_cannot_register_as_a_scrivener():
    certificate = AgentCertificateFactory(staff=True)
    response = EnglishClient().post("/accounts/register/agent/", agent_form(certificate))
    assert response.status_code == 200 and not User.objects.exists()


def test_a_renewal_in_the_registry_extends_the_registration_and_reminders_go_once():
    today = clock.today()
    old = AgentCertificateFactory(
        holder_kind="lawyer",
        issued_on=today - dt.timedelta(days=1000),
        expires_on=today + dt.timedelta(days=20),
    )
    user = active_user(UserKind.U4, agent_certificate=old, valid_until=old.expires_on)
    assert expiry_reminders_send() == 1  # within 30 days
    assert expiry_reminders_send() == 1  # runs again: the same e-mail is not queued twice
    assert OutboundEmail.objects.filter(kind="agent_certificate_expiring").count() == 1
    with time_machine.travel(clock.now() + dt.timedelta(days=14)):
        expiry_reminders_send()
        expiry_reminders_send()
    assert OutboundEmail.objects.filter(kind="agent_certificate_expiring").count() == 2  # the 7-day one

    new = AgentCertificateFactory(
        holder_kind="lawyer",
        holder_name=old.holder_name,
        issued_on=today,
        expires_on=today + dt.timedelta(days=3 * 365),
    )
    old.renewed_to = new
    old.save()
    assert agent_validity_refresh() == 1
    assert agent_validity_refresh() == 0
    user.refresh_from_db()
    assert user.agent_certificate == new and user.valid_until == new.expires_on


def test_card_holders_are_reminded_30_and_7_days_before_their_certificate_expires():
    user = active_user(UserKind.U1, card_id="CARD1", valid_until=clock.today() + dt.timedelta(days=40))
    assert expiry_reminders_send() == 0
    with time_machine.travel(clock.now() + dt.timedelta(days=11)):
        expiry_reminders_send()
    with time_machine.travel(clock.now() + dt.timedelta(days=34)):
        expiry_reminders_send()
        expiry_reminders_send()
    emails = OutboundEmail.objects.filter(kind="card_expiring", to=user.email)
    assert emails.count() == 2


def test_a_window_applicant_registers_for_the_electronic_coe(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = EnglishClient().post(
            "/accounts/register/window/",
            {
                "full_name": "LI NA",
                "email": "li@example.com",
                "email_again": "li@example.com",
                "language": "en",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(kind=UserKind.U8)
    assert user.state == UserState.PENDING and user.full_name == "LI NA"
    mismatch = EnglishClient().post(
        "/accounts/register/window/",
        {"full_name": "LI NA", "email": "li@example.com", "email_again": "lee@example.com", "language": "en"},
    )
    assert "email_again" in mismatch.context["form"].errors
    assert mismatch.context["form"]["full_name"].value() == "LI NA"


def signed_in(user):
    client = EnglishClient()
    assert (
        client.post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD}).status_code == 302
    )
    return client


def test_profile_shows_the_details_and_changes_the_email_after_confirmation(
    django_capture_on_commit_callbacks,
):
    user = active_user(UserKind.U8, email="old@example.com")
    client = signed_in(user)
    page = client.get("/accounts/profile/").content.decode()
    assert user.auth_id_display in page and "old@example.com" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/profile/email/", {"email": "new@example.com", "email_again": "new@example.com"}
        )
    user.refresh_from_db()
    assert user.email == "old@example.com"  # not before the new address is confirmed
    link = path_of(link_from_last_email("email_change_confirm", to="new@example.com"))
    assert client.get(link).status_code == 200  # opening the link (or a mail scanner) changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link).status_code == 302
    user.refresh_from_db()
    assert user.email == "new@example.com"
    notices = OutboundEmail.objects.filter(kind="email_changed")
    assert sorted(notices.values_list("to", flat=True)) == ["new@example.com", "old@example.com"]
    assert client.post(link).status_code == 410


def test_address_change_is_for_u1_to_u4_only():
    scrivener = active_user(UserKind.U8)
    client = signed_in(scrivener)
    response = client.post(
        "/accounts/profile/address/", {"prefecture": "27", "municipality": "大阪市", "address_rest": "1"}
    )
    assert response.status_code == 400
    from zairyu.accounts.services import address_change

    user = active_user(UserKind.U1, card_id="C1", valid_until=clock.today() + dt.timedelta(days=99))
    address_change(user=user, prefecture="27", municipality="大阪市北区", address_rest="梅田1-1")
    user.refresh_from_db()
    assert (user.prefecture, user.municipality) == ("27", "大阪市北区")


def test_a_forgotten_id_is_sent_by_email_and_the_page_says_the_same_either_way(
    django_capture_on_commit_callbacks,
):
    user = active_user(email="me@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        known = EnglishClient().post("/accounts/id/forgot/", {"email": "ME@example.com"})
        unknown = EnglishClient().post("/accounts/id/forgot/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert "accounts/check_email.html" in [t.name for t in known.templates]
    assert "accounts/check_email.html" in [t.name for t in unknown.templates]
    recovery = OutboundEmail.objects.get(kind="auth_id_recovery")
    assert recovery.to == "me@example.com" and user.auth_id_display in recovery.body


def test_a_user_removes_their_account(django_capture_on_commit_callbacks):
    user = active_user()
    client = signed_in(user)
    assert client.post("/accounts/profile/remove/", {}).status_code == 400  # must confirm
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/profile/remove/", {"confirm": "on"}).status_code == 302
    user.refresh_from_db()
    assert user.state == UserState.REMOVED
    assert (
        EnglishClient()
        .post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
        .status_code
        == 200
    )
    assert OutboundEmail.objects.filter(kind="account_removed", to=user.email).count() == 1


def test_suspension_and_resumption_are_emailed_once_each(django_capture_on_commit_callbacks):
    from zairyu.accounts.services import user_resume, user_suspend

    user = active_user()
    officer = active_user(UserKind.OFFICER, office="tokyo", role="administrator")
    user_suspend(user=user, actor=officer)
    user_suspend(user=user, actor=officer)  # already suspended: nothing more
    assert (
        EnglishClient()
        .post("/accounts/sign-in/", {"auth_id": user.auth_id, "password": PASSWORD})
        .status_code
        == 200
    )
    user_resume(user=user, actor=officer)
    assert OutboundEmail.objects.filter(kind="account_suspended").count() == 1
    assert OutboundEmail.objects.filter(kind="account_resumed").count() == 1
