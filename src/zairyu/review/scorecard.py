"""The scorecard (F-20): the online usage rate per procedure and quarter, against the 20% target
of the 2021 basic plan, and the processing times per office.

* Online usage rate = online applications / (online + window applications) of a procedure in a
  quarter. Online applications are counted from the applications received (by receipt date; a
  re-entry or activity permission filed with a change or extension counts for its own
  procedure too). Window applications are counts officers enter per office, month and
  procedure, or import as CSV. A quarter whose window counts are incomplete says so.
* Processing times: days from receipt to decision, and from decision to issue, per office.

The figures are read from monthly summaries (:class:`MonthlyFigure`): with a million
applications, counting two years of them on every request would take most of a second. A closed
month is summarised once after it is over (the nightly job, or the first request); the running
month again when its summary is more than ten minutes old. Window counts are read as entered.

Quarters are Japanese fiscal quarters (Q1 = April–June). The charts are SVG drawn on the
server (the CSP allows no inline script or style); every chart has its table next to it. The
public page shows counts and rates only: no names, no receipt numbers.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from zairyu.applications.models import Application
from zairyu.applications.rules.dates import add_months
from zairyu.catalogue import get_catalogue
from zairyu.core import clock
from zairyu.review.constants import ONLINE_RATE_TARGET, TARGET_PROCEDURES
from zairyu.review.models import Decision, MonthlyFigure, ScorecardMonth, WindowCount

QUARTERS_SHOWN = 8
RUNNING_MONTH_SECONDS = 600  # the running month's figures are at most this old


# --- quarters -----------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    fiscal_year: int
    number: int  # 1 = April–June … 4 = January–March

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        fiscal_year = day.year if day.month >= 4 else day.year - 1
        return cls(fiscal_year, (day.month - 4) % 12 // 3 + 1)

    @property
    def start(self) -> dt.date:
        return add_months(dt.date(self.fiscal_year, 4, 1), 3 * (self.number - 1))

    @property
    def end(self) -> dt.date:
        """The first day after the quarter."""
        return add_months(self.start, 3)

    @property
    def months(self) -> list[dt.date]:
        return [add_months(self.start, n) for n in range(3)]

    @property
    def label(self) -> str:
        return f"FY{self.fiscal_year} Q{self.number}"

    def previous(self) -> Quarter:
        return Quarter.of(add_months(self.start, -3))


def recent_quarters(today: dt.date, count: int = QUARTERS_SHOWN) -> list[Quarter]:
    quarters = [Quarter.of(today)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous())
    return list(reversed(quarters))


# --- figures ------------------------------------------------------------------------------------


@dataclass
class RateCell:
    online: int = 0
    window: int = 0
    window_months: int = 0  # office-months with a window count entered
    expected_months: int = 0

    @property
    def total(self) -> int:
        return self.online + self.window

    @property
    def complete(self) -> bool:
        return self.window_months >= self.expected_months

    @property
    def rate(self) -> float | None:
        if not self.window_months or not self.total:
            return None
        return self.online / self.total

    @property
    def percent(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"

    @property
    def meets_target(self) -> bool:
        return self.rate is not None and self.rate >= ONLINE_RATE_TARGET


@dataclass
class ProcedureRow:
    code: str
    name: Any
    target: bool
    cells: list[RateCell]


@dataclass
class OfficeTimes:
    code: str
    name: Any
    decisions: int
    days_to_decision: float | None
    issues: int
    days_to_issue: float | None


@dataclass
class Scorecard:
    office: str | None
    quarters: list[Quarter]
    rows: list[ProcedureRow]
    times: list[OfficeTimes]
    target: float = ONLINE_RATE_TARGET
    computed_at: dt.datetime = field(default_factory=clock.now)


@dataclass
class Figures:
    online: int = 0
    decisions: int = 0
    decision_days: int = 0
    issues: int = 0
    issue_days: int = 0


FigureKey = tuple[dt.date, str, str]  # (month, office, procedure)


def month_figures(start: dt.date, end: dt.date, *, office: str | None = None) -> dict[FigureKey, Figures]:
    """Count the months from ``start`` to ``end`` (exclusive) from the applications and
    decisions themselves: online applications by receipt month (each add-on counts for its own
    procedure), decisions by decision month, issues by issue month."""
    figures: dict[FigureKey, Figures] = {}

    def at(month: Any, office_code: str, procedure: str) -> Figures:
        month = month.date() if isinstance(month, dt.datetime) else month
        return figures.setdefault((month.replace(day=1), office_code, procedure), Figures())

    applications = Application.objects.filter(
        receipt_date__gte=start, receipt_date__lt=end, submitted_at__isnull=False
    )
    decisions = Decision.objects.filter(
        decided_at__gte=clock.start_of_day(start), decided_at__lt=clock.start_of_day(end)
    )
    issues = Decision.objects.filter(
        issued_at__gte=clock.start_of_day(start),
        issued_at__lt=clock.start_of_day(end),
        days_to_issue__isnull=False,
    )
    if office:
        applications, decisions, issues = (
            applications.filter(office=office),
            decisions.filter(office=office),
            issues.filter(office=office),
        )
    for month, office_code, procedure, add_ons, n in (
        applications.annotate(month=TruncMonth("receipt_date"))
        .values_list("month", "office", "procedure", "add_ons")
        .annotate(n=Count("*"))
        .order_by()
    ):
        for code in (procedure, *(add_ons or ())):
            at(month, office_code, code).online += n
    for month, office_code, procedure, n, days in (
        decisions.annotate(month=TruncMonth("decided_at", tzinfo=clock.JST))
        .values_list("month", "office", "procedure")
        .annotate(n=Count("*"), days=Sum("days_to_decision"))
        .order_by()
    ):
        figure = at(month, office_code, procedure)
        figure.decisions += n
        figure.decision_days += days or 0
    for month, office_code, procedure, n, days in (
        issues.annotate(month=TruncMonth("issued_at", tzinfo=clock.JST))
        .values_list("month", "office", "procedure")
        .annotate(n=Count("*"), days=Sum("days_to_issue"))
        .order_by()
    ):
        figure = at(month, office_code, procedure)
        figure.issues += n
        figure.issue_days += days or 0
    return figures


def summarise_month(month: dt.date) -> int:
    """Store the figures of a month (idempotent: a month summarised again is replaced)."""
    month = month.replace(day=1)
    if month > clock.today():
        raise ValueError(f"{month:%Y-%m} has not begun")
    figures = month_figures(month, add_months(month, 1))
    with transaction.atomic():
        MonthlyFigure.objects.filter(month=month).delete()
        MonthlyFigure.objects.bulk_create(
            [
                MonthlyFigure(month=month, office=office, procedure=procedure, **vars(figure))
                for (_month, office, procedure), figure in figures.items()
            ]
        )
        ScorecardMonth.objects.update_or_create(month=month, defaults={"computed_at": clock.now()})
    return len(figures)


def _stale(month: dt.date, computed_at: dt.datetime | None, *, now: dt.datetime, fresh: bool) -> bool:
    """Whether a month's summary must be made (again): never made; made while the month was
    still running and the month is over now; the running month's, older than a few minutes."""
    if computed_at is None:
        return True
    month_end = clock.start_of_day(add_months(month, 1))
    if now < month_end:  # the running month
        return fresh or computed_at < now - dt.timedelta(seconds=RUNNING_MONTH_SECONDS)
    return computed_at < month_end


