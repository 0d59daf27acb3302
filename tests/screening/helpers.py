"""Prescriptions with flags to verify, for the screening tests of every layer."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from intake.models import Prescriber, Prescription, PrescriptionEvent
from tests.factories import clean_answers, make_prescription
from tests.workflow_helpers import advance

NOTE = "PDMP report checked today: last oxycodone fill eight months ago."


def in_review(
    prescriber: Prescriber, *, pharmacist: User, technician: User, answers: dict[str, Any] | None = None, **content: Any
) -> Prescription:
    """A prescription claimed for review, answered with `answers` (clean unless given)."""
    return advance(make_prescription(prescriber, **content), "in_review", pharmacist=pharmacist,
                   technician=technician, answers=answers or clean_answers())  # fmt: skip


def flags_of(prescription: Prescription) -> list[dict[str, Any]]:
    return list(Prescription.objects.get(pk=prescription.pk).flags)


def codes(prescription: Prescription) -> set[str]:
    return {flag["code"] for flag in flags_of(prescription)}


def snapshot(prescription: Prescription) -> tuple[Any, ...]:
    """What a verification or an approval changes: status, flags with their verifications, events."""
    fresh = Prescription.objects.get(pk=prescription.pk)
    return fresh.status, fresh.flags, fresh.flag_level, PrescriptionEvent.objects.filter(prescription=fresh).count()
