"""Two staff press "Buy label and ship" at the same moment: one label is bought and shipped, the
other request is told it was shipped, and the shipped label is not refunded."""

from __future__ import annotations

import pytest

from intake.errors import Conflict
from intake.models import Fill, Prescription, PrescriptionStatus
from intake.services.workflow import prescription_ship
from tests.factories import make_prescription
from tests.shipping.conftest import SENT, recorded
from tests.simultaneous import at_once
from tests.workflow_helpers import advance

S = PrescriptionStatus
pytestmark = pytest.mark.django_db(transaction=True)


def test_two_staff_at_once_buy_one_label(easypost, prescriber, pharmacist, technician):
    ready = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)

    with recorded.use_cassette("label_two_staff_at_once.yaml"):
        results = at_once(
            lambda: prescription_ship(prescription_id=ready.pk, actor=technician),
            lambda: prescription_ship(prescription_id=ready.pk, actor=pharmacist),
        )

    shipped = [r for r in results if isinstance(r, Prescription)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(shipped), len(refused)) == (1, 1), results
    fill = Fill.objects.get(prescription=ready, number=1)
    assert (fill.status, fill.tracking_number) == (S.SHIPPED, "9405500106025001234567")
    assert fill.label_url
    assert not [r for r in SENT if r.path.endswith("/refund")]
