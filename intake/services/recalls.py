"""Recalls of an ingredient lot: the quarantine, and what is done for each prescription it reached.

Opening a recall is one transaction: the recall, a row per fill it reached, each fill not yet handed
over sent back to compounding (its record is void), each patient who has the medicine asked to
contact the pharmacy, the batches holding the lot quarantined, and the audit rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from accounts.models import User
from intake.audit import AuditAction, AuditEntry
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import (
    Action,
    Batch,
    BatchLot,
    BatchStatus,
    CompoundingRecord,
    Fill,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    Recall,
    RecallAffected,
    RecallClass,
    RecallOutcome,
)
from intake.notifications.outbox import notification_record
from intake.selectors_lots import MAX_LOT, TRACE_PAGE, TraceRow, lot_key, lot_trace_all
from intake.services.events import prescription_event_record
from intake.services.workflow import prescription_recall_remake, required_text, sentence

if TYPE_CHECKING:
    from intake.services.lots import LotInput

S = PrescriptionStatus
OBJECT_TYPE = "recall"
# A fill not yet handed over whose current record used the lot: made again.
REMAKE_FROM = frozenset({S.FINAL_CHECK, S.READY})


def open_recalls_of(numbers: Sequence[str]) -> dict[str, Recall]:
    """The open recall of each lot number given (compared without case), keyed by lot_key."""
    keys = {lot_key(number) for number in numbers if number}
    if not keys:
        return {}
    found = Recall.objects.annotate(number=Upper("lot")).filter(number__in=keys, closed_at__isnull=True)
    return {lot_key(recall.lot): recall for recall in found}


def quarantine_message(recall: Recall, lot: str, ingredient: str) -> str:
    opened = timezone.localdate(recall.opened_at).isoformat()
    return (
        f"Lot {lot} of {ingredient or recall.ingredient} is under recall "
        f"(class {recall.recall_class}, opened {opened}): it may not be used."
    )


def lots_quarantine_check(lots: Sequence[LotInput], *, field: str) -> None:
    """Refuse (ValidationError on `field`) a lot under an open recall."""
    recalls = open_recalls_of([item.lot for item in lots])
    problems = [
        quarantine_message(recalls[lot_key(item.lot)], item.lot, item.ingredient)
        for item in lots
        if lot_key(item.lot) in recalls
    ]
    if problems:
        raise ValidationError({field: problems})


def _clean(ingredient: str, lot: str, reason: str, recall_class: str) -> tuple[str, str, str, str]:
    ingredient_text = required_text(ingredient, "ingredient", "the ingredient recalled")
    if len(ingredient_text) > 120:
        raise ValidationError({"ingredient": ["An ingredient is at most 120 characters."]})
    lot_text = required_text(lot, "lot", "the lot number recalled")
    if len(lot_text) > MAX_LOT:
        raise ValidationError({"lot": [f"A lot number is at most {MAX_LOT} characters."]})
    if "\n" in ingredient_text or "\n" in lot_text:
        raise ValidationError({"lot": ["Write the lot number on one line."]})
    # As the supplier's notice words it: "Microbial contamination" says enough.
    reason_text = required_text(reason, "reason", "why the lot is recalled")
    if recall_class not in RecallClass.values:
        raise ValidationError({"recall_class": [f"Choose the recall's class: {', '.join(RecallClass.values)}."]})
    return ingredient_text, lot_text, reason_text, recall_class


@transaction.atomic(durable=True)
def recall_open(
    *, actor: User, ingredient: str, lot: str, reason: str, recall_class: str, entry: AuditEntry | None = None
) -> Recall:
    """Open a recall of a lot (a pharmacist): quarantine it and act for every fill it reached."""
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist opens a recall.")
    ingredient, lot, reason, recall_class = _clean(ingredient, lot, reason, recall_class)
    existing = open_recalls_of([lot]).get(lot_key(lot))
    if existing is not None:
        raise ValidationError({"lot": [f"Lot {existing.lot} is already under an open recall (#{existing.pk})."]})
    try:
        with transaction.atomic():
            recall = Recall.objects.create(
                ingredient=ingredient, lot=lot, recall_class=recall_class, reason=reason, opened_by=actor,
                opened_at=timezone.now(),
            )  # fmt: skip
    except IntegrityError:
        # Two pharmacists opening the same recall at once: the unique index keeps one.
        raise ValidationError({"lot": [f"Lot {lot} is already under an open recall."]}) from None
    if entry is not None:
        entry.record(AuditAction.CREATE, object_type=OBJECT_TYPE, object_id=recall.pk)
    # Batches first: a fill taking from one waits on its row lock and then finds it quarantined,
    # rather than committing after the trace below was read and escaping the recall.
    _quarantine_batches(lot)
    _act_on_all(recall, _reached(lot), actor=actor, entry=entry)
    return recall


def _reached(lot: str) -> list[TraceRow]:
    """One row per fill: its latest record that used the lot."""
    by_fill: dict[tuple[int, int | None], TraceRow] = {}
    for row in lot_trace_all(lot):
        by_fill[(row.prescription, row.fill)] = row  # rows come by record id: the later record wins
    return list(by_fill.values())


def _act_on_all(recall: Recall, rows: list[TraceRow], *, actor: User, entry: AuditEntry | None) -> None:
    """Act for each fill reached, a page of prescriptions locked at a time (in id order, as every
    recall locks them), their hand-over read again under the lock."""
    for start in range(0, len(rows), TRACE_PAGE):
        chunk = rows[start : start + TRACE_PAGE]
        locked = {
            prescription.pk: prescription
            for prescription in Prescription.objects.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk__in={row.prescription for row in chunk})
            .order_by("pk")
        }
        handed_over = dict(
            Fill.objects.filter(pk__in=[row.fill_id for row in chunk if row.fill_id]).values_list("pk", "dispensed_at")
        )
        affected = [
            _act_on(recall, row, prescription=locked[row.prescription],
                    handed_over_at=handed_over.get(row.fill_id) if row.fill_id else None, actor=actor)
            for row in chunk
        ]  # fmt: skip
        RecallAffected.objects.bulk_create(affected)
        if entry is not None:
            for item in affected:
                said = replace(entry, description=f"recall {recall.pk}: {item.outcome}")
                said.record(AuditAction.ACTION, prescription=locked[item.prescription_id])


def _is_latest_record(row: TraceRow) -> bool:
    """Whether the record that used the lot is still the fill's own (not already made again)."""
    records = CompoundingRecord.objects.filter(prescription_id=row.prescription)
    records = records.filter(fill_id=row.fill_id) if row.fill_id else records.filter(fill__isnull=True)
    return records.order_by("-compounded_at", "-pk").values_list("pk", flat=True).first() == row.record


