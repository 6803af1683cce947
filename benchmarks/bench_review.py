"""The officers' portal at scale: an office queue page, the scorecard and a decision, with
1,000,000 applications in PostgreSQL (50,000 on SQLite, said in the figure's name).

The applications are synthetic rows inserted with one SQL statement (``generate_series`` on
PostgreSQL, a recursive CTE on SQLite): 11 offices (Tokyo about 40%), two years of receipt
dates, mostly complete with a decision, a few percent open in each queue. Targets (issue 6):
queue page p95 ≤ 100 ms, scorecard p95 ≤ 500 ms, decision p50 ≤ 100 ms (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import time

from _setup import django_setup, median, percentile, report, timings

django_setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from zairyu.accounts.constants import OfficerRole, UserKind, UserState  # noqa: E402
from zairyu.accounts.models import User  # noqa: E402
from zairyu.applications.constants import ApplicationState  # noqa: E402
from zairyu.applications.models import Application  # noqa: E402
from zairyu.applications.samples import sample_answers  # noqa: E402
from zairyu.applications.services import application_form  # noqa: E402
from zairyu.core import clock  # noqa: E402

vendor = connection.vendor
N = 1_000_000 if vendor == "postgresql" else 50_000
scale = f"{N // 1000}k"
today = clock.today()

filer = User(username="BENCHREVIEWFILER", kind=UserKind.U4, state=UserState.ACTIVE, email="f@example.com")
filer.set_unusable_password()
filer.save()
desk = User(
    username="BENCHREVIEWDESK",
    kind=UserKind.OFFICER,
    state=UserState.ACTIVE,
    office="tokyo",
    role=OfficerRole.REVIEWER,
    full_name="BENCH OFFICER",
    email="d@example.com",
)
desk.set_unusable_password()
desk.save()

# office by (i / 100) % 20: tokyo 8/20, osaka 3/20, the rest 1/20 each
OFFICES = (
    ["tokyo"] * 8
    + ["osaka"] * 3
    + ["sapporo", "sendai", "yokohama", "nagoya", "kobe", "hiroshima", "takamatsu", "fukuoka", "naha"]
)
# state by i % 100: 3 submitted, 3 under review, 2 awaiting issue, 1 withdrawn, 1 receipt error, 90 complete
STATES = (
    ["submitted"] * 3
    + ["under_review"] * 3
    + ["awaiting_issue"] * 2
    + ["withdrawn", "error_receipt"]
    + ["complete"] * 90
)
PROCEDURES = ["P1", "P1", "P2", "P3", "P3", "P3", "P5"]


def _case(expression: str, values: list[str]) -> str:
    return "CASE " + " ".join(f"WHEN {expression} = {n} THEN '{v}'" for n, v in enumerate(values)) + " END"


def sql(text: str) -> str:
    """Modulo signs doubled: the statement goes with parameters (%s)."""
    return text.replace(" % ", " %% ")


def insert_applications() -> float:
    started = time.perf_counter()
    office = _case("(i / 100) % 20", OFFICES)  # independent of the state (i % 100)
    state = _case("i % 100", STATES)
    procedure = _case("i % 7", PROCEDURES)
    # Open applications were received in the last 60 days, the others over two years.
    days = "CASE WHEN i % 100 < 10 THEN i % 60 ELSE i % 730 END"
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute(
                sql(f"""
                INSERT INTO applications_application (
                    public_id, filer_id, user_category, procedure, add_ons, status, "group", state,
                    applicant_name, applicant_email, answers, facts, steps_done, receipt_methods,
                    office, provisional_number, receipt_number, receipt_date, submitted_at,
                    submission_key, created_at, updated_at)
                SELECT md5(i::text)::uuid, %s, 'U4', {procedure},
                       CASE WHEN i % 9 = 0 THEN '["P6"]' WHEN i % 13 = 0 THEN '["P7"]' ELSE '[]' END::jsonb,
                       'engineer_humanities', 'N', {state}, 'BENCH APPLICANT ' || i, '', '{{}}'::jsonb,
                       '{{}}'::jsonb, '[]'::jsonb, '{{"residence_card": "post"}}'::jsonb, {office},
                       'B-' || i, CASE WHEN i % 100 = 9 THEN '' ELSE 'BENCH-' || i END,
                       (%s::date - ({days}) * interval '1 day')::date,
                       (%s::date - ({days}) * interval '1 day') + interval '10 hours' + (i % 3600) * interval '1 second',
                       '', now(), now()
                FROM generate_series(1, %s) AS s(i)
                """),
                [filer.pk, today, today, N],
            )
        else:
            cursor.execute(
                sql(f"""
                WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s)
                INSERT INTO applications_application (
                    public_id, filer_id, user_category, procedure, add_ons, status, "group", state,
                    applicant_name, applicant_email, answers, facts, steps_done, receipt_methods,
                    office, provisional_number, receipt_number, receipt_date, submitted_at,
                    submission_key, created_at, updated_at)
                SELECT printf('%%032x', i), %s, 'U4', {procedure},
                       CASE WHEN i % 9 = 0 THEN '["P6"]' WHEN i % 13 = 0 THEN '["P7"]' ELSE '[]' END,
                       'engineer_humanities', 'N', {state}, 'BENCH APPLICANT ' || i, '', '{{}}',
                       '{{}}', '[]', '{{"residence_card": "post"}}', {office},
                       'B-' || i, CASE WHEN i % 100 = 9 THEN '' ELSE 'BENCH-' || i END,
                       date(%s, '-' || ({days}) || ' days'),
                       datetime(%s, '-' || ({days}) || ' days', '+1 hours', '+' || (i % 3600) || ' seconds'),
                       '', datetime('now'), datetime('now')
                FROM s
                """),
                [N, filer.pk, today.isoformat(), today.isoformat()],
            )
        # A decision for every decided application (the processing times of the scorecard).
        cursor.execute(
            sql("""
            INSERT INTO review_decision (
                application_id, outcome, status, period_of_stay, stay_expires_on, reason, fee_yen,
                fee_lines, fee_channel, fee_on, decided_at, decided_by_id, office, procedure,
                days_to_decision, issued_at, days_to_issue)
            SELECT id, 'permit', 'engineer_humanities', '1Y', NULL, '', 5500, '[]', 'online',
                   receipt_date, submitted_at, %s, office, procedure, id % 40, submitted_at, id % 9
            FROM applications_application WHERE state IN ('complete', 'awaiting_issue')
            """),
            [desk.pk],
        )
        if vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE applications_application")
            cursor.execute("VACUUM ANALYZE review_decision")
        else:
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


seconds = insert_applications()
report(f"review_bulk_insert_{scale}_applications_{vendor}", seconds, "s")

client = Client()
client.force_login(desk)
session = client.session
session["signed_in_at"] = session["last_activity"] = clock.now().timestamp()
session.save()


def get(url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)


# 1. The office queue page (oldest first, 50 a page, with the counts of every queue).
for url in ["/staff/review/?queue=submitted", "/staff/review/?queue=under_review"]:
    get(url)
queue = timings(lambda: get("/staff/review/?queue=submitted"), repeat=30)
report(f"review_queue_page_{scale}_p95_{vendor}", percentile(queue, 0.95), "ms")
filtered = timings(
    lambda: get(
        f"/staff/review/?queue=under_review&procedure=P3&older_than_days=7&received_from={today - dt.timedelta(days=50)}"
    ),
    repeat=30,
)
report(f"review_queue_page_filtered_{scale}_p95_{vendor}", percentile(filtered, 0.95), "ms")
deep = timings(lambda: get("/staff/review/?queue=submitted&page=100"), repeat=20)
report(f"review_queue_page_100_{scale}_p95_{vendor}", percentile(deep, 0.95), "ms")


# 2. The scorecard. Months are summarised once they are over (the nightly job; here the first
# run summarises two years), the running month again when its summary is ten minutes old.
from zairyu.review.scorecard import scorecard, summarise_closed_months  # noqa: E402

started = time.perf_counter()
months = summarise_closed_months()
report(f"review_scorecard_summarise_{months}_months_{scale}_{vendor}", time.perf_counter() - started, "s")
get("/staff/review/scorecard/?scope=all")
served = timings(lambda: get("/staff/review/scorecard/?scope=all"), repeat=20)
report(f"review_scorecard_page_{scale}_p95_{vendor}", percentile(served, 0.95), "ms")
public = timings(lambda: get("/public/scorecard/"), repeat=20)
report(f"review_scorecard_public_page_{scale}_p95_{vendor}", percentile(public, 0.95), "ms")
refresh = timings(lambda: scorecard(fresh=True), repeat=5)
report(f"review_scorecard_running_month_recount_{scale}_p50_{vendor}", median(refresh), "ms")

# 3. A decision (permit, by post: the decision, the issue record, the e-mail), through the page.
reviewing = []
template = Application(
    filer=filer, user_category="U4", procedure="P3", status="engineer_humanities", group="N"
)
answers = sample_answers(application_form(template), today=today)
for n in range(30):
    application = Application.objects.create(
        filer=filer,
        user_category="U4",
        procedure="P3",
        status="engineer_humanities",
        group="N",
        state=ApplicationState.UNDER_REVIEW,
        answers=answers,
        receipt_methods={"residence_card": "post"},
        office="tokyo",
        receipt_number=f"BENCH-DECIDE-{n}",
        provisional_number=f"BD-{n}",
        receipt_date=today - dt.timedelta(days=10),
        submitted_at=clock.now() - dt.timedelta(days=10),
        applicant_name="BENCH DECIDE",
    )
    reviewing.append(application.pk)
expiry = (today + dt.timedelta(days=365)).isoformat()
durations = []
for application_id in reviewing:
    started = time.perf_counter()
    response = client.post(
        f"/staff/review/applications/{application_id}/decide/",
        {
            "outcome": "permit",
            "status": "engineer_humanities",
            "period_of_stay": "1Y",
            "stay_expires_on": expiry,
        },
    )
    durations.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 302, response.status_code
report(f"review_decision_{scale}_p50_{vendor}", median(durations), "ms")
decided = Application.objects.filter(pk__in=reviewing, state=ApplicationState.AWAITING_ISSUE).count()
report(f"review_decisions_recorded_{vendor}", decided, "decisions")
