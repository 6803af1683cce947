"""Every page of the portal renders in Japanese too, and carries no inline script or style
(the CSP forbids them)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import translation

from zairyu.accounts.constants import OfficerRole
from zairyu.core import clock
from zairyu.review import services
from zairyu.review.models import EcoeRecord
from zairyu.review.tests.factories import filer, officer, submitted

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)")


def test_every_page_renders_in_japanese_without_inline_script_or_style():
    desk = officer("tokyo", role=OfficerRole.SUPERVISOR)
    scrivener = filer()
    card = submitted(method="post", add_ons=("P6", "P7"), by=scrivener, photo=True)
    services.application_take_up(application_id=card.pk, officer=desk)
    services.documents_request(
        application_id=card.pk, officer=desk, message="x", deadline=clock.today() + dt.timedelta(days=4)
    )
    window = submitted(method="window", by=scrivener)
    services.application_take_up(application_id=window.pk, officer=desk)
    services.application_decide(
        application_id=window.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    coe = submitted(procedure="P1", method="email", by=scrivener)
    services.application_take_up(application_id=coe.pk, officer=desk)
    services.application_decide(
        application_id=coe.pk, officer=desk, outcome="permit", status="engineer_humanities"
    )
    code = EcoeRecord.objects.get().code
    with translation.override("ja"):
        staff, mine, public = Client(), Client(), Client()
        staff.force_login(desk)
        mine.force_login(scrivener)
        session = mine.session
        session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
        session.save()
        pages = [
            (staff, "/staff/"),
            *[
                (staff, f"/staff/review/?queue={q}")
                for q in (
                    "submitted",
                    "under_review",
                    "waiting_documents",
                    "awaiting_issue",
                    "window",
                    "requests",
                    "receipt_errors",
                )
            ],
            (staff, f"/staff/review/applications/{card.pk}/"),
            (staff, f"/staff/review/applications/{window.pk}/"),
            (staff, f"/staff/review/applications/{coe.pk}/"),
            (staff, "/staff/review/scorecard/"),
            (mine, f"/applications/{card.public_id}/"),
            (mine, f"/applications/{card.public_id}/manage/"),
            (mine, f"/applications/{window.public_id}/"),
            (mine, f"/applications/{coe.public_id}/"),
            (mine, f"/public/applications/{window.public_id}/pay/"),
            (public, "/public/ecoe/"),
            (public, f"/public/ecoe/{code}/"),
            (public, "/public/scorecard/"),
        ]
        for client, url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert 'lang="ja"' in html, url
            assert not INLINE_SCRIPT.search(html) and " style=" not in html, url