def _summaries(start: dt.date, end: dt.date, *, today: dt.date, fresh: bool = False) -> dt.datetime:
    """Make sure the months from ``start`` to ``end`` (up to the running month) are summarised;
    returns when the newest summary was made."""
    now = clock.now()
    months = []
    month = start
    while month < end and month <= today:
        months.append(month)
        month = add_months(month, 1)
    made = dict(ScorecardMonth.objects.filter(month__in=months).values_list("month", "computed_at"))
    for month in months:
        if _stale(month, made.get(month), now=now, fresh=fresh):
            with contextlib.suppress(IntegrityError):  # summarised at the same moment by another request
                summarise_month(month)
                made[month] = now
    return max(made.values(), default=now)


def summarise_closed_months(*, today: dt.date | None = None) -> int:
    """The nightly job: summarise the months the scorecard shows that need it (a closed month
    once after it is over; the running month); returns how many months were summarised."""
    today = today or clock.today()
    quarters = recent_quarters(today)
    months = ScorecardMonth.objects.filter(month__gte=quarters[0].start)
    before = dict(months.values_list("month", "computed_at"))
    _summaries(quarters[0].start, quarters[-1].end, today=today)
    return sum(1 for month, at in months.values_list("month", "computed_at") if before.get(month) != at)


def figures(
    start: dt.date, end: dt.date, *, office: str | None = None, today: dt.date, fresh: bool = False
) -> tuple[dict[FigureKey, Figures], dt.datetime]:
    """The figures of the months from ``start`` to ``end``, from the monthly summaries (the
    running month's refreshed when older than ``RUNNING_MONTH_SECONDS``, or ``fresh``), and when
    they were counted."""
    computed_at = _summaries(start, end, today=today, fresh=fresh)
    rows = MonthlyFigure.objects.filter(month__gte=start, month__lt=end)
    if office:
        rows = rows.filter(office=office)
    data = {
        (row.month, row.office, row.procedure): Figures(
            online=row.online,
            decisions=row.decisions,
            decision_days=row.decision_days,
            issues=row.issues,
            issue_days=row.issue_days,
        )
        for row in rows
    }
    return data, computed_at


