from intake.models import PrescriptionStatus
from tests.factories import make_prescription


def test_submitted_prescription_awaits_questionnaire_and_is_signed(prescriber):
    prescription = make_prescription(prescriber)

    assert prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE
    assert prescription.reference.startswith("LDN-")
    assert len(prescription.content_digest) == 64
    assert not prescription.is_altered
