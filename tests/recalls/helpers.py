"""Batches and fills drawn from them, built with the models (the batch's own service is not needed
to trace through one), and prescriptions at a given status with their lots."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from intake.models import (
    Batch,
    BatchLot,
    BatchStatus,
    BudRuleName,
    CompoundingRecord,
    Fill,
    MasterFormulation,
    Prescription,
)
from intake.services.formulary import formulary_install_defaults

RECALLED = "NTX-24001"  # the naltrexone lot of tests.workflow_helpers.default_lots


def make_batch(*, made_by: User, released_by: User | None, lot: str = "NTX-B77", number: str = "B-0001",
               status: str = BatchStatus.RELEASED) -> Batch:  # fmt: skip
    formulary_install_defaults()
    now = timezone.now()
    batch = Batch.objects.create(
        number=number, master_formulation=MasterFormulation.objects.filter(dosage_form__code="capsule").first(),
        strength_mg=Decimal("4.5"), unit="capsule", quantity_made=500, units_left=470, compounded_by=made_by,
        compounded_at=now - timedelta(days=2), bud_rule=BudRuleName.choices[-1][0],
        beyond_use_date=timezone.localdate() + timedelta(days=150), storage="Room temperature",
        status=status, released_by=released_by, released_at=now - timedelta(days=1) if released_by else None,
    )  # fmt: skip
    BatchLot.objects.create(batch=batch, ingredient="Naltrexone HCl USP", lot=lot,
                            expires=timezone.localdate() + timedelta(days=300))  # fmt: skip
    BatchLot.objects.create(batch=batch, ingredient="Microcrystalline cellulose NF", lot="MCC-B1",
                            expires=timezone.localdate() + timedelta(days=300))  # fmt: skip
    return batch


def fill_from_batch(prescription: Prescription, batch: Batch, *, by: User) -> CompoundingRecord:
    """The prescription's current fill, given a record taken from the batch (its latest record)."""
    fill = Fill.objects.get(prescription=prescription, number=prescription.fill_number)
    return CompoundingRecord.objects.create(
        prescription=prescription, fill=fill, master_formulation=batch.master_formulation, compounded_by=by,
        compounded_at=timezone.now(), quantity_made=prescription.quantity, bud_rule=batch.bud_rule,
        beyond_use_date=batch.beyond_use_date, storage=batch.storage, batch=batch,
    )  # fmt: skip
