"""POST /api/v1/prescriptions/: the reference body, each field's validation, who may submit, idempotency."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import AuditRecord, IdempotencyKey, Patient, Prescription, TitrationStep
from tests.api.conftest import PRESCRIPTIONS, error_at, with_value, without
from tests.conftest import api_client_for
from tests.factories import api_payload


def post(client, body, **headers):
    # Encoded here, escaped: the test client's own encoder cannot send a lone surrogate.
    return client.post(PRESCRIPTIONS, json.dumps(body), content_type="application/json", headers=headers)


def nothing_saved() -> bool:
    return not Prescription.objects.exists() and not Patient.objects.exists() and not TitrationStep.objects.exists()


# --- The reference submission ---------------------------------------------------------------


def test_contract_example_is_accepted_with_the_promised_answer(prescriber_api, prescriber):
    response = post(prescriber_api, api_payload())

    assert response.status_code == 201
    body = response.json()
    prescription = Prescription.objects.get()
    assert body["id"] == prescription.pk
    assert body["reference"] == prescription.reference
    assert body["status"] == "awaiting_questionnaire"
    assert body["flags"] == []
    assert body["questionnaire_url"].rstrip("/").rsplit("/", 1)[-1] == prescription.questionnaire_token
    assert body["patient"]["address"] == {
        "line1": "1 Main St", "line2": "", "city": "Austin", "state": "TX", "postal_code": "78701",
    }  # fmt: skip
    assert body["patient"]["weight_kg"] == "61.5"
    assert body["prescriber"]["npi"] == prescriber.npi
    assert body["strength_mg"] == "4.50"
    assert body["titration"] == [{"strength_mg": "1.50", "days": 14}, {"strength_mg": "3.00", "days": 14}]
    assert body["beyond_use_date"] is None
    assert body["carrier"] == "" and body["tracking_number"] == ""
    assert body["altered"] is False
    assert response["Location"].endswith(f"/api/v1/prescriptions/{prescription.pk}/")


def test_submission_is_signed_with_the_prescribers_name_and_audited(prescriber_api, prescriber):
    post(prescriber_api, api_payload())

    prescription = Prescription.objects.get()
    assert prescription.signature_name == prescriber.user.get_full_name()
    assert prescription.signed_from_ip == "127.0.0.1"
    assert not prescription.is_altered
    assert AuditRecord.objects.filter(action="create", prescription_reference=prescription.reference).exists()


def test_an_explicit_signature_is_accepted(prescriber_api):
    body = api_payload(signature={"name": "Dr. Grace Hopper", "attestation": True})

    assert post(prescriber_api, body).status_code == 201
    assert Prescription.objects.get().signature_name == "Dr. Grace Hopper"


@pytest.mark.parametrize(
    ("signature", "field"),
    [
        ({"name": "Grace Hopper", "attestation": False}, "signature.attestation"),
        ({"name": "Somebody Else", "attestation": True}, "signature.name"),
        ({"name": "", "attestation": True}, "signature.name"),
        ("Grace Hopper", "signature.non_field_errors"),
    ],
)
def test_a_wrong_signature_is_refused(prescriber_api, signature, field):
    response = post(prescriber_api, api_payload(signature=signature))

    assert response.status_code == 400
    assert error_at(response.json(), field)
    assert nothing_saved()


def test_same_patient_again_is_one_patient_record(prescriber_api):
    post(prescriber_api, api_payload())
    post(prescriber_api, with_value(api_payload(), "patient.first_name", "ADA"))

    assert Patient.objects.count() == 1
    assert Prescription.objects.count() == 2


# --- Each field ------------------------------------------------------------------------------

OPTIONAL = ["titration", "icd10", "patient.weight_kg", "patient.phone", "prescriber_notes"]
REQUIRED = [
    "patient", "patient.first_name", "patient.last_name", "patient.date_of_birth", "patient.sex",
    "patient.email", "patient.address", "patient.address.line1", "patient.address.city",
    "patient.address.state", "patient.address.postal_code", "dosage_form", "strength_mg", "directions",
    "quantity", "days_supply", "refills", "indication", "dose_timing",
]  # fmt: skip


@pytest.mark.parametrize("field", OPTIONAL)
def test_optional_fields_may_be_left_out(prescriber_api, field):
    assert post(prescriber_api, without(api_payload(), field)).status_code == 201


@pytest.mark.parametrize("field", REQUIRED)
def test_required_fields_missing_are_named(prescriber_api, field):
    response = post(prescriber_api, without(api_payload(), field))

    assert response.status_code == 400
    assert error_at(response.json(), field)
    assert nothing_saved()


INVALID = [
    # strength: a positive decimal of at most two places, as a string or a number
    ("strength_mg", "0"), ("strength_mg", 0), ("strength_mg", "0.00"), ("strength_mg", "-1"),
    ("strength_mg", -4.5), ("strength_mg", "abc"), ("strength_mg", "NaN"), ("strength_mg", "Infinity"),
    ("strength_mg", "-Infinity"), ("strength_mg", "4.555"), ("strength_mg", "1e-9"), ("strength_mg", "1e999999"),
    ("strength_mg", "1" * 2000), ("strength_mg", None), ("strength_mg", True), ("strength_mg", []),
    ("strength_mg", {}), ("strength_mg", ""), ("strength_mg", "4,5"), ("strength_mg", "100000"),
    # counts
    ("refills", -1), ("refills", 12), ("refills", "three"), ("refills", 1.5), ("refills", None),
    ("quantity", 0), ("quantity", -30), ("quantity", "x"), ("quantity", 10**30), ("quantity", 2.5),
    ("days_supply", 0), ("days_supply", -1), ("days_supply", 10**12), ("days_supply", False),
    # texts
    ("directions", "x" * 1001), ("directions", ""), ("directions", "   "), ("directions", None),
    ("directions", "bad\x00byte"), ("directions", "\ud800"), ("directions", 42), ("directions", ["a"]),
    ("prescriber_notes", "x" * 1001), ("indication", ""), ("indication", "x" * 201),
    ("icd10", "not a code"), ("icd10", "M79.77777"),
    # choices
    ("dosage_form", "tablet"), ("dosage_form", "\ud800"), ("dosage_form", "CAPSULE"), ("dosage_form", ""),
    ("dosage_form", None),
    ("dose_timing", "noon"), ("dose_timing", None),
    # titration
    ("titration", "1.5 mg for 14 days"), ("titration", {"strength_mg": "1.5", "days": 14}), ("titration", None),
    ("titration", [{"strength_mg": "0", "days": 14}]), ("titration", [{"strength_mg": "1.5", "days": 0}]),
    ("titration", [{"strength_mg": "1.5"}]), ("titration", ["1.5"]),
    ("titration", [{"strength_mg": "1.555", "days": 1}]),
    # the patient
    ("patient", "Ada Lovelace"), ("patient", ["Ada"]), ("patient", None),
    ("patient.first_name", ""), ("patient.first_name", "x" * 101), ("patient.last_name", None),
    ("patient.date_of_birth", "2023-02-30"), ("patient.date_of_birth", "1980-13-01"),
    ("patient.date_of_birth", "29/02/1980"), ("patient.date_of_birth", "yesterday"),
    ("patient.date_of_birth", "2999-01-01"), ("patient.date_of_birth", "1800-01-01"),
    ("patient.date_of_birth", 19800229), ("patient.date_of_birth", "1980-02-29T00:00:00Z"),
    ("patient.sex", "Q"), ("patient.sex", "female"), ("patient.email", "not-an-email"),
    ("patient.email", ""), ("patient.phone", "call me"), ("patient.weight_kg", 0), ("patient.weight_kg", -3),
    ("patient.weight_kg", "heavy"), ("patient.weight_kg", 10**6), ("patient.weight_kg", "NaN"),
    ("patient.address", "1 Main St, Austin"), ("patient.address", [1, 2]),
    ("patient.address.state", "ZZ"), ("patient.address.state", "tx"), ("patient.address.postal_code", "ABCDE"),
    ("patient.address.postal_code", "787"), ("patient.address.line1", ""), ("patient.address.city", None),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), INVALID)
def test_invalid_values_are_refused_on_their_field(prescriber_api, field, value):
    response = post(prescriber_api, with_value(api_payload(), field, value))

    assert response.status_code == 400, response.content
    assert error_at(response.json(), field)
    assert nothing_saved()


VALID = [
    ("strength_mg", "4.5"), ("strength_mg", 4.5), ("strength_mg", "4.50"), ("strength_mg", "4.500"),
    ("strength_mg", 3), ("strength_mg", " 4.5 "), ("refills", 0), ("refills", 11), ("refills", 3.0),
    ("directions", "x" * 1000), ("prescriber_notes", "n" * 1000), ("icd10", "m797"), ("icd10", ""),
    ("dosage_form", "oral_liquid"), ("dosage_form", "sublingual_drops"), ("dosage_form", "topical_cream"),
    ("dose_timing", "morning"), ("titration", []), ("patient.weight_kg", "61.54"), ("patient.weight_kg", None),
    ("patient.phone", ""), ("patient.first_name", "Zoë 李"), ("patient.last_name", "O'Brien-Núñez"),
    ("patient.address.postal_code", "78701-1234"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "value"), VALID)
def test_valid_values_are_accepted(prescriber_api, field, value):
    body = with_value(api_payload(), field, value)
    if field == "dosage_form" and value != "capsule":
        body["titration"] = []  # a capsule kit's arithmetic does not apply; keep the test about the field

    response = post(prescriber_api, body)

    assert response.status_code == 201, response.content


def test_weight_is_kept_to_a_tenth_of_a_kilogram(prescriber_api):
    response = post(prescriber_api, with_value(api_payload(), "patient.weight_kg", 61.54))

    assert response.json()["patient"]["weight_kg"] == "61.5"


@pytest.mark.parametrize(("strength", "severity"), [("0.25", "warning"), ("6", "warning"), ("50", "hard_stop")])
def test_a_strength_out_of_the_usual_range_is_taken_and_flagged(prescriber_api, strength, severity):
    response = post(prescriber_api, api_payload(strength_mg=strength, titration=[]))

    assert response.status_code == 201
    flags = {f["code"]: f["severity"] for f in response.json()["flags"]}
    assert flags["dose_range"] == severity


def test_a_minor_needs_a_weight(prescriber_api):
    dob = (timezone.localdate() - timedelta(days=365 * 12)).isoformat()
    body = without(with_value(api_payload(), "patient.date_of_birth", dob), "patient.weight_kg")

    response = post(prescriber_api, body)

    assert response.status_code == 400
    assert "weight_kg" in response.json()["patient"]
    assert nothing_saved()


def test_a_minor_with_a_weight_is_accepted(prescriber_api):
    dob = (timezone.localdate() - timedelta(days=365 * 12)).isoformat()

    response = post(prescriber_api, with_value(api_payload(), "patient.date_of_birth", dob))

    assert response.status_code == 201


def test_several_wrong_fields_are_all_named_with_their_nesting(prescriber_api):
    body = with_value(with_value(api_payload(refills=12), "patient.address.postal_code", "x"), "patient.sex", "?")

    response = post(prescriber_api, body)

    errors = response.json()
    assert set(errors) == {"refills", "patient"}
    assert set(errors["patient"]) == {"sex", "address"}
    assert set(errors["patient"]["address"]) == {"postal_code"}


# --- Titration arithmetic (the service's rule, surfaced on "titration") -----------------------


@pytest.mark.parametrize(
    "overrides",
    [
        # the steps last longer than the supply
        {"titration": [{"strength_mg": "1.5", "days": 20}, {"strength_mg": "3", "days": 20}]},
        # the steps fill the supply and never reach the prescribed strength
        {"titration": [{"strength_mg": "1.5", "days": 15}, {"strength_mg": "3", "days": 15}]},
        # a capsule kit holds one capsule per day of supply
        {"quantity": 60},
    ],
)
def test_titration_arithmetic_errors_are_named_titration(prescriber_api, overrides):
    response = post(prescriber_api, api_payload(**overrides))

    assert response.status_code == 400
    assert response.json()["titration"]
    assert nothing_saved()


def test_titration_ending_at_the_strength_is_accepted(prescriber_api):
    body = api_payload(titration=[{"strength_mg": "1.5", "days": 14}, {"strength_mg": "4.5", "days": 16}])

    assert post(prescriber_api, body).status_code == 201


# --- Who may submit --------------------------------------------------------------------------


def test_anonymous_is_refused(db, api):
    response = post(api, api_payload())

    assert response.status_code == 401
    assert nothing_saved()


@pytest.mark.parametrize("persona", ["pharmacist", "technician", "pharmacy_admin"])
def test_pharmacy_staff_cannot_submit(db, request, persona):
    client = api_client_for(request.getfixturevalue(persona))

    response = post(client, api_payload())

    assert response.status_code == 403
    assert nothing_saved()


def test_unverified_prescriber_is_told_why(prescriber_api, prescriber):
    prescriber.verified_at = None
    prescriber.save()

    response = post(prescriber_api, api_payload())

    assert response.status_code == 403
    assert "verified" in response.json()["detail"]
    assert nothing_saved()


def test_prescriber_with_expired_licence_is_told_why(prescriber_api, prescriber):
    prescriber.license_expires = timezone.localdate() - timedelta(days=1)
    prescriber.save()

    response = post(prescriber_api, api_payload())

    assert response.status_code == 403
    assert "expired" in response.json()["detail"]
    assert nothing_saved()


def test_inactive_dosage_form_is_refused_on_dosage_form(prescriber_api):
    from intake.models import DosageForm

    DosageForm.objects.filter(code="oral_liquid").update(active=False)

    response = post(prescriber_api, api_payload(dosage_form="oral_liquid", titration=[]))

    assert response.status_code == 400
    assert response.json()["dosage_form"]
    assert nothing_saved()


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_repeated_key_returns_the_first_prescription(prescriber_api):
    first = post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})
    again = post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})

    assert first.status_code == 201
    assert again.status_code in (200, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reference"] == first.json()["reference"]
    assert Prescription.objects.count() == 1


def test_the_same_key_with_another_body_is_refused_with_a_message(prescriber_api):
    post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})

    response = post(prescriber_api, api_payload(refills=1), **{"Idempotency-Key": "ehr-42"})

    assert response.status_code in (409, 422)
    assert "Idempotency-Key" in response.json()["detail"]
    assert Prescription.objects.count() == 1


def test_a_submission_and_a_replay_each_leave_one_audit_row(prescriber_api, prescriber):
    # given: a submission, then its replay (whose own transaction rolls back at the key)
    first = post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-43", "User-Agent": "EHR/1.0"})
    post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-43"})

    # then: one "created" row, written with the prescription, and one "viewed" row for the replay
    reference = first.json()["reference"]
    rows = list(AuditRecord.objects.filter(prescription_reference=reference).order_by("id"))
    assert [(r.action, r.description) for r in rows] == [
        ("create", "submitted through the API"), ("view", "Idempotency-Key replay"),
    ]  # fmt: skip
    created = rows[0]
    assert (created.actor, created.object_id, created.method, created.path, created.ip_address, created.user_agent) == (
        prescriber.user, str(first.json()["id"]), "POST", PRESCRIPTIONS, "127.0.0.1", "EHR/1.0",
    )  # fmt: skip


def test_a_refused_submission_leaves_no_created_audit_row(prescriber_api):
    response = post(prescriber_api, api_payload(quantity=0))

    assert response.status_code == 400
    assert not AuditRecord.objects.filter(action="create").exists()
    assert nothing_saved()


def test_without_a_key_each_request_is_a_new_prescription(prescriber_api):
    post(prescriber_api, api_payload())
    post(prescriber_api, api_payload())

    assert Prescription.objects.count() == 2


def test_keys_belong_to_one_prescriber(prescriber_api, other_prescriber_api):
    mine = post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})
    theirs = post(other_prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]


def test_a_refused_request_does_not_use_up_the_key(prescriber_api):
    post(prescriber_api, api_payload(refills=12), **{"Idempotency-Key": "ehr-42"})

    response = post(prescriber_api, api_payload(), **{"Idempotency-Key": "ehr-42"})

    assert response.status_code == 201
    assert IdempotencyKey.objects.count() == 1


def test_an_overlong_key_is_refused(prescriber_api):
    response = post(prescriber_api, api_payload(), **{"Idempotency-Key": "k" * 256})

    assert response.status_code == 400
    assert response.json()["idempotency_key"]
    assert nothing_saved()


def test_the_allergies_sent_come_back_on_every_read(prescriber_api):
    body = with_value(api_payload(), "patient.allergies", ["penicillin: rash", "latex"])

    created = post(prescriber_api, body)
    read = prescriber_api.get(f"{PRESCRIPTIONS}{created.json()['id']}/")

    assert created.status_code == 201
    assert created.json()["patient"]["allergies"] == ["penicillin: rash", "latex"]
    assert read.json()["patient"]["allergies"] == ["penicillin: rash", "latex"]
    assert post(prescriber_api, api_payload()).json()["patient"]["allergies"] == []
