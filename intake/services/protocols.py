"""A prescriber's protocol templates, and new prescriptions started from a past one.

A template holds the medication only; applying it, or sending a past prescription again, gives
the form's values back and nothing more: the prescriber checks them and signs anew.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from intake.errors import NotFound
from intake.models import Prescriber, Prescription, ProtocolTemplate
from intake.selectors import protocol_template_of
from intake.services.prescriptions import PatientDetails, PrescribedContent, Step
from intake.services.refills import renewal_content


@transaction.atomic(durable=True)
def protocol_template_save(*, prescriber: Prescriber, name: str, content: PrescribedContent) -> ProtocolTemplate:
    """Save the medication of a prescription form under `name`; a name already used is replaced."""
    name = name.strip()
    template = ProtocolTemplate.objects.select_for_update().filter(owner=prescriber, name=name).first()
    if template is None:
        template = ProtocolTemplate(owner=prescriber, name=name)
    template.dosage_form = content.dosage_form
    template.strength_mg = content.strength_mg
    template.titration = [{"strength_mg": f"{step.strength_mg:.2f}", "days": step.days} for step in content.titration]
    template.repeat_titration = bool(content.titration) and content.repeat_titration
    template.dose_timing = content.dose_timing
    template.directions = content.directions.strip()
    template.quantity = content.quantity
    template.days_supply = content.days_supply
    template.refills = content.refills
    template.indication = content.indication.strip()
    template.icd10 = content.icd10.strip().upper()
    template.prescriber_notes = content.prescriber_notes.strip()
    # The unique name is checked by the constraint, and the row lock above, not by a query here.
    template.full_clean(validate_unique=False, validate_constraints=False)
    template.save()
    return template


@transaction.atomic(durable=True)
def protocol_template_delete(*, prescriber: Prescriber, template_id: int) -> None:
    deleted, _ = ProtocolTemplate.objects.filter(owner=prescriber, pk=template_id).delete()
    if not deleted:
        raise NotFound("No such template.")


def protocol_template_apply(*, prescriber: Prescriber, template_id: int | str) -> PrescribedContent:
    """The form's medication values from one of the prescriber's own templates (NotFound otherwise)."""
    template = protocol_template_of(prescriber, template_id)
    return PrescribedContent(
        dosage_form=template.dosage_form,
        strength_mg=template.strength_mg,
        directions=template.directions,
        quantity=template.quantity,
        days_supply=template.days_supply,
        refills=template.refills,
        indication=template.indication,
        icd10=template.icd10,
        dose_timing=template.dose_timing,
        prescriber_notes=template.prescriber_notes,
        titration=tuple(Step(strength_mg=Decimal(s["strength_mg"]), days=int(s["days"])) for s in template.titration),
        repeat_titration=template.repeat_titration,
    )


def prescription_prefill(
    *, prescriber: Prescriber, prescription_id: int | str, renewal: bool
) -> tuple[PatientDetails, PrescribedContent]:
    """A new prescription's values from one of the prescriber's past prescriptions.

    Sent again: the same patient and medication, titration included. A renewal continues the
    maintenance dose (the titration is done), as an approved renewal request does.
    """
    try:
        old = (
            Prescription.objects.select_related("patient")
            .prefetch_related("titration_steps")
            .get(pk=int(prescription_id), prescriber=prescriber)
        )
    except (Prescription.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    patient, content = renewal_content(old, refills=old.refills)
    if renewal:
        return patient, content
    steps = tuple(Step(strength_mg=s.strength_mg, days=s.days) for s in old.titration_steps.all())
    again = PrescribedContent(
        dosage_form=content.dosage_form, strength_mg=content.strength_mg, directions=content.directions,
        quantity=content.quantity, days_supply=content.days_supply, refills=content.refills,
        indication=content.indication, icd10=content.icd10, dose_timing=content.dose_timing,
        prescriber_notes=old.prescriber_notes, titration=steps, repeat_titration=old.repeat_titration,
        allergies=content.allergies,
    )  # fmt: skip
    return patient, again


def protocol_template_save_from(*, prescriber: Prescriber, name: str, prescription_id: int | str) -> ProtocolTemplate:
    """Save the medication of one of the prescriber's past prescriptions as a template."""
    _patient, content = prescription_prefill(prescriber=prescriber, prescription_id=prescription_id, renewal=False)
    return protocol_template_save(prescriber=prescriber, name=name, content=content)
