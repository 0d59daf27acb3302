"""Two fills racing for a batch's last capsules: one gets them, the other is told too few are left."""

from __future__ import annotations

import pytest

from intake.errors import Conflict
from intake.models import Batch, BatchStatus, CompoundingRecord, PrescriptionStatus
from intake.services.batches import prescription_fill_from_batch
from tests.factories import make_prescription
from tests.simultaneous import at_once
from tests.workflow_helpers import advance, released_batch

S = PrescriptionStatus

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_two_fills_racing_for_the_last_capsules_one_gets_them(prescriber, pharmacist, technician):
    # given: two approved prescriptions of 30 capsules, and a batch with 30 left
    first, second = (
        advance(make_prescription(prescriber, titration=(), patient={"first_name": name}), S.APPROVED,
                pharmacist=pharmacist, technician=technician)
        for name in ("Ada", "Mary")
    )  # fmt: skip
    batch = released_batch(quantity=30)

    # when
    results = at_once(
        *(lambda p=p: prescription_fill_from_batch(prescription_id=p.pk, actor=technician, batch_id=batch.pk)
          for p in (first, second))
    )  # fmt: skip

    # then
    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == 1, results
    # The second waited for the first's lock, then found the batch used up.
    assert isinstance(refused[0], Conflict)
    assert "used up" in str(refused[0])
    again = Batch.objects.get(pk=batch.pk)
    assert (again.units_left, again.status) == (0, BatchStatus.USED_UP)
    assert CompoundingRecord.objects.filter(batch=batch).count() == 1
