"""Doses a prescriber confirms before signing: a strength outside the LDN range, or a capsule
quantity that comes to more than the LDN maximum a day.

A misplaced decimal (45 mg for 4.5, 0.45 for 4.5) is the commonest serious dose error (ISMP); the
guard is a confirmation that shows the usual range, asked before the prescription is signed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from intake.clinical.dosing import daily_dose_mg, dose_limits, format_mg


def unusual_doses(
    *,
    dosage_form: str,
    strength_mg: Decimal,
    titration_mg: Sequence[Decimal] = (),
    quantity: int = 0,
    days_supply: int = 0,
) -> list[str]:
    """One plain sentence per dose outside the usual LDN range; [] when every dose is usual."""
    limits = dose_limits()
    usual = f"{format_mg(limits.ldn_min_mg)}–{format_mg(limits.ldn_max_mg)} mg"
    problems: list[str] = []
    named = [("The strength", strength_mg)] + [
        (f"Titration step {number}", step) for number, step in enumerate(titration_mg, start=1)
    ]
    for what, strength in named:
        if not limits.ldn_min_mg <= strength <= limits.ldn_max_mg:
            problems.append(f"{what} is {format_mg(strength)} mg; LDN is usually {usual} a day.")
    daily = daily_dose_mg(dosage_form=dosage_form, strength_mg=strength_mg, quantity=quantity, days_supply=days_supply)
    if daily is not None and daily > limits.ldn_max_mg:
        problems.append(
            f"{quantity} × {format_mg(strength_mg)} mg over {days_supply} days is {format_mg(daily)} mg a day; "
            f"LDN is usually at most {format_mg(limits.ldn_max_mg)} mg a day."
        )
    return problems
