"""Dates, times and durations as the pharmacy writes them, the same on pages, messages and PDFs.

"Tuesday, December 8, 2026", "December 8, 2026, 2:05 PM", "30 days", as an American pharmacy
writes them: one unit for a duration, never
"4 weeks, 1 day", and days rather than weeks or months because the pharmacy counts in days
(a link works for 30 days, a beyond-use date is 14 days away). Times are the pharmacy's local time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from django.utils import timezone

_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")  # fmt: skip
_WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def date_words(value: date | datetime, *, weekday: bool = False) -> str:
    """'December 8, 2026', or with the weekday 'Tuesday, December 8, 2026'."""
    day = _local_date(value)
    words = f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    return f"{_WEEKDAYS[day.weekday()]}, {words}" if weekday else words


def datetime_words(moment: datetime) -> str:
    """'December 8, 2026, 2:05 PM' in the pharmacy's time zone."""
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    hour = local.hour % 12 or 12
    return f"{date_words(local)}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def duration_words(length: timedelta) -> str:
    """'less than a minute', '5 minutes', '2 hours', '30 days': the nearest whole count of one unit."""
    seconds = abs(length.total_seconds())
    # Rounded to the nearest unit: a 30-day link read a second after it was made still says 30 days.
    minutes = int(seconds / 60 + 0.5)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _count(minutes, "minute")
    hours = int(seconds / 3600 + 0.5)
    if hours < 24:
        return _count(hours, "hour")
    return _count(int(seconds / 86_400 + 0.5), "day")


def duration_from_now(moment: datetime, now: datetime | None = None) -> str:
    """How far a moment is from now, before or after: '3 days' (for '3 days ago' or 'for 3 days')."""
    return duration_words(moment - (now or timezone.now()))
