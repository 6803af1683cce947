"""First use without traps: amounts with thousands separators, small totals in KB."""

from __future__ import annotations

import re

import pytest

from zairyu.accounts.constants import UserKind
from zairyu.accounts.tests.conftest import active_user
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import extension_applicant, signed_in_client, today_plus
from zairyu.core import clock
from zairyu.documents.checks import format_size

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 KB"),
        (1, "1 KB"),
        (38 * 1024, "38 KB"),
        (1024 * 1024 - 1, "1024 KB"),
        (10485760, "10 MB"),
        (24536678, "23.4 MB"),
    ],
)
def test_sizes_are_kilobytes_below_a_megabyte(size, shown):
    assert format_size(size) == shown


def test_the_documents_total_and_the_amounts_are_readable():
    from zairyu.applications.mynaportal import available_years

    resident = extension_applicant()
    user = active_user(UserKind.U1, card_id="CARD-AMOUNTS-1", valid_until=today_plus(900))
    client = signed_in_client(user)
    client.post(
        "/applications/new/",
        {"procedure": "P3", "status": "engineer_humanities", "card_number": resident.card_number},
    )
    application = Application.objects.get(filer=user)
    documents = f"/applications/{application.public_id}/documents/"
    page = client.get(documents).content.decode()
    assert "All files together: 0 KB of at most 25 MB." in page and "0.0 MB" not in page

    year = available_years(clock.today())[0]
    assert client.post(documents, {"upload": "mynaportal", "fiscal_year": str(year)}).status_code == 302
    income = application.data.get().payload["total_income"]
    assert income >= 1000
    page = client.get(documents).content.decode()
    assert f"total income ¥{income:,}," in page

    confirm = client.get(f"/applications/{application.public_id}/confirm/").content.decode()
    assert f"total income ¥{income:,}," in confirm
    fees = re.findall(r"¥([0-9,]+) online \(¥([0-9,]+) at the window\)", confirm)
    assert any("," in online for online, _ in fees)  # e.g. ¥4,000, not ¥4000
    assert all(re.fullmatch(r"\d{1,3}(,\d{3})*", amount) for pair in fees for amount in pair)
