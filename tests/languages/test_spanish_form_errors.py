"""A control character typed on a Spanish patient's form is refused in Spanish: a medicine or
allergy line of the questionnaire, the check-in's free text."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from intake.clinical.follow_up import symptom_labels
from intake.models import FollowUp, Language, Prescription, Questionnaire
from intake.services.questionnaire import questionnaire_submit
from intake.validators import FREE_TEXT_MESSAGE, SINGLE_LINE_MESSAGE
from tests.factories import clean_answers, make_prescription

pytestmark = pytest.mark.django_db

BIRTH = date(1980, 2, 29)
SINGLE_LINE_IN_SPANISH = (
    "Use solo letras, números y signos de puntuación: sin saltos de línea ni caracteres de control."
)
FREE_TEXT_IN_SPANISH = (
    "Quite los caracteres de control: solo letras, números, signos de puntuación, saltos de línea y tabulaciones."
)


def _spanish_prescription(prescriber) -> Prescription:
    return make_prescription(prescriber, patient={"date_of_birth": BIRTH, "language": Language.SPANISH})


def _questionnaire(**overrides: str) -> dict[str, str]:
    return {
        "takes_opioids": "no", "opioid_treatment_program": "no", "liver_condition": "none", "pregnancy": "no",
        "alcohol_drinks_per_week": "0", "naltrexone_allergy": "no", "thyroid_medication": "no",
        "immunosuppressants": "no", "surgery_within_14_days": "no", "attestation": "on",
        "medications-TOTAL_FORMS": "1", "medications-INITIAL_FORMS": "1", "medications-0-text": "",
        "allergies-TOTAL_FORMS": "1", "allergies-INITIAL_FORMS": "1", "allergies-0-text": "",
        **overrides,
    }  # fmt: skip


@pytest.mark.parametrize("line", ["medications-0-text", "allergies-0-text"], ids=["medication line", "allergy line"])
def test_a_tab_in_a_questionnaire_line_is_refused_in_spanish(client: Client, prescriber, line):
    prescription = _spanish_prescription(prescriber)
    page = f"/questionnaire/{prescription.questionnaire_token}"
    assert client.post(page, {"date_of_birth": BIRTH.isoformat()}).status_code == 302

    response = client.post(page, _questionnaire(**{line: "vitamina D\t2000 UI"}))

    body = response.content.decode()
    assert response.status_code == 200  # the form again, with the error
    assert SINGLE_LINE_IN_SPANISH in body
    assert SINGLE_LINE_MESSAGE not in body
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


def test_an_escape_in_the_check_in_is_refused_in_spanish(client: Client, prescriber):
    prescription = _spanish_prescription(prescriber)
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=BIRTH, answers=clean_answers())
    FollowUp.objects.create(
        prescription=prescription, token="es-check-in-token", sent_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=14),
    )  # fmt: skip
    assert client.post("/check-in/es-check-in-token", {"date_of_birth": BIRTH.isoformat()}).status_code == 302

    answers = {code: "none" for code in symptom_labels()}
    response = client.post("/check-in/es-check-in-token", {**answers, "other_effects": "Mareo\x1b[2J"})

    body = response.content.decode()
    assert response.status_code == 200
    assert FREE_TEXT_IN_SPANISH in body
    assert FREE_TEXT_MESSAGE not in body
    assert FollowUp.objects.get(token="es-check-in-token").answered_at is None


def test_an_english_patient_reads_the_english_message(client: Client, prescriber):
    prescription = make_prescription(prescriber, patient={"date_of_birth": BIRTH, "language": Language.ENGLISH})
    page = f"/questionnaire/{prescription.questionnaire_token}"
    client.post(page, {"date_of_birth": BIRTH.isoformat()})

    body = client.post(page, _questionnaire(**{"medications-0-text": "vitamin D\t2000 IU"})).content.decode()

    assert SINGLE_LINE_MESSAGE in body
    assert SINGLE_LINE_IN_SPANISH not in body
