from datetime import date

from intake.models import PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from tests.factories import clean_answers, make_prescription


def test_submitted_prescription_awaits_questionnaire_and_is_signed(prescriber):
    prescription = make_prescription(prescriber)

    assert prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE
    assert prescription.reference.startswith("RX-")
    assert len(prescription.content_digest) == 64
    assert not prescription.is_altered


def test_answered_questionnaire_moves_to_pending_review_with_flags(prescriber):
    prescription = make_prescription(prescriber)
    answers = clean_answers(current_medications=["Norco 5/325 prn"])

    result = questionnaire_submit(
        token=prescription.questionnaire_token, date_of_birth=date(1980, 2, 29), answers=answers
    )

    assert result.status == PrescriptionStatus.PENDING_REVIEW
    assert any(f["code"] == "opioid_use" and f["severity"] == "hard_stop" for f in result.flags)
