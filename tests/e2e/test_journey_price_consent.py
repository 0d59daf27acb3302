"""In a browser, on a phone: a cash-pay patient reads the price of their approved order on the status
page, agrees to it and is sent to the pharmacy's payment page; the technician could not start
compounding before that answer, and can after it."""

from datetime import date

import pytest

from intake.errors import Conflict
from intake.models import PrescriptionStatus, PriceConsent
from intake.services.workflow import prescription_start_compounding
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

S = PrescriptionStatus


def test_a_patient_agrees_to_the_price_before_compounding_starts(
    phone_page, prescriber, pharmacist, technician, settings
):
    settings.PRICE_CONSENT_REQUIRED = True
    settings.PAYMENT_LINK_URL = "https://pay.example.test/ldn/{reference}"
    prescription = make_prescription(prescriber, patient={"date_of_birth": date(1980, 2, 29)})
    prescription = advance(prescription, S.APPROVED, pharmacist=pharmacist, technician=technician)
    assert prescription.price_consent == PriceConsent.PENDING
    # Nothing is made while the price waits for the patient.
    with pytest.raises(Conflict):
        prescription_start_compounding(prescription_id=prescription.pk, actor=technician)

    patient = phone_page
    patient.goto(f"/status/{prescription.questionnaire_token}")
    patient.get_by_label("Your date of birth").fill("1980-02-29")
    patient.get_by_role("button", name="Continue").click()
    patient.wait_for_load_state()

    price = patient.get_by_test_id("price-amount")
    assert price.inner_text().strip() == f"${prescription.price_amount}"
    assert patient.get_by_role("button", name="I agree to the price").is_visible()
    assert patient.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(patient, "price: to answer")
    screenshot(patient, "price-01-to-answer")

    patient.get_by_role("button", name="I agree to the price").click()
    patient.wait_for_load_state()

    assert "You agreed to this price on" in patient.locator("main").inner_text()
    pay = patient.get_by_role("link", name="Pay on the pharmacy's payment page")
    assert pay.get_attribute("href") == f"https://pay.example.test/ldn/{prescription.reference}"
    assert patient.get_by_role("button", name="I agree to the price").count() == 0
    assert_accessible(patient, "price: agreed")
    screenshot(patient, "price-02-agreed")

    prescription.refresh_from_db()
    assert prescription.price_consent == PriceConsent.CONSENTED
    started = prescription_start_compounding(prescription_id=prescription.pk, actor=technician)
    assert started.status == S.COMPOUNDING
