"""The questionnaire at the patient's private link: birth date first, then the questions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from intake.models import AuditAction, AuditRecord, Prescription, PrescriptionStatus, Questionnaire
from intake.services.workflow import prescription_claim
from tests.patient.conftest import (
    PATIENT_NAME,
    PATIENT_SURNAME,
    assert_no_prescription_details,
    assert_nothing_clinical,
)

S = PrescriptionStatus


def link(prescription: Prescription, suffix: str = "") -> str:
    return f"/questionnaire/{prescription.questionnaire_token}{suffix}"


def form_data(**overrides: Any) -> dict[str, Any]:
    """The page's POST for clean answers: yes/no radios, list rows, attestation."""
    data: dict[str, Any] = {
        "takes_opioids": "no",
        "opioid_treatment_program": "no",
        "liver_condition": "none",
        "pregnancy": "no",
        "alcohol_drinks_per_week": "2",
        "naltrexone_allergy": "no",
        "thyroid_medication": "no",
        "immunosuppressants": "no",
        "surgery_within_14_days": "no",
        "attestation": "on",
        "medications-TOTAL_FORMS": "3",
        "medications-INITIAL_FORMS": "3",
        "medications-0-text": "vitamin D 2000 IU",
        "medications-1-text": "",
        "medications-2-text": "",
        "allergies-TOTAL_FORMS": "1",
        "allergies-INITIAL_FORMS": "1",
        "allergies-0-text": "",
    }
    data.update(overrides)
    return data


# --- the link and the birth-date gate ---------------------------------------------------------


def test_unknown_token_is_404(client: Client, db) -> None:
    response = client.get("/questionnaire/" + "x" * 43)

    assert response.status_code == 404
    assert "could not find this link" in response.content.decode()


def test_expired_link_is_410_with_the_pharmacy_phone(client: Client, prescription: Prescription, settings) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(questionnaire_expires_at=timezone.now() - timedelta(days=1))

    response = client.get(link(prescription))

    assert response.status_code == 410
    body = response.content.decode()
    assert "expired" in body
    assert settings.PHARMACY_PHONE in body
    assert PATIENT_NAME not in body


def test_expired_link_refuses_a_post_and_changes_nothing(patient_client: Client, prescription: Prescription) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(questionnaire_expires_at=timezone.now() - timedelta(days=1))

    response = patient_client.post(link(prescription), form_data())

    assert response.status_code == 410
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_link_asks_only_for_the_birth_date(client: Client, prescription: Prescription, suffix: str) -> None:
    response = client.get(link(prescription, suffix))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="date_of_birth"' in body
    assert 'name="takes_opioids"' not in body
    assert PATIENT_NAME not in body and PATIENT_SURNAME not in body
    assert prescription.reference not in body
    assert_nothing_clinical(body)
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


def test_wrong_birth_date_shows_nothing_and_does_not_unlock(client: Client, prescription: Prescription) -> None:
    # given: the patient has answered once, so there is something to leak
    client_ok = Client()
    client_ok.post(link(prescription), {"date_of_birth": "1980-02-29"})
    client_ok.post(link(prescription), form_data(**{"medications-0-text": "Zyrtec 10 mg"}))

    # when
    response = client.post(link(prescription), {"date_of_birth": "1980-03-01"})

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "does not match" in body
    assert 'aria-invalid="true"' in body
    for secret in (PATIENT_NAME, PATIENT_SURNAME, "Zyrtec", prescription.reference):
        assert secret not in body
    assert_nothing_clinical(body)
    follow = client.get(link(prescription))
    assert 'name="takes_opioids"' not in follow.content.decode()
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action=AuditAction.DENIED).exists()


def test_the_same_page_answers_a_wrong_date_for_any_link(
    client: Client, prescription: Prescription, prescriber
) -> None:
    from tests.factories import make_prescription

    other = make_prescription(prescriber, patient={"first_name": "Otto", "last_name": "Other"})

    first = client.post(link(prescription), {"date_of_birth": "1999-01-01"}).content.decode()
    second = client.post(link(other), {"date_of_birth": "1999-01-01"}).content.decode()

    strip = lambda html: html.split("csrfmiddlewaretoken")[0]  # noqa: E731 - the token differs per form
    assert strip(first) == strip(second)


