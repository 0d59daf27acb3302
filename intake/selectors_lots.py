"""The trace of an ingredient lot: every fill compounded with it, directly or through a batch.

A lot is matched by its number whatever its case (the Upper(lot) indexes on IngredientLot and
BatchLot). A page of the trace is a few index-driven queries whatever the lot's reach: the record
ids after the cursor from each source, then those records' rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Prefetch, Q
from django.db.models.functions import Upper

from intake.errors import NotFound
from intake.models import BatchLot, CompoundingRecord, IngredientLot, Recall, RecallAffected, StockLot

# Rows per page of the trace (the API and the staff page).
TRACE_PAGE = 200
MAX_LOT = 60


@dataclass(frozen=True)
class TraceRow:
    """One fill's compounding record that used the lot."""

    record: int
    prescription: int
    reference: str
    status: str
    handed_over_at: datetime | None
    fill: int | None
    fill_id: int | None
    compounded_at: datetime
    batch: str  # the batch's number when the fill was taken from a batch, else ""
    batch_id: int | None
    patient: str

    def as_json(self) -> dict[str, Any]:
        return {
            "prescription": self.prescription,
            "reference": self.reference,
            "status": self.status,
            "handed_over_at": self.handed_over_at.isoformat() if self.handed_over_at else None,
            "fill": self.fill,
            "record": self.record,
            "compounded_at": self.compounded_at.isoformat(),
            "batch": self.batch or None,
        }


@dataclass(frozen=True)
class TracePage:
    rows: list[TraceRow]
    next_after: int | None  # the cursor of the next page; None on the last


def lot_key(lot: str) -> str:
    """A lot number as the trace and the quarantine compare it."""
    return (lot or "").strip().upper()


def _batches_with(lot: str) -> list[int]:
    # A lot goes into a handful of batches: their ids, then their fills through the batch_id index.
    return list(
        BatchLot.objects.annotate(number=Upper("lot")).filter(number=lot_key(lot)).values_list("batch_id", flat=True)
    )


def _direct(lot: str) -> Any:
    return IngredientLot.objects.annotate(number=Upper("lot")).filter(number=lot_key(lot))


def lot_trace_page(lot: str, *, after: int = 0, size: int = TRACE_PAGE) -> TracePage:
    """The records after record id `after` that used the lot, by record id: at most `size` rows."""
    batches = _batches_with(lot)
    direct = list(
        _direct(lot)
        .filter(record_id__gt=after)
        .order_by("record_id")
        .values_list("record_id", flat=True)
        .distinct()[: size + 1]
    )
    through_batches = (
        list(
            CompoundingRecord.objects.filter(batch_id__in=batches, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: size + 1]
        )
        if batches
        else []
    )
    ids = sorted(set(direct) | set(through_batches))
    more = len(ids) > size
    ids = ids[:size]
    rows = _rows(ids)
    return TracePage(rows=rows, next_after=ids[-1] if more and ids else None)


def lot_trace_count(lot: str) -> int:
    """How many fills' records used the lot (one query)."""
    batches = _batches_with(lot)
    reached = Q(pk__in=_direct(lot).values("record_id"))
    if batches:
        reached |= Q(batch_id__in=batches)
    return CompoundingRecord.objects.filter(reached).count()


def lot_trace_all(lot: str, *, size: int = TRACE_PAGE) -> Iterator[TraceRow]:
    """Every row of the trace, a page at a time (the export, a recall)."""
    after = 0
    while True:
        page = lot_trace_page(lot, after=after, size=size)
        yield from page.rows
        if page.next_after is None:
            return
        after = page.next_after


def _rows(ids: list[int]) -> list[TraceRow]:
    if not ids:
        return []
    values = (
        CompoundingRecord.objects.filter(pk__in=ids)
        .order_by("pk")
        .values(
            "pk", "prescription_id", "prescription__reference", "prescription__status", "fill__status",
            "fill__dispensed_at", "fill__number", "fill_id", "compounded_at", "batch_id", "batch__number",
            "prescription__patient__first_name", "prescription__patient__last_name",
        )
    )  # fmt: skip
    return [
        TraceRow(
            record=row["pk"],
            prescription=row["prescription_id"],
            reference=row["prescription__reference"],
            # The fill's own status: a refill under way does not make the earlier, handed-over fill "compounding".
            status=row["fill__status"] or row["prescription__status"],
            handed_over_at=row["fill__dispensed_at"],
            fill=row["fill__number"],
            fill_id=row["fill_id"],
            compounded_at=row["compounded_at"],
            batch=row["batch__number"] or "",
            batch_id=row["batch_id"],
            patient=f"{row['prescription__patient__first_name']} {row['prescription__patient__last_name']}".strip(),
        )
        for row in values
    ]


@dataclass(frozen=True)
class LotAsRecorded:
    lot: str  # the number as first written
    ingredient: str  # "" when the lot number names more than one ingredient


def lot_as_recorded(lot: str) -> LotAsRecorded | None:
    """A lot number as first written on a fill's record, a batch or a received stock lot (in that
    order), with its ingredient: what a recall of a typed lot starts from. None when none has it."""
    key = lot_key(lot)
    if not key:
        return None
    written: list[tuple[str, str]] = []
    for model in (IngredientLot, BatchLot, StockLot):
        rows = model.objects.annotate(number=Upper("lot")).filter(number=key)
        written += [(row["lot"], row["ingredient"]) for row in rows.order_by("pk").values("lot", "ingredient")[:50]]
    if not written:
        return None
    number, ingredient = written[0]
    same = len({name.strip().upper() for _, name in written}) == 1
    return LotAsRecorded(lot=number, ingredient=ingredient if same else "")


def recalls_listed(*, limit: int = 200) -> list[Recall]:
    """The newest recalls, open ones first, with how many fills each reached."""
    return list(
        Recall.objects.select_related("opened_by", "closed_by")
        .annotate(reached=Count("affected"))
        .order_by(F("closed_at").desc(nulls_first=True), "-opened_at", "-id")[:limit]
    )


def recall_read(recall_id: int | str) -> Recall:
    """One recall with the fills it reached; NotFound for an unknown id."""
    try:
        pk = int(recall_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    affected = RecallAffected.objects.select_related("prescription__patient", "fill", "batch").order_by("id")
    recall = (
        Recall.objects.select_related("opened_by", "closed_by")
        .prefetch_related(Prefetch("affected", queryset=affected))
        .filter(pk=pk)
        .first()
    )
    if recall is None:
        raise NotFound()
    return recall
