"""Building what the review works on: officers, and applications already submitted (written
directly, as the applications feature leaves them, so the tests stay fast; the journeys file
them through the real pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from zairyu.accounts.constants import OfficerRole, UserKind, UserState
from zairyu.accounts.models import User
from zairyu.accounts.tests.conftest import PASSWORD
from zairyu.applications import receipts
from zairyu.applications.constants import ApplicationState, DocumentRole
from zairyu.applications.disclosure import registry_answers as _answers_from_registry
from zairyu.applications.models import Application, ApplicationDocument
from zairyu.applications.samples import sample_answers
from zairyu.applications.services import application_form
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.registry.tests.factories import ReceivingOrganizationFactory, ResidentFactory

PREFECTURE = {"tokyo": "13", "osaka": "27", "nagoya": "23", "fukuoka": "40"}
_serial = iter(range(1, 1_000_000))


def officer(office: str = "tokyo", role: str = OfficerRole.REVIEWER, **fields: Any) -> User:
    from zairyu.accounts.services import auth_id_generate

    n = next(_serial)
    user = User(
        username=auth_id_generate(),
        kind=UserKind.OFFICER,
        state=UserState.ACTIVE,
        office=office,
        role=role,
        full_name=f"OFFICER {office.upper()} {n}",
        email=f"officer{n}@{office}.example",
        language="en",
        **fields,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def filer(kind: str = UserKind.U4, **fields: Any) -> User:
    from zairyu.accounts.tests.conftest import active_user

    n = next(_serial)
    return active_user(
        kind, email=fields.pop("email", f"filer{n}@example.com"), full_name=f"FILER {n}", **fields
    )


def submitted(
    *,
    procedure: str = "P3",
    status: str = "engineer_humanities",
    add_ons: tuple[str, ...] = (),
    office: str = "tokyo",
    method: str = "post",
    by: User | None = None,
    resident=None,
    state: str = ApplicationState.SUBMITTED,
    received: dt.date | None = None,
    photo: bool = False,
    **resident_fields: Any,
) -> Application:
    """A received application of ``office``, its answers valid for its form."""
    today = clock.today()
    received = received or today
    catalogue = get_catalogue()
    by = by or filer()
    organization = None
    if procedure not in ("P1", "P4") and resident is None:  # an acquisition's applicant has no card
        resident = ResidentFactory(
            **{
                "status": status if procedure in ("P3", "P5") else "student",
                "prefecture": PREFECTURE.get(office, "13"),
                "period_of_stay": "1Y",
                "stay_expires_on": today + dt.timedelta(days=60),
                "card_expires_on": today + dt.timedelta(days=60),
                **resident_fields,
            }
        )
    if procedure == "P1":
        organization = ReceivingOrganizationFactory(prefecture=PREFECTURE.get(office, "13"))
    entry = catalogue.entries[status]
    application = Application(
        filer=by,
        user_category=by.kind,
        procedure=procedure,
        add_ons=sorted(add_ons),
        status=status,
        group=entry.group.code if entry.group else "",
        applicant_resident=resident,
        receiving_organization=organization,
        applicant_name=resident.roman_name if resident else "NGUYEN VAN COE",
        applicant_email="applicant@example.com",
    )
    form = application_form(application)
    overrides: dict[str, Any] = {"applicant_email": "applicant@example.com"}
    if resident is not None:
        overrides.update(_answers_from_registry(resident), card_number=resident.card_number)
    else:
        overrides.update(
            roman_name="NGUYEN VAN COE", sex="male", date_of_birth="1998-05-06", nationality="VNM"
        )
        if procedure == "P4":  # a child born in Japan five days before it was received
            born = (received - dt.timedelta(days=5)).isoformat()
            overrides.update(date_of_birth=born, acquisition_event_date=born, acquisition_reason="birth")
    application.answers = sample_answers(form, today=today, overrides=overrides)
    document = {"P1": "coe", "P5": "employment_certificate"}.get(procedure, "residence_card")
    application.receipt_methods = {document: method}
    application.office = office
    application.receipt_date = received
    application.submitted_at = clock.start_of_day(received) + dt.timedelta(hours=10, seconds=next(_serial))
    application.provisional_number = receipts.provisional_number(received)
    application.state = state
    with transaction.atomic():
        if state != ApplicationState.ERROR_RECEIPT:
            application.receipt_number = receipts.receipt_number(
                office=office, procedure=procedure, group=application.group, receipt_date=received
            )
        application.save()
    if photo:
        from zairyu.documents.tests.factories import stored_photo

        ApplicationDocument.objects.create(
            application=application,
            document=stored_photo(owner=by),
            role=DocumentRole.PHOTO,
            document_type="face_photo",
        )
    return application


def pdf_upload(name: str = "more.pdf"):
    from zairyu.applications.tests.helpers import pdf_upload as upload

    return upload(name)