def test_unlock_is_for_that_link_only(patient_client: Client, prescription: Prescription, prescriber) -> None:
    from tests.factories import make_prescription

    other = make_prescription(prescriber, patient={"first_name": "Otto", "last_name": "Other"})

    response = patient_client.get(link(other))

    assert 'name="takes_opioids"' not in response.content.decode()
    assert 'name="date_of_birth"' in response.content.decode()


def test_wrong_birth_dates_are_throttled(client: Client, prescription: Prescription, settings) -> None:
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    misses_allowed = int(rates["patient_lookup"].split("/")[0])

    for _ in range(misses_allowed):
        assert client.post(link(prescription), {"date_of_birth": "1970-01-01"}).status_code == 200
    response = client.post(link(prescription), {"date_of_birth": "1980-02-29"})

    # Even the right date is refused once the guesses are used up: it would confirm a guess.
    assert response.status_code == 429
    assert "Retry-After" in response
    assert 'name="takes_opioids"' not in client.get(link(prescription)).content.decode()


def test_every_request_to_a_link_is_throttled(client: Client, prescription: Prescription, settings) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "questionnaire": "3/min"},
    }
    for _ in range(3):
        assert client.get(link(prescription)).status_code == 200

    assert client.get(link(prescription)).status_code == 429


def test_unlocked_page_asks_every_question_with_labels(patient_client: Client, prescription: Prescription) -> None:
    response = patient_client.get(link(prescription))

    assert response.status_code == 200
    body = response.content.decode()
    for name in ("takes_opioids", "opioid_treatment_program", "liver_condition", "pregnancy",
                 "alcohol_drinks_per_week", "naltrexone_allergy", "thyroid_medication", "immunosuppressants",
                 "surgery_within_14_days", "attestation", "medications-0-text", "allergies-0-text"):  # fmt: skip
        assert f'name="{name}"' in body, name
    for example in ("Norco", "Vicodin", "Percocet", "OxyContin", "tramadol", "Ultram", "Tylenol #3",
                    "Suboxone", "methadone", "fentanyl patches", "kratom"):  # fmt: skip
        assert example in body, example
    assert 'data-formset-add="medications"' in body
    assert 'id="medications-empty-form"' in body
    assert "<legend" in body  # radio groups are fieldsets with a legend
    assert " style=" not in body and "<script>" not in body  # the CSP allows neither
    assert_no_prescription_details(body)
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, action=AuditAction.VIEW, actor_label="patient (private link)"
    ).exists()


# --- answering, correcting, locking ------------------------------------------------------------


def test_full_flow_moves_to_pending_review_with_flags(client: Client, prescription: Prescription) -> None:
    # given: the link, then the birth date
    assert client.get(link(prescription)).status_code == 200
    unlocked = client.post(link(prescription), {"date_of_birth": "02/29/1980"})
    assert unlocked.status_code == 302
    assert 'name="takes_opioids"' in client.get(unlocked["Location"]).content.decode()

    # when: answers that name an opioid among the medications
    response = client.post(link(prescription), form_data(**{"medications-1-text": "Percocet 5/325 prn"}))

    # then
    assert response.status_code == 302
    assert response["Location"].endswith(link(prescription, "/thanks"))
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    assert any(f["code"] == "opioid_use" and f["severity"] == "hard_stop" for f in prescription.flags)
    assert prescription.questionnaire.current_medications == ["vitamin D 2000 IU", "Percocet 5/325 prn"]
    assert prescription.questionnaire.allergies == []
    assert prescription.questionnaire.takes_opioids is False
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action=AuditAction.UPDATE).exists()

    thanks = client.get(response["Location"])
    body = thanks.content.decode()
    assert thanks.status_code == 200
    assert prescription.reference in body
    assert "What happens next" in body
    assert f"/status/{prescription.questionnaire_token}" in body
    assert_nothing_clinical(body)  # no flag, even the one the patient's answer raised


