"""The scorecard (F-20): online usage rate per procedure and fiscal quarter against the 20%
target, from the applications received and the window counts officers enter or import; the
processing times per office; charts as SVG; a public page without personal data."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from zairyu.accounts.constants import OfficerRole
from zairyu.accounts.tests.conftest import EnglishClient
from zairyu.applications.tests.helpers import signed_in_client
from zairyu.core import clock
from zairyu.review import services
from zairyu.review.models import WindowCount
from zairyu.review.scorecard import Quarter, parse_window_counts, scorecard
from zairyu.review.tests.factories import officer, submitted

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 8, 20, 10, tzinfo=clock.JST)


def test_fiscal_quarters_begin_in_april():
    assert Quarter.of(dt.date(2026, 4, 1)) == Quarter(2026, 1)
    assert Quarter.of(dt.date(2026, 3, 31)) == Quarter(2025, 4)
    assert Quarter.of(dt.date(2026, 12, 31)) == Quarter(2026, 3)
    q4 = Quarter(2025, 4)
    assert (q4.start, q4.end, q4.label) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1), "FY2025 Q4")
    assert q4.previous() == Quarter(2025, 3) and Quarter(2026, 1).previous() == q4


@time_machine.travel(TODAY, tick=False)
def test_the_rate_is_online_over_all_and_a_quarter_without_window_counts_has_none():
    for month, day in [(4, 3), (5, 10), (6, 30)]:
        submitted(procedure="P3", add_ons=("P6",), received=dt.date(2026, month, day))
    submitted(procedure="P2", status="engineer_humanities", received=dt.date(2026, 7, 1))  # FY2026 Q2
    submitted(procedure="P3", received=dt.date(2026, 7, 2), office="osaka")
    desk = officer("tokyo")
    for month in (4, 5, 6):
        services.window_count_set(
            officer=desk, office="tokyo", month=dt.date(2026, month, 1), procedure="P3", count=4
        )
    services.window_count_set(
        officer=desk, office="tokyo", month=dt.date(2026, 4, 1), procedure="P6", count=1
    )

    card = scorecard(office="tokyo", fresh=True)
    assert [q.label for q in card.quarters][-2:] == ["FY2026 Q1", "FY2026 Q2"]
    rows = {row.code: row for row in card.rows}
    q1 = rows["P3"].cells[-2]
    assert (q1.online, q1.window, q1.percent, q1.complete) == (3, 12, "20.0%", True)
    assert q1.meets_target
    p6 = rows["P6"].cells[-2]
    assert (p6.online, p6.window, p6.percent, p6.complete) == (3, 1, "75.0%", False)  # add-ons count too
    assert rows["P2"].cells[-1].online == 1 and rows["P2"].cells[-1].percent == "—"  # no window counts yet
    national = scorecard(fresh=True)
    assert {row.code: row for row in national.rows}["P3"].cells[-1].online == 1  # Osaka's
    assert not {row.code: row for row in national.rows}["P3"].cells[-2].complete  # 1 office of 11


@time_machine.travel(TODAY, tick=False)
def test_processing_times_per_office():
    desk = officer("tokyo")
    application = submitted(procedure="P3", method="window", received=dt.date(2026, 8, 10))
    services.application_take_up(application_id=application.pk, officer=desk)
    decision = services.application_decide(
        application_id=application.pk,
        officer=desk,
        outcome="permit",
        status="engineer_humanities",
        period_of_stay="1Y",
        stay_expires_on=dt.date(2027, 8, 1),
    )
    assert decision.days_to_decision == 10
    with time_machine.travel(TODAY + dt.timedelta(days=2), tick=False):
        services.issue_at_window(application_id=application.pk, officer=desk, fee_stamps_received=True)
        times = {row.code: row for row in scorecard(fresh=True).times}
    assert (times["tokyo"].decisions, times["tokyo"].days_to_decision) == (1, 10)
    assert (times["tokyo"].issues, times["tokyo"].days_to_issue) == (1, 2)
    assert times["osaka"].decisions == 0 and times["osaka"].days_to_decision is None


@time_machine.travel(TODAY, tick=False)
def test_officers_enter_window_counts_by_form_and_csv_with_errors_by_line():
    tokyo = officer("tokyo")
    client = signed_in_client(tokyo)
    response = client.post(
        "/staff/review/scorecard/window-counts/",
        {"office": "tokyo", "month": "2026-07", "procedure": "P3", "count": "40"},
    )
    assert response.status_code == 302
    client.post(
        "/staff/review/scorecard/window-counts/",
        {"office": "tokyo", "month": "2026-07", "procedure": "P3", "count": "42"},
    )
    assert WindowCount.objects.get().count == 42  # entered again: replaced
    assert (
        client.post(
            "/staff/review/scorecard/window-counts/",
            {"office": "tokyo", "month": "2027-01", "procedure": "P3", "count": "1"},
        ).status_code
        == 400
    )  # that month has not begun

    bad = "office,month,procedure,count\ntokyo,2026-05,P1,10\nosaka,2026-05,P1,3\ntokyo,2026/13,P9,x\n"
    response = client.post(
        "/staff/review/scorecard/window-counts/import/",
        {"file": SimpleUploadedFile("counts.csv", bad.encode(), content_type="text/csv")},
    )
    assert response.status_code == 400
    errors = {(e.line, e.column) for e in response.context["import_errors"]}
    assert errors == {(3, "office"), (4, "month"), (4, "procedure"), (4, "count")}
    assert "Line 4" in response.content.decode()
    assert WindowCount.objects.count() == 1  # nothing imported
    good = '\ufeffoffice,month,procedure,count\ntokyo,2026-05,P1,10\ntokyo,2026-06,P1,"1,200"\n'
    response = client.post(
        "/staff/review/scorecard/window-counts/import/",
        {"file": SimpleUploadedFile("counts.csv", good.encode(), content_type="text/csv")},
    )
    assert response.status_code == 302
    assert WindowCount.objects.get(month=dt.date(2026, 6, 1), procedure="P1").count == 1200
    rows, errors = parse_window_counts(b"office,month,procedure,count\n", allowed_offices={"tokyo"})
    assert not rows and errors


@time_machine.travel(TODAY, tick=False)
def test_the_public_scorecard_shows_charts_and_no_personal_data():
    application = submitted(procedure="P3", received=dt.date(2026, 5, 1))
    services.window_count_set(
        officer=officer("tokyo"), office="tokyo", month=dt.date(2026, 5, 1), procedure="P3", count=3
    )
    page = EnglishClient().get("/public/scorecard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "target 20%" in html and "25.0%" in html
    assert application.applicant_name not in html and application.receipt_number not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html
    desk = signed_in_client(officer("tokyo"))
    officer_page = desk.get("/staff/review/scorecard/")
    assert officer_page.status_code == 200 and officer_page.context["card"].office == "tokyo"
    assert desk.get("/staff/review/scorecard/?scope=all").context["card"].office is None


def test_months_are_summarised_once_over_and_the_running_month_every_ten_minutes():
    from zairyu.review.models import ScorecardMonth
    from zairyu.review.scorecard import summarise_closed_months

    def p3(card, index=-1):
        return {r.code: r for r in card.rows}["P3"].cells[index]

    with time_machine.travel(TODAY, tick=False):
        submitted(procedure="P3", received=dt.date(2026, 8, 1))
        assert p3(scorecard()).online == 1
        submitted(procedure="P3", received=dt.date(2026, 8, 2))
        assert p3(scorecard()).online == 1  # the running month's summary is minutes old
        assert p3(scorecard(fresh=True)).online == 2
        submitted(procedure="P3", received=dt.date(2026, 8, 3))
    with time_machine.travel(TODAY + dt.timedelta(minutes=11), tick=False):
        assert p3(scorecard()).online == 3  # ten minutes later it is counted again
        desk = officer("tokyo", role=OfficerRole.ADMINISTRATOR)
        services.window_count_set(
            officer=desk, office="tokyo", month=dt.date(2026, 8, 1), procedure="P3", count=3
        )
        assert p3(scorecard()).percent == "50.0%"  # window counts show at once
    with time_machine.travel(dt.datetime(2026, 9, 2, 3, tzinfo=clock.JST), tick=False):
        submitted(procedure="P3", received=dt.date(2026, 8, 31))  # recorded late in August
        assert summarise_closed_months() == 2  # August (over now) and September (running)
        assert p3(scorecard()).online == 4  # FY2026 Q2: July to September
        assert summarise_closed_months() == 0
        made = ScorecardMonth.objects.get(month=dt.date(2026, 8, 1)).computed_at
        assert made >= clock.start_of_day(dt.date(2026, 9, 1))
