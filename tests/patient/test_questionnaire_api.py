"""POST /api/v1/questionnaires/{token}/: the questionnaire's JSON twin."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from intake.models import AuditAction, AuditRecord, Prescription, PrescriptionStatus, Questionnaire
from intake.services.workflow import prescription_claim
from tests.factories import clean_answers
from tests.patient.conftest import PATIENT_NAME, assert_nothing_clinical

S = PrescriptionStatus


def url(prescription: Prescription) -> str:
    return f"/api/v1/questionnaires/{prescription.questionnaire_token}/"


def assert_unchanged(prescription: Prescription) -> None:
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.AWAITING_QUESTIONNAIRE
    assert fresh.flags == prescription.flags
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


def test_clean_answers_move_to_pending_review(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription), clean_answers(), format="json")

    assert response.status_code == 201
    assert response.json() == {"reference": prescription.reference, "status": "pending_review"}
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    assert not prescription.has_hard_stop
    assert prescription.questionnaire.current_medications == ["vitamin D 2000 IU"]
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, action=AuditAction.UPDATE, actor_label="patient (private link)"
    ).exists()


def test_without_trailing_slash_too(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription).rstrip("/"), clean_answers(), format="json")

    assert response.status_code == 201


def test_answer_holds_nothing_clinical(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription), clean_answers(takes_opioids=True), format="json")

    assert set(response.json()) == {"reference", "status"}
    assert_nothing_clinical(response.content.decode())


@pytest.mark.parametrize(
    "answers",
    [
        clean_answers(takes_opioids=True),
        clean_answers(opioid_treatment_program=True),
        clean_answers(current_medications=["Norco 5/325 prn"]),
        clean_answers(current_medications=["vit D", "tramadol 50mg"]),
    ],
    ids=["takes-opioids", "program", "norco-line", "tramadol-line"],
)
def test_opioid_answer_is_an_opioid_use_hard_stop(api: APIClient, prescription: Prescription, answers) -> None:
    response = api.post(url(prescription), answers, format="json")

    assert response.status_code == 201
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    opioid = [f for f in prescription.flags if f["code"] == "opioid_use"]
    assert opioid and opioid[0]["severity"] == "hard_stop"


BAD_FIELDS: list[tuple[str, Any]] = [
    ("takes_opioids", "false"),
    ("takes_opioids", 0),
    ("takes_opioids", None),
    ("opioid_treatment_program", "no"),
    ("naltrexone_allergy", 1),
    ("thyroid_medication", "true"),
    ("immunosuppressants", []),
    ("surgery_within_14_days", "yes"),
    ("liver_condition", "cirrhosis"),
    ("liver_condition", True),
    ("pregnancy", "maybe"),
    ("pregnancy", ["no"]),
    ("alcohol_drinks_per_week", -1),
    ("alcohol_drinks_per_week", "3"),
    ("alcohol_drinks_per_week", 2.5),
    ("alcohol_drinks_per_week", True),
    ("alcohol_drinks_per_week", 10_000),
    ("current_medications", "Norco"),
    ("current_medications", [5]),
    ("current_medications", [{"name": "Norco"}]),
    ("current_medications", ["x" * 201]),
    ("current_medications", ["vit D"] * 51),
    ("current_medications", ["bad\x00byte"]),
    ("allergies", "penicillin"),
    ("allergies", [None]),
    ("attestation", False),
    ("attestation", "true"),
    ("date_of_birth", "29/02/1980"),
    ("date_of_birth", "1980-02-30"),
    ("date_of_birth", 19800229),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS, ids=[f"{f}={v!r}"[:40] for f, v in BAD_FIELDS])
def test_each_bad_field_is_400_and_changes_nothing(api: APIClient, prescription: Prescription, field, value) -> None:
    response = api.post(url(prescription), clean_answers(**{field: value}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert_unchanged(prescription)


@pytest.mark.parametrize("field", [k for k in clean_answers() if k != "date_of_birth"])
def test_each_missing_field_is_400(api: APIClient, prescription: Prescription, field: str) -> None:
    body = clean_answers()
    del body[field]

    response = api.post(url(prescription), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert_unchanged(prescription)


def test_unknown_field_is_400(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription), clean_answers(takes_benzodiazepines=False), format="json")

    assert response.status_code == 400
    assert "takes_benzodiazepines" in response.json()
    assert_unchanged(prescription)


@pytest.mark.parametrize("body", [[], "answers", 42, None])
def test_a_body_that_is_not_an_object_is_400(api: APIClient, prescription: Prescription, body) -> None:
    response = api.post(url(prescription), body, format="json")

    assert response.status_code == 400
    assert_unchanged(prescription)


def test_text_that_is_not_unicode_is_400(api: APIClient, prescription: Prescription) -> None:
    body = json.dumps(clean_answers(allergies=["lone \ud800 surrogate"]))  # ASCII, the surrogate escaped

    response = api.post(url(prescription), data=body, content_type="application/json")

    assert response.status_code == 400
    assert "allergies" in response.json()
    assert_unchanged(prescription)


def test_malformed_json_is_400(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription), data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert_unchanged(prescription)


def test_wrong_birth_date_is_refused_and_reveals_nothing(api: APIClient, prescription: Prescription) -> None:
    response = api.post(url(prescription), clean_answers(date_of_birth="1980-03-01"), format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"date_of_birth"}
    assert PATIENT_NAME not in response.content.decode()
    assert prescription.reference not in response.content.decode()
    assert_unchanged(prescription)
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action=AuditAction.DENIED).exists()


def test_unknown_token_is_404(api: APIClient, db) -> None:
    response = api.post("/api/v1/questionnaires/" + "A" * 43 + "/", clean_answers(), format="json")

    assert response.status_code == 404


def test_expired_link_is_410(api: APIClient, prescription: Prescription) -> None:
    Prescription.objects.filter(pk=prescription.pk).update(questionnaire_expires_at=timezone.now() - timedelta(days=1))

    response = api.post(url(prescription), clean_answers(), format="json")

    assert response.status_code == 410
    assert_unchanged(prescription)


def test_correction_before_review_is_200_and_rescreens(api: APIClient, prescription: Prescription) -> None:
    api.post(url(prescription), clean_answers(takes_opioids=True), format="json")

    response = api.post(url(prescription), clean_answers(), format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "pending_review"
    prescription.refresh_from_db()
    # The answer's opioid_use is gone; dropping a disclosed opioid is itself a stop a pharmacist verifies.
    assert {(f["code"], f["source"]) for f in prescription.flags if f["severity"] == "hard_stop"} == {
        ("opioid_disclosure_changed", "history")
    }


def test_review_started_is_409_and_changes_nothing(api: APIClient, prescription: Prescription, pharmacist) -> None:
    api.post(url(prescription), clean_answers(), format="json")
    prescription_claim(prescription_id=prescription.pk, actor=pharmacist)

    response = api.post(url(prescription), clean_answers(takes_opioids=True), format="json")

    assert response.status_code == 409
    prescription.refresh_from_db()
    assert prescription.status == S.IN_REVIEW
    assert prescription.questionnaire.takes_opioids is False
    assert not prescription.has_hard_stop


def test_review_started_is_not_revealed_to_a_wrong_birth_date(
    api: APIClient, prescription: Prescription, pharmacist
) -> None:
    api.post(url(prescription), clean_answers(), format="json")
    prescription_claim(prescription_id=prescription.pk, actor=pharmacist)

    response = api.post(url(prescription), clean_answers(date_of_birth="1990-01-01"), format="json")

    assert response.status_code == 400


def test_session_cookie_is_not_needed_and_csrf_not_demanded(prescription: Prescription) -> None:
    strict = APIClient(enforce_csrf_checks=True)

    response = strict.post(url(prescription), clean_answers(), format="json")

    assert response.status_code == 201


def test_wrong_birth_dates_from_many_addresses_do_not_lock_the_patient_out(
    api: APIClient, prescription: Prescription, settings
) -> None:
    mark = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_reference"].split("/")[0])
    guessers = [APIClient(REMOTE_ADDR=f"203.0.113.{n + 1}") for n in range(mark + 2)]
    for guesser in guessers:
        refused = guesser.post(url(prescription), clean_answers(date_of_birth="1970-01-01"), format="json")
        assert refused.status_code == 400

    # past the mark an address that missed gets no second try, even with the right date
    again = guessers[0].post(url(prescription), clean_answers(), format="json")
    assert again.status_code == 429
    assert "Retry-After" in again
    assert_unchanged(prescription)
    # the patient, who has not missed, still answers
    assert api.post(url(prescription), clean_answers(), format="json").status_code == 201


def test_requests_are_throttled_per_client(api: APIClient, prescription: Prescription, prescriber, settings) -> None:
    from tests.factories import make_prescription

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "questionnaire": "2/min"},
    }
    other = make_prescription(prescriber, patient={"first_name": "Otto", "last_name": "Other"})
    api.post(url(prescription), {"takes_opioids": "bad"}, format="json")
    api.post(url(other), {"takes_opioids": "bad"}, format="json")

    response = api.post(url(prescription), clean_answers(), format="json")

    assert response.status_code == 429
    assert_unchanged(prescription)
