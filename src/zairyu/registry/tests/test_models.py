import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils.functional import Promise

from zairyu.core import clock
from zairyu.registry.constants import AgentHolderKind
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident
from zairyu.registry.tests.factories import (
    AgentCertificateFactory,
    ReceivingOrganizationFactory,
    ResidentFactory,
)

pytestmark = pytest.mark.django_db


def _error_codes(obj):
    with pytest.raises(ValidationError) as excinfo:
        obj.full_clean()
    return {field: [e.code for e in errors] for field, errors in excinfo.value.error_dict.items()}


def test_factories_make_valid_rows():
    organization = ReceivingOrganizationFactory()
    resident = ResidentFactory(affiliation=organization)
    permanent = ResidentFactory(permanent=True)
    certificate = AgentCertificateFactory()
    staff = AgentCertificateFactory(staff=True)
    for obj in (organization, resident, permanent, certificate, staff):
        obj.full_clean()
    assert resident.affiliation == organization
    assert list(organization.residents.all()) == [resident]
    assert staff.organization is not None and staff.office_name == staff.organization.name


def test_full_clean_normalises_before_validating():
    resident = ResidentFactory.build(
        roman_name="ｎｇｕｙｅｎ　van,an",
        card_number="ａｂ１２３４５６７８ｃｄ",
        nationality="vnm",
        prefecture="東京都",
        status=" Student ",
        period_of_stay="4y3m",
    )
    resident.full_clean()
    assert resident.roman_name == "NGUYEN VAN AN"
    assert resident.card_number == "AB12345678CD"
    assert (resident.nationality, resident.prefecture, resident.status, resident.period_of_stay) == (
        "VNM",
        "13",
        "student",
        "4Y3M",
    )
    organization = ReceivingOrganizationFactory.build(
        corporate_number="７０００－０１２０－５０００２", phone="03 1234 5678"
    )
    organization.full_clean()
    assert organization.corporate_number == "7000012050002" and organization.phone == "03-1234-5678"
    certificate = AgentCertificateFactory.build(number="１２３４ ５６７８ ９０１２", office_prefecture="1")
    certificate.full_clean()
    assert certificate.number == "123456789012" and certificate.office_prefecture == "01"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("card_number", "A1234567890B", "invalid_card_number"),
        ("roman_name", "王 明", "roman_name_characters"),
        ("nationality", "XYZ", "invalid_nationality"),
        ("prefecture", "48", "invalid_prefecture"),
        ("status", "tourist", "invalid_status"),
        ("period_of_stay", "3X", "invalid_period_of_stay"),
        ("sex", "X", "invalid_choice"),
    ],
)
def test_resident_rejects_invalid_fields(field, value, code):
    resident = ResidentFactory.build(**{field: value})
    assert code in _error_codes(resident)[field]


def test_card_number_is_unique():
    ResidentFactory(card_number="AB12345678CD")
    duplicate = ResidentFactory.build(card_number="ab12345678cd")
    assert "unique" in _error_codes(duplicate)["card_number"]


def test_indefinite_stay_has_no_period_or_expiry():
    resident = ResidentFactory.build(status="permanent_resident", period_of_stay="5Y")
    codes = _error_codes(resident)
    assert codes["period_of_stay"] == ["period_not_blank"]
    assert codes["stay_expires_on"] == ["stay_expiry_not_blank"]
    ResidentFactory.build(
        status="highly_skilled_professional/2",
        period_of_stay="",
        stay_expires_on=None,
        card_expires_on=clock.today(),
    ).full_clean()


def test_limited_stay_needs_period_and_expiry():
    resident = ResidentFactory.build(period_of_stay="", stay_expires_on=None)
    codes = _error_codes(resident)
    assert codes["period_of_stay"] == ["period_required"]
    assert codes["stay_expires_on"] == ["stay_expiry_required"]


def test_card_cannot_outlive_the_period_of_stay():
    today = clock.today()
    resident = ResidentFactory.build(stay_expires_on=today, card_expires_on=today + dt.timedelta(days=1))
    assert _error_codes(resident)["card_expires_on"] == ["card_outlives_stay"]


