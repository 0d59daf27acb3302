"""Compounding records: the batch, its containers (one per strength of a kit), its ingredient lots
and its beyond-use date; master formulations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from intake.clinical.beyond_use import ExpiredLotError, bud_rule_for, bud_rules, check_lots_usable
from intake.clinical.beyond_use import beyond_use_date as usp_beyond_use_date
from intake.clinical.dispensing import Calculation, Container, DispensePlan, Formula, calculation, weight_problems
from intake.clinical.dosing import format_mg
from intake.errors import Forbidden
from intake.models import (
    Action,
    BudRuleName,
    CompoundedContainer,
    CompoundingRecord,
    DosageForm,
    DosageFormCode,
    Fill,
    IngredientLot,
    MasterFormulation,
    Prescription,
    StockLot,
)
from intake.services.dispensing import concentrations_forget, fill_plan, formula_of
from intake.services.lots import LotInput
from intake.services.recalls import lots_quarantine_check
from intake.services.stock import stock_use
from intake.services.workflow import transition

MAX_LOTS = 20
MAX_QUANTITY_MADE = 100_000
MAX_CAPSULE_WEIGHTS = 50
# A clock a few minutes fast on a workstation is not a record from the future.
CLOCK_SKEW = timedelta(minutes=10)
# Dosage forms USP <795> counts as liquids (the non-aqueous oral liquid row applies to them).
LIQUID_FORMS = frozenset({DosageFormCode.ORAL_LIQUID, DosageFormCode.SUBLINGUAL_DROPS})


@dataclass(frozen=True)
class ContainerInput:
    """What the compounder records for one container of the plan, in the plan's order; each part
    optional: the quantity made (else the plan's), the naltrexone HCl weighed, the capsule fill
    weights sampled, and lots used for this container only."""

    quantity_made: int | None = None
    naltrexone_mg: Decimal | None = None
    capsule_weights_mg: tuple[Decimal, ...] = ()
    lots: tuple[LotInput, ...] = ()


@dataclass(frozen=True)
class MadeContainer:
    container: Container
    formula: Formula
    calc: Calculation
    given: ContainerInput
    lots: list[LotInput]


def is_naltrexone(ingredient: str) -> bool:
    return "naltrexone" in ingredient.casefold()


def usp_limit_rule(*, dosage_form: str, aqueous: bool, preserved: bool) -> str:
    """The longest USP <795> rule a preparation of this kind may carry."""
    return bud_rule_for(aqueous=aqueous, preserved=preserved, liquid=dosage_form in LIQUID_FORMS).name


def effective_bud_rule(formulation: MasterFormulation) -> str:
    """The formulation's rule, never longer than USP <795> allows for what it says it is.

    A formulation edited to say "aqueous" but left on the 180-day solid rule gets the aqueous
    limit: the record's rule can only shorten a BUD, never lengthen it.
    """
    rules = bud_rules()
    limit = usp_limit_rule(
        dosage_form=formulation.dosage_form.code, aqueous=formulation.aqueous, preserved=formulation.preserved
    )
    chosen = formulation.bud_rule if formulation.bud_rule in rules else limit
    return chosen if rules[chosen].days <= rules[limit].days else limit


def formulation_for(prescription: Prescription, master_formulation_id: int | None = None) -> MasterFormulation:
    """The active master formulation for the prescription: the one asked for, else the one of its
    dosage form at its strength, else that form's any-strength one."""
    candidates = MasterFormulation.objects.select_related("dosage_form").filter(
        active=True, dosage_form__code=prescription.dosage_form
    )
    if master_formulation_id is not None:
        chosen = (
            candidates.filter(pk=master_formulation_id)
            .filter(Q(strength_mg=prescription.strength_mg) | Q(strength_mg__isnull=True))
            .first()
        )
        if chosen is None:
            raise ValidationError(
                {"master_formulation": ["Choose an active master formulation of this dosage form and strength."]}
            )
        return chosen
    chosen = (
        candidates.filter(strength_mg=prescription.strength_mg).order_by("-updated_at").first()
        or candidates.filter(strength_mg__isnull=True).order_by("-updated_at").first()
    )
    if chosen is None:
        raise ValidationError(
            {
                "master_formulation": [
                    f"No active master formulation for {prescription.get_dosage_form_display().lower()} "
                    f"{prescription.strength_mg} mg; a pharmacist must add one to the formulary."
                ]
            }
        )
    return chosen


def lots_clean(
    lots: Sequence[LotInput], compounded_on: date, *, field: str = "lots", whole_batch: bool = True
) -> list[LotInput]:
    """The lots, checked: each complete and unexpired; the whole batch's list names the naltrexone lot."""
    if not lots and whole_batch:
        raise ValidationError({field: ["Record at least one ingredient lot, the naltrexone one included."]})
    if len(lots) > MAX_LOTS:
        raise ValidationError({field: [f"Record at most {MAX_LOTS} ingredient lots."]})
    cleaned: list[LotInput] = []
    problems: list[str] = []
    for position, item in enumerate(lots, start=1):
        ingredient = (item.ingredient or "").strip()
        lot = (item.lot or "").strip()
        if not ingredient or not lot or not isinstance(item.expires, date):
            problems.append(f"Lot {position}: give the ingredient, the lot number and the expiry date.")
            continue
        if len(ingredient) > 120 or len(lot) > 60 or len(item.manufacturer or "") > 120:
            problems.append(f"Lot {position}: an ingredient or manufacturer is at most 120 characters, a lot 60.")
            continue
        cleaned.append(
            LotInput(
                ingredient=ingredient,
                lot=lot,
                expires=item.expires,
                manufacturer=(item.manufacturer or "").strip(),
                quantity_used=(item.quantity_used or "").strip()[:40],
            )
        )
    if problems:
        raise ValidationError({field: problems})
    try:
        check_lots_usable(lot_expiries=[item.expires for item in cleaned], compounded_on=compounded_on)
    except ExpiredLotError as exc:
        expired = [item for item in cleaned if item.expires in exc.expired]
        raise ValidationError(
            {
                field: [
                    f"{item.ingredient} lot {item.lot} expired on {item.expires.isoformat()}; it cannot be used."
                    for item in expired
                ]
            }
        ) from None
    if whole_batch and not any(is_naltrexone(item.ingredient) for item in cleaned):
        raise ValidationError({field: ["Record the naltrexone lot used."]})
    lots_quarantine_check(cleaned, field=field)
    return cleaned


def _check_against_plan(
    plan: DispensePlan, *, quantity_made: int, containers: Sequence[ContainerInput] | None, formulation: Any,
    compounded_on: date,
) -> list[MadeContainer]:  # fmt: skip
    """Each container of the plan with its arithmetic and what was recorded for it. A batch is the
    plan, never an approximation of it: quantities that differ, or weights outside the tolerance,
    are refused with the container they concern."""
    if not plan.computable:
        raise ValidationError({"master_formulation": [problem.message for problem in plan.problems]})
    if quantity_made != plan.total_quantity:
        raise ValidationError(
            {"quantity_made": [f"This fill's plan is {plan.describe()}, not {quantity_made} {plan.unit}."]}
        )
    given = list(containers) if containers is not None else [ContainerInput() for _ in plan.containers]
    if len(given) != len(plan.containers):
        raise ValidationError(
            {"containers": [f"The plan has {len(plan.containers)} container(s): {_containers_listed(plan)}."]}
        )
    formula = formula_of(formulation)
    errors: dict[str, list[str]] = {}
    made: list[MadeContainer] = []
    for container, recorded in zip(plan.containers, given, strict=True):
        key = f"containers.{container.number}"
        calc = calculation(container, formula)
        if recorded.quantity_made is not None and recorded.quantity_made != container.quantity:
            errors[f"{key}.quantity_made"] = [
                f"Container {container.number} ({_container_text(container)}) holds {container.quantity} "
                f"{container.unit}, not {recorded.quantity_made}."
            ]
        if len(recorded.capsule_weights_mg) > MAX_CAPSULE_WEIGHTS:
            errors[f"{key}.capsule_weights_mg"] = [f"Record at most {MAX_CAPSULE_WEIGHTS} capsule weights."]
        else:
            for name, problems in weight_problems(
                calc, naltrexone_weighed_mg=recorded.naltrexone_mg, capsule_weights_mg=recorded.capsule_weights_mg
            ).items():
                errors[f"{key}.{name}"] = problems
        own_lots: list[LotInput] = []
        try:
            own_lots = lots_clean(recorded.lots, compounded_on, field=f"{key}.lots", whole_batch=False)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        made.append(MadeContainer(container=container, formula=formula, calc=calc, given=recorded, lots=own_lots))
    if errors:
        raise ValidationError(errors)
    return made


def _container_text(container: Container) -> str:
    if container.strength_mg is not None:
        return f"{format_mg(container.strength_mg)} mg, days {container.first_day}-{container.last_day}"
    concentration = format_mg(container.concentration) if container.concentration else "?"
    return f"{concentration} mg/{container.unit}, days {container.first_day}-{container.last_day}"


def _containers_listed(plan: DispensePlan) -> str:
    return "; ".join(f"{c.number}: {c.quantity} {c.unit} ({_container_text(c)})" for c in plan.containers)


@transaction.atomic(durable=True)
def compounding_record_create(
    *,
    prescription_id: int,
    actor: User,
    lots: Sequence[LotInput],
    quantity_made: int,
    master_formulation_id: int | None = None,
    compounded_at: datetime | None = None,
    quality_checks: str = "",
    deviations: str = "",
    containers: Sequence[ContainerInput] | None = None,
) -> Prescription:
    """Record the batch made for a prescription in compounding and move it to the final check.

    The batch is the fill's dispense plan: `quantity_made` is its total, and each container (one
    per strength of a kit, or the one bottle) is made as planned; `containers` may add, in the
    plan's order, what was weighed and lots of one container only. The beyond-use date is the
    master formulation's USP <795> rule counted from the day of compounding, capped by the earliest
    expiry of the lots used; an expired lot is refused.
    """
    when = compounded_at or timezone.now()
    if timezone.is_naive(when):
        raise ValidationError({"compounded_at": ["Give the time of compounding with its time zone."]})
    # Filled in by record(); transition() copies it into the event after calling record().
    decided: dict[str, Any] = {}

    def record(prescription: Prescription) -> None:
        # Validated after the role and status checks of transition(): a refused actor learns nothing.
        if when > timezone.now() + CLOCK_SKEW:
            raise ValidationError({"compounded_at": ["The time of compounding cannot be in the future."]})
        if isinstance(quantity_made, bool) or not isinstance(quantity_made, int) or quantity_made < 1:
            raise ValidationError({"quantity_made": ["The quantity made must be a whole number of at least 1."]})
        if quantity_made > MAX_QUANTITY_MADE:
            raise ValidationError({"quantity_made": [f"The quantity made is at most {MAX_QUANTITY_MADE}."]})
        for field, text in (("quality_checks", quality_checks), ("deviations", deviations)):
            if len(text or "") > 2000:
                raise ValidationError({field: ["Keep it to 2,000 characters."]})
        compounded_on = timezone.localdate(when)
        cleaned = lots_clean(lots, compounded_on)
        formulation = formulation_for(prescription, master_formulation_id)
        made = _check_against_plan(
            fill_plan(prescription, formulation=formulation), quantity_made=quantity_made, containers=containers,
            formulation=formulation, compounded_on=compounded_on,
        )  # fmt: skip
        rule = effective_bud_rule(formulation)
        every_lot = cleaned + [lot for item in made for lot in item.lots]
        bud = usp_beyond_use_date(
            rule=rule, compounded_on=compounded_on, lot_expiries=[item.expires for item in every_lot]
        )
        # Last of the checks, as it counts the stock down: what was refused before takes nothing.
        taken = stock_use(every_lot, on=compounded_on, field="lots")
        stock_of = dict(zip(map(id, every_lot), taken, strict=True))
        batch = CompoundingRecord.objects.create(
            prescription=prescription,
            fill=Fill.objects.filter(prescription=prescription, number=prescription.fill_number).first(),
            master_formulation=formulation,
            compounded_by=actor,
            compounded_at=when,
            quantity_made=quantity_made,
            bud_rule=rule,
            beyond_use_date=bud,
            storage=formulation.storage[:120],
            quality_checks=(quality_checks or "").strip(),
            deviations=(deviations or "").strip(),
        )
        IngredientLot.objects.bulk_create(
            IngredientLot(
                record=batch,
                ingredient=item.ingredient,
                manufacturer=item.manufacturer,
                lot=item.lot,
                expires=item.expires,
                quantity_used=item.quantity_used,
                stock_lot=stock_of[id(item)],
            )
            for item in cleaned
        )
        for item in made:
            container_create(batch, item, reference=prescription.reference, stock_of=stock_of)
        prescription.beyond_use_date = bud
        decided.update(beyond_use_date=bud.isoformat(), bud_rule=rule, record_id=batch.pk)

    return transition(
        prescription_id=prescription_id, action=Action.RECORD_COMPOUNDING, actor=actor, details=decided, before=record
    )


def container_create(
    batch: CompoundingRecord, made: MadeContainer, *, reference: str, stock_of: Mapping[int, StockLot | None]
) -> CompoundedContainer:
    container, calc, given = made.container, made.calc, made.given
    row = CompoundedContainer.objects.create(
        record=batch,
        number=container.number,
        code=container_code(reference, batch.pk, container.number),
        unit=container.unit,
        strength_mg=container.strength_mg,
        concentration=container.concentration,
        first_day=container.first_day,
        last_day=container.last_day,
        entries=[
            {**entry.as_json(), "first_day": entry.first_day, "units_per_dose": entry.units_per_dose}
            for entry in container.entries
        ],
        quantity_made=container.quantity,
        naltrexone_needed_mg=calc.naltrexone_mg,
        filler_needed_mg=calc.filler_mg,
        target_fill_mg=calc.target_fill_mg,
        salt_factor=made.formula.salt_factor,
        overage_percent=made.formula.overage_percent,
        tolerance_percent=calc.tolerance_percent,
        naltrexone_weighed_mg=given.naltrexone_mg,
        capsule_weights_mg=[format_mg(weight) for weight in given.capsule_weights_mg],
    )
    IngredientLot.objects.bulk_create(
        IngredientLot(record=batch, container=row, ingredient=lot.ingredient, manufacturer=lot.manufacturer,
                      lot=lot.lot, expires=lot.expires, quantity_used=lot.quantity_used, stock_lot=stock_of[id(lot)])
        for lot in made.lots
    )  # fmt: skip
    return row


def container_code(reference: str, record_id: int, number: int) -> str:
    """What a container's barcode says: the order, the batch and the container ("RX-7K2M9QX-12-1")."""
    return f"{reference}-{record_id}-{number}"


def latest_record(prescription: Prescription) -> CompoundingRecord | None:
    return (
        CompoundingRecord.objects.select_related(
            "master_formulation__dosage_form", "compounded_by", "checked_by", "batch"
        )
        .prefetch_related("lots", "containers")
        .filter(prescription=prescription)
        .order_by("-compounded_at", "-id")
        .first()
    )


# Master formulation records -------------------------------------------------------------------

FORMULATION_FIELDS = (
    "name", "strength_mg", "filler", "aqueous", "preserved", "storage", "equipment", "steps",
    "quality_checks", "container", "bud_rule", "bud_reference", "active",
    "salt_factor", "overage_percent", "capsule_fill_mg", "concentration",
)  # fmt: skip
# The worksheet's numbers: (field, lowest allowed, highest allowed, required); a salt factor is
# about 1 (1.107 from base to HCl), an overage a few percent.
FORMULA_LIMITS = (
    ("salt_factor", Decimal("0.5"), Decimal("2"), True),
    ("overage_percent", Decimal(0), Decimal(50), True),
    ("capsule_fill_mg", Decimal("0.01"), Decimal(5000), False),
    ("concentration", Decimal("0.001"), Decimal(1000), False),
)


def _clean_ingredients(ingredients: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    cleaned = []
    for item in ingredients:
        name = str(item.get("name", "")).strip()
        if not name:
            continue
        cleaned.append(
            {"name": name[:120], "quantity": str(item.get("quantity", "")).strip()[:40],
             "unit": str(item.get("unit", "")).strip()[:20]}
        )  # fmt: skip
    if not cleaned:
        raise ValidationError({"ingredients": ["List the ingredients, naltrexone first."]})
    if not any(is_naltrexone(item["name"]) for item in cleaned):
        raise ValidationError({"ingredients": ["A naltrexone formulation lists naltrexone among its ingredients."]})
    return cleaned


@transaction.atomic(durable=True)
def master_formulation_save(
    *,
    actor: User,
    dosage_form_id: int,
    values: Mapping[str, Any],
    ingredients: Sequence[Mapping[str, Any]],
    formulation_id: int | None = None,
) -> MasterFormulation:
    """Create (formulation_id None) or change a master formulation record; pharmacists only.

    The BUD rule is refused when it is longer than USP <795> allows for an aqueous or preserved
    preparation of this dosage form (effective_bud_rule would shorten it anyway).
    """
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist may change master formulation records.")
    dosage_form = DosageForm.objects.filter(pk=dosage_form_id).first()
    if dosage_form is None:
        raise ValidationError({"dosage_form": ["Choose a dosage form of the formulary."]})
    unknown = set(values) - set(FORMULATION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown master formulation fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    rule = values.get("bud_rule")
    if rule not in BudRuleName.values:
        errors["bud_rule"] = ["Choose one of the USP <795> rules."]
    else:
        limit = usp_limit_rule(
            dosage_form=dosage_form.code, aqueous=bool(values.get("aqueous")), preserved=bool(values.get("preserved"))
        )
        rules = bud_rules()
        if rules[rule].days > rules[limit].days:
            errors["bud_rule"] = [
                f"USP <795> allows at most {rules[limit].days} days for this preparation "
                f"({BudRuleName(limit).label}); choose that rule or a shorter one."
            ]
    strength = values.get("strength_mg")
    if strength is not None and Decimal(strength) <= 0:
        errors["strength_mg"] = ["A strength is more than 0 mg; leave it blank for every strength."]
    for number_field, lowest, highest, needed in FORMULA_LIMITS:
        value = values.get(number_field)
        if value is None:
            if needed and number_field in values:
                errors[number_field] = ["This field is required."]
        elif not lowest <= Decimal(value) <= highest:
            errors[number_field] = [f"Give a value from {format_mg(lowest)} to {format_mg(highest)}."]
    for required in ("name", "storage", "steps"):
        if not str(values.get(required) or "").strip():
            errors[required] = ["This field is required."]
    cleaned_ingredients: list[dict[str, str]] = []
    try:
        cleaned_ingredients = _clean_ingredients(ingredients)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    if formulation_id is None:
        formulation = MasterFormulation(dosage_form=dosage_form)
    else:
        found = MasterFormulation.objects.select_for_update().filter(pk=formulation_id).first()
        if found is None:
            raise ValidationError({"formulation": ["No such master formulation."]})
        formulation = found
        formulation.dosage_form = dosage_form
    for field, value in values.items():
        setattr(formulation, field, value.strip() if isinstance(value, str) else value)
    formulation.ingredients = cleaned_ingredients
    formulation.save()
    concentrations_forget()
    return formulation
