"""In a browser, on a phone: a patient who reads Spanish answers the questionnaire and reads the
status in Spanish, and tries the language switch on the way."""

from datetime import date

import pytest

from intake.models import Language, PrescriptionStatus
from tests.e2e.conftest import assert_accessible, screenshot
from tests.factories import make_prescription

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def answer(page, name: str, value: str) -> None:
    page.locator(f'input[name$="{name}"][value="{value}"]').check()


def test_a_spanish_patient_answers_and_reads_the_status_in_spanish(phone_page, prescriber):
    prescription = make_prescription(
        prescriber,
        patient={"first_name": "Lupe", "last_name": "Quintanilla", "date_of_birth": date(1980, 2, 29),
                 "language": Language.SPANISH},
    )  # fmt: skip
    patient = phone_page

    # The private link opens in the patient's language, before anything else is shown.
    patient.goto(f"/questionnaire/{prescription.questionnaire_token}")
    assert patient.locator("html").get_attribute("lang") == "es"
    assert_accessible(patient, "spanish: birth date")
    patient.get_by_label("Su fecha de nacimiento").fill("1980-02-29")
    patient.get_by_role("button", name="Continuar").click()
    patient.wait_for_load_state()

    # The switch: English, then back to Spanish; each choice is named in its own language.
    switch = patient.get_by_test_id("language-switch")
    switch.get_by_role("link", name="English").click()
    patient.wait_for_load_state()
    assert patient.get_by_role("heading", name="Your health questions").is_visible()
    assert patient.locator("html").get_attribute("lang") == "en"
    patient.get_by_test_id("language-switch").get_by_role("link", name="Español").click()
    patient.wait_for_load_state()
    assert patient.get_by_role("heading", name="Sus preguntas de salud").is_visible()

    answer(patient, "takes_opioids", "no")
    answer(patient, "opioid_treatment_program", "no")
    answer(patient, "liver_condition", "none")
    answer(patient, "pregnancy", "no")
    patient.get_by_label("¿Cuántas bebidas alcohólicas").fill("0")
    for name in ("naltrexone_allergy", "thyroid_medication", "immunosuppressants", "surgery_within_14_days"):
        answer(patient, name, "no")
    patient.get_by_label("Medicamento, vitamina o hierba").first.fill("vitamina D 2000 UI")
    patient.get_by_label("Confirmo que mis respuestas son verdaderas").check()
    # Nothing wider than the phone: long Spanish words wrap.
    assert patient.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(patient, "spanish: questionnaire")
    screenshot(patient, "spanish-01-questionnaire")
    patient.get_by_role("button", name="Enviar mis respuestas").click()
    patient.wait_for_load_state()

    assert patient.get_by_role("heading", name="Gracias, recibimos sus respuestas").is_visible()
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.PENDING_REVIEW

    patient.get_by_role("link", name="Ver dónde está su pedido").click()
    patient.wait_for_load_state()
    assert patient.get_by_role("heading", name="Su pedido").is_visible()
    body = patient.locator("main").inner_text()
    assert "Tenemos sus respuestas" in body
    assert "Revisión del farmacéutico" in body
    assert " de 20" in body  # the expected date, written the Spanish way
    assert "Your order" not in body
    assert patient.evaluate("document.documentElement.scrollWidth") <= 390
    assert_accessible(patient, "spanish: status")
    screenshot(patient, "spanish-02-status")
