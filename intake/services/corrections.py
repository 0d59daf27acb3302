"""A prescriber's correction of a prescription on hold: re-validated, re-signed, re-screened."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.models import Prescription, TitrationStep
from intake.services.prescriptions import PatientDetails, PrescribedContent, Step, content_errors
from intake.services.screening import screen_prescription

# Fields a prescriber may correct in answer to a clarification (patient identity is not one).
CORRECTABLE_FIELDS = (
    "strength_mg", "directions", "quantity", "days_supply", "refills", "indication", "icd10",
    "dose_timing", "prescriber_notes", "dosage_form", "titration", "weight_kg", "repeat_titration",
)  # fmt: skip


def apply_corrections(
    prescription: Prescription,
    corrections: Mapping[str, Any],
    *,
    signature_name: str = "",
    ip_address: str | None = None,
) -> None:
    unknown = sorted(set(corrections) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise ValidationError({name: ["This field cannot be corrected here."] for name in unknown})
    titration = corrections.get("titration")
    steps = (
        tuple(Step(strength_mg=Decimal(str(s["strength_mg"])), days=int(s["days"])) for s in titration)
        if titration is not None
        else tuple(Step(s.strength_mg, s.days) for s in prescription.titration_steps.all())
    )
    for name, value in corrections.items():
        if name != "titration":
            setattr(prescription, name, value)
    patient = prescription.patient
    content = PrescribedContent(
        dosage_form=prescription.dosage_form,
        strength_mg=Decimal(prescription.strength_mg),
        directions=prescription.directions,
        quantity=prescription.quantity,
        days_supply=prescription.days_supply,
        refills=prescription.refills,
        indication=prescription.indication,
        titration=steps,
    )
    details = PatientDetails(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth=patient.date_of_birth,
        sex=patient.sex, address_line1=patient.address_line1, city=patient.city, state=patient.state,
        postal_code=patient.postal_code, weight_kg=prescription.weight_kg,
    )  # fmt: skip
    errors = content_errors(patient=details, content=content)
    if errors:
        raise ValidationError(errors)
    prescription.full_clean(exclude=["reference", "status", "questionnaire_token", "content_digest", "patient",
                                     "prescriber", "claimed_by"])  # fmt: skip
    if titration is not None:
        prescription.titration_steps.all().delete()
        TitrationStep.objects.bulk_create(
            TitrationStep(prescription=prescription, position=i, strength_mg=s.strength_mg, days=s.days)
            for i, s in enumerate(steps, start=1)
        )
    if signature_name.strip():
        prescription.signature_name = signature_name.strip()
    prescription.signed_at = timezone.now()
    prescription.signed_from_ip = ip_address
    prescription.content_digest = prescription.compute_digest()
    screen_prescription(prescription)
