"""The queue's time and strength formats, written in Python for speed.

How long each of the queue's fifty rows has waited and when it came in: a tenth of the cost of
Django's ``timesince`` and ``date`` filters, which cost more than the page's own query.
``tests/staff/test_queue_formats.py`` holds them to Django's output.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Django's timesince units, months of 30 days and years of 365 as it counted them before 4.2.
_UNITS: Final = (("year", 365 * 86_400), ("month", 30 * 86_400), ("week", 7 * 86_400), ("day", 86_400),
                 ("hour", 3_600), ("minute", 60))  # fmt: skip


def waiting(since: datetime, now: datetime) -> str:
    """'3 days, 4 hours': the two largest adjacent units, as the timesince filter writes them."""
    seconds = max(0, int((now - since).total_seconds()))
    parts: list[str] = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            if count:
                parts.append(f"{count}\xa0{unit}{'' if count == 1 else 's'}")
            if len(parts) == 2 or (parts and not count):
                break
    return ", ".join(parts) or "0\xa0minutes"


def short_datetime(moment: datetime) -> str:
    """'Jan 5, 2026 14:03', the date filter's "M j, Y H:i" of a moment already in local time."""
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment:%Y %H:%M}"


def milligrams(amount: Decimal) -> str:
    """A strength as ``floatformat:"-2"`` shows it: 4.50, 0.75, 3."""
    kept = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = kept.to_integral_value()
    return f"{whole:f}" if kept == whole else f"{kept:f}"
