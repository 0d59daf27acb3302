"""The price on the patient's status page (private link and order number doors), its buttons, and the
consent state on the staff's review page and queue."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from intake.models import (
    Action,
    AuditAction,
    AuditRecord,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    PriceConsent,
)
from intake.services.questionnaire import PATIENT_LINK
from intake.services.status import PATIENT_STATUS_LOOKUP
from tests.factories import make_prescription
from tests.pricing.conftest import BIRTH

S = PrescriptionStatus


@pytest.fixture
def proven(client: Client, approved: Prescription) -> Client:
    """A browser that confirmed the birth date at the private link."""
    response = client.post(f"/status/{approved.questionnaire_token}", {"date_of_birth": BIRTH})
    assert response.status_code == 302
    return client


def _fresh(prescription: Prescription) -> Prescription:
    return Prescription.objects.get(pk=prescription.pk)


def test_the_link_page_shows_the_price_and_both_buttons(proven: Client, approved: Prescription):
    body = proven.get(f"/status/{approved.questionnaire_token}").content.decode()

    assert "$45.40" in body
    assert "I agree to the price" in body
    assert "Decline the price" in body
    assert f'action="/status/{approved.questionnaire_token}/price"' in body
    assert 'autocomplete="cc-' not in body  # no card field of any kind


def test_consent_on_the_link_page(proven: Client, approved: Prescription, settings):
    settings.PAYMENT_LINK_URL = "https://pay.example.com/ldn/{reference}"

    response = proven.post(f"/status/{approved.questionnaire_token}/price/", {"decision": "consent"})

    assert response.status_code == 302
    assert _fresh(approved).price_consent == PriceConsent.CONSENTED
    assert AuditRecord.objects.filter(
        prescription_reference=approved.reference, action=AuditAction.ACTION, actor_label=PATIENT_LINK,
        description="price agreed by the patient",
    ).exists()  # fmt: skip
    page = proven.get(response["Location"]).content.decode()
    assert "You agreed to this price" in page
    assert f"https://pay.example.com/ldn/{approved.reference}" in page
    assert "I agree to the price" not in page
    # The same button again: nothing new.
    proven.post(f"/status/{approved.questionnaire_token}/price/", {"decision": "consent"})
    assert PrescriptionEvent.objects.filter(prescription=approved, action=Action.PRICE_CONSENT).count() == 1


def test_decline_on_the_link_page_with_a_reason(proven: Client, approved: Prescription):
    response = proven.post(f"/status/{approved.questionnaire_token}/price/",
                           {"decision": "decline", "reason": "More than my insurance copay."})  # fmt: skip

    assert response.status_code == 302
    fresh = _fresh(approved)
    assert (fresh.status, fresh.price_consent) == (S.CANCELLED, PriceConsent.DECLINED)
    assert PrescriptionEvent.objects.get(prescription=approved, action=Action.PRICE_DECLINE).message == (
        "More than my insurance copay."
    )
    page = proven.get(response["Location"]).content.decode()
    assert "You declined this price" in page


def test_a_get_changes_nothing(proven: Client, approved: Prescription):
    response = proven.get(f"/status/{approved.questionnaire_token}/price/")

    assert response.status_code == 302
    assert _fresh(approved).price_consent == PriceConsent.PENDING


def test_without_the_csrf_token_nothing_changes(proven: Client, approved: Prescription):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = proven.cookies

    response = strict.post(f"/status/{approved.questionnaire_token}/price/", {"decision": "consent"})

    assert response.status_code == 403
    assert _fresh(approved).price_consent == PriceConsent.PENDING


def test_an_unknown_token_answers_404(proven: Client, approved: Prescription):
    response = proven.post("/status/notatokenofanyone123/price/", {"decision": "decline"})

    assert response.status_code == 404
    assert _fresh(approved).status == S.APPROVED


def test_another_patients_token_asks_their_birth_date_and_changes_nothing(
    proven: Client, approved: Prescription, prescriber, consent_required
):
    other = make_prescription(prescriber, patient={"first_name": "Other", "date_of_birth": date(1975, 5, 5)})

    response = proven.post(f"/status/{other.questionnaire_token}/price/", {"decision": "decline"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "date_of_birth" in body
    assert other.reference not in body and "$" not in body
    assert _fresh(other).status == S.AWAITING_QUESTIONNAIRE
    assert _fresh(approved).status == S.APPROVED


def test_the_order_number_door_shows_the_price_and_takes_the_answer(client: Client, approved: Prescription):
    page = client.post("/status/", {"reference": approved.reference, "date_of_birth": BIRTH})
    body = page.content.decode()
    assert "$45.40" in body
    assert 'action="/status/price/"' in body

    response = client.post("/status/price/", {"reference": approved.reference, "decision": "consent"})

    assert response.status_code == 200
    assert "You agreed to this price" in response.content.decode()
    assert _fresh(approved).price_consent == PriceConsent.CONSENTED
    assert AuditRecord.objects.filter(prescription_reference=approved.reference, actor_label=PATIENT_STATUS_LOOKUP,
                                      description="price agreed by the patient").exists()  # fmt: skip


def test_the_order_number_door_refuses_a_browser_that_did_not_prove_the_birth_date(
    client: Client, approved: Prescription
):
    response = client.post("/status/price/", {"reference": approved.reference, "decision": "decline"})

    assert response.status_code == 404
    assert _fresh(approved).status == S.APPROVED
    assert AuditRecord.objects.filter(prescription_reference=approved.reference, action=AuditAction.DENIED).exists()


def test_an_answer_not_possible_says_why_with_409(client: Client, approved: Prescription):
    client.post("/status/", {"reference": approved.reference, "date_of_birth": BIRTH})
    client.post("/status/price/", {"reference": approved.reference, "decision": "decline"})

    response = client.post("/status/price/", {"reference": approved.reference, "decision": "consent"})

    assert response.status_code == 409
    assert "already declined" in response.content.decode()


def test_no_price_section_before_approval(client: Client, prescriber):
    prescription = make_prescription(prescriber)

    body = client.post("/status/", {"reference": prescription.reference, "date_of_birth": BIRTH}).content.decode()

    assert 'id="price-heading"' not in body


# --- the staff's pages --------------------------------------------------------------------------------


def test_the_review_page_shows_the_wait_and_disables_compounding(client: Client, login, technician, approved):
    login(client, technician)

    body = client.get(reverse("staff:review", args=[approved.pk])).content.decode()

    assert 'id="price-consent-waiting"' in body
    assert 'data-price-consent="pending"' in body
    assert "USD 45.40" in body


def test_the_start_compounding_button_is_refused_while_waiting(client: Client, login, technician, approved):
    login(client, technician)

    response = client.post(reverse("staff:start_compounding", args=[approved.pk]), follow=True)

    assert "not agreed to the price" in response.content.decode()
    assert _fresh(approved).status == S.APPROVED


def test_the_queue_shows_the_price_waiting(client: Client, login, technician, approved):
    login(client, technician)

    body = client.get(reverse("staff:queue"), {"status": "approved"}).content.decode()

    assert "Price: waiting for the patient" in body
