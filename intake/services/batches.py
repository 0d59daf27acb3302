"""Anticipatory batches: made from a master formulation before any prescription names it (500 ×
4.5 mg capsules, say), released by a pharmacist other than its compounder, then drawn on by fills.

A batch's lots go through the same checks as a single compounding (complete, unexpired, not under
recall, taken from received stock); its beyond-use date follows the same USP <795> rules. A fill
drawn from it gets its own compounding record pointing at the batch: the batch's lots and
beyond-use date are the fill's, and the trace of a lot follows it there.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.models import Role, User
from intake.clinical.beyond_use import beyond_use_date as usp_beyond_use_date
from intake.clinical.dispensing import CAPSULE, calculation
from intake.clinical.dosing import format_mg
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import (
    Action,
    Batch,
    BatchLot,
    BatchStatus,
    CompoundingRecord,
    Fill,
    MasterFormulation,
    Prescription,
)
from intake.services.compounding import (
    CLOCK_SKEW,
    MAX_QUANTITY_MADE,
    ContainerInput,
    LotInput,
    MadeContainer,
    container_create,
    effective_bud_rule,
    formulation_for,
    lots_clean,
)
from intake.services.dispensing import fill_plan, formula_of, measured
from intake.services.pricing import refuse_without_price_consent
from intake.services.recalls import lots_quarantine_check
from intake.services.stock import stock_use
from intake.services.workflow import sentence, transition

MAX_TEXT = 2000
MAX_STRENGTH_MG = Decimal("50")


def _strength(value: Any, formulation: MasterFormulation) -> Decimal:
    """The batch's strength: the one given, else the formulation's own; a formulation of one
    strength makes only that strength."""
    if value in (None, ""):
        if formulation.strength_mg is None:
            raise ValidationError({"strength_mg": ["Give the strength of the capsules, in mg."]})
        return Decimal(formulation.strength_mg)
    try:
        strength = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"strength_mg": ["Give the strength as a number of mg, such as 4.5."]}) from None
    if not strength.is_finite() or strength <= 0 or strength > MAX_STRENGTH_MG or strength != round(strength, 2):
        raise ValidationError({"strength_mg": ["A strength is more than 0 and at most 50 mg, with two decimals."]})
    if formulation.strength_mg is not None and strength != Decimal(formulation.strength_mg):
        raise ValidationError(
            {"strength_mg": [f"{formulation.name} is made at {format_mg(formulation.strength_mg)} mg only."]}
        )
    return strength


def _number(value: str) -> str:
    number = (value or "").strip()
    if len(number) > 40 or any(not (char.isalnum() or char in "-_./") for char in number):
        raise ValidationError(
            {"number": ["A batch number is at most 40 letters, digits and - _ . / (leave it blank for the next one)."]}
        )
    if number and Batch.objects.annotate(upper=Upper("number")).filter(upper=number.upper()).exists():
        raise ValidationError({"number": [f"Batch {number} already exists; give another number."]})
    return number


@transaction.atomic(durable=True)
def batch_make(
    *,
    actor: User,
    master_formulation_id: int,
    quantity_made: int,
    lots: Sequence[LotInput],
    strength_mg: Decimal | str | None = None,
    number: str = "",
    compounded_at: datetime | None = None,
    quality_checks: str = "",
    deviations: str = "",
) -> Batch:
    """Record an anticipatory batch (pharmacist or technician); it waits for its release check.

    Capsules only: a liquid, drops or cream is made for each prescription at its own concentration.
    The lots are checked as a single compounding's and taken from stock; the beyond-use date is the
    formulation's USP <795> rule from the day of compounding, capped by the earliest lot expiry.
    """
    if not actor.has_role(Role.PHARMACIST, Role.TECHNICIAN):
        raise Forbidden("Only pharmacy staff make batches.")
    when = compounded_at or timezone.now()
    if timezone.is_naive(when):
        raise ValidationError({"compounded_at": ["Give the time of compounding with its time zone."]})
    if when > timezone.now() + CLOCK_SKEW:
        raise ValidationError({"compounded_at": ["The time of compounding cannot be in the future."]})
    formulation = (
        MasterFormulation.objects.select_related("dosage_form").filter(pk=master_formulation_id, active=True).first()
    )
    if formulation is None:
        raise ValidationError({"master_formulation": ["Choose an active master formulation of the formulary."]})
    if measured(formulation.dosage_form.code):
        raise ValidationError(
            {"master_formulation": [
                "Batches are made of capsules: a liquid, drops or cream is made for each prescription."
            ]}
        )  # fmt: skip
    if isinstance(quantity_made, bool) or not isinstance(quantity_made, int) or quantity_made < 1:
        raise ValidationError({"quantity_made": ["The quantity made is a whole number of capsules, at least 1."]})
    if quantity_made > MAX_QUANTITY_MADE:
        raise ValidationError({"quantity_made": [f"The quantity made is at most {MAX_QUANTITY_MADE:,}."]})
    for field, text in (("quality_checks", quality_checks), ("deviations", deviations)):
        if len(text or "") > MAX_TEXT:
            raise ValidationError({field: ["Keep it to 2,000 characters."]})
    strength = _strength(strength_mg, formulation)
    given_number = _number(number)
    compounded_on = timezone.localdate(when)
    cleaned = lots_clean(lots, compounded_on)
    taken_from = stock_use(cleaned, on=compounded_on, field="lots")
    rule = effective_bud_rule(formulation)
    bud = usp_beyond_use_date(rule=rule, compounded_on=compounded_on, lot_expiries=[lot.expires for lot in cleaned])
    batch = Batch(
        # A placeholder until the row has its id: the next number is the id, unique without a race.
        number=given_number or f"pending-{secrets.token_hex(8)}",
        master_formulation=formulation,
        strength_mg=strength,
        unit=CAPSULE,
        quantity_made=quantity_made,
        units_left=quantity_made,
        compounded_by=actor,
        compounded_at=when,
        bud_rule=rule,
        beyond_use_date=bud,
        storage=formulation.storage[:120],
        quality_checks=(quality_checks or "").strip(),
        deviations=(deviations or "").strip(),
        status=BatchStatus.MADE,
    )
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        # The same number given at the same moment by someone else (checked above, but not locked).
        raise ValidationError({"number": [f"Batch {given_number} already exists; give another number."]}) from None
    if not given_number:
        batch.number = f"B{compounded_on:%y%m%d}-{batch.pk}"
        batch.save(update_fields=["number"])
    BatchLot.objects.bulk_create(
        BatchLot(batch=batch, ingredient=lot.ingredient, manufacturer=lot.manufacturer, lot=lot.lot,
                 expires=lot.expires, quantity_used=lot.quantity_used, stock_lot=stock_lot)
        for lot, stock_lot in zip(cleaned, taken_from, strict=True)
    )  # fmt: skip
    return batch


def _lock_batch(batch_id: int) -> Batch:
    batch = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("master_formulation__dosage_form")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        raise NotFound("No such batch.")
    return batch


@transaction.atomic(durable=True)
def batch_release(*, batch_id: int, actor: User, note: str) -> Batch:
    """A pharmacist other than the compounder checks the batch's record and releases it for fills."""
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist releases a batch.")
    batch = _lock_batch(batch_id)
    if batch.compounded_by_id == actor.pk:
        raise Forbidden("You made this batch: another pharmacist must check and release it.")
    if batch.status != BatchStatus.MADE:
        raise Conflict(f"Batch {batch.number} is {BatchStatus(batch.status).label.lower()}: it cannot be released.")
    if batch.beyond_use_date < timezone.localdate():
        raise Conflict(
            f"Batch {batch.number} passed its beyond-use date ({batch.beyond_use_date:%m/%d/%Y}): destroy it."
        )
    text = sentence(note, "note", "what you checked on the batch's record")
    batch.status = BatchStatus.RELEASED
    batch.released_by = actor
    batch.released_at = timezone.now()
    batch.release_note = text
    batch.save()
    return batch


