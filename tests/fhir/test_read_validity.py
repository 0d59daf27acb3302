"""Every resource every read endpoint answers is valid FHIR R4 (the R4B models accept it), for
prescriptions at every stage; and a MedicationRequest read back by the contract's inbound mapping is
the prescription that was submitted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from intake.api.fhir import codes
from tests.factories import api_payload, clean_answers
from tests.fhir.reading import fhir_get, prescription_at, resources_in, validated

STATUSES = ["awaiting_questionnaire", "pending_review", "in_review", "on_hold", "approved", "compounding",
            "final_check", "ready", "shipped", "completed", "rejected", "cancelled"]  # fmt: skip


@pytest.mark.parametrize("status", STATUSES)
def test_every_endpoint_answers_valid_fhir(pharmacist_api, prescriber, pharmacist, technician, status):
    answers = clean_answers(thyroid_medication=True, current_medications=["levothyroxine 50 mcg"])
    prescription = prescription_at(status, prescriber, pharmacist=pharmacist, technician=technician,
                                   answers=answers, dosage_form="oral_liquid", titration=(),
                                   directions="Take 4.5 mL by mouth at bedtime")  # fmt: skip
    reference = f"MedicationRequest/{prescription.pk}"
    paths = [
        ("metadata", None),
        (reference, None),
        ("MedicationRequest", {"identifier": prescription.reference}),
        ("DetectedIssue", {"implicated": reference}),
        ("MedicationDispense", {"prescription": reference}),
        ("Questionnaire/ldn-screening", None),
        ("QuestionnaireResponse", {"based-on": reference}),
    ]
    kinds = set()
    for path, params in paths:
        response = fhir_get(pharmacist_api, path, params)
        assert response.status_code == 200, (path, response.content)
        body = validated(response.json())
        kinds.add(body["resourceType"])
        kinds.update(resource["resourceType"] for resource in resources_in(body))
    assert {"CapabilityStatement", "MedicationRequest", "Bundle", "Questionnaire"} <= kinds
    if status in ("final_check", "ready", "shipped", "completed"):
        assert "MedicationDispense" in kinds
    if status != "awaiting_questionnaire" and status not in ("on_hold", "rejected", "cancelled"):
        assert {"QuestionnaireResponse", "DetectedIssue"} <= kinds


def read_as_the_contract_maps_it(resource: dict[str, Any]) -> dict[str, Any]:
    """The JSON API's submission fields, read from a MedicationRequest by the contract's inbound mapping."""
    contained = {item["id"]: item for item in resource.get("contained", ())}
    patient = contained[resource["subject"]["reference"].removeprefix("#")]
    telecom = {point["system"]: point["value"] for point in patient.get("telecom", ())}
    address = patient["address"][0]
    forms = [ext["valueCodeableConcept"] for ext in resource.get("extension", ()) if "valueCodeableConcept" in ext]
    forms += [item["form"] for item in contained.values() if item["resourceType"] == "Medication"]
    (form_code,) = {coding["code"] for form in forms for coding in form["coding"]
                    if coding["system"] == codes.ORDERABLE_DRUG_FORM}  # fmt: skip
    steps = resource["dosageInstruction"]
    weights = [item["valueQuantity"]["value"] for item in contained.values() if item["resourceType"] == "Observation"]
    reason = resource["reasonCode"][0]

    def strength(step: dict[str, Any]) -> str:
        return str(Decimal(str(step["doseAndRate"][0]["doseQuantity"]["value"])))

    return {
        "patient": {
            "first_name": patient["name"][0]["given"][0], "last_name": patient["name"][0]["family"],
            "date_of_birth": patient["birthDate"], "sex": codes.GENDER_FROM_FHIR[patient["gender"]],
            "email": telecom.get("email"), "phone": telecom.get("phone"), "weight_kg": weights[0] if weights else None,
            "address": {"line1": address["line"][0], "city": address["city"], "state": address["state"],
                        "postal_code": address["postalCode"]},
        },
        "dosage_form": codes.DOSAGE_FORM_FROM_FHIR[form_code],
        "strength_mg": strength(steps[-1]),
        "directions": steps[0]["text"],
        "quantity": resource["dispenseRequest"]["quantity"]["value"],
        "days_supply": resource["dispenseRequest"]["expectedSupplyDuration"]["value"],
        "refills": resource["dispenseRequest"]["numberOfRepeatsAllowed"],
        "indication": reason["text"],
        "icd10": reason["coding"][0]["code"],
        "titration": [{"strength_mg": strength(step), "days": step["timing"]["repeat"]["boundsDuration"]["value"]}
                      for step in steps[:-1]],
        "dose_timing": codes.DOSE_TIMING_FROM_FHIR[steps[0]["timing"]["repeat"]["when"][0]],
        "prescriber_notes": resource.get("note", [{"text": ""}])[0]["text"],
    }  # fmt: skip


def test_a_medication_request_read_back_is_the_submission(prescriber_api):
    submitted = api_payload(prescriber_notes="Start low; call me if sleep is poor.", dose_timing="morning")
    created = prescriber_api.post("/api/v1/prescriptions/", submitted, format="json")
    assert created.status_code == 201

    resource = validated(fhir_get(prescriber_api, f"MedicationRequest/{created.json()['id']}").json())

    assert read_as_the_contract_maps_it(resource) == submitted
