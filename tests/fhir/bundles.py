"""FHIR transaction Bundles that submit a prescription, for the FHIR tests (and the benchmark's shape).

`transaction_bundle()` with no arguments stands for the JSON API's reference body
(tests.factories.api_payload()): 4.5 mg capsules titrated from 1.5 and 3 mg, for Ada Lovelace.
Every argument changes one thing; `None` leaves an optional element out.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from intake.api.fhir import codes

PATIENT_URL = "urn:uuid:6f1c0f58-0c0e-4d3f-9a55-1d1b8f3e2a01"
REQUEST_URL = "urn:uuid:0b6e7f5a-52f1-4b39-8a0e-2c2f9d6c7e02"
WEIGHT_URL = "urn:uuid:9d3e5c41-7a1b-4c8e-b0f2-3e4d5f6a7b03"
EHR_SYSTEM = "https://ehr.example/fhir/sid/prescription"
FORM_EXTENSION = "https://ehr.example/fhir/StructureDefinition/dosage-form"
FORMS = ["capsule", "oral_liquid", "sublingual_drops", "topical_cream"]
REFERENCE_TITRATION = [{"strength_mg": "1.5", "days": 14}, {"strength_mg": "3", "days": 14}]


def number(value: Any) -> int | float:
    """A JSON number for a decimal given as text ("4.5") or a number."""
    exact = Decimal(str(value))
    return int(exact) if exact == exact.to_integral_value() else float(exact)


def transaction_bundle(
    *,
    dosage_form: str = "capsule",
    form_in: str = "extension",
    strength_mg: Any = "4.5",
    titration: list[dict[str, Any]] | None = None,
    dose_timing: str = "bedtime",
    directions: str = "Take 1 capsule by mouth at bedtime",
    quantity: int = 30,
    days_supply: int = 30,
    refills: int = 3,
    indication: str = "fibromyalgia",
    icd10: str | None = "M79.7",
    prescriber_notes: str | None = "",
    identifier: tuple[str, str] | None = (EHR_SYSTEM, "RX-0001"),
    weight_kg: Any = 61.5,
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    birth_date: str = "1980-02-29",
    gender: str = "female",
    email: str | None = "ada@example.com",
    phone: str | None = "+15555550123",
    address: dict[str, Any] | None = None,
    patient_url: str = PATIENT_URL,
) -> dict[str, Any]:
    """A valid transaction Bundle (Patient, MedicationRequest, a body-weight Observation).

    `form_in` is "extension" (the dosage form in an extension's valueCodeableConcept) or "contained"
    (a contained Medication, referenced as medicationReference, carries code and form).
    """
    steps = REFERENCE_TITRATION if titration is None else titration
    telecom = [{"system": "email", "value": email}] if email is not None else []
    telecom += [{"system": "phone", "value": phone}] if phone is not None else []
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"given": [first_name], "family": last_name}],
        "birthDate": birth_date,
        "gender": gender,
        "telecom": telecom,
        "address": [
            address
            if address is not None
            else {"line": ["1 Main St"], "city": "Austin", "state": "TX", "postalCode": "78701"}
        ],
    }
    form_code = codes.DOSAGE_FORM_TO_FHIR.get(dosage_form, dosage_form)
    form = {"coding": [{"system": codes.ORDERABLE_DRUG_FORM, "code": form_code}]}
    naltrexone = {"coding": [{"system": codes.RXNORM, "code": codes.NALTREXONE_RXCUI, "display": "naltrexone"}],
                  "text": "Low-dose naltrexone"}  # fmt: skip
    when = [codes.DOSE_TIMING_TO_FHIR.get(dose_timing, dose_timing)]
    route = (
        {"route": {"coding": [{"system": codes.SNOMED, "code": codes.SUBLINGUAL_ROUTE, "display": "Sublingual"}]}}
        if dosage_form == "sublingual_drops"
        else {}
    )

    def instruction(sequence: int, mg: Any, days: int | None) -> dict[str, Any]:
        repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d", "when": when}
        if days is not None:
            repeat["boundsDuration"] = {"value": days, "unit": "days", "system": codes.UCUM, "code": "d"}
        return {
            "sequence": sequence,
            "timing": {"repeat": repeat},
            **copy.deepcopy(route),
            "doseAndRate": [{"doseQuantity": {"value": number(mg), "unit": "mg", "system": codes.UCUM, "code": "mg"}}],
        }

    instructions = [instruction(i + 1, step["strength_mg"], step["days"]) for i, step in enumerate(steps)]
    instructions.append(instruction(len(steps) + 1, strength_mg, None))
    instructions[0]["text"] = directions
    request: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": patient_url},
        "authoredOn": "2026-01-05",
        "dosageInstruction": instructions,
        "dispenseRequest": {
            "quantity": {"value": quantity},
            "expectedSupplyDuration": {"value": days_supply, "unit": "days", "system": codes.UCUM, "code": "d"},
            "numberOfRepeatsAllowed": refills,
        },
        "reasonCode": [
            {"coding": [{"system": codes.ICD10_CM, "code": icd10}], "text": indication}
            if icd10 is not None
            else {"text": indication}
        ],
    }
    if form_in == "contained":
        request["contained"] = [{"resourceType": "Medication", "id": "ldn", "code": naltrexone, "form": form}]
        request["medicationReference"] = {"reference": "#ldn"}
    else:
        request["extension"] = [{"url": FORM_EXTENSION, "valueCodeableConcept": form}]
        request["medicationCodeableConcept"] = naltrexone
    if identifier is not None:
        request["identifier"] = [{"system": identifier[0], "value": identifier[1]}]
    if prescriber_notes:
        request["note"] = [{"text": prescriber_notes}]
    entries = [
        {"fullUrl": patient_url, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": REQUEST_URL, "resource": request, "request": {"method": "POST", "url": "MedicationRequest"}},
    ]
    if weight_kg is not None:
        weight = {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": codes.LOINC, "code": codes.BODY_WEIGHT_LOINC, "display": "Body weight"}]},
            "subject": {"reference": patient_url},
            "valueQuantity": {"value": number(weight_kg), "unit": "kg", "system": codes.UCUM, "code": "kg"},
        }
        entries.append({"fullUrl": WEIGHT_URL, "resource": weight, "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def resource_of(bundle: dict[str, Any], kind: str) -> dict[str, Any]:
    """The (editable) resource of that type in a Bundle."""
    return next(entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind)


def index_of(bundle: dict[str, Any], kind: str) -> int:
    return next(i for i, entry in enumerate(bundle["entry"]) if entry["resource"]["resourceType"] == kind)


def edited(bundle: dict[str, Any], kind: str, change: Any) -> dict[str, Any]:
    """A copy of the Bundle with `change(resource)` applied to its resource of that type."""
    copied = copy.deepcopy(bundle)
    change(resource_of(copied, kind))
    return copied
