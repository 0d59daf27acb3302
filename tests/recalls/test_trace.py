"""The trace of a lot: every fill's record that used it, directly or through a batch, by page."""

from __future__ import annotations

from django.utils import timezone

from intake.models import Fill, PrescriptionStatus
from intake.selectors_lots import lot_trace_all, lot_trace_count, lot_trace_page
from tests.factories import make_prescription
from tests.recalls.helpers import RECALLED, fill_from_batch, make_batch
from tests.workflow_helpers import advance

S = PrescriptionStatus


def test_direct_uses_whatever_the_case(prescriber, pharmacist, technician):
    shipped = advance(make_prescription(prescriber), S.SHIPPED, pharmacist=pharmacist, technician=technician)
    ready = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)
    advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)

    rows = list(lot_trace_all(RECALLED.lower()))

    assert [(row.prescription, row.reference, row.status) for row in rows] == [
        (shipped.pk, shipped.reference, S.SHIPPED),
        (ready.pk, ready.reference, S.READY),
    ]
    assert rows[0].handed_over_at == Fill.objects.get(prescription=shipped).dispensed_at is not None
    assert rows[1].handed_over_at is None
    assert rows[0].as_json().keys() >= {"prescription", "reference", "status", "handed_over_at"}
    assert lot_trace_count(f"  {RECALLED.lower()} ") == 2


def test_fills_through_a_batch(prescriber, pharmacist, second_pharmacist, technician):
    batch = make_batch(made_by=pharmacist, released_by=second_pharmacist, lot="NTX-B77")
    first = advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
    second = advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
    one = fill_from_batch(first, batch, by=technician)
    two = fill_from_batch(second, batch, by=technician)
    Fill.objects.filter(prescription=first).update(dispensed_at=timezone.now())

    rows = list(lot_trace_all("ntx-b77"))

    assert [(row.record, row.prescription, row.batch) for row in rows] == [
        (one.pk, first.pk, batch.number),
        (two.pk, second.pk, batch.number),
    ]
    assert rows[0].handed_over_at is not None
    assert lot_trace_count("NTX-B77") == 2
    # the batch's other lot reaches them too; a lot in no batch and no record reaches nothing
    assert lot_trace_count("mcc-b1") == 2
    assert lot_trace_count("NOPE") == 0
    assert list(lot_trace_all("NOPE")) == []


def test_pages_follow_the_cursor(prescriber, pharmacist, second_pharmacist, technician):
    batch = make_batch(made_by=pharmacist, released_by=second_pharmacist, lot=RECALLED)
    direct = [
        advance(make_prescription(prescriber), S.FINAL_CHECK, pharmacist=pharmacist, technician=technician)
        for _ in range(2)
    ]
    through = advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
    fill_from_batch(through, batch, by=technician)

    first = lot_trace_page(RECALLED, size=2)
    second = lot_trace_page(RECALLED, after=first.next_after or 0, size=2)

    assert [row.prescription for row in first.rows] == [p.pk for p in direct]
    assert first.next_after == first.rows[-1].record
    assert [row.prescription for row in second.rows] == [through.pk]
    assert second.next_after is None