def _act_on(
    recall: Recall, row: TraceRow, *, prescription: Prescription, handed_over_at: datetime | None, actor: User
) -> RecallAffected:
    current_fill = row.fill is None or row.fill == prescription.fill_number
    what = f"{recall.ingredient} lot {recall.lot} was recalled (class {recall.recall_class})"
    details = {"recall": recall.pk, "lot": recall.lot, "record": row.record}
    if handed_over_at is not None:
        outcome = RecallOutcome.PATIENT_TOLD
        prescription_event_record(
            prescription=prescription, action=Action.RECALL_CONTACT, from_status=prescription.status,
            to_status=prescription.status, actor=actor,
            message=f"{what}; the patient is asked to contact the pharmacy.", details={**details, "fill": row.fill},
        )  # fmt: skip
        notification_record(prescription=prescription, event=NotificationEvent.RECALL_CONTACT)
    elif current_fill and prescription.status in REMAKE_FROM and _is_latest_record(row):
        outcome = RecallOutcome.REMADE
        prescription_recall_remake(
            prescription_id=prescription.pk, actor=actor, message=f"{what}; the fill is made again.", details=details
        )
    elif current_fill and prescription.status == S.COMPOUNDING:
        outcome = RecallOutcome.REMADE  # already being made again; its next record cannot name the lot
    else:
        outcome = RecallOutcome.CLOSED
    return RecallAffected(
        recall=recall, prescription=prescription, fill_id=row.fill_id, record_id=row.record,
        batch_id=row.batch_id, handed_over_at=handed_over_at, outcome=outcome,
    )  # fmt: skip


def _quarantine_batches(lot: str) -> None:
    holding = BatchLot.objects.annotate(number=Upper("lot")).filter(number=lot_key(lot)).values("batch_id")
    batches = Batch.objects.select_for_update().filter(
        pk__in=holding, status__in=(BatchStatus.MADE, BatchStatus.RELEASED)
    )
    for batch in batches:
        batch.status = BatchStatus.QUARANTINED
        batch.save(update_fields=["status"])


def _lock_recall(recall_id: int) -> Recall:
    recall = Recall.objects.select_for_update().filter(pk=recall_id).first()
    if recall is None:
        raise NotFound()
    return recall


@transaction.atomic(durable=True)
def recall_close(*, actor: User, recall_id: int, note: str, entry: AuditEntry | None = None) -> Recall:
    """Close a recall (a pharmacist) with a note: the lot may be used again."""
    if not actor.is_pharmacist:
        raise Forbidden("Only a pharmacist closes a recall.")
    recall = _lock_recall(recall_id)
    if not recall.is_open:
        raise Conflict("This recall is already closed.")
    recall.closing_note = sentence(note, "note", "why the recall is closed")
    recall.closed_by = actor
    recall.closed_at = timezone.now()
    recall.save(update_fields=["closing_note", "closed_by", "closed_at"])
    if entry is not None:
        entry.record(AuditAction.UPDATE, object_type=OBJECT_TYPE, object_id=recall.pk)
    return recall


@transaction.atomic(durable=True)
def recall_affected_resolve(
    *, actor: User, recall_id: int, affected_id: int, entry: AuditEntry | None = None
) -> RecallAffected:
    """Mark one patient reached by a recall as resolved: they called the pharmacy back (staff)."""
    if not actor.is_pharmacy_staff:
        raise Forbidden()
    _lock_recall(recall_id)
    affected = (
        RecallAffected.objects.select_for_update(of=("self",)).select_related("prescription")
        .filter(pk=affected_id, recall_id=recall_id).first()
    )  # fmt: skip
    if affected is None:
        raise NotFound()
    if affected.resolved_at is not None:
        raise Conflict("This patient is already marked as resolved.")
    affected.resolved_at = timezone.now()
    affected.save(update_fields=["resolved_at"])
    if entry is not None:
        said = replace(entry, description=f"recall {recall_id}: patient called back")
        said.record(AuditAction.UPDATE, prescription=affected.prescription)
    return affected
