"""factory_boy factories for the registry. Values are canonical (already normalised) and valid
as of the clock's today."""

from __future__ import annotations

import datetime as dt
import string

import factory
from factory.django import DjangoModelFactory

from zairyu.catalogue.validators import corporate_number_with_check_digit
from zairyu.core import clock
from zairyu.registry.constants import AgentHolderKind, OrganizationCategory, OrganizationKind, Sex
from zairyu.registry.models import AgentCertificate, ReceivingOrganization, Resident


def _letters(n: int) -> str:
    """0 → A, 25 → Z, 26 → BA …: a sequence number spelled in letters, for names."""
    out = ""
    while True:
        n, rest = divmod(n, 26)
        out = string.ascii_uppercase[rest] + out
        if n == 0:
            return out


class ReceivingOrganizationFactory(DjangoModelFactory):
    class Meta:
        model = ReceivingOrganization
        django_get_or_create = ("corporate_number",)

    corporate_number = factory.Sequence(
        lambda n: corporate_number_with_check_digit(f"{9_000_01_000000 + n:012d}")
    )
    name = factory.Sequence(lambda n: f"株式会社テスト工業{n}")
    prefecture = "13"
    municipality = "新宿区"
    address_rest = "西新宿2丁目8番1号"
    phone = "03-1234-5678"
    category = OrganizationCategory.CATEGORY_3
    kind = OrganizationKind.EMPLOYER


class ResidentFactory(DjangoModelFactory):
    class Meta:
        model = Resident
        django_get_or_create = ("card_number",)

    class Params:
        permanent = factory.Trait(
            status="permanent_resident",
            period_of_stay="",
            stay_expires_on=None,
            card_expires_on=factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=2000)),
        )

    roman_name = factory.Sequence(lambda n: f"NGUYEN VAN {_letters(n)}")
    kanji_name = ""
    nationality = "VNM"
    sex = Sex.MALE
    date_of_birth = dt.date(1995, 4, 1)
    prefecture = "13"
    municipality = "新宿区"
    address_rest = "大久保1丁目1番1号"
    move_in_notified_on = dt.date(2024, 4, 10)
    card_number = factory.Sequence(lambda n: f"AB{n:08d}CD")
    status = "engineer_humanities"
    period_of_stay = "3Y"
    stay_expires_on = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=400))
    card_expires_on = factory.LazyAttribute(lambda o: o.stay_expires_on)
    abroad_on_reentry = False
    affiliation = None


class AgentCertificateFactory(DjangoModelFactory):
    class Meta:
        model = AgentCertificate
        django_get_or_create = ("number",)

    class Params:
        staff = factory.Trait(
            holder_kind=AgentHolderKind.ORGANIZATION_STAFF,
            organization=factory.SubFactory(ReceivingOrganizationFactory),
            office_name=factory.LazyAttribute(lambda o: o.organization.name),
        )
        expired = factory.Trait(
            issued_on=factory.LazyFunction(lambda: clock.today() - dt.timedelta(days=1200)),
            expires_on=factory.LazyFunction(lambda: clock.today() - dt.timedelta(days=105)),
        )

    number = factory.Sequence(lambda n: f"{100_000_000_000 + n}")
    holder_name = "山田 太郎"
    holder_kind = AgentHolderKind.ADMINISTRATIVE_SCRIVENER
    organization = None
    office_name = "山田行政書士事務所"
    office_prefecture = "13"
    office_municipality = "千代田区"
    office_address_rest = "霞が関1丁目1番1号"
    issued_on = factory.LazyFunction(lambda: clock.today() - dt.timedelta(days=100))
    expires_on = factory.LazyAttribute(lambda o: o.issued_on + dt.timedelta(days=3 * 365 - 1))
    renewed_to = None
