"""verify_flag, request_rescreen and the approval rules over HTTP: each rule, each refusal changing nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.api.conftest import PRESCRIPTIONS, action_url, detail_url
from tests.factories import api_payload, clean_answers, make_prescription
from tests.screening.helpers import NOTE, snapshot
from tests.workflow_helpers import advance

REASON = "Discussed with the prescriber; benefits outweigh the risk at 4.5 mg."
OLD_LINES = clean_answers(current_medications=["oxycodone 10 mg last year", "Norco 5/325 stopped in May"])


def post(client, prescription, action, body):
    return client.post(action_url(prescription, action), json.dumps(body), content_type="application/json")


def verification(**overrides):
    return {"code": "opioid_use", "method": "pdmp_reviewed", "note": NOTE, **overrides}


def test_every_flag_in_the_json_carries_source_and_verification(prescriber_api, db):
    body = api_payload(strength_mg="6", titration=[])
    body["patient"]["address"]["state"] = "AK"

    created = prescriber_api.post(PRESCRIPTIONS, body, format="json").json()
    read = prescriber_api.get(detail_url(created["id"])).json()

    assert {flag["code"] for flag in created["flags"]} == {
        "dose_range",
        "daily_dose",
        "licensure",
        "prescriber_licensure",
    }
    for flag in read["flags"]:
        assert flag["source"] == "prescription"
        assert flag["verification"] is None
        assert {"code", "severity", "message", "source", "verification"} <= set(flag)


def test_a_strength_of_any_positive_size_is_taken_and_flagged(prescriber_api, db):
    for strength in ("0.01", "45", "450"):
        response = prescriber_api.post(PRESCRIPTIONS, api_payload(strength_mg=strength, titration=[]), format="json")
        assert response.status_code == 201, response.content
        assert "dose_range" in {flag["code"] for flag in response.json()["flags"]}


def test_verify_flag_answers_the_prescription_with_the_verification(pharmacist_api, rx_at):
    prescription = rx_at("in_review", answers=OLD_LINES)

    response = post(pharmacist_api, prescription, "verify_flag", verification())

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "in_review"
    stops = [flag for flag in body["flags"] if flag["code"] == "opioid_use"]
    assert len(stops) == 2
    for flag in stops:
        assert flag["source"] == "medications"
        assert set(flag["verification"]) == {"method", "note", "by", "at"}
        assert (flag["verification"]["method"], flag["verification"]["note"], flag["verification"]["by"]) == (
            "pdmp_reviewed", NOTE, "Paula Pharmacist"
        )  # fmt: skip
    assert post(pharmacist_api, prescription, "approve", {"override_reasons": {}}).json()["status"] == "approved"


def test_a_prescriber_not_licensed_in_the_patients_state_needs_a_reason_or_a_check(
    pharmacist_api, prescriber, pharmacist, technician
):
    prescription = advance(make_prescription(prescriber, patient={"state": "NY", "postal_code": "10001"}),
                           "in_review", pharmacist=pharmacist, technician=technician)  # fmt: skip
    assert {flag["code"] for flag in prescription.flags} == {"prescriber_licensure"}

    refused = post(pharmacist_api, prescription, "approve", {"override_reasons": {}})
    assert refused.status_code == 400
    assert "prescriber_licensure" in json.dumps(refused.json())

    checked = verification(code="prescriber_licensure", method="records_reviewed",
                           note="NY board lookup shows an active licence for this prescriber.")  # fmt: skip
    assert post(pharmacist_api, prescription, "verify_flag", checked).status_code == 200
    assert post(pharmacist_api, prescription, "approve", {"override_reasons": {}}).json()["status"] == "approved"


def test_verify_flag_with_a_field_verifies_that_flag_only(pharmacist_api, rx_at):
    prescription = rx_at("in_review", answers=OLD_LINES)

    body = post(pharmacist_api, prescription, "verify_flag", verification(field="current_medications[0]")).json()

    assert [flag["verification"] is not None for flag in body["flags"] if flag["code"] == "opioid_use"] == [
        True, False
    ]  # fmt: skip
    assert post(pharmacist_api, prescription, "approve", {"override_reasons": {}}).status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (verification(code="hepatic"), "code"),
        (verification(code=""), "code"),
        (verification(method="vibes"), "method"),
        (verification(method=""), "method"),
        (verification(note=""), "note"),
        (verification(note="ok"), "note"),
        (verification(note="n/a"), "note"),
        (verification(note="PDMP fine"), "note"),
        (verification(note=42), "note"),
        ({"code": "opioid_use", "method": "pdmp_reviewed"}, "note"),
        ({"method": "pdmp_reviewed", "note": NOTE}, "code"),
    ],
)
def test_a_bad_verification_is_400_on_its_field_and_changes_nothing(pharmacist_api, rx_at, body, field):
    prescription = rx_at("in_review", answers=OLD_LINES)
    before = snapshot(prescription)

    response = post(pharmacist_api, prescription, "verify_flag", body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(prescription) == before


@pytest.mark.parametrize(
    ("answers", "content", "code"),
    [
        (clean_answers(takes_opioids=True), {}, "opioid_use"),
        (clean_answers(opioid_treatment_program=True), {}, "opioid_use"),
        (clean_answers(liver_condition="liver_failure"), {}, "hepatic"),
        (clean_answers(naltrexone_allergy=True), {}, "naltrexone_allergy"),
        (None, {"strength_mg": Decimal("50"), "titration": ()}, "dose_range"),
        (None, {"quantity": 400, "titration": ()}, "daily_dose"),  # 60 mg a day
    ],
)
def test_a_hard_stop_that_cannot_be_verified_is_409_and_changes_nothing(pharmacist_api, rx_at, answers, content, code):
    prescription = rx_at("in_review", answers=answers, **content)
    before = snapshot(prescription)

    response = post(pharmacist_api, prescription, "verify_flag", verification(code=code, method="prescriber_confirmed"))

    assert response.status_code == 409, response.content
    assert snapshot(prescription) == before


def test_a_strength_above_the_range_needs_prescriber_confirmed(pharmacist_api, rx_at):
    prescription = rx_at("in_review", strength_mg=Decimal("4.75"), titration=())
    before = snapshot(prescription)

    refused = post(pharmacist_api, prescription, "verify_flag", verification(code="dose_range"))
    assert refused.status_code == 400 and "method" in refused.json()
    assert snapshot(prescription) == before
    by_reason = post(pharmacist_api, prescription, "approve",
                     {"override_reasons": {"dose_range": REASON, "daily_dose": REASON}})  # fmt: skip
    assert by_reason.status_code == 400 and "override_reasons" in by_reason.json()
    assert snapshot(prescription) == before

    confirmed = post(pharmacist_api, prescription, "verify_flag",
                     verification(code="dose_range", method="prescriber_confirmed",
                                  note="Dr Hopper confirmed 4.75 mg on the phone at 10:40."))  # fmt: skip
    assert confirmed.status_code == 200
    approved = post(pharmacist_api, prescription, "approve", {"override_reasons": {"daily_dose": REASON}})
    assert approved.json()["status"] == "approved"


@pytest.mark.parametrize("reason", ["", "ok", "n/a", "x", "seems fine"])
def test_approve_with_a_reason_that_is_not_a_sentence_is_400_and_changes_nothing(pharmacist_api, rx_at, reason):
    prescription = rx_at("in_review", answers=clean_answers(pregnancy="planning"))
    before = snapshot(prescription)

    response = post(pharmacist_api, prescription, "approve", {"override_reasons": {"pregnancy": reason}})

    assert response.status_code == 400
    assert "override_reasons" in response.json()
    assert snapshot(prescription) == before


def test_approve_with_an_unverified_hard_stop_is_409_even_with_reasons(pharmacist_api, rx_at):
    answers = clean_answers(pregnancy="planning", current_medications=["Norco 5/325 prn"])
    prescription = rx_at("in_review", answers=answers)
    before = snapshot(prescription)

    response = post(pharmacist_api, prescription, "approve", {"override_reasons": {"pregnancy": REASON}})

    assert response.status_code == 409
    assert snapshot(prescription) == before


@pytest.mark.parametrize("reason", ["ok", "n/a", "Duplicate"])
def test_reject_with_a_reason_that_is_not_a_sentence_is_400(pharmacist_api, rx_at, reason):
    prescription = rx_at("in_review")
    before = snapshot(prescription)

    response = post(pharmacist_api, prescription, "reject", {"reason": reason})

    assert response.status_code == 400
    assert "reason" in response.json()
    assert snapshot(prescription) == before


def test_request_rescreen_answers_a_new_link_and_the_old_one_stops(pharmacist_api, rx_at, api):
    prescription = rx_at("in_review", answers=clean_answers(takes_opioids=True))
    old_url = pharmacist_api.get(detail_url(prescription)).json()["questionnaire_url"]

    response = post(pharmacist_api, prescription, "request_rescreen", {"message": "The patient says it was a mistake."})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "awaiting_questionnaire"
    assert body["questionnaire_url"] != old_url
    old_token, new_token = old_url.rsplit("/", 1)[-1], body["questionnaire_url"].rsplit("/", 1)[-1]
    answers = {"date_of_birth": "1980-02-29", "takes_opioids": False, "liver_condition": "none", "pregnancy": "no",
               "attestation": True}  # fmt: skip
    assert api.post(f"/api/v1/questionnaires/{old_token}/", answers, format="json").status_code == 404
    answered = api.post(f"/api/v1/questionnaires/{new_token}/", answers, format="json")
    assert answered.status_code == 201
    assert answered.json()["status"] == "pending_review"
    flags = pharmacist_api.get(detail_url(prescription)).json()["flags"]
    assert [(f["code"], f["source"]) for f in flags if f["severity"] == "hard_stop"] == [
        ("opioid_disclosure_changed", "history")
    ]


def test_the_schema_documents_verification(client, db):
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    flag = components["Flag"]["properties"]
    assert {"source", "verification"} <= set(flag)
    verify = components["VerifyFlagRequest"]
    assert set(verify["required"]) == {"code", "method", "note"}
    methods = json.dumps(components)
    for method in ("prescriber_confirmed", "pdmp_reviewed", "patient_interview", "records_reviewed"):
        assert method in methods
