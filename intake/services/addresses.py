"""The carrier's check of patients' addresses (SHIPPING_BACKEND=easypost): can it deliver there?

Asked once per address, outside any transaction (it is a call to the carrier service), by the
periodic task for every patient with a prescription still to be sent whose address it has not
answered for; a changed address is asked again (Patient.save forgets the old answer). When the
carrier cannot deliver, the answer is kept on the patient, the patient is told through the outbox
(nothing clinical in it) and the staff see it on the review and ship pages.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from intake.addresses import postal_code_disagreement
from intake.models import OPEN_STATUSES, NotificationEvent, Patient, PrescriptionStatus
from intake.notifications.outbox import notification_record
from intake.shipping.backends import CarrierError, ShipTo, shipping_backend, shipping_buys_labels

logger = logging.getLogger(__name__)

# Addresses asked about in one run of the periodic task: a backlog (the carrier switched on for a
# pharmacy with many open prescriptions) is worked through over several runs.
CHECKS_PER_RUN = 50
# Still to be sent: a prescription shipped or picked up no longer needs the address.
_TO_BE_SENT = sorted(OPEN_STATUSES - {PrescriptionStatus.SHIPPED})


def ship_to_of(patient: Patient) -> ShipTo:
    """The patient's address as the carrier needs it."""
    return ShipTo(
        name=patient.full_name, street1=patient.address_line1, street2=patient.address_line2, city=patient.city,
        state=patient.state, zip=patient.postal_code, phone=patient.phone, email=patient.email,
    )  # fmt: skip


def address_warnings(patient: Patient) -> list[str]:
    """What the staff should know about the patient's address before sending anything: a ZIP code
    of another state (taken from an EHR as sent, to be confirmed), the carrier's refusal."""
    warnings = []
    disagreement = postal_code_disagreement(patient.state, patient.postal_code)
    if disagreement:
        warnings.append(disagreement)
    if patient.address_deliverable is False:
        warnings.append(f"The carrier cannot deliver to this address: {patient.address_problem}.")
    return warnings


def address_check(patient_id: int) -> bool | None:
    """Ask the carrier about the patient's address and keep its answer: whether it can deliver
    there, or None when nothing was asked (already answered, or the address changed meanwhile).

    CarrierError when the carrier service could not answer: the address stays unchecked and the
    next run asks again.
    """
    patient = Patient.objects.get(pk=patient_id)
    if patient.address_checked_at is not None:
        return None
    asked = patient.address()
    answer = shipping_backend().check_address(ship_to_of(patient))
    with transaction.atomic():
        locked = Patient.objects.select_for_update().get(pk=patient_id)
        if locked.address_checked_at is not None or locked.address() != asked:
            return None
        locked.address_checked_at = timezone.now()
        locked.address_deliverable = answer.deliverable
        locked.address_problem = "" if answer.deliverable else answer.message
        locked._history_user = None  # type: ignore[attr-defined]  # the carrier, not a person
        locked.save(update_fields=["address_checked_at", "address_deliverable", "address_problem", "updated_at"])
        if not answer.deliverable:
            waiting = locked.prescriptions.filter(status__in=_TO_BE_SENT).order_by("-submitted_at", "-pk").first()
            if waiting is not None:
                notification_record(prescription=waiting, event=NotificationEvent.ADDRESS_UNDELIVERABLE)
    return answer.deliverable


def addresses_check_due(limit: int = CHECKS_PER_RUN) -> int:
    """Ask the carrier about the addresses of patients with a prescription still to be sent that it
    has not answered for; how many it answered. Nothing without a carrier service."""
    if not shipping_buys_labels():
        return 0
    due = (
        Patient.objects.filter(address_checked_at__isnull=True, prescriptions__status__in=_TO_BE_SENT)
        .values_list("pk", flat=True)
        .distinct()
        .order_by("pk")[:limit]
    )
    answered = 0
    for patient_id in due:
        try:
            if address_check(patient_id) is not None:
                answered += 1
        except CarrierError as exc:
            # The carrier is down or refuses the key: the rest wait for the next run. No address here.
            logger.warning("Address checks paused: %s", exc.message)
            break
    return answered
