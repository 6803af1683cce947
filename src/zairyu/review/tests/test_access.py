"""Officers of one office cannot see or act on another office's applications: every officer URL,
with every kind of object id, is a 404 for them and changes nothing; applicant-side users never
reach the officers' pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern

from zairyu.accounts.constants import OfficerRole
from zairyu.applications.models import Application, ApplicationEvent, ApplicationRequest
from zairyu.applications.services import application_request
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.notifications.models import OutboundEmail
from zairyu.review import services
from zairyu.review.models import Assignment, Decision, DocumentRequest, Issue, WindowCount
from zairyu.review.tests.factories import filer, officer, pdf_upload, submitted

pytestmark = pytest.mark.django_db


def one_of_everything(office: str = "tokyo") -> dict:
    """Applications of ``office`` in the states each URL acts on, with an attachment, a request
    of the filer, and an issued document."""
    desk = officer(office, role=OfficerRole.SUPERVISOR)
    scrivener = filer()
    fresh = submitted(office=office, by=scrivener)
    reviewing = submitted(office=office, by=scrivener)
    services.application_take_up(application_id=reviewing.pk, officer=desk)
    from zairyu.applications.services import application_add_documents

    attachment = application_add_documents(
        application=reviewing, user=scrivener, upload=pdf_upload(), document_type="other", declared=True
    )
    request = application_request(application=reviewing, user=scrivener, kind="withdrawal", message="Please.")
    decided = submitted(office=office, by=scrivener, method="post")
    services.application_take_up(application_id=decided.pk, officer=desk)
    services.application_decide(
        application_id=decided.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=clock.today() + dt.timedelta(days=365),
    )
    coe = submitted(office=office, by=scrivener, procedure="P1", method="post")
    services.application_take_up(application_id=coe.pk, officer=desk)
    services.application_decide(
        application_id=coe.pk, officer=desk, outcome="permit", status="engineer_humanities"
    )
    failed = submitted(office=office, by=scrivener, state="error_receipt")
    return {
        "fresh": fresh,
        "reviewing": reviewing,
        "attachment": attachment,
        "request": request,
        "decided": decided,
        "coe": coe,
        "failed": failed,
        "desk": desk,
    }


def every_officer_url(objects: dict) -> list[tuple[str, str, dict]]:
    fresh, reviewing, decided, coe, failed = (
        objects[name] for name in ("fresh", "reviewing", "decided", "coe", "failed")
    )
    base = "/staff/review/applications"
    later = (clock.today() + dt.timedelta(days=7)).isoformat()
    return [
        ("get", f"{base}/{fresh.pk}/", {}),
        ("post", f"{base}/{fresh.pk}/take-up/", {}),
        ("post", f"{base}/{fresh.pk}/assign/", {"assignee": "0"}),
        ("post", f"{base}/{reviewing.pk}/request-documents/", {"message": "More.", "deadline": later}),
        ("post", f"{base}/{reviewing.pk}/decide/", {"outcome": "deny", "reason": "No."}),
        ("post", f"{base}/{decided.pk}/postal-items/", {"envelope": "on", "fee_form": "on", "card": "on"}),
        ("post", f"{base}/{decided.pk}/remind/", {}),
        ("post", f"{base}/{decided.pk}/issue-post/", {"tracking_number": "JP1"}),
        ("post", f"{base}/{decided.pk}/issue-window/", {"fee_stamps_received": "on"}),
        ("post", f"{base}/{failed.pk}/put-back/", {}),
        ("get", f"{base}/{reviewing.pk}/form.pdf", {}),
        ("get", f"{base}/{coe.pk}/issued.pdf", {}),
        ("get", f"{base}/{reviewing.pk}/attachments/{objects['attachment'].pk}/", {}),
        ("post", f"/staff/review/requests/{objects['request'].pk}/accept/", {}),
        ("post", f"/staff/review/requests/{objects['request'].pk}/decline/", {"reason": "No."}),
    ]


def snapshot() -> tuple:
    return (
        list(Application.objects.order_by("pk").values_list("pk", "state", "receipt_number")),
        ApplicationEvent.objects.count(),
        Decision.objects.count(),
        DocumentRequest.objects.count(),
        list(Issue.objects.values_list("pk", "state", "envelope_received_on", "tracking_number")),
        list(ApplicationRequest.objects.values_list("pk", "state")),
        list(Assignment.objects.values_list("application_id", "officer_id")),
        OutboundEmail.objects.count(),
    )


def test_every_officer_url_with_an_object_id_is_listed_here():
    from zairyu.review.urls import urlpatterns

    with_ids = {
        str(p.pattern) for p in urlpatterns if isinstance(p, URLPattern) and "<int:" in str(p.pattern)
    }
    covered = {
        "applications/<int:application_id>/",
        "applications/<int:application_id>/take-up/",
        "applications/<int:application_id>/assign/",
        "applications/<int:application_id>/request-documents/",
        "applications/<int:application_id>/decide/",
        "applications/<int:application_id>/postal-items/",
        "applications/<int:application_id>/remind/",
        "applications/<int:application_id>/issue-post/",
        "applications/<int:application_id>/issue-window/",
        "applications/<int:application_id>/put-back/",
        "applications/<int:application_id>/form.pdf",
        "applications/<int:application_id>/issued.pdf",
        "applications/<int:application_id>/attachments/<int:attachment_id>/",
        "requests/<int:request_id>/accept/",
        "requests/<int:request_id>/decline/",
    }
    assert with_ids == covered


def test_officers_of_another_office_get_404_everywhere_and_nothing_changes():
    objects = one_of_everything("tokyo")
    before = snapshot()
    for office, role in [
        ("osaka", OfficerRole.REVIEWER),
        ("osaka", OfficerRole.SUPERVISOR),
        ("naha", OfficerRole.ADMINISTRATOR),
    ]:
        client = signed_in_client(officer(office, role=role))
        for method, url, data in every_officer_url(objects):
            response = getattr(client, method)(url, data)
            assert response.status_code == 404, (office, role, url, response.status_code)
    assert snapshot() == before
    # Their queues and counts do not show Tokyo's applications.
    osaka = signed_in_client(officer("osaka"))
    for queue in ("submitted", "under_review", "awaiting_issue", "requests", "receipt_errors", "window"):
        assert not osaka.get(f"/staff/review/?queue={queue}").context["page"].object_list, queue
    assert set(osaka.get("/staff/").context["application_queue"].values()) == {0}


def test_the_offices_own_officer_opens_every_page():
    objects = one_of_everything("tokyo")
    client = signed_in_client(officer("tokyo"))
    for method, url, _data in every_officer_url(objects):
        if method == "get":
            response = client.get(url)
            assert response.status_code == 200, url
    for queue in ("submitted", "under_review", "awaiting_issue", "requests", "receipt_errors", "window"):
        assert client.get(f"/staff/review/?queue={queue}").status_code == 200


def test_an_object_id_of_another_office_mixed_into_an_own_url_is_404():
    tokyo, osaka = one_of_everything("tokyo"), one_of_everything("osaka")
    client = signed_in_client(officer("tokyo"))
    url = f"/staff/review/applications/{tokyo['reviewing'].pk}/attachments/{osaka['attachment'].pk}/"
    assert client.get(url).status_code == 404
    assert client.post(f"/staff/review/requests/{osaka['request'].pk}/accept/").status_code == 404
    assert ApplicationRequest.objects.get(pk=osaka["request"].pk).state == "open"


def test_services_refuse_another_offices_application_whatever_calls_them():
    objects = one_of_everything("tokyo")
    osaka = officer("osaka", role=OfficerRole.SUPERVISOR)
    calls = [
        lambda: services.application_take_up(application_id=objects["fresh"].pk, officer=osaka),
        lambda: services.application_assign(
            application_id=objects["fresh"].pk, officer=osaka, assignee_id=osaka.pk
        ),
        lambda: services.application_decide(
            application_id=objects["reviewing"].pk, officer=osaka, outcome="deny", reason="x"
        ),
        lambda: services.documents_request(
            application_id=objects["reviewing"].pk,
            officer=osaka,
            message="x",
            deadline=clock.today() + dt.timedelta(days=3),
        ),
        lambda: services.issue_by_post(
            application_id=objects["decided"].pk, officer=osaka, tracking_number="x"
        ),
        lambda: services.application_request_accept(request_id=objects["request"].pk, officer=osaka),
        lambda: services.application_put_back(application_id=objects["failed"].pk, officer=osaka),
    ]
    for call in calls:
        with pytest.raises(services.ReviewRefused) as refused:
            call()
        assert refused.value.code == "not_found"


def test_applicant_side_users_never_reach_the_officers_pages():
    objects = one_of_everything("tokyo")
    scrivener = objects["fresh"].filer
    for client in (signed_in_client(scrivener), signed_in_client(filer())):
        assert client.get("/staff/review/").status_code == 403
        assert client.get("/staff/review/scorecard/").status_code == 403
        for method, url, data in every_officer_url(objects):
            assert getattr(client, method)(url, data).status_code == 403, url
    anonymous = signed_in_client(filer())
    anonymous.logout()
    assert anonymous.get("/staff/review/").status_code == 302


def test_window_counts_of_another_office_are_refused_unless_administrator():
    tokyo = signed_in_client(officer("tokyo"))
    month = clock.today().replace(day=1).strftime("%Y-%m")
    response = tokyo.post(
        "/staff/review/scorecard/window-counts/",
        {"office": "osaka", "month": month, "procedure": "P3", "count": 5},
    )
    assert response.status_code == 400 and not WindowCount.objects.exists()
    admin = signed_in_client(officer("tokyo", role=OfficerRole.ADMINISTRATOR))
    response = admin.post(
        "/staff/review/scorecard/window-counts/",
        {"office": "osaka", "month": month, "procedure": "P3", "count": 5},
    )
    assert response.status_code == 302 and WindowCount.objects.get().office == "osaka"
