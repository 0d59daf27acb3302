"""The dispense plan of a prescription's fill, the flag it raises when it cannot match, and the
master formulation's numbers behind it (intake.clinical.dispensing does the arithmetic)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from intake.clinical.dispensing import (
    CAPSULE,
    Calculation,
    Container,
    DispensePlan,
    Formula,
    PlanEntry,
    PlanProblem,
    calculation,
    directions,
    dispense_plan,
    dispensing_rules,
)
from intake.clinical.dosing import TitrationStep, format_mg
from intake.models import (
    CompoundedContainer,
    CompoundingRecord,
    DoseTiming,
    IngredientLot,
    MasterFormulation,
    Prescription,
)
from intake.models import TitrationStep as PrescribedStep
from intake.models.prescriptions import flag_level_of

DISPENSE_PLAN = "dispense_plan"
CONCENTRATIONS_KEY = "dispensing:concentrations"


def measured(dosage_form: str) -> bool:
    """A liquid, drops or cream: made at a concentration, dosed in mL or g."""
    return dispensing_rules().units.get(dosage_form, CAPSULE) != CAPSULE


def formula_of(formulation: MasterFormulation) -> Formula:
    return Formula(
        salt_factor=Decimal(formulation.salt_factor),
        overage_percent=Decimal(formulation.overage_percent),
        capsule_fill_mg=None if formulation.capsule_fill_mg is None else Decimal(formulation.capsule_fill_mg),
        concentration=formulation_concentration(formulation),
    )


def formulation_concentration(formulation: MasterFormulation) -> Decimal | None:
    """The formulation's own concentration, else its dosage form's (the formulary's default)."""
    value = formulation.concentration
    if value is None:
        value = formulation.dosage_form.concentration_mg_per_ml
    return None if value is None else Decimal(value)


def default_concentration(dosage_form: str, strength_mg: Decimal) -> Decimal | None:
    """The concentration of the formulation a prescription would be made with (as
    compounding.formulation_for chooses it: one of its strength, else one for every strength).

    Every read of a liquid prescription shows its plan, so the active formulations' concentrations
    are read once and cached for FORMULARY_CACHE_SECONDS (forgotten when a formulation is saved here).
    """
    known: dict[tuple[str, str], str | None] | None = cache.get(CONCENTRATIONS_KEY)
    if known is None:
        known = {}
        rows = (
            MasterFormulation.objects.filter(active=True)
            .order_by("-updated_at", "-id")
            .values_list("dosage_form__code", "strength_mg", "concentration", "dosage_form__concentration_mg_per_ml")
        )
        for code, strength, own, form_default in rows:
            value = own if own is not None else form_default
            known.setdefault((code, "" if strength is None else f"{Decimal(strength):.2f}"),
                             None if value is None else str(value))  # fmt: skip
        cache.set(CONCENTRATIONS_KEY, known, settings.FORMULARY_CACHE_SECONDS)
    for key in ((dosage_form, f"{Decimal(strength_mg):.2f}"), (dosage_form, "")):
        if key in known:
            found = known[key]
            return None if found is None else Decimal(found)
    return None


def concentrations_forget() -> None:
    cache.delete(CONCENTRATIONS_KEY)
    # Again once the change is committed: a read meanwhile may have cached the old value.
    transaction.on_commit(lambda: cache.delete(CONCENTRATIONS_KEY))


def titrates_this_fill(prescription: Prescription, fill_number: int | None = None) -> bool:
    """The first fill follows the titration; a refill does only when the prescription asks."""
    number = prescription.fill_number if fill_number is None else fill_number
    return number <= 1 or prescription.repeat_titration


def fill_plan(
    prescription: Prescription,
    *,
    fill_number: int | None = None,
    formulation: MasterFormulation | None = None,
    steps: Iterable[PrescribedStep] | None = None,
) -> DispensePlan:
    """What the pharmacy makes for a fill (the current one by default); `formulation` is the one
    compounded with, else the one the prescription would be made with. `steps`: the prescription's
    titration steps when the caller holds them already, else they are read."""
    held = prescription.titration_steps.all() if steps is None else steps
    plan_steps = [TitrationStep(strength_mg=Decimal(s.strength_mg), days=s.days) for s in held]
    return plan_of(
        dosage_form=prescription.dosage_form,
        strength_mg=Decimal(prescription.strength_mg),
        steps=plan_steps,
        quantity=prescription.quantity,
        days_supply=prescription.days_supply,
        maintenance_only=not titrates_this_fill(prescription, fill_number),
        formulation=formulation,
    )


def plan_of(
    *,
    dosage_form: str,
    strength_mg: Decimal,
    steps: Sequence[TitrationStep],
    quantity: int,
    days_supply: int,
    maintenance_only: bool = False,
    formulation: MasterFormulation | None = None,
) -> DispensePlan:
    concentration = None
    if measured(dosage_form):
        concentration = (
            formulation_concentration(formulation)
            if formulation is not None
            else default_concentration(dosage_form, strength_mg)
        )
    return dispense_plan(
        dosage_form=dosage_form, strength_mg=strength_mg, steps=steps, quantity=quantity, days_supply=days_supply,
        concentration=concentration, maintenance_only=maintenance_only,
    )  # fmt: skip


def plan_note(prescription: Prescription, plan: DispensePlan) -> str:
    """Which schedule this fill follows, in words for the pages (a refill of a titration)."""
    if not plan.titrated:
        return ""
    if prescription.fill_number <= 1:
        return "First fill: the titration, one container per strength."
    if plan.maintenance_only:
        return (
            f"Refill: the prescribed {format_mg(prescription.strength_mg)} mg only, for the whole supply; "
            "the titration was the first fill's."
        )
    return "Refill: the titration again, as the prescription asks."


def plan_flags(problems: Iterable[PlanProblem]) -> list[dict[str, Any]]:
    """A flag per problem of the plan: the pharmacist reads it, and approves with a reason or asks."""
    return [
        {
            "code": DISPENSE_PLAN,
            "severity": problem.severity,
            "message": problem.message,
            "field": problem.field,
            "value": "",
            "matched_as": "",
            "source": "prescription",
            "verification": None,
        }
        for problem in problems
    ]


def dispense_plan_flags_refresh(prescription: Prescription, plan: DispensePlan | None = None) -> None:
    """Put the plan's flags on the prescription in place of the ones it had (after screening, or
    when a refill opens a fill with its own plan). A flag already verified keeps its verification.
    The caller saves the prescription."""
    plan = plan or fill_plan(prescription)
    before = {flag.get("message"): flag for flag in prescription.flags if flag.get("code") == DISPENSE_PLAN}
    fresh = plan_flags(plan.problems)
    for flag in fresh:
        kept = before.get(flag["message"])
        if kept is not None and kept.get("verification"):
            flag["verification"] = kept["verification"]
    prescription.flags = [flag for flag in prescription.flags if flag.get("code") != DISPENSE_PLAN] + fresh
    prescription.flag_level = flag_level_of(prescription.flags)


# --- what the pages, the worksheet and the labels show of each container --------------------------


@dataclass(frozen=True)
class ContainerDetails:
    """One container of a fill: as planned (before compounding: no code, nothing weighed) or as
    recorded on its batch."""

    container: Container
    calc: Calculation
    salt_factor: Decimal
    overage_percent: Decimal
    directions: list[str]
    code: str = ""
    naltrexone_weighed_mg: Decimal | None = None
    capsule_weights_mg: tuple[Decimal, ...] = ()
    lots: tuple[IngredientLot, ...] = ()
    # The directions in the patient's language for the label (the same as `directions` in English).
    patient_directions: tuple[str, ...] = ()

    @property
    def number(self) -> int:
        return self.container.number

    @property
    def title(self) -> str:
        """'1.5 mg capsules, days 1-14' or '1 mg/mL oral liquid, days 1-30'."""
        days = f"days {self.container.first_day}-{self.container.last_day}"
        if self.container.strength_mg is not None:
            return f"{format_mg(self.container.strength_mg)} mg capsules, {days}"
        concentration = self.container.concentration
        shown = "?" if concentration is None else format_mg(concentration)
        return f"{shown} mg/{self.container.unit}, {days}"


def timing_words(prescription: Prescription) -> str:
    return DoseTiming(prescription.dose_timing).label.lower() if prescription.dose_timing else ""


def planned_containers(
    prescription: Prescription, plan: DispensePlan, formulation: MasterFormulation | None
) -> list[ContainerDetails]:
    """The plan's containers with the arithmetic of `formulation` (none chosen: the defaults)."""
    formula = formula_of(formulation) if formulation is not None else Formula()
    whole = len(plan.entries) == 1
    return [
        ContainerDetails(
            container=container,
            calc=calculation(container, formula),
            salt_factor=formula.salt_factor,
            overage_percent=formula.overage_percent,
            directions=directions(plan.dosage_form, container, timing=timing_words(prescription), whole_supply=whole),
            patient_directions=tuple(
                directions(
                    plan.dosage_form,
                    container,
                    timing=timing_words(prescription),
                    whole_supply=whole,
                    language=prescription.patient.language,
                )
            ),
        )  # fmt: skip
        for container in plan.containers
    ]


def recorded_containers(prescription: Prescription, record: CompoundingRecord) -> list[ContainerDetails]:
    """The containers of a batch as recorded (their lots: their own, else the whole batch's). A batch
    recorded before containers were kept is shown as its fill's plan, labelled with the reference."""
    rows = list(record.containers.all())
    batch_lots = tuple(lot for lot in record.lots.all() if lot.container_id is None)
    if not rows:
        fill = record.fill.number if record.fill_id and record.fill else prescription.fill_number
        plan = fill_plan(prescription, fill_number=fill, formulation=record.master_formulation)
        return [
            replace(details, code=prescription.reference, lots=batch_lots)
            for details in planned_containers(prescription, plan, record.master_formulation)
        ]
    whole = sum(len(row.entries) for row in rows) == 1
    details = []
    for row in rows:
        container = stored_container(row)
        calc = Calculation(
            naltrexone_mg=row.naltrexone_needed_mg,
            batch_quantity=Decimal(row.quantity_made) * (1 + row.overage_percent / 100),
            filler_mg=row.filler_needed_mg,
            target_fill_mg=row.target_fill_mg,
            tolerance_percent=row.tolerance_percent,
            problems=(),
        )
        own = tuple(lot for lot in record.lots.all() if lot.container_id == row.pk)
        details.append(
            ContainerDetails(
                container=container, calc=calc, salt_factor=row.salt_factor, overage_percent=row.overage_percent,
                directions=directions(prescription.dosage_form, container, timing=timing_words(prescription),
                                      whole_supply=whole),
                patient_directions=tuple(directions(prescription.dosage_form, container,
                                                    timing=timing_words(prescription), whole_supply=whole,
                                                    language=prescription.patient.language)),
                code=row.code, naltrexone_weighed_mg=row.naltrexone_weighed_mg,
                capsule_weights_mg=tuple(Decimal(weight) for weight in row.capsule_weights_mg),
                lots=own or batch_lots,
            )
        )  # fmt: skip
    return details


def stored_container(row: CompoundedContainer) -> Container:
    """The plan's container as its batch recorded it (entries kept as the JSON showed them)."""

    def amount(value: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value))

    entries = tuple(
        PlanEntry(
            strength_mg=Decimal(str(entry["strength_mg"])),
            days=int(entry["days"]),
            first_day=int(entry["first_day"]),
            quantity=Decimal(str(entry["quantity"])),
            unit=entry["unit"],
            concentration=amount(entry.get("concentration_mg_per_ml", entry.get("concentration_mg_per_g"))),
            dose=amount(entry.get("dose_ml", entry.get("dose_g"))),
            units_per_dose=int(entry.get("units_per_dose", 1)),
        )  # fmt: skip
        for entry in row.entries
    )
    return Container(number=row.number, entries=entries, quantity=row.quantity_made, unit=row.unit)
