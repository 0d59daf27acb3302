"""The dashboard's figures on a known data set: counts per status, turnaround per week, flags per code."""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from intake.models import Prescriber, Prescription, PrescriptionStatus
from intake.web.staff.figures import dashboard_figures, percentile, week_starts
from tests.factories import make_prescription

S = PrescriptionStatus
CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday afternoon; its ISO week starts on Monday 10 March 2025.
NOW = datetime(2025, 3, 12, 15, 0, tzinfo=CHICAGO)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHICAGO)


_PATIENTS = itertools.count(1)


def rx(prescriber: Prescriber, **values: Any) -> Prescription:
    # A patient each: the same patient's open prescriptions would flag each other (duplicate_order).
    prescription = make_prescription(prescriber, patient={"last_name": f"Known{next(_PATIENTS)}"})
    # Read-only aggregates: history is written directly rather than walked through the workflow.
    Prescription.objects.filter(pk=prescription.pk).update(**values)
    return prescription


def flag(code: str, severity: str) -> dict[str, str]:
    return {"code": code, "severity": severity, "message": "m", "field": "f", "value": "v"}


@pytest.fixture
def known_data(prescriber: Prescriber) -> None:
    # Ready this week (week of 10 March): 10, 20, 30 and 40 hours after submission.
    for hours in (10, 20, 30, 40):
        ready = at("2025-03-11", 12)
        rx(prescriber, status=S.READY, submitted_at=ready - timedelta(hours=hours), ready_at=ready, flags=[])
    # Ready the week before, 48 hours after submission, then shipped.
    rx(prescriber, status=S.SHIPPED, submitted_at=at("2025-03-03"), ready_at=at("2025-03-05"),
       shipped_at=at("2025-03-06"), flags=[])  # fmt: skip
    # Submitted before the window, ready in its first week (of 20 January): 11 days.
    rx(prescriber, status=S.COMPLETED, submitted_at=at("2025-01-10"), ready_at=at("2025-01-21"),
       closed_at=at("2025-01-25"), flags=[flag("thyroid", "warning")])  # fmt: skip
    # Ready long before the window: left out.
    rx(prescriber, status=S.COMPLETED, submitted_at=at("2024-12-01"), ready_at=at("2024-12-03"),
       flags=[flag("alcohol", "warning")])  # fmt: skip
    # Flags this week: two opioid lines count once; a code seen on two prescriptions counts twice.
    rx(
        prescriber,
        status=S.REJECTED,
        submitted_at=at("2025-03-10"),
        flags=[flag("opioid_use", "hard_stop"), flag("opioid_use", "hard_stop"), flag("thyroid", "warning")],
    )
    rx(prescriber, status=S.PENDING_REVIEW, submitted_at=at("2025-03-12", 8), flags=[flag("thyroid", "warning")])
    # Flags the week of 3 March, one with a hostile code.
    rx(prescriber, status=S.ON_HOLD, submitted_at=at("2025-03-04"),
       flags=[flag("alcohol", "warning"), flag("<script>alert(1)</script>", "info")])  # fmt: skip
    # Submitted after "now": not in any week yet.
    rx(
        prescriber,
        status=S.AWAITING_QUESTIONNAIRE,
        submitted_at=at("2025-03-12", 18),
        flags=[flag("hepatic", "hard_stop")],
    )


def test_status_counts_group_every_status(known_data: None) -> None:
    # when
    figures = dashboard_figures(now=NOW)

    # then
    counts = {row.status: row.count for row in figures.status_counts}
    assert list(counts) == list(S.values)
    assert counts == {**dict.fromkeys(S.values, 0), S.READY: 4, S.SHIPPED: 1, S.COMPLETED: 2, S.REJECTED: 1,
                      S.PENDING_REVIEW: 1, S.ON_HOLD: 1, S.AWAITING_QUESTIONNAIRE: 1}  # fmt: skip
    assert figures.status_total == 11
    assert figures.status_counts[0].label == S.AWAITING_QUESTIONNAIRE.label


