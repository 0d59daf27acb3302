"""Two people press the same button at the same moment: one wins, the other gets a conflict.

On PostgreSQL the services' row locks (SELECT ... FOR UPDATE, SKIP LOCKED) decide; on SQLite each
transaction takes the write lock at BEGIN, so the second waits and then sees the first's change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from intake.errors import Conflict
from intake.models import Prescription, PrescriptionEvent, PrescriptionStatus
from intake.services.workflow import prescription_approve, prescription_claim, prescription_claim_next
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus

pytestmark = [
    pytest.mark.django_db(transaction=True),
]


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together; each result is a return value or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the result under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_simultaneous_claims_one_wins_one_conflict(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.PENDING_REVIEW, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip

    results = race(
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

    results = race(
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

    results = race(
        lambda: prescription_claim_next(actor=pharmacist),
        lambda: prescription_claim_next(actor=second_pharmacist),
        lambda: prescription_claim_next(actor=technician),
    )

    claimed = [r.pk for r in results if isinstance(r, Prescription)]
    assert sorted(claimed) == sorted([first.pk, second.pk]), results
    assert [r for r in results if not isinstance(r, Prescription)] in ([None], [])  # the third found none (or lost)
    assert Prescription.objects.filter(status=S.IN_REVIEW).count() == 2