def refuse_unusable_batch(batch: Batch, today: Any) -> None:
    """409 for a batch no fill may take from: not released, quarantined, used up, or past its BUD."""
    if batch.status == BatchStatus.MADE:
        raise Conflict(f"Batch {batch.number} is not released yet: another pharmacist must check it first.")
    if batch.status == BatchStatus.QUARANTINED:
        raise Conflict(f"Batch {batch.number} is quarantined (a lot in it was recalled): it may not be used.")
    if batch.status == BatchStatus.USED_UP:
        raise Conflict(f"Batch {batch.number} is used up.")
    if batch.beyond_use_date < today:
        raise Conflict(
            f"Batch {batch.number} passed its beyond-use date ({batch.beyond_use_date:%m/%d/%Y}): destroy what is left."
        )


def batch_mismatch(batch: Batch, prescription: Prescription) -> str:
    """Why this batch cannot fill this prescription's current fill ('' when it can), in words."""
    formulation = batch.master_formulation
    if formulation.dosage_form.code != prescription.dosage_form:
        return (
            f"Batch {batch.number} is {formulation.dosage_form.name.lower()}; this prescription is "
            f"{prescription.get_dosage_form_display().lower()}."
        )
    if Decimal(batch.strength_mg) != Decimal(prescription.strength_mg):
        return (
            f"Batch {batch.number} is {format_mg(batch.strength_mg)} mg; this prescription is "
            f"{format_mg(prescription.strength_mg)} mg."
        )
    if not formulation.active or formulation.strength_mg not in (None, batch.strength_mg):
        return f"Batch {batch.number}'s master formulation is not one this prescription may be made with."
    plan = fill_plan(prescription, formulation=formulation)
    if plan.titrated and not plan.maintenance_only:
        return (
            "This fill is a titration: its strengths are made for it, one container each. "
            "Compound it; a batch fills a single strength only."
        )
    if plan.unit != CAPSULE or len(plan.containers) != 1:
        return "This fill's plan is not one container of capsules of one strength; compound it."
    if plan.total_quantity > batch.units_left:
        return f"Batch {batch.number} has {batch.units_left} capsules left; this fill needs {plan.total_quantity}."
    return ""


