"""The refill rules (intake/clinical/refills.py): plain dates in, decisions out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.clinical.refills import (
    RefillRefusal,
    earliest_refill_on,
    prescription_expires_on,
    refill_decision,
    refill_reminder_on,
    supply_runs_out_on,
)

WRITTEN = date(2026, 1, 10)


def decide(**overrides):
    values = {"refills_authorised": 3, "refills_used": 0, "written_on": WRITTEN,
              "dispensed_on": date(2026, 1, 12), "days_supply": 30, "today": date(2026, 2, 4)}  # fmt: skip
    values.update(overrides)
    return refill_decision(**values)


@pytest.mark.parametrize(
    ("days_supply", "earliest_after"),
    [(30, 23), (28, 21), (90, 68), (14, 11), (7, 6), (1, 1), (4, 3), (60, 45), (35, 27)],
)
def test_earliest_refill_is_75_percent_of_the_days_supply_rounded_up(days_supply, earliest_after):
    dispensed = date(2026, 3, 1)
    assert earliest_refill_on(dispensed_on=dispensed, days_supply=days_supply) == dispensed + timedelta(
        days=earliest_after
    )


def test_a_refill_is_too_soon_the_day_before_and_allowed_on_the_day():
    # 30-day supply handed over on 12 January: 23 days later is 4 February.
    too_soon = decide(today=date(2026, 2, 3))
    assert (too_soon.allowed, too_soon.refusal, too_soon.earliest) == (False, RefillRefusal.TOO_SOON, date(2026, 2, 4))
    assert decide(today=date(2026, 2, 4)).allowed


def test_not_dispensed_yet_cannot_be_refilled():
    decision = decide(dispensed_on=None)
    assert (decision.allowed, decision.refusal) == (False, RefillRefusal.NOT_DISPENSED)
    assert not decision.needs_renewal


def test_no_refills_left_needs_a_renewal():
    decision = decide(refills_used=3)
    assert (decision.allowed, decision.refusal, decision.needs_renewal) == (False, RefillRefusal.NO_REFILLS_LEFT, True)
    assert decide(refills_authorised=0, refills_used=0).refusal == RefillRefusal.NO_REFILLS_LEFT


def test_a_prescription_expires_one_year_after_it_was_written():
    assert prescription_expires_on(WRITTEN) == date(2027, 1, 10)
    assert decide(dispensed_on=date(2026, 12, 1), today=date(2027, 1, 9)).allowed
    expired = decide(dispensed_on=date(2026, 12, 1), today=date(2027, 1, 10))
    assert (expired.allowed, expired.refusal, expired.needs_renewal) == (False, RefillRefusal.EXPIRED, True)


def test_expiry_wins_over_refills_left_and_over_too_soon():
    assert decide(refills_used=3, today=date(2027, 2, 1)).refusal == RefillRefusal.EXPIRED
    # The supply lasts past the expiry: the refill could never happen, so it is expired, not "too soon".
    late = decide(dispensed_on=date(2026, 12, 20), days_supply=30, today=date(2026, 12, 21))
    assert late.refusal == RefillRefusal.EXPIRED


def test_written_on_29_february_runs_to_28_february():
    assert prescription_expires_on(date(2028, 2, 29)) == date(2029, 2, 28)


def test_reminder_is_seven_days_before_the_supply_runs_out():
    dispensed = date(2026, 5, 1)
    assert supply_runs_out_on(dispensed_on=dispensed, days_supply=30) == date(2026, 5, 31)
    assert refill_reminder_on(dispensed_on=dispensed, days_supply=30) == date(2026, 5, 24)


@given(
    days_supply=st.integers(min_value=1, max_value=365),
    elapsed=st.integers(min_value=0, max_value=400),
    used=st.integers(min_value=0, max_value=11),
    authorised=st.integers(min_value=0, max_value=11),
)
def test_an_allowed_refill_always_respects_every_rule(days_supply, elapsed, used, authorised):
    dispensed = date(2026, 2, 1)
    today = dispensed + timedelta(days=elapsed)
    decision = refill_decision(refills_authorised=authorised, refills_used=used, written_on=WRITTEN,
                               dispensed_on=dispensed, days_supply=days_supply, today=today)  # fmt: skip
    if decision.allowed:
        assert used < authorised
        assert today < prescription_expires_on(WRITTEN)
        assert (today - dispensed).days * 4 >= days_supply * 3
    elif decision.refusal == RefillRefusal.TOO_SOON:
        assert decision.earliest is not None and decision.earliest > today
