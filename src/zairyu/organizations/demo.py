"""Demo organizations for ``make run`` (development only; refused in production).

A company and a registered support organization with approved staff (fixed IDs, fixed TOTP
keys, the company's periodic report already due), and organizations that have not filed yet,
so that a person can file usage applications in the browser. Corporate numbers start with
``0099`` after the check digit, a range the registry's random demo population never uses.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from django.conf import settings
from django.db import transaction

from zairyu.accounts.constants import UserKind
from zairyu.catalogue.validators import corporate_number_with_check_digit
from zairyu.core import clock
from zairyu.organizations.constants import ApplicationKind, Basis, FilingState, MandateState
from zairyu.organizations.models import Enrolment, Mandate, StaffMembership, UsageApplication
from zairyu.registry.models import ReceivingOrganization


def _number(kind_code: str, serial: int) -> str:
    return corporate_number_with_check_digit(f"0099{kind_code}{serial:06d}")


# (key, number, name, kind, category, municipality, address)
ORGANIZATIONS = [
    ("company", _number("01", 1), "Demo Shoji K.K.", "employer", 3, "Shinjuku-ku", "Nishi-Shinjuku 2-8-1"),
    (
        "support",
        _number("01", 2),
        "Demo Support Association",
        "registered_support_organization",
        2,
        "Chiyoda-ku",
        "Marunouchi 1-1-1",
    ),
    ("foods", _number("01", 3), "Demo Foods K.K.", "employer", 3, "Koto-ku", "Toyosu 3-3-3"),
    ("hotels", _number("01", 4), "Demo Hotels K.K.", "employer", 4, "Taito-ku", "Asakusa 2-2-2"),
    ("newcomer", _number("01", 5), "Demo Seiki K.K.", "employer", 3, "Shinagawa-ku", "Osaki 1-5-1"),
    (
        "new_support",
        _number("01", 6),
        "Demo Care Support",
        "registered_support_organization",
        3,
        "Toshima-ku",
        "Ikebukuro 1-6-1",
    ),
]


def sample_pdf_bytes() -> bytes:
    """A one-page PDF to attach where the demo needs one."""
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(b"BT /F1 18 Tf 72 760 Td (Zairyu demo document) Tj ET")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _organization(key: str) -> ReceivingOrganization:
    _key, number, name, kind, category, municipality, address = next(o for o in ORGANIZATIONS if o[0] == key)
    organization, _created = ReceivingOrganization.objects.update_or_create(
        corporate_number=number,
        defaults={
            "name": name,
            "kind": kind,
            "category": category,
            "prefecture": "13",
            "municipality": municipality,
            "address_rest": address,
            "phone": "03-5000-0000",
        },
    )
    return organization


def _staff(
    *, auth_id: str, kind: str, organization: ReceivingOrganization, name: str, email: str, valid_until
):
    from zairyu.accounts.demo import _account
    from zairyu.documents.services import document_store_pdf

    user = _account(
        auth_id=auth_id,
        kind=kind,
        password=settings.DEMO_PASSWORD,
        totp=True,
        full_name=name,
        email=email,
        language="en",
        valid_until=valid_until,
        prefecture=organization.prefecture,
        municipality=organization.municipality,
        address_rest=organization.address_rest,
        removed_at=None,
    )
    membership = StaffMembership.objects.filter(user=user).first()
    if membership is None:
        application = UsageApplication.objects.create(
            kind=ApplicationKind.NEW,
            office="tokyo",
            state=FilingState.APPROVED,
            decided_at=clock.now(),
            organization=organization,
            category=organization.category,
            notifications_filed=kind == UserKind.U5,
            pledge=True,
            full_name=name,
            email=email,
            language="en",
            basis=Basis.QUALIFIES,
            qualification_facts="Demo: completed the agent training course.",
            supporting_document=document_store_pdf(
                upload=io.BytesIO(sample_pdf_bytes()), owner=None, document_type="usage_application"
            ),
        )
        membership = StaffMembership.objects.create(
            organization=organization, user=user, application=application
        )
    elif membership.organization_id != organization.pk or membership.ended_at is not None:
        membership.organization, membership.ended_at, membership.end_reason = organization, None, ""
        membership.save()
    return user


def organizations_load_demo() -> list[tuple[str, str]]:
    """Create (or reset) the demo organizations and their staff; return what to print."""
    if settings.PRODUCTION:
        raise RuntimeError("demo organizations are never created in production")
    today = clock.today()
    lines: list[tuple[str, str]] = []
    with transaction.atomic():
        company, support = _organization("company"), _organization("support")
        foods, hotels = _organization("foods"), _organization("hotels")
        newcomer, new_support = _organization("newcomer"), _organization("new_support")
        due = today + dt.timedelta(days=40)  # within 2 months: the periodic report can be filed now
        Enrolment.objects.update_or_create(
            organization=company, defaults={"office": "tokyo", "valid_until": due, "category_3_as_2": False}
        )
        support_until = today + dt.timedelta(days=300)
        Enrolment.objects.update_or_create(
            organization=support, defaults={"office": "tokyo", "valid_until": support_until}
        )
        company_staff = _staff(
            auth_id="DEMOCOMPY001",
            kind=UserKind.U5,
            organization=company,
            name="KATO YUKI",
            email="staff@demo-shoji.zairyu.example",
            valid_until=due,
        )
        support_staff = _staff(
            auth_id="DEMOSUPPT001",
            kind=UserKind.U7,
            organization=support,
            name="MORI KEN",
            email="staff@demo-support.zairyu.example",
            valid_until=support_until,
        )
        if not Mandate.objects.filter(
            agent_organization=support, principal=foods, state=MandateState.ACTIVE
        ).exists():
            Mandate.objects.create(
                agent_organization=support,
                principal=foods,
                state=MandateState.ACTIVE,
                activated_at=clock.now(),
            )
    directory = Path(settings.DATA_DIR) / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    sample = directory / "sample.pdf"
    sample.write_bytes(sample_pdf_bytes())
    lines += [
        (
            "Company staff (U5)",
            f"ID DEMOCOMPY001  TOTP key {company_staff.totp_secret}  ({company.name}, report due by {due})",
        ),
        (
            "Support staff (U7)",
            f"ID DEMOSUPPT001  TOTP key {support_staff.totp_secret}  ({support.name}, acts for {foods.name})",
        ),
        (
            "Company, not filed yet",
            f"corporate number {newcomer.corporate_number}  employer, category 3, Tokyo",
        ),
        (
            "Support org, not filed",
            f"corporate number {new_support.corporate_number}  registered support organization, category 3",
        ),
        (
            "Mandating orgs to name",
            f"{foods.corporate_number} ({foods.name}), {hotels.corporate_number} ({hotels.name})",
        ),
        ("PDF to attach", str(sample)),
    ]
    return lines
