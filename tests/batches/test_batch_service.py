"""Batches: made, released by another pharmacist, and drawn on by fills (intake.services.batches)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Conflict, Forbidden
from intake.models import (
    Action,
    Batch,
    BatchLot,
    BatchStatus,
    CompoundingRecord,
    MasterFormulation,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
)
from intake.services import workflow
from intake.services.batches import batch_make, batch_release, batches_for, prescription_fill_from_batch
from intake.services.lots import LotInput
from tests.factories import make_prescription
from tests.workflow_helpers import advance, capsule_formulation, default_lots, released_batch

S = PrescriptionStatus
NOTE = "Record, lots and weights checked against the formula."


@pytest.fixture
def approved(prescriber, pharmacist, technician) -> Prescription:
    """30 × 4.5 mg capsules, no titration, approved."""
    return advance(make_prescription(prescriber, titration=()), S.APPROVED, pharmacist=pharmacist,
                   technician=technician)  # fmt: skip


def _state(prescription: Prescription, batch: Batch) -> tuple:
    fresh = Prescription.objects.get(pk=prescription.pk)
    again = Batch.objects.get(pk=batch.pk)
    events = PrescriptionEvent.objects.filter(prescription=prescription).count()
    return (fresh.status, fresh.beyond_use_date, fresh.compounding_records.count(), events, again.units_left,
            again.status)  # fmt: skip


# --- making a batch --------------------------------------------------------------------------


def test_a_batch_gets_its_lots_number_and_the_usp_beyond_use_date(technician):
    batch = batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                       quantity_made=500, lots=default_lots(), quality_checks="Weights within 10%")  # fmt: skip

    assert batch.status == BatchStatus.MADE
    assert batch.units_left == batch.quantity_made == 500
    assert batch.number.startswith("B") and str(batch.pk) in batch.number
    assert batch.strength_mg == Decimal("4.5")
    assert batch.unit == "capsule"
    # Capsules (solid, non-aqueous): 180 days, well inside the lots' expiries.
    assert batch.beyond_use_date == timezone.localdate() + timedelta(days=180)
    assert sorted(BatchLot.objects.filter(batch=batch).values_list("lot", flat=True)) == ["MCC-7781", "NTX-24001"]


def test_the_earliest_lot_expiry_caps_the_beyond_use_date(technician):
    soon = timezone.localdate() + timedelta(days=20)
    lots = [LotInput(ingredient="Naltrexone HCl USP", lot="NTX-SOON", expires=soon)]

    batch = batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="3",
                       quantity_made=100, lots=lots)  # fmt: skip

    assert batch.beyond_use_date == soon


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lots": []}, "lots"),
        (
            {
                "lots": [
                    LotInput(
                        ingredient="Naltrexone HCl USP", lot="OLD-1", expires=timezone.localdate() - timedelta(days=1)
                    )
                ]
            },
            "lots",
        ),  # fmt: skip
        (
            {
                "lots": [
                    LotInput(
                        ingredient="Microcrystalline cellulose",
                        lot="MCC-1",
                        expires=timezone.localdate() + timedelta(days=99),
                    )
                ]
            },
            "lots",
        ),  # fmt: skip
        ({"quantity_made": 0}, "quantity_made"),
        ({"quantity_made": 1_000_000}, "quantity_made"),
        ({"strength_mg": "0"}, "strength_mg"),
        ({"strength_mg": "lots"}, "strength_mg"),
        ({"strength_mg": "4.555"}, "strength_mg"),
        ({"master_formulation_id": 999_999}, "master_formulation"),
        ({"number": "B 1; drop"}, "number"),
        ({"compounded_at": timezone.now() + timedelta(days=1)}, "compounded_at"),
    ],
)
def test_a_batch_that_cannot_be_recorded_is_refused_on_its_field_and_nothing_is_saved(technician, change, field):
    values = {"master_formulation_id": capsule_formulation().pk, "strength_mg": "4.5", "quantity_made": 500,
              "lots": default_lots(), **change}  # fmt: skip

    with pytest.raises(ValidationError) as caught:
        batch_make(actor=technician, **values)

    assert field in caught.value.message_dict
    assert not Batch.objects.exists()
    assert not BatchLot.objects.exists()


def test_a_measured_form_is_made_for_each_prescription_not_in_batches(technician):
    capsule_formulation()
    liquid = MasterFormulation.objects.filter(dosage_form__code="oral_liquid").first()

    with pytest.raises(ValidationError, match="capsules") as caught:
        batch_make(actor=technician, master_formulation_id=liquid.pk, strength_mg="1", quantity_made=100,
                   lots=default_lots())  # fmt: skip

    assert "master_formulation" in caught.value.message_dict
    assert not Batch.objects.exists()


def test_a_given_batch_number_is_kept_and_may_not_repeat(technician):
    first = batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                       quantity_made=10, lots=default_lots(), number="LDN-45-0001")  # fmt: skip
    assert first.number == "LDN-45-0001"

    with pytest.raises(ValidationError) as caught:
        batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                   quantity_made=10, lots=default_lots(), number="ldn-45-0001")  # fmt: skip
    assert "number" in caught.value.message_dict
    assert Batch.objects.count() == 1


def test_only_pharmacy_staff_make_batches(prescriber):
    with pytest.raises(Forbidden):
        batch_make(actor=prescriber.user, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                   quantity_made=10, lots=default_lots())  # fmt: skip
    assert not Batch.objects.exists()


# --- releasing it ----------------------------------------------------------------------------


def test_another_pharmacist_releases_the_batch_with_a_note(pharmacist, second_pharmacist):
    batch = batch_make(actor=pharmacist, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                       quantity_made=50, lots=default_lots())  # fmt: skip

    released = batch_release(batch_id=batch.pk, actor=second_pharmacist, note=NOTE)

    assert released.status == BatchStatus.RELEASED
    assert (released.released_by, released.release_note) == (second_pharmacist, NOTE)
    assert released.released_at is not None


def test_the_pharmacist_who_made_it_may_not_release_it(pharmacist):
    batch = batch_make(actor=pharmacist, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                       quantity_made=50, lots=default_lots())  # fmt: skip

    with pytest.raises(Forbidden, match="another pharmacist"):
        batch_release(batch_id=batch.pk, actor=pharmacist, note=NOTE)

    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.MADE


def test_a_technician_may_not_release_and_a_note_must_say_something(technician, pharmacist):
    batch = batch_make(actor=technician, master_formulation_id=capsule_formulation().pk, strength_mg="4.5",
                       quantity_made=50, lots=default_lots())  # fmt: skip

    with pytest.raises(Forbidden):
        batch_release(batch_id=batch.pk, actor=technician, note=NOTE)
    with pytest.raises(ValidationError) as caught:
        batch_release(batch_id=batch.pk, actor=pharmacist, note="ok")
    assert "note" in caught.value.message_dict
    assert Batch.objects.get(pk=batch.pk).status == BatchStatus.MADE


def test_a_released_batch_is_not_released_twice(pharmacist, second_pharmacist, technician):
    batch = released_batch(compounder=technician, checker=pharmacist)

    with pytest.raises(Conflict):
        batch_release(batch_id=batch.pk, actor=second_pharmacist, note=NOTE)


# --- filling a prescription from it ----------------------------------------------------------


def test_a_fill_takes_its_capsules_and_beyond_use_date_from_the_batch(approved, technician, pharmacist):
    batch = released_batch()

    result = prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    assert result.status == S.FINAL_CHECK
    assert result.beyond_use_date == batch.beyond_use_date
    record = CompoundingRecord.objects.get(prescription=approved)
    assert (record.batch, record.quantity_made, record.beyond_use_date) == (batch, 30, batch.beyond_use_date)
    assert record.containers.count() == 1
    assert Batch.objects.get(pk=batch.pk).units_left == 470
    event = PrescriptionEvent.objects.filter(prescription=approved).latest("id")
    assert (event.action, event.to_status, event.details["batch"]) == (Action.FILL_FROM_BATCH, S.FINAL_CHECK,
                                                                        batch.number)  # fmt: skip
    # Checked like any fill, by a pharmacist other than the one who took it from the batch.
    checked = workflow.prescription_final_check(prescription_id=approved.pk, actor=pharmacist)
    assert checked.status == S.READY


def test_a_fill_from_compounding_status_is_allowed_too(approved, technician):
    workflow.prescription_start_compounding(prescription_id=approved.pk, actor=technician)

    result = prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=released_batch().pk)

    assert result.status == S.FINAL_CHECK


def test_the_last_capsules_use_the_batch_up(approved, technician):
    batch = released_batch(quantity=30)

    prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    again = Batch.objects.get(pk=batch.pk)
    assert (again.units_left, again.status) == (0, BatchStatus.USED_UP)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"strength_mg": Decimal("3")}, "3 mg"),
        ({"dosage_form": "oral_liquid", "quantity": 30}, "oral liquid"),
        ({}, "titration"),
    ],
)
def test_a_batch_that_does_not_match_is_refused_on_the_batch_field(
    prescriber, pharmacist, technician, content, message
):
    steps = {} if not content else {"titration": ()}
    prescription = advance(make_prescription(prescriber, **steps, **content), S.APPROVED, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip
    batch = released_batch()
    before = _state(prescription, batch)

    with pytest.raises(ValidationError, match=message) as caught:
        prescription_fill_from_batch(prescription_id=prescription.pk, actor=technician, batch_id=batch.pk)

    assert list(caught.value.message_dict) == ["batch"]
    assert _state(prescription, batch) == before


def test_too_few_capsules_left_is_refused(approved, technician):
    batch = released_batch(quantity=29)
    before = _state(approved, batch)

    with pytest.raises(ValidationError, match="29 capsules left"):
        prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    assert _state(approved, batch) == before


def test_a_batch_of_another_formulation_is_refused(approved, technician, pharmacist):
    batch = released_batch()
    other = MasterFormulation.objects.get(pk=batch.master_formulation_id)
    other.pk = None
    other.strength_mg = Decimal("3")
    other.save()
    Batch.objects.filter(pk=batch.pk).update(master_formulation=other)
    before = _state(approved, batch)

    with pytest.raises(ValidationError, match="master formulation"):
        prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    assert _state(approved, batch) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": BatchStatus.MADE, "released_by": None, "released_at": None}, "not released"),
        ({"status": BatchStatus.QUARANTINED}, "quarantined"),
        ({"status": BatchStatus.USED_UP}, "used up"),
        ({"beyond_use_date": timezone.localdate() - timedelta(days=1)}, "beyond-use date"),
    ],
)
def test_a_batch_in_the_wrong_state_is_a_conflict(approved, technician, change, message):
    batch = released_batch()
    Batch.objects.filter(pk=batch.pk).update(**change)
    before = _state(approved, batch)

    with pytest.raises(Conflict, match=message):
        prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    assert _state(approved, batch) == before


def test_an_unknown_batch_is_a_field_error(approved, technician):
    with pytest.raises(ValidationError) as caught:
        prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=987_654)
    assert "batch" in caught.value.message_dict
    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED


def test_the_compounding_page_offers_matching_batches_with_their_problems(approved, prescriber, pharmacist,
                                                                          technician):  # fmt: skip
    good = released_batch()
    short = released_batch(quantity=10)
    released_batch(strength_mg="3")  # another strength: not offered

    offered = dict(batches_for(approved))

    assert set(offered) == {good, short}
    assert offered[good] == ""
    assert "10 capsules left" in offered[short]
