"""What the pharmacy makes for a prescription (its dispense plan) and the compounding arithmetic.

A capsule titration is a kit: one container per strength, each covering its days of the schedule.
A liquid, drops or a cream is one container at one concentration, with a measured dose for each
step. Nothing is rounded to fit: where the plan cannot match the prescription it says so in its
problems, which the pharmacist sees as a flag.
The numbers a pharmacist may correct live in ``data/dispensing.json`` and on the master formulation
(passed in as a Formula).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from intake.clinical.dosing import TitrationStep, format_mg, schedule

CAPSULE = "capsule"
MILLILITRE = "mL"
GRAM = "g"
WARNING = "warning"
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Wording:
    verb: str
    route: str


@dataclass(frozen=True)
class LabelWords:
    """The headings and short phrases around a label's values, in one language."""

    filled: str
    patient: str
    born: str  # "born {date}"
    prescriber: str
    container: str  # "Container {number} of {count}"
    container_days: str  # "days {first}-{last}"
    quantity: str
    fill: str  # "Fill {number} · refills left {refills}"
    use_by: str
    storage: str
    lot: str
    batch: str
    pharmacist: str
    made_by: str
    rx_only: str


@dataclass(frozen=True)
class Phrasing:
    """A label's words in a patient's language other than English (data/dispensing.json 'phrasing')."""

    wording: dict[str, Wording]  # dosage form -> verb and route
    capsule_one: str
    capsule_other: str
    days: str  # "Días {first}-{last}"
    timing: dict[str, str]  # the English timing words -> this language's
    auxiliary_warning: str
    warnings: tuple[str, ...]
    compounded_notice: str
    dosage_forms: dict[str, str]  # dosage form -> its name on the label ("cápsulas")
    label: LabelWords
    storage: dict[str, str]  # a master formulation's storage text, case-folded -> this language's

    def storage_words(self, storage: str) -> str | None:
        """This language's words for a storage text, or None when the table does not know it."""
        return self.storage.get(storage.strip().casefold())


@dataclass(frozen=True)
class DispensingRules:
    units: dict[str, str]  # dosage form -> capsule | mL | g
    dose_steps: dict[str, Decimal]  # dosage form -> the smallest measurable dose (mL or g)
    weight_tolerance_percent: Decimal
    weight_tolerance_reference: str
    wording: dict[str, Wording]
    phrasing: dict[str, Phrasing]  # language code -> the label's words (English is `wording`)


@functools.cache
def dispensing_rules() -> DispensingRules:
    path = Path(__file__).resolve().parent / "data" / "dispensing.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    rules = DispensingRules(
        units={form: unit for form, unit in raw["units"].items() if form != "about"},
        dose_steps={form: Decimal(step) for form, step in raw["dose_step"].items() if form != "about"},
        weight_tolerance_percent=Decimal(raw["weight_tolerance_percent"]),
        weight_tolerance_reference=str(raw["weight_tolerance_reference"]),
        wording={
            form: Wording(verb=words["verb"], route=words["route"])
            for form, words in raw["directions"].items()
            if form != "about"
        },
        phrasing={
            language: _phrasing(table) for language, table in raw.get("phrasing", {}).items() if language != "about"
        },
    )
    if any(
        set(rules.wording) - set(phrasing.wording) or set(rules.wording) - set(phrasing.dosage_forms)
        for phrasing in rules.phrasing.values()
    ):
        raise ValueError("dispensing.json: every language's phrasing has directions and a name for every form")
    if not set(rules.units.values()) <= {CAPSULE, MILLILITRE, GRAM}:
        raise ValueError("dispensing.json: units are capsule, mL or g")
    measured = {form for form, unit in rules.units.items() if unit != CAPSULE}
    if measured - set(rules.dose_steps) or any(step <= 0 for step in rules.dose_steps.values()):
        raise ValueError("dispensing.json: every liquid, drops and cream form needs a positive dose_step")
    if not Decimal(0) < rules.weight_tolerance_percent < HUNDRED or set(rules.units) - set(rules.wording):
        raise ValueError("dispensing.json: a tolerance between 0 and 100, and directions for every form")
    return rules


