"""The API refuses line breaks and control characters in names, addresses, codes and numbers, and
keeps line breaks and tabs in free text (see tests/security/test_control_characters.py)."""

from __future__ import annotations

import json

import pytest

from intake.models import Patient, Prescription, PrescriptionEvent
from intake.validators import FREE_TEXT_MESSAGE, SINGLE_LINE_MESSAGE
from tests.api.conftest import PRESCRIPTIONS, action_url, error_at, with_value
from tests.factories import api_payload, clean_answers, make_prescription
from tests.security.test_control_characters import CONTROL_CHARACTERS

ONE_LINE_API_FIELDS = [
    "patient.first_name", "patient.last_name", "patient.phone", "patient.address.line1", "patient.address.line2",
    "patient.address.city", "patient.address.postal_code", "indication", "icd10",
]  # fmt: skip


def post(client, body):
    return client.post(PRESCRIPTIONS, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("character", CONTROL_CHARACTERS.keys())
@pytest.mark.parametrize("field", ONE_LINE_API_FIELDS)
def test_the_api_refuses_a_control_character_in_a_one_line_field(prescriber_api, field, character):
    value = CONTROL_CHARACTERS[character][:8]  # short enough for the ZIP code and the ICD-10 code

    response = post(prescriber_api, with_value(api_payload(), field, value))

    assert response.status_code == 400
    assert SINGLE_LINE_MESSAGE in error_at(response.json(), field)
    assert not Prescription.objects.exists()
    assert not Patient.objects.exists()


def test_the_reviewers_examples_are_refused(prescriber_api):
    body = with_value(api_payload(), "patient.first_name", "Ada\r\nBcc: x")
    body = with_value(body, "patient.address.city", "Aus\ttin\x1b")

    response = post(prescriber_api, body)

    assert response.status_code == 400
    assert error_at(response.json(), "patient.first_name") == [SINGLE_LINE_MESSAGE]
    assert error_at(response.json(), "patient.address.city") == [SINGLE_LINE_MESSAGE]
    assert not Prescription.objects.exists()


def test_the_api_keeps_line_breaks_and_tabs_in_directions_and_notes(prescriber_api):
    directions = "Take 1 capsule at bedtime.\nAfter 14 days:\ttake 2."
    body = with_value(with_value(api_payload(), "directions", directions), "prescriber_notes", "Line one\r\nline two")

    response = post(prescriber_api, body)

    assert response.status_code == 201
    prescription = Prescription.objects.get()
    assert prescription.directions == directions
    assert prescription.prescriber_notes == "Line one\r\nline two"


@pytest.mark.parametrize("field", ["directions", "prescriber_notes"])
def test_the_api_refuses_other_control_characters_in_free_text(prescriber_api, field):
    response = post(prescriber_api, with_value(api_payload(), field, "Take 1\x1b[2J capsule\x00 at bedtime"))

    assert response.status_code == 400
    assert FREE_TEXT_MESSAGE in error_at(response.json(), field)
    assert not Prescription.objects.exists()


@pytest.mark.parametrize("field", ["carrier", "tracking_number"])
def test_shipping_through_the_api_refuses_a_line_break_and_changes_nothing(pharmacist_api, rx_at, field):
    prescription = rx_at("ready")
    events = PrescriptionEvent.objects.count()
    body = {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"} | {field: "UPS\r\nX-Injected: 1"}

    response = pharmacist_api.post(action_url(prescription, "ship"), body, format="json")

    assert response.status_code == 400
    assert response.json()[field] == [SINGLE_LINE_MESSAGE]
    prescription.refresh_from_db()
    assert prescription.status == "ready"
    assert prescription.tracking_number == ""
    assert PrescriptionEvent.objects.count() == events


def test_recording_compounding_refuses_a_control_character_in_a_lot_number(pharmacist_api, rx_at):
    prescription = rx_at("compounding")
    body = {"lots": [{"ingredient": "Naltrexone HCl", "lot": "L1\x00", "expires": "2099-01-01"}], "quantity_made": 30}

    response = pharmacist_api.post(action_url(prescription, "record_compounding"), body, format="json")

    assert response.status_code == 400
    assert SINGLE_LINE_MESSAGE in error_at(response.json(), "lots.0.lot")
    prescription.refresh_from_db()
    assert prescription.status == "compounding"


def test_a_patient_medication_line_refuses_a_line_break(api, prescriber):
    prescription = make_prescription(prescriber)
    body = clean_answers(current_medications=["vit D\r\nattestation: true"])

    response = api.post(f"/api/v1/questionnaires/{prescription.questionnaire_token}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["current_medications"] == {"0": [SINGLE_LINE_MESSAGE]}
    assert Prescription.objects.get().status == "awaiting_questionnaire"
