"""The work queues of an office: oldest first, filters, pagination, counts on the officer's
home; and the state the filer sees (F-06) for every queue."""

from __future__ import annotations

import datetime as dt

import pytest

from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.review import services
from zairyu.review.tests.factories import officer, submitted

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [item.pk for item in response.context["page"].object_list]


def test_oldest_first_with_filters_by_procedure_status_date_age_and_assignee():
    today = clock.today()
    old = submitted(procedure="P3", received=today - dt.timedelta(days=20))
    change = submitted(procedure="P2", status="engineer_humanities", received=today - dt.timedelta(days=5))
    student = submitted(procedure="P3", status="student", received=today - dt.timedelta(days=1))
    newest = submitted(procedure="P3", received=today)
    me = officer("tokyo")
    client = signed_in_client(me)
    assert ids(client.get("/staff/review/")) == [old.pk, change.pk, student.pk, newest.pk]
    assert ids(client.get("/staff/review/?queue=submitted&procedure=P2")) == [change.pk]
    assert ids(client.get("/staff/review/?queue=submitted&status=student")) == [student.pk]
    since = (today - dt.timedelta(days=5)).isoformat()
    assert ids(client.get(f"/staff/review/?queue=submitted&received_from={since}")) == [
        change.pk,
        student.pk,
        newest.pk,
    ]
    assert ids(client.get(f"/staff/review/?queue=submitted&received_to={since}")) == [old.pk, change.pk]
    assert ids(client.get("/staff/review/?queue=submitted&older_than_days=10")) == [old.pk]
    page = client.get("/staff/review/?queue=submitted")
    assert [item.age_days for item in page.context["page"].object_list] == [20, 5, 1, 0]

    services.application_take_up(application_id=old.pk, officer=me)
    services.application_take_up(application_id=change.pk, officer=officer("tokyo"))
    assert ids(client.get("/staff/review/?queue=under_review&assignee=me")) == [old.pk]
    assert ids(client.get("/staff/review/?queue=submitted&assignee=none")) == [student.pk, newest.pk]
    home = client.get("/staff/").context["application_queue"]
    assert (home["submitted"], home["under_review"]) == (2, 2)
    assert "2 submitted applications to take up" in client.get("/staff/").content.decode()


def test_pages_of_fifty():
    for _ in range(52):
        submitted()
    client = signed_in_client(officer("tokyo"))
    first = client.get("/staff/review/?queue=submitted")
    assert len(first.context["page"].object_list) == 50 and first.context["page"].paginator.count == 52
    assert "page=2" in first.content.decode()
    assert len(client.get("/staff/review/?queue=submitted&page=2").context["page"].object_list) == 2


def test_the_state_the_filer_sees_for_each_queue():
    """F-06: the bureau's queues map onto the user-visible states; "waiting for additional
    documents" is under review, with the request shown."""
    desk = officer("tokyo")
    application = submitted(method="post")
    steps = []

    def seen():
        application.refresh_from_db()
        steps.append(str(application.get_state_display()))

    seen()
    services.application_take_up(application_id=application.pk, officer=desk)
    seen()
    services.documents_request(
        application_id=application.pk,
        officer=desk,
        message="x",
        deadline=clock.today() + dt.timedelta(days=5),
    )
    seen()
    services.application_decide(
        application_id=application.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    seen()
    services.postal_items_record(
        application_id=application.pk, officer=desk, envelope=True, fee_form=True, card=True
    )
    services.issue_by_post(application_id=application.pk, officer=desk, tracking_number="JP1")
    seen()
    assert steps == ["Submitted", "Under review", "Under review", "Awaiting issue", "Complete"]
