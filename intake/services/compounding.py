"""Compounding records: the batch, its ingredient lots and its beyond-use date; master formulations."""

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
from intake.errors import Forbidden
from intake.models import (
    Action,
    BudRuleName,
    CompoundingRecord,
    DosageForm,
    DosageFormCode,
    Fill,
    IngredientLot,
    MasterFormulation,
    Prescription,
)
from intake.services.workflow import transition

MAX_LOTS = 20
MAX_QUANTITY_MADE = 100_000
# A clock a few minutes fast on a workstation is not a record from the future.
CLOCK_SKEW = timedelta(minutes=10)
# Dosage forms USP <795> counts as liquids (the non-aqueous oral liquid row applies to them).
LIQUID_FORMS = frozenset({DosageFormCode.ORAL_LIQUID, DosageFormCode.SUBLINGUAL_DROPS})


@dataclass(frozen=True)
class LotInput:
    ingredient: str
    lot: str
    expires: date
    manufacturer: str = ""
    quantity_used: str = ""


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


def _clean_lots(lots: Sequence[LotInput], compounded_on: date) -> list[LotInput]:
    if not lots:
        raise ValidationError({"lots": ["Record at least one ingredient lot, the naltrexone one included."]})
    if len(lots) > MAX_LOTS:
        raise ValidationError({"lots": [f"Record at most {MAX_LOTS} ingredient lots."]})
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
        raise ValidationError({"lots": problems})
    try:
        check_lots_usable(lot_expiries=[item.expires for item in cleaned], compounded_on=compounded_on)
    except ExpiredLotError as exc:
        expired = [item for item in cleaned if item.expires in exc.expired]
        raise ValidationError(
            {
                "lots": [
                    f"{item.ingredient} lot {item.lot} expired on {item.expires.isoformat()}; it cannot be used."
                    for item in expired
                ]
            }
        ) from None
    if not any(is_naltrexone(item.ingredient) for item in cleaned):
        raise ValidationError({"lots": ["Record the naltrexone lot used."]})
    return cleaned


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
) -> Prescription:
    """Record the batch made for a prescription in compounding and move it to the final check.

    The beyond-use date is the master formulation's USP <795> rule counted from the day of
    compounding, capped by the earliest expiry of the lots used; an expired lot is refused.
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
        cleaned = _clean_lots(lots, compounded_on)
        formulation = formulation_for(prescription, master_formulation_id)
        rule = effective_bud_rule(formulation)
        bud = usp_beyond_use_date(
            rule=rule, compounded_on=compounded_on, lot_expiries=[item.expires for item in cleaned]
        )
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
            )
            for item in cleaned
        )
        prescription.beyond_use_date = bud
        decided.update(beyond_use_date=bud.isoformat(), bud_rule=rule, record_id=batch.pk)

    return transition(
        prescription_id=prescription_id, action=Action.RECORD_COMPOUNDING, actor=actor, details=decided, before=record
    )


def latest_record(prescription: Prescription) -> CompoundingRecord | None:
    return (
        CompoundingRecord.objects.select_related("master_formulation__dosage_form", "compounded_by", "checked_by")
        .prefetch_related("lots")
        .filter(prescription=prescription)
        .order_by("-compounded_at", "-id")
        .first()
    )


# Master formulation records -------------------------------------------------------------------

FORMULATION_FIELDS = (
    "name", "strength_mg", "filler", "aqueous", "preserved", "storage", "equipment", "steps",
    "quality_checks", "container", "bud_rule", "bud_reference", "active",
)  # fmt: skip


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
    return formulation