def test_dates_in_the_future_are_rejected():
    tomorrow = clock.today() + dt.timedelta(days=1)
    codes = _error_codes(ResidentFactory.build(date_of_birth=tomorrow, move_in_notified_on=None))
    assert codes["date_of_birth"] == ["birth_in_future"]
    codes = _error_codes(ResidentFactory.build(move_in_notified_on=tomorrow))
    assert codes["move_in_notified_on"] == ["move_in_future"]
    codes = _error_codes(
        ResidentFactory.build(date_of_birth=dt.date(2000, 1, 2), move_in_notified_on=dt.date(2000, 1, 1))
    )
    assert codes["move_in_notified_on"] == ["move_in_before_birth"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("corporate_number", "7000012050003", "corporate_number_check_digit"),
        ("corporate_number", "700001205000", "corporate_number_format"),
        ("prefecture", "99", "invalid_prefecture"),
        ("phone", "1234", "invalid_phone_number"),
        ("kind", "bank", "invalid_choice"),
        ("category", 5, "invalid_choice"),
    ],
)
def test_organization_rejects_invalid_fields(field, value, code):
    organization = ReceivingOrganizationFactory.build(**{field: value})
    assert code in _error_codes(organization)[field]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("number", "12345678901", "invalid_agent_certificate_number"),
        ("number", "12345678901X", "invalid_agent_certificate_number"),
        ("office_prefecture", "00", "invalid_prefecture"),
        ("holder_kind", "notary", "invalid_choice"),
    ],
)
def test_agent_certificate_rejects_invalid_fields(field, value, code):
    certificate = AgentCertificateFactory.build(**{field: value})
    assert code in _error_codes(certificate)[field]


def test_agent_certificate_rules():
    today = clock.today()
    backwards = AgentCertificateFactory.build(issued_on=today, expires_on=today - dt.timedelta(days=1))
    assert _error_codes(backwards)["expires_on"] == ["expires_before_issue"]
    staff_without_organization = AgentCertificateFactory.build(holder_kind=AgentHolderKind.ORGANIZATION_STAFF)
    assert _error_codes(staff_without_organization)["organization"] == ["organization_required"]

    old = AgentCertificateFactory(expired=True)
    old.renewed_to = old
    assert _error_codes(old)["renewed_to"] == ["renewed_to_self"]
    earlier = AgentCertificateFactory(issued_on=old.issued_on - dt.timedelta(days=1))
    old.renewed_to = earlier
    assert _error_codes(old)["renewed_to"] == ["renewal_before"]
    new = AgentCertificateFactory()
    old.renewed_to = new
    old.full_clean()
    old.save()
    assert new.renewed_from == old
    assert new.latest_renewal() == new


def test_latest_renewal_follows_the_chain():
    third = AgentCertificateFactory()
    second = AgentCertificateFactory(expired=True, renewed_to=third)
    first = AgentCertificateFactory(
        issued_on=second.issued_on - dt.timedelta(days=1095), expires_on=second.issued_on, renewed_to=second
    )
    assert first.latest_renewal() == third
    assert AgentCertificate.objects.get(pk=first.pk).latest_renewal().number == third.number


def test_agent_certificate_validity():
    today = clock.today()
    valid = AgentCertificateFactory.build()
    expired = AgentCertificateFactory.build(expired=True)
    assert valid.is_valid_on(today) and not expired.is_valid_on(today)
    assert valid.is_valid_on(valid.expires_on) and not valid.is_valid_on(
        valid.expires_on + dt.timedelta(days=1)
    )
    assert not valid.is_valid_on(valid.issued_on - dt.timedelta(days=1))


def test_str_shows_numbers_not_personal_data():
    resident = ResidentFactory(roman_name="NGUYEN VAN AN", kanji_name="阮文安")
    certificate = AgentCertificateFactory(holder_name="山田 太郎")
    organization = ReceivingOrganizationFactory()
    for text, private in (
        (str(resident), ("NGUYEN", "阮", resident.card_number, resident.municipality)),
        (str(certificate), ("山田", certificate.office_municipality)),
    ):
        assert not any(part in text for part in private)
    assert str(resident) == f"Resident {resident.pk}"
    assert str(certificate) == f"Agent certificate {certificate.number}"
    assert str(organization) == f"Organization {organization.corporate_number}"
    assert str(Resident()) == "Resident (unsaved)"


def test_models_and_fields_have_translatable_verbose_names():
    for model in (Resident, ReceivingOrganization, AgentCertificate):
        assert isinstance(model._meta.verbose_name, Promise)
        for field in model._meta.concrete_fields:
            if field.name != "id":
                assert isinstance(field.verbose_name, Promise), f"{model.__name__}.{field.name}"
