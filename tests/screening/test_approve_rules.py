"""prescription_approve and prescription_reject: hard stops verified first, warnings verified or given
a real sentence, a strength above the range only by the prescriber's confirmation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from intake.errors import Conflict
from intake.models import PrescriptionStatus
from intake.services import workflow
from tests.factories import clean_answers
from tests.screening.helpers import in_review, snapshot

S = PrescriptionStatus
REASON = "Discussed with the prescriber; benefits outweigh the risk at 4.5 mg."


def approve(prescription, pharmacist, **reasons):
    return workflow.prescription_approve(prescription_id=prescription.pk, actor=pharmacist, override_reasons=reasons)


@pytest.fixture
def breastfeeding(prescriber, pharmacist, technician):
    return in_review(prescriber, pharmacist=pharmacist, technician=technician,
                     answers=clean_answers(pregnancy="breastfeeding"))  # fmt: skip


@pytest.mark.parametrize("reason", ["", "   ", "ok", "n/a", "x", "fine by me ok", "Approved.......", "ok ok ok ok ok"])
def test_a_warning_reason_that_is_not_a_sentence_is_refused_on_override_reasons(breastfeeding, pharmacist, reason):
    before = snapshot(breastfeeding)

    with pytest.raises(ValidationError) as refused:
        approve(breastfeeding, pharmacist, pregnancy=reason)

    assert set(refused.value.message_dict) == {"override_reasons"}
    assert "pregnancy" in " ".join(refused.value.message_dict["override_reasons"])
    assert snapshot(breastfeeding) == before


def test_a_real_sentence_approves_and_is_kept(breastfeeding, pharmacist):
    approved = approve(breastfeeding, pharmacist, pregnancy=REASON)

    assert approved.status == S.APPROVED
    assert approved.events.latest("id").details["override_reasons"] == {"pregnancy": REASON}


def test_a_verified_warning_needs_no_reason(breastfeeding, pharmacist):
    workflow.prescription_verify_flag(
        prescription_id=breastfeeding.pk, actor=pharmacist, code="pregnancy", method="patient_interview",
        note="Spoke with the patient: infant is 14 months, pediatrician agrees.",
    )  # fmt: skip

    assert approve(breastfeeding, pharmacist).status == S.APPROVED


def test_an_unverified_hard_stop_is_a_conflict_before_any_missing_reason(prescriber, pharmacist, technician):
    answers = clean_answers(pregnancy="pregnant", current_medications=["tramadol 50 mg prn"])
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=answers)
    before = snapshot(prescription)

    with pytest.raises(Conflict, match="opioid_use"):
        approve(prescription, pharmacist)

    assert snapshot(prescription) == before


def test_a_strength_above_the_range_is_never_cleared_by_a_reason(prescriber, pharmacist, technician):
    # given: 6 mg a capsule, a capsule a day: dose_range (above 4.5 mg) and daily_dose warnings
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("6"),
                             titration=())  # fmt: skip
    before = snapshot(prescription)

    # when: a reason for each warning
    with pytest.raises(ValidationError) as refused:
        approve(prescription, pharmacist, dose_range=REASON, daily_dose=REASON)

    # then
    assert "prescriber_confirmed" in " ".join(refused.value.message_dict["override_reasons"])
    assert snapshot(prescription) == before

    # and once the prescriber confirmed it, the other warning's reason is enough
    workflow.prescription_verify_flag(
        prescription_id=prescription.pk, actor=pharmacist, code="dose_range", method="prescriber_confirmed",
        note="Called Dr Hopper: 6 mg is intended after 4.5 mg for three months.",
    )  # fmt: skip
    assert approve(prescription, pharmacist, daily_dose=REASON).status == S.APPROVED


def test_a_tenfold_slip_cannot_be_approved_with_a_reason(prescriber, pharmacist, technician):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("45"),
                             titration=(), quantity=30)  # fmt: skip
    before = snapshot(prescription)

    # 45 mg capsules, one a day: the daily dose is a warning under 50 mg as well
    with pytest.raises(ValidationError):
        approve(prescription, pharmacist, dose_range="ok", daily_dose="ok")
    with pytest.raises(ValidationError):
        approve(prescription, pharmacist, dose_range=REASON, daily_dose=REASON)

    assert snapshot(prescription) == before


def test_a_strength_below_the_range_takes_a_reason(prescriber, pharmacist, technician):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("0.25"),
                             titration=())  # fmt: skip

    assert approve(prescription, pharmacist, dose_range=REASON).status == S.APPROVED


@pytest.mark.parametrize("reason", ["ok", "n/a", "duplicate", "Not needed"])
def test_a_rejection_needs_a_real_sentence(breastfeeding, pharmacist, reason):
    before = snapshot(breastfeeding)

    with pytest.raises(ValidationError) as refused:
        workflow.prescription_reject(prescription_id=breastfeeding.pk, actor=pharmacist, reason=reason)

    assert set(refused.value.message_dict) == {"reason"}
    assert snapshot(breastfeeding) == before