def _window_counts(start: dt.date, end: dt.date, office: str | None) -> tuple[dict, dict]:
    rows = WindowCount.objects.filter(month__gte=start, month__lt=end)
    if office:
        rows = rows.filter(office=office)
    counts: dict[tuple[dt.date, str], int] = {}
    entered: dict[tuple[dt.date, str], int] = {}
    for month, procedure, total, offices in (
        rows.values_list("month", "procedure")
        .annotate(total=Sum("count"), offices=Count("office"))
        .order_by()
    ):
        counts[(month, procedure)] = total
        entered[(month, procedure)] = offices
    return counts, entered


def _times(data: dict[FigureKey, Figures], months: set[dt.date], office: str | None) -> list[OfficeTimes]:
    totals: dict[str, Figures] = {}
    for (month, office_code, _procedure), figure in data.items():
        if month in months:
            total = totals.setdefault(office_code, Figures())
            total.decisions += figure.decisions
            total.decision_days += figure.decision_days
            total.issues += figure.issues
            total.issue_days += figure.issue_days
    out = []
    for code, item in get_catalogue().offices.items():
        if office and code != office:
            continue
        total = totals.get(code, Figures())
        out.append(
            OfficeTimes(
                code=code,
                name=item.name,
                decisions=total.decisions,
                days_to_decision=total.decision_days / total.decisions if total.decisions else None,
                issues=total.issues,
                days_to_issue=total.issue_days / total.issues if total.issues else None,
            )
        )
    return out


def scorecard(*, office: str | None = None, today: dt.date | None = None, fresh: bool = False) -> Scorecard:
    """The scorecard of the last eight quarters, national (``office=None``) or of one office.
    ``fresh`` counts the running month again now (else its summary may be minutes old)."""
    today = today or clock.today()
    catalogue = get_catalogue()
    quarters = recent_quarters(today)
    start, end = quarters[0].start, quarters[-1].end
    data, computed_at = figures(start, end, office=office, today=today, fresh=fresh)
    online: dict[tuple[dt.date, str], int] = {}
    for (month, _office, procedure), figure in data.items():
        online[(month, procedure)] = online.get((month, procedure), 0) + figure.online
    window, entered = _window_counts(start, end, office)
    offices = 1 if office else len(catalogue.offices)
    rows = []
    for code, procedure in catalogue.procedures.items():
        cells = []
        for quarter in quarters:
            cell = RateCell(expected_months=offices * 3)
            for month in quarter.months:
                cell.online += online.get((month, code), 0)
                cell.window += window.get((month, code), 0)
                cell.window_months += entered.get((month, code), 0)
            cells.append(cell)
        rows.append(
            ProcedureRow(code=code, name=procedure.name, target=code in TARGET_PROCEDURES, cells=cells)
        )
    recent = {month for quarter in quarters[-4:] for month in quarter.months}
    return Scorecard(
        office=office,
        quarters=quarters,
        rows=rows,
        times=_times(data, recent, office),
        computed_at=computed_at,
    )


# --- charts (SVG geometry; the template draws it) -------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str
    x: float
    y: float
    width: float
    height: float
    good: bool

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class Chart:
    title: Any
    width: int
    height: int
    bars: list[Bar]
    target_y: float | None
    target_label: str
    axis_y: float
    ticks: list[tuple[float, str]]


CHART_WIDTH, CHART_HEIGHT = 640, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 12, 16, 36