def _phrasing(table: dict[str, Any]) -> Phrasing:
    return Phrasing(
        wording={
            form: Wording(verb=words["verb"], route=words["route"]) for form, words in table["directions"].items()
        },
        capsule_one=table["capsule"]["one"],
        capsule_other=table["capsule"]["other"],
        days=table["days"],
        timing=dict(table["timing"]),
        auxiliary_warning=table["auxiliary_warning"],
        warnings=tuple(table["warnings"]),
        compounded_notice=table["compounded_notice"],
        dosage_forms=dict(table["dosage_forms"]),
        label=LabelWords(**table["label"]),
        storage={storage.strip().casefold(): words for storage, words in table["storage"].items()},
    )


def label_phrasing(language: str) -> Phrasing | None:
    """The label's words in `language`; None for English (and any language without a table)."""
    return dispensing_rules().phrasing.get(language)


# --- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanEntry:
    """One strength of the schedule: the days it covers and what it takes of the container."""

    strength_mg: Decimal
    days: int
    first_day: int
    quantity: Decimal  # whole capsules, or the mL / g taken over these days
    unit: str
    concentration: Decimal | None = None  # mg per mL or per g (liquids, drops, creams)
    dose: Decimal | None = None  # mL or g per dose
    units_per_dose: int = 1  # capsules taken at once

    @property
    def last_day(self) -> int:
        return self.first_day + self.days - 1

    def as_json(self) -> dict[str, Any]:
        """The entry as the prescription's JSON shows it: numbers, and the dose for a measured form."""
        entry: dict[str, Any] = {
            "strength_mg": number(self.strength_mg),
            "days": self.days,
            "quantity": number(self.quantity),
            "unit": self.unit,
        }
        if self.unit == MILLILITRE:
            entry["concentration_mg_per_ml"] = None if self.concentration is None else number(self.concentration)
            entry["dose_ml"] = None if self.dose is None else number(self.dose)
        elif self.unit == GRAM:
            entry["concentration_mg_per_g"] = None if self.concentration is None else number(self.concentration)
            entry["dose_g"] = None if self.dose is None else number(self.dose)
        return entry


@dataclass(frozen=True)
class Container:
    """What is made, labelled and scanned as one: a kit's strength, or the one bottle or jar."""

    number: int
    entries: tuple[PlanEntry, ...]
    quantity: int  # capsules, mL or g it holds
    unit: str

    @property
    def first_day(self) -> int:
        return self.entries[0].first_day

    @property
    def last_day(self) -> int:
        return self.entries[-1].last_day

    @property
    def strength_mg(self) -> Decimal | None:
        """The strength of a capsule container; None for a measured form (it has a concentration)."""
        return self.entries[0].strength_mg if self.unit == CAPSULE else None

    @property
    def concentration(self) -> Decimal | None:
        return self.entries[0].concentration


@dataclass(frozen=True)
class PlanProblem:
    field: str  # the prescription's field it is about: "quantity", "titration", "strength_mg"...
    message: str
    severity: str = WARNING


@dataclass(frozen=True)
class DispensePlan:
    dosage_form: str
    entries: tuple[PlanEntry, ...]
    containers: tuple[Container, ...]
    problems: tuple[PlanProblem, ...]
    # A refill of a titration: the prescribed strength for the whole supply.
    maintenance_only: bool = False
    titrated: bool = False  # the prescription has titration steps

    @property
    def total_quantity(self) -> int:
        """What a batch of this plan is: the sum of its containers."""
        return sum(container.quantity for container in self.containers)

    @property
    def unit(self) -> str:
        return self.containers[0].unit

    @property
    def computable(self) -> bool:
        """False when a measured form has no concentration: its doses cannot be worked out."""
        return all(entry.dose is not None for entry in self.entries) or self.unit == CAPSULE

    def as_json(self) -> list[dict[str, Any]]:
        return [entry.as_json() for entry in self.entries]

    def describe(self) -> str:
        """'14 x 1.5 mg, 14 x 3 mg and 2 x 4.5 mg capsules: 30 in all'."""
        if self.unit == CAPSULE:
            parts = [f"{entry.quantity} x {format_mg(entry.strength_mg)} mg" for entry in self.entries]
            listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
            return f"{listed} capsules: {self.total_quantity} in all"
        container = self.containers[0]
        concentration = format_mg(container.concentration) if container.concentration else "?"
        return f"{container.quantity} {self.unit} at {concentration} mg/{self.unit}"


def number(value: Decimal) -> int | float:
    """A JSON number: whole values as integers (14, not 14.0)."""
    return int(value) if value == value.to_integral_value() else float(value)


