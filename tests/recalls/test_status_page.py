"""What the patient reads once a recall reached the medicine they have: call the pharmacy, keep it."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from intake.models import PrescriptionStatus, RecallAffected
from intake.services.recalls import recall_affected_resolve, recall_close, recall_open
from tests.factories import make_prescription
from tests.patient.conftest import assert_nothing_clinical
from tests.recalls.helpers import RECALLED
from tests.workflow_helpers import advance

S = PrescriptionStatus
REASON = "Supplier notice: the lot failed its assay for potency."


def _lookup(api: APIClient, reference: str):
    return api.post("/api/v1/status/", {"reference": reference, "date_of_birth": "1980-02-29"}, format="json")


def test_a_patient_who_has_the_medicine_is_asked_to_call_until_resolved(prescriber, pharmacist, technician):
    shipped = advance(make_prescription(prescriber), S.SHIPPED, pharmacist=pharmacist, technician=technician)
    ready = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)
    api, client = APIClient(), Client()
    assert _lookup(api, shipped.reference).json()["recall_notice"] is None

    recall = recall_open(actor=pharmacist, ingredient="Naltrexone HCl USP", lot=RECALLED, reason=REASON,
                         recall_class="I")  # fmt: skip

    body = _lookup(api, shipped.reference).json()
    assert "contact the pharmacy" in body["recall_notice"]
    assert "Keep it" in body["recall_notice"]
    page = client.post("/status/", {"reference": shipped.reference, "date_of_birth": "1980-02-29"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "contact the pharmacy" in html
    assert_nothing_clinical(html)
    assert RECALLED not in html
    # the fill made again says only that it is being prepared
    remade = _lookup(api, ready.reference).json()
    assert remade["status"] == S.COMPOUNDING
    assert remade["recall_notice"] is None

    affected = RecallAffected.objects.get(recall=recall, prescription=shipped)
    recall_affected_resolve(actor=pharmacist, recall_id=recall.pk, affected_id=affected.pk)
    assert _lookup(api, shipped.reference).json()["recall_notice"] is None


def test_closing_the_recall_ends_the_notice(prescriber, pharmacist, technician):
    shipped = advance(make_prescription(prescriber), S.SHIPPED, pharmacist=pharmacist, technician=technician)
    recall = recall_open(actor=pharmacist, ingredient="Naltrexone HCl USP", lot=RECALLED, reason=REASON,
                         recall_class="III")  # fmt: skip
    recall_close(actor=pharmacist, recall_id=recall.pk, note="Supplier withdrew the notice after retesting.")

    assert _lookup(APIClient(), shipped.reference).json()["recall_notice"] is None
