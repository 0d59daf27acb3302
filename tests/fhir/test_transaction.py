"""POST /fhir/R4/ with a transaction Bundle: it submits the prescription the JSON API would."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from intake.api.fhir import codes
from intake.models import AuditRecord, Patient, Prescription
from tests.api.conftest import PRESCRIPTIONS, detail_url
from tests.conftest import api_client_for
from tests.factories import api_payload
from tests.fhir.bundles import EHR_SYSTEM, FORMS, edited, index_of, resource_of, transaction_bundle
from tests.fhir.conftest import post_bundle, response_bundle

THREE_STEPS = [{"strength_mg": "0.5", "days": 7}, {"strength_mg": "1.5", "days": 7}, {"strength_mg": "3", "days": 7}]
# What a prescription's JSON says about what was prescribed (not who, when or which number).
PRESCRIBED = ["dosage_form", "strength_mg", "directions", "quantity", "days_supply", "refills", "indication", "icd10",
              "titration", "dose_timing", "prescriber_notes", "dispense_plan", "flags"]  # fmt: skip


def submitted(client, bundle) -> tuple[dict, Prescription]:
    response = post_bundle(client, bundle)
    assert response.status_code == 200, response.json()
    answer = response_bundle(response)
    location = answer["entry"][index_of(bundle, "MedicationRequest")]["response"]["location"]
    return answer, Prescription.objects.get(pk=int(location.removeprefix("MedicationRequest/")))


def json_of(client, prescription: Prescription) -> dict:
    return client.get(detail_url(prescription)).json()


# --- The reference Bundle ---------------------------------------------------------------------


def test_the_reference_bundle_submits_a_prescription(prescriber_api, prescriber):
    response = post_bundle(prescriber_api, transaction_bundle())

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    answer = response_bundle(response)
    prescription = Prescription.objects.get()
    patient_entry, request_entry, weight_entry = answer["entry"]
    assert patient_entry["response"]["status"] == "201 Created"
    assert request_entry["response"]["status"].startswith("201")
    assert request_entry["response"]["location"] == f"MedicationRequest/{prescription.pk}"
    assert weight_entry["response"]["status"] == "200 OK"
    assert response["Location"].endswith(f"/fhir/R4/MedicationRequest/{prescription.pk}")
    assert prescription.prescriber == prescriber
    assert prescription.status == "awaiting_questionnaire"
    assert prescription.signature_name == prescriber.user.get_full_name()
    assert AuditRecord.objects.filter(action="create", prescription_reference=prescription.reference,
                                      description="submitted through FHIR").exists()  # fmt: skip


def test_the_answer_carries_the_questionnaire_link_of_the_json_api(prescriber_api):
    answer, prescription = submitted(prescriber_api, transaction_bundle())

    (extension,) = answer["entry"][1]["response"]["extension"]
    assert extension["url"] == codes.QUESTIONNAIRE_URL_EXTENSION
    assert extension["valueUrl"] == json_of(prescriber_api, prescription)["questionnaire_url"]
    assert "outcome" not in answer["entry"][1]["response"]  # no flag, nothing to say


def test_the_mapping_lands_every_field_as_the_json_api_would(prescriber_api):
    bundle = transaction_bundle(prescriber_notes="Started on 1.5 mg last year", identifier=None)
    _answer, through_fhir = submitted(prescriber_api, bundle)
    through_json = prescriber_api.post(PRESCRIPTIONS, api_payload(prescriber_notes="Started on 1.5 mg last year"),
                                       format="json").json()  # fmt: skip

    fhir_json = json_of(prescriber_api, through_fhir)
    assert {key: fhir_json[key] for key in PRESCRIBED if key != "flags"} == {
        key: through_json[key] for key in PRESCRIBED if key != "flags"
    }
    assert fhir_json["patient"] == through_json["patient"]
    assert fhir_json["patient"]["weight_kg"] == "61.5"
    assert fhir_json["patient"]["address"]["postal_code"] == "78701"


@pytest.mark.parametrize("form_in", ["extension", "contained"])
@pytest.mark.parametrize("dosage_form", FORMS)
def test_every_dosage_form_from_an_extension_or_a_contained_medication(prescriber_api, dosage_form, form_in):
    quantity = 30 if dosage_form == "capsule" else 300  # capsules one a day; mL or g of the rest
    bundle = transaction_bundle(dosage_form=dosage_form, form_in=form_in, quantity=quantity)

    _answer, prescription = submitted(prescriber_api, bundle)

    assert prescription.dosage_form == dosage_form
    assert json_of(prescriber_api, prescription)["dosage_form"] == dosage_form


def test_a_three_step_titration_lands_as_the_json_api_lands_it(prescriber_api):
    _answer, through_fhir = submitted(prescriber_api, transaction_bundle(titration=THREE_STEPS))
    through_json = prescriber_api.post(PRESCRIPTIONS, api_payload(titration=THREE_STEPS), format="json").json()

    fhir_json = json_of(prescriber_api, through_fhir)
    assert fhir_json["titration"] == through_json["titration"] == [
        {"strength_mg": "0.50", "days": 7}, {"strength_mg": "1.50", "days": 7}, {"strength_mg": "3.00", "days": 7},
    ]  # fmt: skip
    assert fhir_json["dispense_plan"] == through_json["dispense_plan"]
    assert [entry["quantity"] for entry in fhir_json["dispense_plan"]] == [7, 7, 7, 9]


def test_steps_are_taken_in_sequence_order_whatever_the_order_sent(prescriber_api):
    bundle = edited(transaction_bundle(titration=THREE_STEPS), "MedicationRequest",
                    lambda request: request["dosageInstruction"].reverse())  # fmt: skip
    # The directions stay on dosageInstruction[0], which is now the last step in sequence.
    resource_of(bundle, "MedicationRequest")["dosageInstruction"][0]["text"] = "Take as directed at bedtime"

    _answer, prescription = submitted(prescriber_api, bundle)

    answer = json_of(prescriber_api, prescription)
    assert [step["strength_mg"] for step in answer["titration"]] == ["0.50", "1.50", "3.00"]
    assert answer["strength_mg"] == "4.50"
    assert answer["directions"] == "Take as directed at bedtime"


def test_morning_timing_and_weeks(prescriber_api):
    bundle = transaction_bundle(dose_timing="morning", titration=[{"strength_mg": "1.5", "days": 14}])
    request = resource_of(bundle, "MedicationRequest")
    weeks = {"value": 2, "unit": "weeks", "system": codes.UCUM, "code": "wk"}
    request["dosageInstruction"][0]["timing"]["repeat"]["boundsDuration"] = weeks

    _answer, prescription = submitted(prescriber_api, bundle)

    answer = json_of(prescriber_api, prescription)
    assert answer["dose_timing"] == "morning"
    assert answer["titration"] == [{"strength_mg": "1.50", "days": 14}]


# --- The body weight --------------------------------------------------------------------------


def test_a_body_weight_in_pounds_is_kept_in_kg(prescriber_api):
    bundle = edited(transaction_bundle(), "Observation", lambda weight: weight.update(
        valueQuantity={"value": 150, "unit": "lb", "system": codes.UCUM, "code": "[lb_av]"}))  # fmt: skip

    _answer, prescription = submitted(prescriber_api, bundle)

    assert prescription.patient.weight_kg == Decimal("68.0")


def test_without_an_observation_an_adult_has_no_weight(prescriber_api):
    answer, prescription = submitted(prescriber_api, transaction_bundle(weight_kg=None))

    assert len(answer["entry"]) == 2
    assert prescription.patient.weight_kg is None


def test_a_minor_with_a_body_weight_is_accepted(prescriber_api):
    _answer, prescription = submitted(prescriber_api, transaction_bundle(birth_date="2015-06-01", weight_kg=30))

    assert prescription.patient.weight_kg == Decimal("30.0")


# --- Screening flags --------------------------------------------------------------------------


@pytest.mark.parametrize(("strength", "severity"), [("6", "warning"), ("60", "error")])
def test_the_flags_come_back_in_the_response_outcome(prescriber_api, strength, severity):
    answer, prescription = submitted(prescriber_api, transaction_bundle(strength_mg=strength, titration=[]))

    outcome = answer["entry"][1]["response"]["outcome"]
    assert outcome["resourceType"] == "OperationOutcome"
    by_code = {issue["details"]["coding"][0]["code"]: issue for issue in outcome["issue"]}
    assert set(by_code) == {flag["code"] for flag in prescription.flags}
    issue = by_code["dose_range"]
    assert issue["severity"] == severity
    assert issue["code"] == "business-rule"
    assert issue["details"]["coding"][0]["system"] == codes.FLAG_SYSTEM
    assert issue["diagnostics"] == next(f["message"] for f in prescription.flags if f["code"] == "dose_range")


def test_a_returning_patient_is_one_record_and_answered_200(prescriber_api):
    submitted(prescriber_api, transaction_bundle(identifier=(EHR_SYSTEM, "RX-1")))

    answer, second = submitted(prescriber_api, transaction_bundle(identifier=(EHR_SYSTEM, "RX-2")))

    assert Patient.objects.count() == 1
    assert answer["entry"][0]["response"]["status"] == "200 OK"
    assert answer["entry"][1]["response"]["status"] == "201 Created"
    assert "duplicate_order" in {flag["code"] for flag in second.flags}


# --- The identifier as idempotency key --------------------------------------------------------


def test_the_same_identifier_again_answers_the_first_prescription(prescriber_api, prescriber):
    first, prescription = submitted(prescriber_api, transaction_bundle())

    again, replayed = submitted(prescriber_api, transaction_bundle())

    assert replayed == prescription
    assert Prescription.objects.count() == 1
    assert again["entry"][1]["response"]["status"] == "200 OK"
    assert again["entry"][1]["response"]["location"] == first["entry"][1]["response"]["location"]
    assert again["entry"][0]["response"]["status"] == "200 OK"
    assert AuditRecord.objects.filter(action="create").count() == 1
    assert AuditRecord.objects.filter(action="view", prescription_reference=prescription.reference,
                                      description="MedicationRequest.identifier replay").count() == 1  # fmt: skip


def test_the_same_identifier_with_another_body_is_refused_422(prescriber_api):
    submitted(prescriber_api, transaction_bundle())

    response = post_bundle(prescriber_api, transaction_bundle(quantity=31, days_supply=31))

    assert response.status_code == 422
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[1].resource.identifier[0]"]
    assert Prescription.objects.count() == 1


def test_the_identifier_is_the_json_apis_idempotency_key(prescriber_api):
    submitted(prescriber_api, transaction_bundle(identifier=(EHR_SYSTEM, "RX-77")))

    key = codes.identifier_key(EHR_SYSTEM, "RX-77")
    response = prescriber_api.post(PRESCRIPTIONS, json.dumps(api_payload()), content_type="application/json",
                                   headers={"Idempotency-Key": key})  # fmt: skip

    # the same content through the JSON API with that key: the first prescription, not a second
    assert response.status_code == 201
    assert response["Idempotent-Replayed"] == "true"
    assert Prescription.objects.count() == 1


def test_an_identifier_without_a_system_is_no_key(prescriber_api):
    bundle = transaction_bundle()
    resource_of(bundle, "MedicationRequest")["identifier"] = [{"value": "RX-1"}]

    submitted(prescriber_api, bundle)
    submitted(prescriber_api, copy.deepcopy(bundle))

    assert Prescription.objects.count() == 2


def test_identifiers_belong_to_one_prescriber(prescriber_api, other_prescriber):
    submitted(prescriber_api, transaction_bundle())

    submitted(api_client_for(other_prescriber.user), transaction_bundle())

    assert Prescription.objects.count() == 2


def test_without_identifier_each_bundle_is_a_new_prescription(prescriber_api):
    submitted(prescriber_api, transaction_bundle(identifier=None))
    submitted(prescriber_api, transaction_bundle(identifier=None))

    assert Prescription.objects.count() == 2


def test_the_readme_example_bundle_submits(prescriber_api):
    example = json.loads((Path(settings.BASE_DIR) / "docs" / "fhir" / "transaction-bundle.json").read_text())

    answer, prescription = submitted(prescriber_api, example)

    assert answer["entry"][1]["response"]["status"] == "201 Created"
    assert prescription.patient.last_name == "Somerville"
