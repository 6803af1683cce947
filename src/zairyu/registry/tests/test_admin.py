import pytest
from django.urls import reverse

from zairyu.registry.tests.factories import (
    AgentCertificateFactory,
    ReceivingOrganizationFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db


def _changelist(client, model, **params):
    response = client.get(reverse(f"admin:registry_{model}_changelist"), params)
    assert response.status_code == 200
    return response


def test_resident_list_shows_numbers_not_names(admin_client):
    ResidentFactory(card_number="AB12345678CD", roman_name="NGUYEN VAN AN", address_rest="大久保9丁目9番9号")
    content = _changelist(admin_client, "resident").content.decode()
    assert "AB12345678CD" in content
    assert "NGUYEN VAN AN" not in content and "大久保9丁目9番9号" not in content


def test_resident_search_normalises_the_card_number_and_matches_exactly(admin_client):
    ResidentFactory(card_number="AB12345678CD")
    ResidentFactory(card_number="AB12345679CD")
    found = _changelist(admin_client, "resident", q="ａｂ１２３４５６７８ｃｄ").context["cl"].result_list
    assert [r.card_number for r in found] == ["AB12345678CD"]
    assert not _changelist(admin_client, "resident", q="AB1234").context["cl"].result_list


def test_resident_filters(admin_client):
    ResidentFactory(status="student", prefecture="27", period_of_stay="1Y")
    ResidentFactory(status="engineer_humanities", prefecture="13")
    by_status = _changelist(admin_client, "resident", status="student").context["cl"].result_list
    by_prefecture = _changelist(admin_client, "resident", prefecture="13").context["cl"].result_list
    assert [r.status for r in by_status] == ["student"]
    assert [r.prefecture for r in by_prefecture] == ["13"]


def test_organization_search_and_filters(admin_client):
    ReceivingOrganizationFactory(corporate_number="7000012050002", kind="school", category=1)
    ReceivingOrganizationFactory()
    found = _changelist(admin_client, "receivingorganization", q="7-0000-1205-0002").context["cl"].result_list
    assert [o.corporate_number for o in found] == ["7000012050002"]
    assert (
        len(_changelist(admin_client, "receivingorganization", kind="school").context["cl"].result_list) == 1
    )
    assert (
        len(_changelist(admin_client, "receivingorganization", category="1").context["cl"].result_list) == 1
    )


def test_agent_certificate_search_and_filters(admin_client):
    AgentCertificateFactory(number="123456789012")
    AgentCertificateFactory(staff=True, expired=True)
    found = _changelist(admin_client, "agentcertificate", q="1234 5678 9012").context["cl"].result_list
    assert [c.number for c in found] == ["123456789012"]
    staff = (
        _changelist(admin_client, "agentcertificate", holder_kind="organization_staff")
        .context["cl"]
        .result_list
    )
    assert len(staff) == 1


def test_change_pages_open(admin_client):
    resident = ResidentFactory(affiliation=ReceivingOrganizationFactory())
    certificate = AgentCertificateFactory(staff=True)
    for model, obj in (
        ("resident", resident),
        ("receivingorganization", resident.affiliation),
        ("agentcertificate", certificate),
    ):
        assert admin_client.get(reverse(f"admin:registry_{model}_change", args=[obj.pk])).status_code == 200
