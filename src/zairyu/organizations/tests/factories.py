"""Factories for the organizations tests: enrolled organizations, their staff, mandates, officers,
and PDFs made at test time."""

from __future__ import annotations

import datetime as dt

import factory
import pyotp
from factory.django import DjangoModelFactory

from zairyu.accounts.constants import UserKind, UserState
from zairyu.accounts.models import User
from zairyu.core import clock
from zairyu.documents.tests.factories import pdf_bytes, upload
from zairyu.organizations.constants import MandateState, user_kind_for
from zairyu.organizations.models import Enrolment, Mandate, StaffMembership
from zairyu.registry.tests.factories import ReceivingOrganizationFactory

PASSWORD = "correct horse battery staple"


def pdf(name: str = "document.pdf"):
    """A fresh upload of a small valid PDF (an upload can be read once)."""
    return upload(pdf_bytes(), name)


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrolment

    organization = factory.SubFactory(ReceivingOrganizationFactory)
    office = "tokyo"
    valid_until = factory.LazyFunction(lambda: clock.today() + dt.timedelta(days=200))
    category_3_as_2 = False


def _user(**fields) -> User:
    from zairyu.accounts.services import auth_id_generate

    user = User(username=auth_id_generate(), **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def staff_member(
    enrolment: Enrolment | None = None,
    *,
    state: str = UserState.ACTIVE,
    full_name: str = "SATO KENJI",
    email: str | None = None,
    **fields,
) -> User:
    """An approved staff member of ``enrolment``'s organization (a new enrolment if None)."""
    enrolment = enrolment or EnrolmentFactory()
    organization = enrolment.organization
    user = _user(
        kind=user_kind_for(organization.kind),
        state=state,
        full_name=full_name,
        email=email or f"staff{User.objects.count() + 1}@example.com",
        language="en",
        valid_until=enrolment.valid_until,
        totp_secret=pyotp.random_base32(),
        totp_confirmed_at=clock.now(),
        **fields,
    )
    StaffMembership.objects.create(organization=organization, user=user)
    return user


def officer(office: str = "tokyo", **fields) -> User:
    return _user(
        kind=UserKind.OFFICER,
        state=UserState.ACTIVE,
        office=office,
        role="reviewer",
        full_name=f"OFFICER {office.upper()}",
        email=f"officer.{office}.{User.objects.count()}@example.com",
        language="en",
        **fields,
    )


def support_enrolment(**fields) -> Enrolment:
    return EnrolmentFactory(
        organization=ReceivingOrganizationFactory(kind="registered_support_organization"), **fields
    )


def mandate(agent_enrolment: Enrolment, principal=None, *, state: str = MandateState.ACTIVE) -> Mandate:
    return Mandate.objects.create(
        agent_organization=agent_enrolment.organization,
        principal=principal or ReceivingOrganizationFactory(),
        state=state,
        activated_at=clock.now() if state == MandateState.ACTIVE else None,
    )


def verified_token(email: str = "hr@example.com") -> str:
    """The raw token of a fresh e-mail confirmation link, as the e-mail carries it."""
    from zairyu.accounts.tests.conftest import link_from_last_email
    from zairyu.organizations.services import email_verification_request

    email_verification_request(email=email, language="en")
    return link_from_last_email("org_email_verification", to=email.strip()).rstrip("/").split("/")[-1]


def file_usage_application(
    organization, *, email: str = "hr@example.com", full_name: str = "SATO KENJI", **overrides
):
    """A usage application filed through the service, as the two form steps would."""
    from zairyu.organizations.services import StaffDetails, usage_application_submit

    arguments = {
        "raw_token": verified_token(email),
        "corporate_number": organization.corporate_number,
        "organization_kind": organization.kind,
        "category": organization.category,
        "staff": StaffDetails(
            full_name=full_name,
            email=email,
            language="en",
            qualification_facts="Completed the agent training course in 2025.",
        ),
        "pledge": True,
        "notifications_filed": True,
        "supporting_document": pdf(),
        **overrides,
    }
    application, _status = usage_application_submit(**arguments)
    return application
