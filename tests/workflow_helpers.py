"""Drive a prescription through the real services to any status, for tests of every layer.

    advance(prescription, "ready", pharmacist=pharmacist, technician=technician)

The path is the everyday one: questionnaire answered (clean answers unless given), claimed and
approved by the pharmacist (each warning with a reason), compounded and recorded by the
technician, checked by the pharmacist, then shipped or picked up. `on_hold`, `rejected` and
`cancelled` branch off `pending_review`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Role, User
from intake.models import Batch, MasterFormulation, Prescription, PrescriptionStatus
from intake.services import workflow
from intake.services.batches import batch_make, batch_release
from intake.services.compounding import compounding_record_create
from intake.services.formulary import formulary_install_defaults
from intake.services.lots import LotInput
from intake.services.questionnaire import questionnaire_submit
from tests.factories import UserFactory, clean_answers

S = PrescriptionStatus

# The main line; each status is reached from the one before it.
MAIN_LINE = (
    S.AWAITING_QUESTIONNAIRE, S.PENDING_REVIEW, S.IN_REVIEW, S.APPROVED, S.COMPOUNDING,
    S.FINAL_CHECK, S.READY, S.SHIPPED, S.COMPLETED,
)  # fmt: skip
# Side branches: (the main-line status they leave from, the step that takes them there).
BRANCH_FROM = {S.ON_HOLD: S.PENDING_REVIEW, S.REJECTED: S.PENDING_REVIEW, S.CANCELLED: S.PENDING_REVIEW}


def default_lots(*, today: date | None = None) -> list[LotInput]:
    """Naltrexone and a filler, both good for a year."""
    day = today or timezone.localdate()
    return [
        LotInput(ingredient="Naltrexone HCl USP", lot="NTX-24001", expires=day + timedelta(days=365),
                 manufacturer="Medisca", quantity_used="135 mg"),
        LotInput(ingredient="Microcrystalline cellulose NF", lot="MCC-7781", expires=day + timedelta(days=400),
                 manufacturer="Spectrum"),
    ]  # fmt: skip


def warning_reasons(prescription: Prescription) -> dict[str, str]:
    return {f["code"]: "Discussed with the prescriber; benefit outweighs the risk." for f in prescription.flags
            if f.get("severity") == "warning"}  # fmt: skip


def _step(prescription: Prescription, target: str, *, pharmacist: User, technician: User,
          answers: dict[str, Any] | None) -> None:  # fmt: skip
    pk = prescription.pk
    if target == S.PENDING_REVIEW:
        given = dict(answers or clean_answers(date_of_birth=prescription.patient.date_of_birth.isoformat()))
        questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=prescription.patient.date_of_birth,
                             answers=given)  # fmt: skip
    elif target == S.IN_REVIEW:
        workflow.prescription_claim(prescription_id=pk, actor=pharmacist)
    elif target == S.APPROVED:
        current = Prescription.objects.get(pk=pk)
        workflow.prescription_approve(prescription_id=pk, actor=pharmacist, override_reasons=warning_reasons(current))
    elif target == S.COMPOUNDING:
        workflow.prescription_start_compounding(prescription_id=pk, actor=technician)
    elif target == S.FINAL_CHECK:
        formulary_install_defaults()
        compounding_record_create(prescription_id=pk, actor=technician, lots=default_lots(),
                                  quantity_made=prescription.quantity,
                                  quality_checks="Weight variation within limits")  # fmt: skip
    elif target == S.READY:
        workflow.prescription_final_check(prescription_id=pk, actor=pharmacist)
    elif target == S.SHIPPED:
        workflow.prescription_ship(
            prescription_id=pk, actor=technician, carrier="UPS", tracking_number="1Z999AA10123456784"
        )
    elif target == S.COMPLETED:
        workflow.prescription_complete(prescription_id=pk, actor=technician)
    elif target == S.ON_HOLD:
        question = "Please confirm the strength for this patient."
        workflow.prescription_request_clarification(prescription_id=pk, actor=pharmacist, message=question)
    elif target == S.REJECTED:
        workflow.prescription_reject(prescription_id=pk, actor=pharmacist, reason="Duplicate of an active order.")
    elif target == S.CANCELLED:
        workflow.prescription_cancel(prescription_id=pk, actor=pharmacist, reason="Patient asked to cancel.")
    else:  # pragma: no cover - a status added without a path here
        raise ValueError(f"No path to {target!r}")


def path_to(to_status: str) -> list[str]:
    """The statuses a prescription goes through after awaiting_questionnaire to reach to_status."""
    if to_status in BRANCH_FROM:
        return [*path_to(BRANCH_FROM[to_status]), to_status]
    if to_status not in MAIN_LINE:
        raise ValueError(f"Unknown status {to_status!r}")
    return list(MAIN_LINE[1 : MAIN_LINE.index(to_status) + 1])


def advance(
    prescription: Prescription,
    to_status: str,
    *,
    pharmacist: User,
    technician: User,
    answers: dict[str, Any] | None = None,
) -> Prescription:
    """Move a prescription forward to to_status through the real services; returns it fresh.

    Starts from wherever the prescription is on the path; `answers` are the questionnaire's
    (the API's keys; the patient's date of birth is filled in when missing).
    """
    if answers is not None and "date_of_birth" not in answers:
        answers = {**answers, "date_of_birth": prescription.patient.date_of_birth.isoformat()}
    current = Prescription.objects.get(pk=prescription.pk)
    steps = path_to(to_status)
    if current.status != S.AWAITING_QUESTIONNAIRE:
        if current.status not in steps:
            raise ValueError(f"Cannot advance from {current.status!r} to {to_status!r}")
        steps = steps[steps.index(current.status) + 1 :]
    for target in steps:
        _step(current, target, pharmacist=pharmacist, technician=technician, answers=answers)
        current = Prescription.objects.get(pk=prescription.pk)
        if current.status != target:  # pragma: no cover - a service that silently did nothing
            raise AssertionError(f"Expected {target}, got {current.status}")
    return Prescription.objects.select_related("patient", "prescriber__user", "claimed_by").get(pk=prescription.pk)


def capsule_formulation() -> MasterFormulation:
    """The formulary's capsule formulation for every strength (installed if need be)."""
    formulary_install_defaults()
    return MasterFormulation.objects.filter(active=True, dosage_form__code="capsule").order_by("id").first()


def released_batch(
    *, compounder: User | None = None, checker: User | None = None, strength_mg: str = "4.5", quantity: int = 500,
    lots: list[LotInput] | None = None,
) -> Batch:  # fmt: skip
    """A batch of capsules made by `compounder` and released by `checker` (staff made up when not given)."""
    maker = compounder or UserFactory(email="batch-maker@example.test", role=Role.TECHNICIAN)
    releaser = checker or UserFactory(email="batch-checker@example.test", role=Role.PHARMACIST)
    batch = batch_make(actor=maker, master_formulation_id=capsule_formulation().pk, strength_mg=strength_mg,
                       quantity_made=quantity, lots=lots or default_lots(),
                       quality_checks="Weight variation of 20 capsules within 10%")  # fmt: skip
    return batch_release(
        batch_id=batch.pk, actor=releaser, note="Record, lots and weights checked against the formula."
    )
