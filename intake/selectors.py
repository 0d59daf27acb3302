"""Reads: who may see which prescription."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from intake.errors import NotFound
from intake.models import AuditRecord, Prescription


def prescriptions_visible_to(user: User) -> QuerySet[Prescription]:
    """Staff see every prescription, a prescriber only their own, anyone else none."""
    queryset = Prescription.objects.select_related("patient", "prescriber__user", "claimed_by")
    if not user.is_authenticated:
        return queryset.none()
    if user.is_pharmacy_staff:
        return queryset
    if user.is_prescriber and hasattr(user, "prescriber"):
        return queryset.filter(prescriber=user.prescriber)
    return queryset.none()


def prescription_for_user(user: User, prescription_id: int | str) -> Prescription:
    """The prescription, or NotFound whether it does not exist or is not this user's."""
    try:
        pk = int(prescription_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    prescription = prescriptions_visible_to(user).filter(pk=pk).first()
    if prescription is None:
        raise NotFound()
    return prescription


def prescription_by_reference(user: User, reference: str) -> Prescription:
    prescription = prescriptions_visible_to(user).filter(reference=reference.strip().upper()).first()
    if prescription is None:
        raise NotFound()
    return prescription


def access_log(prescription: Prescription) -> QuerySet[AuditRecord]:
    """Every read and change of the prescription and of its patient's own record, newest first."""
    about_it = Q(prescription_reference=prescription.reference)
    about_the_patient = Q(object_type="patient", object_id=str(prescription.patient_id))
    return (
        AuditRecord.objects.select_related("actor").filter(about_it | about_the_patient).order_by("-created_at", "-id")
    )
