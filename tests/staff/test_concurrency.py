"""Two people press the same button at the same moment: one wins, the other gets a conflict.

On PostgreSQL the services' row locks (SELECT ... FOR UPDATE, SKIP LOCKED) decide; on SQLite each
transaction takes the write lock at BEGIN, so the second waits and then sees the first's change.
"""

from __future__ import annotations

import pytest

from intake.errors import Conflict
from intake.models import Prescription, PrescriptionEvent, PrescriptionStatus
from intake.services.workflow import prescription_approve, prescription_claim, prescription_claim_next
from tests.factories import make_prescription
from tests.simultaneous import at_once
from tests.workflow_helpers import advance

S = PrescriptionStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def test_two_simultaneous_claims_one_wins_one_conflict(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip

    results = at_once(
        lambda: prescription_claim(prescription_id=prescription.pk, actor=pharmacist),
        lambda: prescription_claim(prescription_id=prescription.pk, actor=technician),
    )

    winners = [r for r in results if isinstance(r, Prescription)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert (len(winners), len(conflicts)) == (1, 1), results
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.IN_REVIEW
    assert fresh.claimed_by_id == winners[0].claimed_by_id
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="claim").count() == 1


def test_two_simultaneous_approvals_one_wins_one_conflict(prescriber, pharmacist, second_pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)

    results = at_once(
        lambda: prescription_approve(prescription_id=prescription.pk, actor=pharmacist, override_reasons={}),
        lambda: prescription_approve(prescription_id=prescription.pk, actor=second_pharmacist, override_reasons={}),
    )

    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Prescription"], results
    assert Prescription.objects.get(pk=prescription.pk).status == S.APPROVED
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="approve").count() == 1


def test_next_prescription_never_gives_two_people_the_same_one(prescriber, pharmacist, second_pharmacist, technician):
    first = advance(make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacist, technician=technician)
    second = advance(make_prescription(prescriber, patient={"first_name": "Bo"}), S.PENDING_REVIEW,
                     pharmacist=pharmacist, technician=technician)  # fmt: skip

    results = at_once(
        lambda: prescription_claim_next(actor=pharmacist),
        lambda: prescription_claim_next(actor=second_pharmacist),
        lambda: prescription_claim_next(actor=technician),
    )

    claimed = [r.pk for r in results if isinstance(r, Prescription)]
    assert sorted(claimed) == sorted([first.pk, second.pk]), results
    assert [r for r in results if not isinstance(r, Prescription)] in ([None], [])  # the third found none (or lost)
    assert Prescription.objects.filter(status=S.IN_REVIEW).count() == 2