def test_clean_answers_raise_no_questionnaire_flag(patient_client: Client, prescription: Prescription) -> None:
    patient_client.post(link(prescription), form_data())

    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    assert not prescription.has_hard_stop


def test_invalid_answers_are_refused_with_field_errors(patient_client: Client, prescription: Prescription) -> None:
    data = form_data(alcohol_drinks_per_week="-1")
    del data["takes_opioids"]
    del data["attestation"]

    response = patient_client.post(link(prescription), data)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Answer yes or no." in body
    assert "Tick the box" in body
    assert 'aria-invalid="true"' in body
    assert 'value="vitamin D 2000 IU"' in body  # what the patient typed is kept
    prescription.refresh_from_db()
    assert prescription.status == S.AWAITING_QUESTIONNAIRE
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


def test_patient_can_correct_answers_before_review(patient_client: Client, prescription: Prescription) -> None:
    patient_client.post(link(prescription), form_data(takes_opioids="yes"))
    prescription.refresh_from_db()
    assert prescription.has_hard_stop

    # the form comes back pre-filled with the earlier answers
    page = patient_client.get(link(prescription)).content.decode()
    assert 'value="vitamin D 2000 IU"' in page
    assert 'name="takes_opioids" value="yes"' in page and "checked" in page

    response = patient_client.post(
        link(prescription),
        form_data(**{"medications-TOTAL_FORMS": "2", "medications-INITIAL_FORMS": "2",
                     "medications-1-text": "magnesium"}),
    )  # fmt: skip

    assert response.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    # The answer's opioid_use is gone; dropping a disclosed opioid is itself a stop a pharmacist verifies.
    assert [f["code"] for f in prescription.flags if f["severity"] == "hard_stop"] == ["opioid_disclosure_changed"]
    assert prescription.questionnaire.takes_opioids is False
    assert prescription.questionnaire.current_medications == ["vitamin D 2000 IU", "magnesium"]
    assert prescription.events.filter(message="Answers corrected by the patient").count() == 1


def test_link_is_locked_once_a_pharmacist_claims(
    patient_client: Client, prescription: Prescription, pharmacist
) -> None:
    patient_client.post(link(prescription), form_data())
    prescription_claim(prescription_id=prescription.pk, actor=pharmacist)

    page = patient_client.get(link(prescription))
    refused = patient_client.post(link(prescription), form_data(takes_opioids="yes"))

    assert page.status_code == 200
    assert "started reviewing" in page.content.decode()
    assert 'name="takes_opioids"' not in page.content.decode()
    assert refused.status_code == 409
    prescription.refresh_from_db()
    assert prescription.questionnaire.takes_opioids is False
    assert prescription.status == S.IN_REVIEW


def test_answers_posted_after_the_unlock_ended_ask_again(client: Client, prescription: Prescription) -> None:
    response = client.post(link(prescription), form_data(takes_opioids="yes"))

    assert response.status_code == 200
    assert "were not saved" in response.content.decode()
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


def test_thanks_page_needs_the_birth_date_too(client: Client, prescription: Prescription) -> None:
    body = client.get(link(prescription, "/thanks/")).content.decode()

    assert prescription.reference not in body
    assert 'name="date_of_birth"' in body


@pytest.mark.parametrize("row", ["medications-0-text", "allergies-0-text"])
def test_a_control_character_in_a_medication_or_allergy_line_is_refused_on_the_field(
    client: Client, prescription: Prescription, row: str
) -> None:
    client.post(link(prescription), {"date_of_birth": "02/29/1980"})

    response = client.post(link(prescription), form_data(**{row: "Norco\x1b[2J 5/325"}))

    assert response.status_code == 200
    assert "no line breaks or control characters" in response.content.decode()
    prescription.refresh_from_db()
    assert prescription.status == S.AWAITING_QUESTIONNAIRE
    assert not Questionnaire.objects.filter(prescription=prescription, submitted_at__isnull=False).exists()
