"""The demo organizations of ``make run``: the same accounts every run, ready to use."""

from __future__ import annotations

import pytest

from zairyu.accounts.constants import UserState
from zairyu.accounts.models import User
from zairyu.organizations.access import (
    active_memberships,
    organization_may_file,
    organizations_in_scope,
    staff_organization,
)
from zairyu.organizations.demo import ORGANIZATIONS, organizations_load_demo
from zairyu.organizations.models import Enrolment
from zairyu.registry.models import ReceivingOrganization

pytestmark = pytest.mark.django_db


def test_the_demo_is_idempotent_and_ready_to_use(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first = organizations_load_demo()
    second = organizations_load_demo()
    assert [label for label, _text in first] == [label for label, _text in second]
    company_staff, support_staff = (
        User.objects.get(username="DEMOCOMPY001"),
        User.objects.get(username="DEMOSUPPT001"),
    )
    assert (company_staff.kind, support_staff.kind) == ("U5", "U7")
    for user in (company_staff, support_staff):
        assert user.state == UserState.ACTIVE and user.has_totp and organization_may_file(user)
        assert user.valid_until == Enrolment.objects.get(organization=staff_organization(user)).valid_until
    assert [o.name for o in organizations_in_scope(support_staff)] == ["Demo Foods K.K."]
    numbers = {key: number for key, number, *_rest in ORGANIZATIONS}
    newcomer = ReceivingOrganization.objects.get(corporate_number=numbers["newcomer"])
    assert (
        not active_memberships(newcomer).exists()
        and not Enrolment.objects.filter(organization=newcomer).exists()
    )
    assert (tmp_path / "demo" / "sample.pdf").read_bytes().startswith(b"%PDF-")
    assert any(numbers["newcomer"] in text for _label, text in first)
