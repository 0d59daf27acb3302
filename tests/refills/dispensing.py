"""Helpers for the prescriber's and the API's refill tests: a handed-over prescription, and the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import User
from intake.models import Prescriber, Prescription, RenewalRequest, Requester
from intake.services.refills import renewal_request
from tests.factories import make_prescription
from tests.workflow_helpers import advance

# 75% of a 30-day supply, rounded up (intake/clinical/data/refills.json).
REFILL_AFTER_DAYS = 23


def dispensed(
    prescriber: Prescriber, *, pharmacist: User, technician: User, refills: int = 3, **content: Any
) -> Prescription:
    """A prescription shipped and delivered today: its first fill is handed over."""
    prescription = make_prescription(prescriber, refills=refills, days_supply=30, **content)
    return advance(prescription, "completed", pharmacist=pharmacist, technician=technician)


def days_later(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


def waiting_renewal(prescription: Prescription, *, requester: str = Requester.PATIENT) -> RenewalRequest:
    """A renewal request from the patient, waiting for the prescriber."""
    return renewal_request(prescription_id=prescription.pk, actor=None, requester=requester)