def dispense_plan(
    *,
    dosage_form: str,
    strength_mg: Decimal,
    steps: Sequence[TitrationStep],
    quantity: int,
    days_supply: int,
    concentration: Decimal | None = None,
    maintenance_only: bool = False,
) -> DispensePlan:
    """The plan for one fill. `steps` are the titration steps, the prescribed strength taking the
    days they leave; `maintenance_only` (a refill) dispenses the prescribed strength for the whole
    supply. `concentration` is the master formulation's, in mg per mL (or per g for a cream)."""
    rules = dispensing_rules()
    if dosage_form not in rules.units:
        raise ValueError(f"Unknown dosage form: {dosage_form!r}")
    unit = rules.units[dosage_form]
    problems: list[PlanProblem] = []
    titration = [] if maintenance_only else list(steps)
    try:
        days = schedule(steps=titration, strength_mg=strength_mg, days_supply=days_supply)
    except ValueError as exc:
        problems.append(PlanProblem("titration", f"{exc} The plan follows the steps as written."))
        days = titration
    days = _merge_repeated(days)
    if unit == CAPSULE:
        entries, containers = _capsules(days, quantity=quantity, days_supply=days_supply, problems=problems)
    else:
        entries, containers = _measured(
            days, unit=unit, quantity=quantity, concentration=concentration,
            dose_step=rules.dose_steps[dosage_form], problems=problems,
        )  # fmt: skip
    return DispensePlan(
        dosage_form=dosage_form,
        entries=tuple(entries),
        containers=tuple(containers),
        problems=tuple(problems),
        maintenance_only=maintenance_only and bool(steps),
        titrated=bool(steps),
    )


def _merge_repeated(days: Sequence[TitrationStep]) -> list[TitrationStep]:
    """Consecutive days at one strength are one entry (one container of that strength)."""
    merged: list[TitrationStep] = []
    for step in days:
        if merged and merged[-1].strength_mg == step.strength_mg:
            merged[-1] = TitrationStep(strength_mg=step.strength_mg, days=merged[-1].days + step.days)
        else:
            merged.append(step)
    return merged


def _starts(days: Sequence[TitrationStep]) -> list[int]:
    first, starts = 1, []
    for step in days:
        starts.append(first)
        first += step.days
    return starts


def _capsules(
    days: Sequence[TitrationStep], *, quantity: int, days_supply: int, problems: list[PlanProblem]
) -> tuple[list[PlanEntry], list[Container]]:
    per_day, left_over = divmod(quantity, days_supply)
    whole = per_day >= 1 and left_over == 0
    if not whole:
        problems.append(
            PlanProblem(
                "quantity",
                f"{quantity} capsules for {days_supply} days is not a whole number of capsules a day.",
            )
        )
    entries: list[PlanEntry] = []
    for step, first in zip(days, _starts(days), strict=True):
        if whole:
            count = step.days * per_day
        elif len(days) == 1:
            count = quantity  # the prescribed count, as written: the flag says it does not fit
        else:
            count = step.days  # a kit holds one capsule a day
        entries.append(
            PlanEntry(strength_mg=step.strength_mg, days=step.days, first_day=first, quantity=Decimal(count),
                      unit=CAPSULE, units_per_dose=per_day if whole else 1)
        )  # fmt: skip
    kit_total = sum(int(entry.quantity) for entry in entries)
    if len(entries) > 1 and kit_total != quantity:
        problems.append(
            PlanProblem(
                "quantity",
                f"The schedule needs {kit_total} capsules ({_listing(entries)}); {quantity} were prescribed.",
            )
        )
    containers = [
        Container(number=n, entries=(entry,), quantity=int(entry.quantity), unit=CAPSULE)
        for n, entry in enumerate(entries, start=1)
    ]
    return entries, containers


def _listing(entries: Sequence[PlanEntry]) -> str:
    return ", ".join(f"{entry.quantity} x {format_mg(entry.strength_mg)} mg" for entry in entries)


