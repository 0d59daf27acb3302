"""Dose rules for low-dose naltrexone: the strength range, children's weight-based limit, titration.

A compounding pharmacy can make any strength, so one outside the usual range is flagged, never
refused; from 50 mg on it is a hard stop: that is the FDA-approved full dose, not LDN.
The numbers live in ``data/dosing.json``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from intake.clinical.flags import DAILY_DOSE, DOSE_RANGE, HARD_STOP, SOURCE_PRESCRIPTION, WARNING, Flag


@dataclass(frozen=True)
class DoseLimits:
    ldn_min_mg: Decimal
    ldn_max_mg: Decimal
    not_ldn_from_mg: Decimal
    adult_from_age_years: int
    paediatric_max_mg_per_kg_per_day: Decimal


@functools.cache
def dose_limits() -> DoseLimits:
    path = Path(__file__).resolve().parent / "data" / "dosing.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    limits = DoseLimits(
        ldn_min_mg=Decimal(str(raw["ldn_min_mg"])),
        ldn_max_mg=Decimal(str(raw["ldn_max_mg"])),
        not_ldn_from_mg=Decimal(str(raw["not_ldn_from_mg"])),
        adult_from_age_years=int(raw["adult_from_age_years"]),
        paediatric_max_mg_per_kg_per_day=Decimal(str(raw["paediatric_max_mg_per_kg_per_day"])),
    )
    if not Decimal(0) < limits.ldn_min_mg <= limits.ldn_max_mg < limits.not_ldn_from_mg:
        raise ValueError("dosing.json: expected 0 < ldn_min_mg <= ldn_max_mg < not_ldn_from_mg")
    return limits


LDN_MIN_MG: Final = dose_limits().ldn_min_mg
LDN_MAX_MG: Final = dose_limits().ldn_max_mg
NOT_LDN_FROM_MG: Final = dose_limits().not_ldn_from_mg

# Forms whose quantity counts doses of `strength_mg` each, so that quantity × strength ÷ days is a daily dose.
UNIT_DOSE_FORMS: Final = frozenset({"capsule"})


@dataclass(frozen=True)
class DoseFacts:
    """What the dose rules read of a prescription."""

    dosage_form: str
    strength_mg: Decimal
    titration_mg: tuple[Decimal, ...] = ()
    quantity: int = 0  # 0: not known (the daily dose is then not checked)
    days_supply: int = 0
    patient_age_years: int = 40
    weight_kg: Decimal | None = None


def dose_flags(facts: DoseFacts) -> list[Flag]:
    """Range flags for the strength and every titration step, the daily dose a capsule quantity
    implies, and the weight-based limit for a child."""
    limits = dose_limits()
    strengths = [("strength_mg", facts.strength_mg)] + [
        (f"titration[{position}].strength_mg", strength) for position, strength in enumerate(facts.titration_mg)
    ]
    flags = [flag for field, strength in strengths if (flag := _range_flag(field, strength, limits))]
    daily = _daily_dose_flag(facts, limits)
    if daily is not None:
        flags.append(daily)
    if facts.patient_age_years < limits.adult_from_age_years:
        flags.extend(_paediatric_flags(facts, strengths, limits))
    return flags


def daily_dose_mg(*, dosage_form: str, strength_mg: Decimal, quantity: int, days_supply: int) -> Decimal | None:
    """quantity × strength ÷ days supply for unit-dose forms, to the hundredth of a mg; None where the
    quantity is not doses."""
    daily = _daily_dose(dosage_form, strength_mg, quantity, days_supply)
    return None if daily is None else daily.quantize(_HUNDREDTH)


_HUNDREDTH: Final = Decimal("0.01")


def _daily_dose(dosage_form: str, strength_mg: Decimal, quantity: int, days_supply: int) -> Decimal | None:
    if dosage_form not in UNIT_DOSE_FORMS or quantity <= 0 or days_supply <= 0:
        return None
    return Decimal(quantity) * strength_mg / Decimal(days_supply)


def _daily_dose_flag(facts: DoseFacts, limits: DoseLimits) -> Flag | None:
    # Compared unrounded: 1,001 capsules of 4.5 mg over 1,000 days is above 4.5 mg a day, though it
    # shows as 4.5.
    exact = _daily_dose(facts.dosage_form, facts.strength_mg, facts.quantity, facts.days_supply)
    if exact is None or exact <= limits.ldn_max_mg:
        return None
    daily = exact.quantize(_HUNDREDTH)
    # 1,000 capsules for 30 days is a quantity slip as dangerous as a tenfold strength.
    supply = f"{facts.quantity} × {format_mg(facts.strength_mg)} mg over {facts.days_supply} days"
    if exact >= limits.not_ldn_from_mg:
        return Flag(
            code=DAILY_DOSE,
            severity=HARD_STOP,
            message=f"{supply} is {format_mg(daily)} mg a day, {format_mg(limits.not_ldn_from_mg)} mg or more: "
            "that is not LDN.",
            field="quantity",
            value=format_mg(daily),
            source=SOURCE_PRESCRIPTION,
        )
    return Flag(
        code=DAILY_DOSE,
        severity=WARNING,
        message=f"{supply} is {format_mg(daily)} mg a day, above the usual LDN maximum of "
        f"{format_mg(limits.ldn_max_mg)} mg a day.",
        field="quantity",
        value=format_mg(daily),
        source=SOURCE_PRESCRIPTION,
    )


def _range_flag(field: str, strength: Decimal, limits: DoseLimits) -> Flag | None:
    if limits.ldn_min_mg <= strength <= limits.ldn_max_mg:
        return None
    shown = format_mg(strength)
    if strength >= limits.not_ldn_from_mg:
        return Flag(
            code=DOSE_RANGE,
            severity=HARD_STOP,
            message=f"{shown} mg is {format_mg(limits.not_ldn_from_mg)} mg or more: that is not LDN.",
            field=field,
            value=shown,
            source=SOURCE_PRESCRIPTION,
        )
    return Flag(
        code=DOSE_RANGE,
        severity=WARNING,
        message=f"{shown} mg is outside the usual LDN range of {format_mg(limits.ldn_min_mg)}–"
        f"{format_mg(limits.ldn_max_mg)} mg a day.",
        field=field,
        value=shown,
        source=SOURCE_PRESCRIPTION,
    )


def _paediatric_flags(facts: DoseFacts, strengths: Sequence[tuple[str, Decimal]], limits: DoseLimits) -> list[Flag]:
    per_kg = format_mg(limits.paediatric_max_mg_per_kg_per_day)
    if facts.weight_kg is None or facts.weight_kg <= 0:
        return [
            Flag(
                code=DOSE_RANGE,
                severity=WARNING,
                message=f"The patient is {facts.patient_age_years}, under {limits.adult_from_age_years}: "
                f"the weight is needed to check the dose against {per_kg} mg/kg a day.",
                field="weight_kg",
                value="",
                source=SOURCE_PRESCRIPTION,
            )
        ]
    ceiling = limits.paediatric_max_mg_per_kg_per_day * facts.weight_kg
    return [
        Flag(
            code=DOSE_RANGE,
            severity=WARNING,
            message=f"{format_mg(strength)} mg is more than {per_kg} mg/kg a day for a child of "
            f"{format_mg(facts.weight_kg)} kg ({format_mg(ceiling.quantize(Decimal('0.01')))} mg).",
            field=field,
            value=format_mg(strength),
            source=SOURCE_PRESCRIPTION,
            matched_as=f"{per_kg} mg/kg/day",
        )
        for field, strength in strengths
        if strength > ceiling
    ]


# --- titration ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitrationStep:
    strength_mg: Decimal
    days: int


def titration_errors(
    *,
    steps: Sequence[TitrationStep],
    strength_mg: Decimal,
    quantity: int,
    days_supply: int,
    unit_dose: bool,
) -> list[str]:
    """Plain-sentence errors in a titration schedule, [] when it is sound.

    The steps come first; the days they leave of the supply are taken at ``strength_mg``.
    ``unit_dose`` means one unit (a capsule) a day, so a kit holds one unit per day of supply.
    """
    if not steps:
        return []
    errors: list[str] = []
    for number, step in enumerate(steps, start=1):
        if step.days < 1:
            errors.append(f"Titration step {number} lasts {step.days} days; each step needs at least 1 day.")
        if step.strength_mg <= 0:
            errors.append(
                f"Titration step {number} is {format_mg(step.strength_mg)} mg; a strength must be more than 0 mg."
            )
    total = sum(step.days for step in steps)
    if total > days_supply:
        errors.append(f"The titration steps add up to {total} days, more than the {days_supply}-day supply.")
    elif total == days_supply and steps[-1].strength_mg != strength_mg:
        errors.append(
            f"The titration steps fill all {days_supply} days and end at "
            f"{format_mg(steps[-1].strength_mg)} mg, so the schedule never reaches the prescribed "
            f"{format_mg(strength_mg)} mg."
        )
    if unit_dose and quantity != days_supply:
        errors.append(
            f"A {days_supply}-day titration kit at one capsule a day holds {days_supply} capsules, not {quantity}."
        )
    return errors


def schedule(*, steps: Sequence[TitrationStep], strength_mg: Decimal, days_supply: int) -> list[TitrationStep]:
    """The whole day plan: the titration steps, then the prescribed strength for the days left.

    Days left at the strength the last step already has are added to that step. Raises
    ValueError for a schedule that ``titration_errors`` would refuse on days.
    """
    if any(step.days < 1 for step in steps):
        raise ValueError("Each titration step needs at least 1 day.")
    total = sum(step.days for step in steps)
    if total > days_supply:
        raise ValueError(f"The titration steps add up to {total} days, more than the {days_supply}-day supply.")
    plan = list(steps)
    remaining = days_supply - total
    if remaining:
        if plan and plan[-1].strength_mg == strength_mg:
            plan[-1] = TitrationStep(strength_mg=strength_mg, days=plan[-1].days + remaining)
        else:
            plan.append(TitrationStep(strength_mg=strength_mg, days=remaining))
    return plan


def format_mg(amount: Decimal) -> str:
    """'4.50' -> '4.5', '30' -> '30' (never '3E+1')."""
    return format(amount.normalize(), "f")
