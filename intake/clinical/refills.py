"""When a prescription may be filled again: the rules in ``data/refills.json``, on plain dates.

- A refill may be asked for once 75% of the previous fill's days supply has passed since it was
  handed over ("too soon" before that, with the date it becomes possible).
- Never past the prescription's expiry, one year from the day it was written.
- Never more refills than the prescriber authorised; with none left, only a renewal helps.
- Every refill asks the patient a short re-screen first (opioid use can start at any time); the
  services run it through the same screening as the first questionnaire.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "refills.json"


@functools.cache
def refill_policy() -> dict[str, Any]:
    return dict(json.loads(DATA.read_text(encoding="utf-8")))


class RefillRefusal(StrEnum):
    NOT_DISPENSED = "not_dispensed"
    TOO_SOON = "too_soon"
    NO_REFILLS_LEFT = "no_refills_left"
    EXPIRED = "expired"


@dataclass(frozen=True)
class RefillDecision:
    allowed: bool
    refusal: RefillRefusal | None = None
    # For TOO_SOON: the first day a refill can be asked for.
    earliest: date | None = None
    # The day the prescription stops being valid (refills end the day before).
    expires_on: date | None = None

    @property
    def needs_renewal(self) -> bool:
        return self.refusal in (RefillRefusal.NO_REFILLS_LEFT, RefillRefusal.EXPIRED)


def prescription_expires_on(written_on: date) -> date:
    """One year from the day written; a prescription written on 29 February runs to 28 February."""
    years = int(refill_policy()["prescription_valid_years"])
    try:
        return written_on.replace(year=written_on.year + years)
    except ValueError:
        return written_on.replace(year=written_on.year + years, day=28)


def earliest_refill_on(*, dispensed_on: date, days_supply: int) -> date:
    """75% of the days supply after the fill was handed over, rounded up to a whole day."""
    fraction = float(refill_policy()["refill_after_fraction_of_days_supply"])
    return dispensed_on + timedelta(days=math.ceil(days_supply * fraction))


def supply_runs_out_on(*, dispensed_on: date, days_supply: int) -> date:
    return dispensed_on + timedelta(days=days_supply)


def refill_reminder_on(*, dispensed_on: date, days_supply: int) -> date:
    days_before = int(refill_policy()["refill_reminder_days_before_supply_ends"])
    return supply_runs_out_on(dispensed_on=dispensed_on, days_supply=days_supply) - timedelta(days=days_before)


def refill_decision(
    *, refills_authorised: int, refills_used: int, written_on: date, dispensed_on: date | None, days_supply: int,
    today: date,
) -> RefillDecision:  # fmt: skip
    """May the next fill be asked for today? Expiry first, then refills left, then the 75% rule."""
    expires_on = prescription_expires_on(written_on)
    if dispensed_on is None:
        return RefillDecision(False, RefillRefusal.NOT_DISPENSED, expires_on=expires_on)
    if today >= expires_on:
        return RefillDecision(False, RefillRefusal.EXPIRED, expires_on=expires_on)
    if refills_used >= refills_authorised:
        return RefillDecision(False, RefillRefusal.NO_REFILLS_LEFT, expires_on=expires_on)
    earliest = earliest_refill_on(dispensed_on=dispensed_on, days_supply=days_supply)
    if earliest >= expires_on:
        # The supply lasts past the expiry: the refills left can never be used.
        return RefillDecision(False, RefillRefusal.EXPIRED, expires_on=expires_on)
    if today < earliest:
        return RefillDecision(False, RefillRefusal.TOO_SOON, earliest=earliest, expires_on=expires_on)
    return RefillDecision(True, expires_on=expires_on)