def _measured(
    days: Sequence[TitrationStep],
    *,
    unit: str,
    quantity: int,
    concentration: Decimal | None,
    dose_step: Decimal,
    problems: list[PlanProblem],
) -> tuple[list[PlanEntry], list[Container]]:
    if concentration is None or concentration <= 0:
        problems.append(
            PlanProblem(
                "dosage_form",
                f"The master formulation records no concentration (mg per {unit}): the dose in {unit} "
                "cannot be worked out. A pharmacist must add it to the formulation.",
            )
        )
        entries = [
            PlanEntry(strength_mg=step.strength_mg, days=step.days, first_day=first, quantity=Decimal(0), unit=unit)
            for step, first in zip(days, _starts(days), strict=True)
        ]
        return entries, [Container(number=1, entries=tuple(entries), quantity=quantity, unit=unit)]
    entries = []
    for position, (step, first) in enumerate(zip(days, _starts(days), strict=True)):
        exact = step.strength_mg / concentration
        dose = exact.quantize(dose_step, rounding=ROUND_HALF_EVEN)
        if dose != exact or dose <= 0:
            shown = format_mg(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))
            problems.append(
                PlanProblem(
                    "strength_mg" if position == len(days) - 1 else "titration",
                    f"{format_mg(step.strength_mg)} mg at {format_mg(concentration)} mg/{unit} is {shown} {unit}, "
                    f"which cannot be measured (doses are measured in steps of {format_mg(dose_step)} {unit}); "
                    f"the plan shows {format_mg(dose)} {unit}.",
                )
            )
        entries.append(
            PlanEntry(strength_mg=step.strength_mg, days=step.days, first_day=first, quantity=dose * step.days,
                      unit=unit, concentration=concentration, dose=dose)
        )  # fmt: skip
    needed = sum((entry.quantity for entry in entries), Decimal(0))
    if needed > quantity:
        problems.append(
            PlanProblem(
                "quantity",
                f"The schedule takes {format_mg(needed)} {unit} at {format_mg(concentration)} mg/{unit} "
                f"({_volumes(entries)}); {quantity} {unit} prescribed runs out on day {_runs_out(entries, quantity)}.",
            )
        )
    return entries, [Container(number=1, entries=tuple(entries), quantity=quantity, unit=unit)]


def _volumes(entries: Sequence[PlanEntry]) -> str:
    return ", ".join(f"{format_mg(entry.dose or Decimal(0))} {entry.unit} x {entry.days} days" for entry in entries)


