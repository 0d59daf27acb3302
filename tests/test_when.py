"""Dates and durations are written one way on every page, message and PDF."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template

from intake.when import date_words, datetime_words, duration_from_now, duration_words

NOW = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("length", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=59, seconds=20), "59 minutes"),
        (timedelta(minutes=59, seconds=40), "1 hour"),
        (timedelta(hours=2, minutes=10), "2 hours"),
        (timedelta(hours=23, minutes=40), "1 day"),
        (timedelta(days=1, hours=13), "2 days"),
        # The link's lifetime read a moment after it was made: never "4 weeks, 1 day".
        (timedelta(days=30) - timedelta(seconds=3), "30 days"),
        (timedelta(days=29, hours=23), "30 days"),
        (timedelta(days=90), "90 days"),
        (-timedelta(hours=3), "3 hours"),
    ],
)
def test_a_duration_is_one_unit_the_nearest_whole_count(length: timedelta, words: str) -> None:
    assert duration_words(length) == words


def test_a_moment_is_read_as_its_distance_from_now_either_way() -> None:
    assert duration_from_now(NOW - timedelta(days=3, hours=2), NOW) == "3 days"
    assert duration_from_now(NOW + timedelta(days=30), NOW) == "30 days"


def test_dates_in_words(settings) -> None:
    settings.TIME_ZONE = "America/Chicago"

    assert date_words(date(2026, 12, 8)) == "December 8, 2026"
    assert date_words(date(2026, 12, 8), weekday=True) == "Tuesday, December 8, 2026"
    # 02:05 UTC is still the evening before in the pharmacy's time zone
    assert date_words(datetime(2026, 12, 9, 2, 5, tzinfo=UTC)) == "December 8, 2026"
    assert datetime_words(datetime(2026, 12, 9, 2, 5, tzinfo=UTC)) == "December 8, 2026, 8:05 PM"


def test_the_template_filters_need_no_load_and_leave_nothing_blank() -> None:
    template = Template(
        '{{ day|date_words:"weekday" }} / {{ moment|datetime_words }} / {{ length|duration_words }} / '
        '{{ missing|date_words|default:"-" }}'
    )

    shown = template.render(Context({"day": date(2026, 12, 8), "moment": datetime(2026, 1, 5, 14, 3),
                                     "length": timedelta(days=30), "missing": None}))  # fmt: skip

    assert shown == "Tuesday, December 8, 2026 / January 5, 2026, 2:03 PM / 30 days / -"


def test_no_template_uses_djangos_own_duration_or_date_formats() -> None:
    root = Path(settings.BASE_DIR) / "templates"
    # The audit log keeps its ISO timestamps to the second: a record for inspectors, not prose.
    allowed = {root / "staff" / "audit.html"}
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.*")
        if path not in allowed
        and any(word in path.read_text() for word in ("timeuntil", "timesince", "naturaltime", "|date:"))
    ]

    assert offenders == []


def test_times_read_on_a_twelve_hour_clock_at_midnight_and_noon(settings) -> None:
    settings.TIME_ZONE = "UTC"

    assert datetime_words(datetime(2026, 12, 8, 0, 7, tzinfo=UTC)) == "December 8, 2026, 12:07 AM"
    assert datetime_words(datetime(2026, 12, 8, 12, 0, tzinfo=UTC)) == "December 8, 2026, 12:00 PM"
    assert datetime_words(datetime(2026, 12, 8, 23, 59, tzinfo=UTC)) == "December 8, 2026, 11:59 PM"
