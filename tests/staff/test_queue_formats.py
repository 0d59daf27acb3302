"""The queue's own formats say what Django's timesince, date and floatformat filters say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template.defaultfilters import floatformat
from django.utils import dateformat
from django.utils.timesince import timesince

from intake.web.staff.queue_formats import milligrams, short_datetime, waiting

NOW = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)
# Up to four weeks: beyond, Django counts calendar months and years, the queue 30 and 365 days.
SECONDS = sorted({0, 59, 60, 61, 3_599, 3_600, 3_660, 86_399, 86_400, 90_000, 7 * 86_400 - 1, 7 * 86_400,
                  8 * 86_400 + 3_600, 13 * 86_400, 27 * 86_400 + 86_399, *range(0, 28 * 86_400, 37_813)})  # fmt: skip


@pytest.mark.parametrize("seconds", SECONDS)
def test_waiting_is_the_timesince_filter(seconds):
    since = NOW - timedelta(seconds=seconds)
    assert waiting(since, NOW) == timesince(since, NOW)


def test_waiting_never_goes_negative():
    assert waiting(NOW + timedelta(minutes=5), NOW) == timesince(NOW + timedelta(minutes=5), NOW) == "0\xa0minutes"


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, month, day, hour, minute)
        for month, day, hour, minute in [(1, 5, 14, 3), (2, 28, 0, 0), (9, 30, 23, 59), (12, 31, 9, 7), (7, 4, 12, 30)]
    ],  # fmt: skip
)
def test_short_datetime_is_the_date_filter(moment):
    assert short_datetime(moment) == dateformat.format(moment, "M j, Y H:i")


def test_milligrams_is_the_floatformat_filter_for_every_strength_kept():
    # every strength to two places from 0.01 to 50 mg, and amounts with more places than are kept
    amounts = [Decimal(cents) / 100 for cents in range(1, 5001)] + [Decimal("4.505"), Decimal("0.125"), Decimal("3")]

    assert [milligrams(amount) for amount in amounts] == [floatformat(amount, -2) for amount in amounts]
