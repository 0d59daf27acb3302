"""Fixtures for the patient's pages and API: a prescription with a recognisable patient, a clean cache."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from intake.models import Prescriber, Prescription
from tests.factories import make_prescription

# Words that must never reach a page or answer that is not the patient's own: their name, and the
# prescription's clinical content (drug, strength, dosage form, indication).
PATIENT_NAME = "Winifred"
PATIENT_SURNAME = "Quackenbush"
BIRTH_DATE = date(1980, 2, 29)
PRESCRIPTION_DETAILS = ("4.5 mg", "4.50", "capsule", "fibromyalgia", "M79.7", "hard_stop", "opioid_use", "flag")
CLINICAL_WORDS = ("naltrexone", *PRESCRIPTION_DETAILS)


@pytest.fixture(autouse=True)
def _clear_cache():
    # The throttles count in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def prescription(prescriber: Prescriber) -> Prescription:
    return make_prescription(
        prescriber, patient={"first_name": PATIENT_NAME, "last_name": PATIENT_SURNAME, "date_of_birth": BIRTH_DATE}
    )


@pytest.fixture
def patient_client(client: Client, prescription: Prescription) -> Client:
    """A browser that has confirmed the patient's date of birth at the private link."""
    response = client.post(f"/questionnaire/{prescription.questionnaire_token}", {"date_of_birth": "1980-02-29"})
    assert response.status_code == 302
    return client


def assert_nothing_clinical(text: str, words: tuple[str, ...] = CLINICAL_WORDS) -> None:
    lowered = text.lower()
    for word in words:
        assert word.lower() not in lowered, word


def assert_no_prescription_details(text: str) -> None:
    """For the questionnaire itself, which must name the drug in its allergy question."""
    assert_nothing_clinical(text, PRESCRIPTION_DETAILS)
