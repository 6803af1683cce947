"""The demo of ``make run``: the Tokyo officers find applications filed by the demo scrivener,
a COE to be received by e-mail, and window counts in the scorecard; running it again adds nothing."""

from __future__ import annotations

import pytest

from zairyu.accounts.constants import UserKind
from zairyu.applications.constants import ApplicationState
from zairyu.applications.models import Application
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.review.models import WindowCount
from zairyu.review.tests.factories import filer, officer

pytestmark = pytest.mark.django_db


def test_the_demo_fills_the_tokyo_queue_once(settings, tmp_path):
    from zairyu.organizations.demo import organizations_load_demo
    from zairyu.registry.services import registry_load_demo
    from zairyu.review.demo import review_load_demo

    settings.DATA_DIR = tmp_path
    registry_load_demo(seed=settings.DEMO_SEED, residents=600)
    organizations_load_demo()
    scrivener = filer(UserKind.U4)
    type(scrivener).objects.filter(pk=scrivener.pk).update(username="DEMOSCRIV001")
    first = review_load_demo()
    applications = Application.objects.filter(filer__username="DEMOSCRIV001")
    assert applications.count() == 5
    assert set(applications.values_list("office", flat=True)) == {"tokyo"}
    assert set(applications.values_list("state", flat=True)) == {ApplicationState.SUBMITTED}
    coe = applications.get(procedure="P1")
    assert coe.receipt_methods == {"coe": "email"}
    assert applications.filter(add_ons=["P6", "P7"]).exists()
    counts = WindowCount.objects.count()
    assert counts and set(WindowCount.objects.values_list("office", flat=True)) == {"tokyo"}
    second = review_load_demo()
    assert applications.count() == 5 and WindowCount.objects.count() == counts
    assert [label for label, _text in first] == [label for label, _text in second]
    queue = signed_in_client(officer("tokyo")).get("/staff/review/")
    assert queue.context["page"].paginator.count == 5
