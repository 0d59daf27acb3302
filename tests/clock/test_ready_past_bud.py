"""A ready fill past its beyond-use date: flagged once, never handed over, compounded again."""

from __future__ import annotations

import pytest
from django.utils import timezone

from intake.errors import Conflict
from intake.models import CompoundingRecord, NotificationEvent, Prescription, PrescriptionEvent, PrescriptionStatus
from intake.services import workflow
from intake.services.compounding import compounding_record_create
from intake.services.timers import pharmacy_clock
from tests.clock.conftest import at_status, sent
from tests.workflow_helpers import default_lots

S = PrescriptionStatus
E = NotificationEvent


@pytest.fixture
def ready(prescriber, pharmacist, technician) -> Prescription:
    return at_status(prescriber, S.READY, pharmacist=pharmacist, technician=technician)


def days_to_bud(prescription: Prescription) -> int:
    assert prescription.beyond_use_date is not None
    return (prescription.beyond_use_date - timezone.localdate()).days


def test_flagged_once_the_day_after_its_bud(clock, ready):
    days = days_to_bud(ready)

    clock.at(days=days)
    on_the_day = pharmacy_clock()
    clock.at(days=days + 1)
    first = pharmacy_clock()
    second = pharmacy_clock()

    assert on_the_day.fired["ready_past_bud"] == []
    assert first.fired["ready_past_bud"] == [ready.pk]
    assert second.fired["ready_past_bud"] == []
    assert [n.audience for n in sent(ready, E.BUD_PASSED)] == ["pharmacy"]
    assert PrescriptionEvent.objects.filter(prescription=ready, action="timer",
                                            message__contains="beyond-use date").count() == 1  # fmt: skip


def test_ship_and_complete_are_refused_and_nothing_changes(clock, ready, technician):
    clock.at(days=days_to_bud(ready) + 1)
    events = PrescriptionEvent.objects.filter(prescription=ready).count()

    with pytest.raises(Conflict) as shipping:
        workflow.prescription_ship(prescription_id=ready.pk, actor=technician, carrier="UPS", tracking_number="1Z9")
    with pytest.raises(Conflict):
        workflow.prescription_complete(prescription_id=ready.pk, actor=technician)

    assert shipping.value.status_code == 409
    assert "beyond-use date" in shipping.value.message
    fresh = Prescription.objects.get(pk=ready.pk)
    assert (fresh.status, fresh.shipped_at, fresh.tracking_number) == (S.READY, None, "")
    assert PrescriptionEvent.objects.filter(prescription=ready).count() == events
    assert fresh.fills.get(number=1).dispensed_at is None


def test_compounded_again_with_a_new_batch_and_a_new_bud(clock, ready, pharmacist, technician):
    old_bud = ready.beyond_use_date
    days = days_to_bud(ready) + 1
    clock.at(days=days)
    pharmacy_clock()

    workflow.prescription_recompound(prescription_id=ready.pk, actor=pharmacist, reason="Past its beyond-use date")
    back = Prescription.objects.get(pk=ready.pk)
    compounding_record_create(prescription_id=ready.pk, actor=technician, lots=default_lots(), quantity_made=30)
    workflow.prescription_final_check(prescription_id=ready.pk, actor=pharmacist)
    clock.at(days=days, hours=2)
    workflow.prescription_complete(prescription_id=ready.pk, actor=technician)

    assert (back.status, back.beyond_use_date) == (S.COMPOUNDING, None)
    batches = list(CompoundingRecord.objects.filter(prescription=ready).order_by("compounded_at"))
    assert len(batches) == 2
    assert batches[1].beyond_use_date > old_bud
    assert batches[0].fill_id == batches[1].fill_id  # the same fill, a new batch
    fill = Prescription.objects.get(pk=ready.pk).fills.get(number=1)
    assert (fill.status, fill.beyond_use_date) == (S.COMPLETED, batches[1].beyond_use_date)
    assert fill.dispensed_at == timezone.now()


def test_a_batch_compounded_again_is_flagged_again_when_it_too_passes_its_bud(clock, ready, pharmacist, technician):
    # given: the first batch passed its date, was flagged and compounded again
    days = days_to_bud(ready) + 1
    clock.at(days=days)
    pharmacy_clock()
    workflow.prescription_recompound(prescription_id=ready.pk, actor=pharmacist, reason="Past its beyond-use date")
    compounding_record_create(prescription_id=ready.pk, actor=technician, lots=default_lots(), quantity_made=30)
    workflow.prescription_final_check(prescription_id=ready.pk, actor=pharmacist)
    second_bud = Prescription.objects.get(pk=ready.pk).beyond_use_date

    # when: the new batch is left on the shelf past its own date
    clock.at(days=days + (second_bud - timezone.localdate()).days + 1)
    run = pharmacy_clock()

    # then: flagged again, once more only
    assert run.fired["ready_past_bud"] == [ready.pk]
    assert len(sent(ready, E.BUD_PASSED)) == 2
    assert pharmacy_clock().fired["ready_past_bud"] == []