def _runs_out(entries: Sequence[PlanEntry], quantity: int) -> int:
    """The first day whose dose the quantity no longer covers."""
    left = Decimal(quantity)
    for entry in entries:
        dose = entry.dose or Decimal(0)
        covered = entry.days if dose <= 0 else min(entry.days, int(left // dose))
        if covered < entry.days:
            return entry.first_day + covered
        left -= dose * entry.days
    return entries[-1].last_day + 1


# --- directions ------------------------------------------------------------------------------------


def directions(
    dosage_form: str, container: Container, *, timing: str, whole_supply: bool, language: str = "en"
) -> list[str]:
    """One sentence per entry of the container: 'Days 1-14: take 1 capsule (1.5 mg) by mouth at bedtime.'
    `timing` is the prescription's, as English words ("at bedtime"); `whole_supply`: the plan is this
    one entry, whose days need no saying. `language`: the patient's, from the label's phrasing table
    ('Días 1-14: tome 1 cápsula (1.5 mg) por vía oral a la hora de acostarse.')."""
    phrasing = label_phrasing(language)
    words = (phrasing.wording if phrasing else dispensing_rules().wording)[dosage_form]
    if phrasing and timing:
        if timing not in phrasing.timing:
            # A label half in one language misleads: no directions rather than a guess.
            raise ValueError(f"dispensing.json: no {language} words for the timing {timing!r}")
        timing = phrasing.timing[timing]
    sentences = []
    for entry in container.entries:
        if entry.unit == CAPSULE:
            count = entry.units_per_dose
            if phrasing:
                capsules = phrasing.capsule_one if count == 1 else phrasing.capsule_other
            else:
                capsules = f"capsule{'s' if count != 1 else ''}"
            dose = f"{count} {capsules} ({format_mg(entry.strength_mg * count)} mg)"
        else:
            amount = "?" if entry.dose is None else format_mg(entry.dose)
            dose = f"{amount} {entry.unit} ({format_mg(entry.strength_mg)} mg)"
        action = f"{words.verb} {dose} {words.route} {timing}".strip()
        if whole_supply:
            sentences.append(f"{action}.")
        else:
            days = phrasing.days if phrasing else "Days {first}-{last}"
            sentences.append(
                f"{days.format(first=entry.first_day, last=entry.last_day)}: {action[0].lower()}{action[1:]}."
            )
    return sentences


# --- compounding arithmetic ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A master formulation's numbers: the salt factor (mg of the salt weighed per mg of labelled
    strength), the overage made for losses, the capsule fill weight and the concentration."""

    salt_factor: Decimal = Decimal(1)
    overage_percent: Decimal = Decimal(0)
    capsule_fill_mg: Decimal | None = None
    concentration: Decimal | None = None


@dataclass(frozen=True)
class Calculation:
    """What the worksheet shows for one container, to be checked before compounding."""

    naltrexone_mg: Decimal  # naltrexone HCl to weigh, salt factor and overage included
    batch_quantity: Decimal  # capsules' worth of powder, or mL / g made, with the overage
    filler_mg: Decimal | None  # capsules: filler to bring the powder to the fill weight
    target_fill_mg: Decimal | None  # capsules: the net fill weight of one capsule
    tolerance_percent: Decimal
    problems: tuple[str, ...]

    @property
    def naltrexone_range(self) -> tuple[Decimal, Decimal]:
        return self.allowed(self.naltrexone_mg)

    @property
    def fill_range(self) -> tuple[Decimal, Decimal] | None:
        return None if self.target_fill_mg is None else self.allowed(self.target_fill_mg)

    def allowed(self, target: Decimal) -> tuple[Decimal, Decimal]:
        spread = target * self.tolerance_percent / HUNDRED
        return target - spread, target + spread


MG = Decimal("0.001")


def calculation(container: Container, formula: Formula) -> Calculation:
    rules = dispensing_rules()
    overage = 1 + formula.overage_percent / HUNDRED
    batch = (Decimal(container.quantity) * overage).quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    problems: list[str] = []
    if container.unit == CAPSULE:
        strength = container.entries[0].strength_mg
        naltrexone = (strength * formula.salt_factor * container.quantity * overage).quantize(MG)
        filler = target = None
        if formula.capsule_fill_mg is None or formula.capsule_fill_mg <= 0:
            problems.append("The master formulation records no capsule fill weight: the filler cannot be worked out.")
        else:
            target = formula.capsule_fill_mg
            filler = (target * container.quantity * overage - naltrexone).quantize(MG)
            if filler < 0:
                problems.append(
                    f"{format_mg(strength * formula.salt_factor)} mg of naltrexone HCl does not fit a "
                    f"{format_mg(target)} mg capsule fill."
                )
        return Calculation(naltrexone, batch, filler, target, rules.weight_tolerance_percent, tuple(problems))
    concentration = container.concentration
    if concentration is None:
        problems.append("The master formulation records no concentration.")
        concentration = Decimal(0)
    naltrexone = (concentration * container.quantity * formula.salt_factor * overage).quantize(MG)
    return Calculation(naltrexone, batch, None, None, rules.weight_tolerance_percent, tuple(problems))


def weight_problems(
    calc: Calculation, *, naltrexone_weighed_mg: Decimal | None, capsule_weights_mg: Sequence[Decimal]
) -> dict[str, list[str]]:
    """Weights recorded outside the tolerance, by field ("naltrexone_mg", "capsule_weights_mg")."""
    problems: dict[str, list[str]] = {}
    tolerance = format_mg(calc.tolerance_percent)
    if naltrexone_weighed_mg is not None:
        low, high = calc.allowed(calc.naltrexone_mg)
        if not low <= naltrexone_weighed_mg <= high:
            problems["naltrexone_mg"] = [
                f"{format_mg(naltrexone_weighed_mg)} mg of naltrexone HCl is outside {_mg(low)}-{_mg(high)} mg "
                f"({_mg(calc.naltrexone_mg)} mg ± {tolerance}%): weigh it again."
            ]
    if capsule_weights_mg:
        if calc.target_fill_mg is None:
            problems["capsule_weights_mg"] = [
                "Capsule weights are checked against the capsule fill weight, which this formulation does not "
                "record (or this is not a capsule)."
            ]
            return problems
        low, high = calc.allowed(calc.target_fill_mg)
        outside = [
            f"capsule {n} weighs {format_mg(weight)} mg"
            for n, weight in enumerate(capsule_weights_mg, start=1)
            if not low <= weight <= high
        ]
        if outside:
            problems["capsule_weights_mg"] = [
                f"Outside {_mg(low)}-{_mg(high)} mg ({_mg(calc.target_fill_mg)} mg ± {tolerance}%, USP <795> "
                f"weight variation): {'; '.join(outside)}. Set these capsules aside and refill them."
            ]
    return problems


def _mg(amount: Decimal) -> str:
    return format_mg(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