def test_weeks_are_the_last_eight_iso_weeks() -> None:
    starts = week_starts(now=NOW)

    assert len(starts) == 8
    assert starts[-1].isoformat() == "2025-03-10"
    assert starts[0].isoformat() == "2025-01-20"
    assert all(day.weekday() == 0 for day in starts)


def test_turnaround_median_and_p90_per_week(known_data: None) -> None:
    figures = dashboard_figures(now=NOW)
    weeks = {w.start.isoformat(): w for w in figures.weeks}

    this_week = weeks["2025-03-10"]
    assert this_week.ready == 4
    assert this_week.median_hours == pytest.approx(25.0)
    assert this_week.p90_hours == pytest.approx(37.0)  # 30 + 0.7 x (40 - 30)
    assert weeks["2025-03-03"].ready == 1
    assert weeks["2025-03-03"].median_hours == pytest.approx(48.0)
    assert weeks["2025-03-03"].p90_hours == pytest.approx(48.0)
    assert weeks["2025-01-20"].median_hours == pytest.approx(11 * 24)
    assert weeks["2025-02-24"].ready == 0
    assert weeks["2025-02-24"].median_hours is None
    assert sum(w.ready for w in figures.weeks) == 6  # December's is outside the window


def test_flags_per_code_and_severity_per_week(known_data: None) -> None:
    figures = dashboard_figures(now=NOW)
    weeks = {w.start.isoformat(): w for w in figures.weeks}

    assert dict(weeks["2025-03-10"].flags_by_code) == {"opioid_use": 1, "thyroid": 2}
    assert dict(weeks["2025-03-10"].flags_by_severity) == {"hard_stop": 1, "warning": 2}
    assert dict(weeks["2025-03-03"].flags_by_code) == {"alcohol": 1, "<script>alert(1)</script>": 1}
    assert dict(weeks["2025-01-20"].flags_by_code) == {}  # that one was submitted before the window
    rows = {row.code: row for row in figures.flag_codes}
    assert set(rows) == {"opioid_use", "thyroid", "alcohol", "<script>alert(1)</script>"}
    assert rows["thyroid"].total == 2
    assert rows["thyroid"].per_week == [0, 0, 0, 0, 0, 0, 0, 2]
    assert rows["opioid_use"].severity == "hard_stop"
    assert figures.flag_codes[0].code == "opioid_use"  # hard stops first


def test_throughput_per_week(known_data: None) -> None:
    figures = dashboard_figures(now=NOW)

    # The 40-hour one was submitted on Sunday 9 March, in the week before it became ready.
    assert [w.submitted for w in figures.weeks] == [0, 0, 0, 0, 0, 0, 3, 5]
    assert [w.ready for w in figures.weeks] == [1, 0, 0, 0, 0, 0, 1, 4]


def test_three_queries_whatever_the_rows(known_data: None, django_assert_num_queries) -> None:
    with django_assert_num_queries(3):
        dashboard_figures(now=NOW)


@pytest.mark.django_db
def test_no_data_is_empty() -> None:
    figures = dashboard_figures(now=NOW)

    assert figures.is_empty
    assert figures.status_total == 0
    assert not figures.has_turnaround
    assert not figures.has_flags
    assert len(figures.weeks) == 8


def test_percentile_by_linear_interpolation() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0], 90) == pytest.approx(37.0)
    rng = random.Random(5)
    for size in range(2, 40):
        values = [rng.uniform(0, 200) for _ in range(size)]
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        assert percentile(values, 90) == pytest.approx(deciles[8])
        assert percentile(values, 50) == pytest.approx(statistics.median(values))


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares with PostgreSQL's percentile_cont")
def test_percentile_matches_postgresql_percentile_cont() -> None:
    values = [3.5, 12.0, 7.25, 40.0, 18.0, 1.0, 26.5]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x), percentile_cont(0.9) WITHIN GROUP (ORDER BY x)"
            " FROM unnest(%s::float8[]) AS x",
            [values],
        )
        median, p90 = cursor.fetchone()

    assert percentile(values, 50) == pytest.approx(median)
    assert percentile(values, 90) == pytest.approx(p90)