def rate_chart(row: ProcedureRow, quarters: list[Quarter]) -> Chart:
    """Bars of the online usage rate per quarter, with the target as a line."""
    values = [cell.rate for cell in row.cells]
    top = max([ONLINE_RATE_TARGET * 1.5, *[v for v in values if v is not None]])
    top = min(1.0, max(0.05, top))
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(quarters), 1)
    axis = PLOT_TOP + plot_height
    bars = []
    for index, (quarter, cell) in enumerate(zip(quarters, row.cells, strict=True)):
        value = cell.rate
        height = 0.0 if value is None else plot_height * value / top
        bars.append(
            Bar(
                label=quarter.label,
                value=value,
                text=cell.percent,
                x=round(PLOT_LEFT + index * slot + slot * 0.15, 1),
                y=round(axis - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                good=cell.meets_target,
            )
        )
    ticks = [(round(axis - plot_height * f, 1), f"{top * f * 100:.0f}%") for f in (0, 0.5, 1)]
    return Chart(
        title=row.name,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bars=bars,
        target_y=round(axis - plot_height * ONLINE_RATE_TARGET / top, 1),
        target_label=f"{ONLINE_RATE_TARGET * 100:.0f}%",
        axis_y=axis,
        ticks=ticks,
    )


def times_chart(times: list[OfficeTimes], title: Any) -> Chart:
    """Bars of the average days from receipt to decision per office."""
    values = [t.days_to_decision for t in times]
    top = max([1.0, *[v for v in values if v is not None]])
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(times), 1)
    axis = PLOT_TOP + plot_height
    bars = []
    for index, item in enumerate(times):
        value = item.days_to_decision
        height = 0.0 if value is None else plot_height * value / top
        bars.append(
            Bar(
                label=item.code[:3].upper(),
                value=value,
                text="—" if value is None else f"{value:.1f}",
                x=round(PLOT_LEFT + index * slot + slot * 0.15, 1),
                y=round(axis - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                good=True,
            )
        )
    ticks = [(round(axis - plot_height * f, 1), f"{top * f:.{0 if top >= 10 else 1}f}") for f in (0, 0.5, 1)]
    return Chart(
        title=title,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        bars=bars,
        target_y=None,
        target_label="",
        axis_y=axis,
        ticks=ticks,
    )


def charts(card: Scorecard) -> dict[str, Any]:
    return {
        "rates": [rate_chart(row, card.quarters) for row in card.rows if row.target],
        "times": times_chart(card.times, _("Average days from receipt to decision")),
    }


# --- CSV import of window counts ------------------------------------------------------------------

CSV_COLUMNS = ("office", "month", "procedure", "count")
CSV_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WindowCountRow:
    line: int
    office: str
    month: dt.date
    procedure: str
    count: int


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: Any


def parse_window_counts(
    data: bytes, *, allowed_offices: set[str]
) -> tuple[list[WindowCountRow], list[RowError]]:
    """Read ``office,month,procedure,count`` rows (month as 2025-04; UTF-8, a BOM is fine).
    Every problem is reported with its line and column; the caller saves nothing if any."""
    catalogue = get_catalogue()
    errors: list[RowError] = []
    rows: list[WindowCountRow] = []
    if len(data) > CSV_MAX_BYTES:
        return [], [RowError(0, "", _("The file is larger than 1 MB. Split it into several files."))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(0, "", _("Save the file as UTF-8 CSV and upload it again."))]
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if tuple(header[:4]) != CSV_COLUMNS:
        return [], [RowError(1, "", _("The first line must be the header: office,month,procedure,count."))]
    reader.fieldnames = header
    today = clock.today()
    seen: set[tuple[str, dt.date, str]] = set()
    for line, record in enumerate(reader, start=2):
        office = (record.get("office") or "").strip().lower()
        procedure = (record.get("procedure") or "").strip().upper()
        month_text = (record.get("month") or "").strip().replace("/", "-")
        count_text = (record.get("count") or "").strip().replace(",", "")
        line_errors = []
        if office not in catalogue.offices:
            line_errors.append(RowError(line, "office", _("Unknown office code (e.g. tokyo, osaka).")))
        elif office not in allowed_offices:
            line_errors.append(
                RowError(line, "office", _("You can import the counts of your own office only."))
            )
        if procedure not in catalogue.procedures:
            line_errors.append(RowError(line, "procedure", _("Unknown procedure (P1 to P7).")))
        month = None
        try:
            year, number = (int(part) for part in month_text.split("-")[:2])
            month = dt.date(year, number, 1)
            if month > today:
                line_errors.append(RowError(line, "month", _("That month has not begun.")))
        except ValueError:
            line_errors.append(RowError(line, "month", _("Write the month as YYYY-MM, e.g. 2025-04.")))
        count = -1
        if count_text.isdigit():
            count = int(count_text)
        else:
            line_errors.append(RowError(line, "count", _("Write the count as a whole number, 0 or more.")))
        if not line_errors and month is not None:
            if (office, month, procedure) in seen:
                line_errors.append(RowError(line, "", _("This office, month and procedure appear twice.")))
            seen.add((office, month, procedure))
        if line_errors:
            errors += line_errors
        elif month is not None:
            rows.append(WindowCountRow(line, office, month, procedure, count))
    if not rows and not errors:
        errors.append(RowError(0, "", _("The file has no rows under the header.")))
    return rows, errors
