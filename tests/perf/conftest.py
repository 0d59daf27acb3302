"""Helpers for the performance tests: many prescriptions at one status, cheaply."""

from __future__ import annotations

import pytest

from intake.models import Prescription, PrescriptionStatus
from tests.factories import make_prescription

S = PrescriptionStatus


@pytest.fixture
def pending_many(prescriber, pharmacist):
    """pending_many(n): n prescriptions waiting for review, each for its own patient, oldest first."""

    def _make(count: int) -> list[Prescription]:
        made = [make_prescription(prescriber, patient={"first_name": f"Pat{n}", "last_name": f"Queue{n:03d}"})
                for n in range(count)]  # fmt: skip
        # Straight to pending_review with a claim on some: the queue's cost is what is under test here.
        Prescription.objects.filter(pk__in=[rx.pk for rx in made]).update(status=S.PENDING_REVIEW)
        return made

    return _make