@transaction.atomic(durable=True)
def prescription_fill_from_batch(*, prescription_id: int, actor: User, batch_id: int) -> Prescription:
    """Fill an approved (or compounding) prescription with capsules of a released batch, instead of
    compounding it alone; it goes to the final check like any compounded fill.

    The fill's record names the batch: its lots and beyond-use date are the batch's. The batch is
    locked after the prescription, so two fills racing for its last capsules are served one after
    the other, the second seeing what the first left.
    """
    decided: dict[str, Any] = {}

    def fill(prescription: Prescription) -> None:
        # After transition()'s role and status checks: a refused actor learns nothing of batches.
        refuse_without_price_consent(prescription)
        batch = (
            Batch.objects.select_for_update(of=("self",))
            .select_related("master_formulation__dosage_form")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None:
            raise ValidationError({"batch": ["No such batch."]})
        refuse_unusable_batch(batch, timezone.localdate())
        # A recall quarantines the batches holding its lot; checked here too, should one be missed.
        lots_quarantine_check(
            [LotInput(ingredient=lot.ingredient, lot=lot.lot, expires=lot.expires, manufacturer=lot.manufacturer)
             for lot in batch.lots.all()],
            field="batch",
        )  # fmt: skip
        problem = batch_mismatch(batch, prescription)
        if problem:
            raise ValidationError({"batch": [problem]})
        formulation = formulation_for(prescription, batch.master_formulation_id)
        plan = fill_plan(prescription, formulation=formulation)
        (container,) = plan.containers
        needed = plan.total_quantity
        now = timezone.now()
        record = CompoundingRecord.objects.create(
            prescription=prescription,
            fill=Fill.objects.filter(prescription=prescription, number=prescription.fill_number).first(),
            master_formulation=formulation,
            compounded_by=actor,
            compounded_at=now,
            quantity_made=needed,
            bud_rule=batch.bud_rule,
            beyond_use_date=batch.beyond_use_date,
            storage=batch.storage,
            quality_checks=f"Taken from batch {batch.number}, released by its checker.",
            batch=batch,
        )
        formula = formula_of(formulation)
        made = MadeContainer(
            container=container, formula=formula, calc=calculation(container, formula), given=ContainerInput(), lots=[]
        )
        container_create(record, made, reference=prescription.reference, stock_of={})
        batch.units_left -= needed
        if batch.units_left == 0:
            batch.status = BatchStatus.USED_UP
        batch.save()
        prescription.beyond_use_date = batch.beyond_use_date
        decided.update(
            batch=batch.number, batch_id=batch.pk, units=needed, record_id=record.pk,
            beyond_use_date=batch.beyond_use_date.isoformat(),
        )  # fmt: skip

    return transition(
        prescription_id=prescription_id, action=Action.FILL_FROM_BATCH, actor=actor, details=decided, before=fill
    )


def batches_for(prescription: Prescription) -> list[tuple[Batch, str]]:
    """The released batches of the prescription's dosage form and strength, each with why it cannot
    fill it ('' when it can): what the compounding page offers."""
    today = timezone.localdate()
    candidates = (
        Batch.objects.select_related("master_formulation__dosage_form")
        .filter(
            status=BatchStatus.RELEASED,
            strength_mg=prescription.strength_mg,
            master_formulation__dosage_form__code=prescription.dosage_form,
            beyond_use_date__gte=today,
        )
        .order_by("beyond_use_date", "id")
    )
    return [(batch, batch_mismatch(batch, prescription)) for batch in candidates[:20]]


# Reads ----------------------------------------------------------------------------------------


def batches_listed(*, status: str = "") -> QuerySet[Batch]:
    """The batches, newest first, with what the list shows (a status filter when given)."""
    batches = Batch.objects.select_related("master_formulation__dosage_form", "compounded_by", "released_by")
    if status:
        batches = batches.filter(status=status)
    return batches.prefetch_related("lots").order_by("-compounded_at", "-id")


def batch_detail(batch_id: int | str) -> Batch:
    """One batch with its lots and the fills drawn from it; NotFound when there is none."""
    if not (str(batch_id).isascii() and str(batch_id).isdigit() and len(str(batch_id)) <= 18):
        raise NotFound("No such batch.")
    fills = CompoundingRecord.objects.select_related("prescription", "compounded_by").order_by("compounded_at", "id")
    batch = batches_listed().prefetch_related(Prefetch("fill_records", queryset=fills)).filter(pk=int(batch_id)).first()
    if batch is None:
        raise NotFound("No such batch.")
    return batch
