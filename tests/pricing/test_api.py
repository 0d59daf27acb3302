"""POST /api/v1/status/consent/, the price in the status answer, and the 409 of start_compounding."""

from __future__ import annotations

from datetime import date

from rest_framework.test import APIClient

from intake.models import (
    Action,
    AuditAction,
    AuditRecord,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    PriceConsent,
)
from tests.factories import make_prescription
from tests.pricing.conftest import BIRTH
from tests.workflow_helpers import advance

S = PrescriptionStatus
CONSENT = "/api/v1/status/consent/"


def answer(api: APIClient, prescription: Prescription, decision: str, **more):
    body = {"reference": prescription.reference, "date_of_birth": BIRTH, "decision": decision, **more}
    return api.post(CONSENT, body, format="json")


def test_the_status_answer_carries_the_price_waiting(api: APIClient, approved: Prescription):
    response = api.post("/api/v1/status/", {"reference": approved.reference, "date_of_birth": BIRTH}, format="json")

    body = response.json()
    assert response.status_code == 200
    assert (body["price_amount"], body["price_currency"], body["price_consent"]) == ("45.40", "USD", "pending")
    assert body["price_consent_at"] is None
    assert body["payment_url"] is None
    assert "agree" in body["next_step"]
    assert body["expected_ready_date"] is None


def test_before_approval_the_price_keys_are_null(api: APIClient, prescriber):
    prescription = make_prescription(prescriber)

    body = api.post("/api/v1/status/", {"reference": prescription.reference, "date_of_birth": BIRTH},
                    format="json").json()  # fmt: skip

    assert {key: body[key] for key in ("price_amount", "price_currency", "price_consent", "payment_url")} == {
        "price_amount": None, "price_currency": None, "price_consent": None, "payment_url": None,
    }  # fmt: skip


def test_consent_through_the_api(api: APIClient, approved: Prescription, settings):
    settings.PAYMENT_LINK_URL = "https://pay.example.com/{reference}"

    response = answer(api, approved, "consent")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["price_consent"] == "consented"
    assert body["price_consent_at"] is not None
    assert body["payment_url"] == f"https://pay.example.com/{approved.reference}"
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    assert AuditRecord.objects.filter(prescription_reference=approved.reference, action=AuditAction.ACTION,
                                      description="price agreed (API)").exists()  # fmt: skip
    # Again: the same answer, nothing new.
    assert answer(api, approved, "consent").status_code == 200
    assert PrescriptionEvent.objects.filter(prescription=approved, action=Action.PRICE_CONSENT).count() == 1


def test_decline_through_the_api_cancels_and_tells_the_prescriber(api: APIClient, approved: Prescription):
    response = answer(api, approved, "decline", reason="I found it cheaper elsewhere.")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["price_consent"]) == ("cancelled", "declined")
    event = PrescriptionEvent.objects.get(prescription=approved, action=Action.PRICE_DECLINE)
    assert event.message == "I found it cheaper elsewhere."
    assert Notification.objects.filter(prescription=approved, event=NotificationEvent.PRICE_DECLINED,
                                       audience="prescriber").exists()  # fmt: skip
    assert AuditRecord.objects.filter(prescription_reference=approved.reference,
                                      description="price declined (API)").exists()  # fmt: skip


def test_a_wrong_birth_date_answers_404_and_changes_nothing(api: APIClient, approved: Prescription):
    response = api.post(CONSENT, {"reference": approved.reference, "date_of_birth": "1980-03-01",
                                  "decision": "decline"}, format="json")  # fmt: skip

    assert response.status_code == 404
    assert approved.reference not in response.content.decode()
    fresh = Prescription.objects.get(pk=approved.pk)
    assert (fresh.status, fresh.price_consent) == (S.APPROVED, PriceConsent.PENDING)


def test_another_patients_order_answers_404(api: APIClient, approved: Prescription, prescriber):
    other = make_prescription(prescriber, patient={"first_name": "Other", "date_of_birth": date(1975, 5, 5)})

    response = api.post(CONSENT, {"reference": other.reference, "date_of_birth": BIRTH, "decision": "consent"},
                        format="json")  # fmt: skip

    assert response.status_code == 404


def test_a_wrong_decision_answers_400_naming_the_field(api: APIClient, approved: Prescription):
    response = answer(api, approved, "maybe")

    assert response.status_code == 400
    assert "decision" in response.json()
    assert Prescription.objects.get(pk=approved.pk).price_consent == PriceConsent.PENDING


def test_no_price_waiting_answers_409(api: APIClient, prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)

    response = answer(api, prescription, "consent")

    assert response.status_code == 409
    assert Prescription.objects.get(pk=prescription.pk).price_consent == ""


def test_the_other_answer_after_one_answers_409(api: APIClient, approved: Prescription):
    answer(api, approved, "decline")

    response = answer(api, approved, "consent")

    assert response.status_code == 409
    assert Prescription.objects.get(pk=approved.pk).status == S.CANCELLED


def test_start_compounding_answers_409_until_the_patient_agrees(
    api: APIClient, technician_api: APIClient, approved: Prescription
):
    url = f"/api/v1/prescriptions/{approved.pk}/actions/start_compounding/"

    refused = technician_api.post(url, {}, format="json")

    assert refused.status_code == 409
    assert "agreed to the price" in refused.content.decode()
    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED

    answer(api, approved, "consent")
    started = technician_api.post(url, {}, format="json")

    assert started.status_code == 200, started.content
    assert Prescription.objects.get(pk=approved.pk).status == S.COMPOUNDING


def test_the_schema_names_the_consent_endpoint(api: APIClient):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()

    assert "/api/v1/status/consent/" in schema
    assert "price_consent" in schema
