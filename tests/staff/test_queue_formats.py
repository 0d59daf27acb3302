"""The queue's own strength format says what Django's floatformat filter says."""

from __future__ import annotations

from decimal import Decimal

from django.template.defaultfilters import floatformat

from intake.web.staff.queue_formats import milligrams


def test_milligrams_is_the_floatformat_filter_for_every_strength_kept():
    # every strength to two places from 0.01 to 50 mg, and amounts with more places than are kept
    amounts = [Decimal(cents) / 100 for cents in range(1, 5001)] + [Decimal("4.505"), Decimal("0.125"), Decimal("3")]

    assert [milligrams(amount) for amount in amounts] == [floatformat(amount, -2) for amount in amounts]
