"""Read selectors for the pharmacy dashboard: aggregates only, never a patient's data.

Three queries make the whole page: one GROUP BY status; the (submitted, ready) times of what became
ready in the window; the (flags, submitted) of what was submitted in the window. The window is the
last ``WEEKS`` ISO weeks in the pharmacy's time zone, this week included, so the rows read are
bounded by eight weeks of work. Percentiles are computed here rather than with PostgreSQL's
``percentile_cont`` so SQLite gives the same figures; the method (linear interpolation between
closest ranks) is the same as ``percentile_cont``'s.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.utils import timezone

from intake.clinical.screening import HARD_STOP, INFO, SEVERITIES, WARNING
from intake.clinical.words import severity_label
from intake.models import Prescription, PrescriptionStatus

WEEKS = 8
_ROWS_PER_FETCH = 2000
_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}  # hard_stop first
SEVERITY_LABELS = {severity: severity_label(severity) for severity in (HARD_STOP, WARNING, INFO)}


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str  # the status's full label
    short_label: str  # fits the chart's axis
    count: int


@dataclass
class WeekFigures:
    start: date  # the Monday, in the pharmacy's time zone
    submitted: int = 0
    ready: int = 0
    turnaround_hours: list[float] = field(default_factory=list)
    # Prescriptions submitted that week with at least one flag of the code / of the severity.
    flags_by_code: Counter[str] = field(default_factory=Counter)
    flags_by_severity: Counter[str] = field(default_factory=Counter)

    @property
    def iso_week(self) -> str:
        year, week, _day = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def label(self) -> str:
        return f"{self.start:%b} {self.start.day}"

    @property
    def median_hours(self) -> float | None:
        return percentile(self.turnaround_hours, 50)

    @property
    def p90_hours(self) -> float | None:
        return percentile(self.turnaround_hours, 90)

    @property
    def median_days(self) -> float | None:
        return None if self.median_hours is None else self.median_hours / 24

    @property
    def p90_days(self) -> float | None:
        return None if self.p90_hours is None else self.p90_hours / 24

    @property
    def flags_total(self) -> int:
        return sum(self.flags_by_code.values())


@dataclass(frozen=True)
class FlagCodeRow:
    code: str
    severity: str  # the most severe seen for the code in the window
    per_week: list[int]
    total: int

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS.get(self.severity, self.severity or "Unknown")


@dataclass(frozen=True)
class DashboardFigures:
    status_counts: list[StatusCount]
    weeks: list[WeekFigures]
    flag_codes: list[FlagCodeRow]

    @property
    def status_total(self) -> int:
        return sum(s.count for s in self.status_counts)

    @property
    def has_turnaround(self) -> bool:
        return any(w.ready for w in self.weeks)

    @property
    def has_flags(self) -> bool:
        return any(w.flags_total for w in self.weeks)

    @property
    def has_throughput(self) -> bool:
        return any(w.submitted or w.ready for w in self.weeks)

    @property
    def is_empty(self) -> bool:
        return not self.status_total and not self.has_throughput


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks, as percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _short_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def status_counts() -> list[StatusCount]:
    """Prescriptions per status now, every status in workflow order (zeros included): one query."""
    counted = dict(Prescription.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n"))
    return [
        StatusCount(status=status.value, label=status.label, short_label=_short_label(status.value),
                    count=counted.get(status.value, 0))
        for status in PrescriptionStatus
    ]  # fmt: skip


def week_starts(*, now: datetime, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the last `weeks` ISO weeks in the pharmacy's time zone, oldest first, this week last."""
    today = timezone.localtime(now).date()
    this_monday = today - timedelta(days=today.weekday())
    return [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def _week_of(moment: datetime) -> date:
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def _worst(severities: Iterable[str]) -> str:
    return min(severities, key=lambda s: _SEVERITY_RANK.get(s, len(SEVERITIES)))


def dashboard_figures(*, now: datetime | None = None, weeks: int = WEEKS) -> DashboardFigures:
    """Everything the dashboard draws, in three queries."""
    now = now or timezone.now()
    starts = week_starts(now=now, weeks=weeks)
    by_week = {start: WeekFigures(start=start) for start in starts}
    window_start = timezone.make_aware(datetime.combine(starts[0], time.min))

    # Turnaround and "ready" throughput belong to the week the prescription became ready.
    ready_rows = (
        Prescription.objects.order_by()
        .filter(ready_at__gte=window_start, ready_at__lte=now)
        .values_list("submitted_at", "ready_at")
    )
    for submitted_at, ready_at in ready_rows.iterator(chunk_size=_ROWS_PER_FETCH):
        week = by_week.get(_week_of(ready_at)) if ready_at is not None else None
        if week is None or ready_at is None:
            continue
        week.ready += 1
        week.turnaround_hours.append(max((ready_at - submitted_at).total_seconds(), 0) / 3600)

    # Flags are a JSON list per prescription; count each code once per prescription, in its submission week.
    code_severity: dict[str, str] = {}
    submitted_rows = (
        Prescription.objects.order_by()
        .filter(submitted_at__gte=window_start, submitted_at__lte=now)
        .values_list("flags", "submitted_at")
    )
    for flags, submitted_at in submitted_rows.iterator(chunk_size=_ROWS_PER_FETCH):
        week = by_week.get(_week_of(submitted_at))
        if week is None:
            continue
        week.submitted += 1
        severities_by_code: dict[str, list[str]] = {}
        for flag in flags or []:
            if isinstance(flag, dict) and flag.get("code"):
                severities_by_code.setdefault(str(flag["code"]), []).append(str(flag.get("severity", "")))
        for code, severities in severities_by_code.items():
            worst = _worst(severities)
            week.flags_by_code[code] += 1
            week.flags_by_severity[worst] += 1
            code_severity[code] = _worst([worst, code_severity.get(code, worst)])

    ordered_weeks = [by_week[start] for start in starts]
    flag_codes = [
        FlagCodeRow(code=code, severity=severity, per_week=[w.flags_by_code[code] for w in ordered_weeks],
                    total=sum(w.flags_by_code[code] for w in ordered_weeks))
        for code, severity in code_severity.items()
    ]  # fmt: skip
    flag_codes.sort(key=lambda row: (_SEVERITY_RANK.get(row.severity, len(SEVERITIES)), -row.total, row.code))
    return DashboardFigures(status_counts=status_counts(), weeks=ordered_weeks, flag_codes=flag_codes)
