import pytest

from intake.models import PrescriptionEvent, PrescriptionStatus
from tests.factories import make_prescription
from tests.workflow_helpers import advance

S = PrescriptionStatus


@pytest.mark.parametrize("status", [s for s in S if s != S.AWAITING_QUESTIONNAIRE])
def test_advance_reaches_every_status(status, prescriber, pharmacist, technician):
    prescription = make_prescription(prescriber)

    result = advance(prescription, status, pharmacist=pharmacist, technician=technician)

    assert result.status == status
    assert PrescriptionEvent.objects.filter(prescription=prescription, to_status=status).exists()


def test_advance_continues_from_the_current_status(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)

    result = advance(prescription, S.READY, pharmacist=pharmacist, technician=technician)

    assert result.status == S.READY
    assert result.beyond_use_date is not None
