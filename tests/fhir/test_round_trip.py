"""A MedicationRequest read back is what was sent: an EHR that posts a Bundle, reads the prescription
and posts what it read (its contained Patient, Medication and weight as entries) sends the same
prescription. Every dosage form, the form in an extension or a contained Medication, and a
3-step titration."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from intake.api.fhir.bundle_in import bundle_read
from tests.fhir.bundles import FORMS, transaction_bundle
from tests.fhir.conftest import post_bundle, response_bundle
from tests.fhir.reading import fhir_get, validated

PATIENT_URL = "urn:uuid:5b0c3c0e-1d1f-4c59-9d6e-2f4b3a1c0d10"
WEIGHT_URL = "urn:uuid:5b0c3c0e-1d1f-4c59-9d6e-2f4b3a1c0d11"
THREE_STEPS = [{"strength_mg": "0.5", "days": 7}, {"strength_mg": "1.5", "days": 14}, {"strength_mg": "3", "days": 14}]


def resent(request: dict[str, Any]) -> dict[str, Any]:
    """The transaction an EHR would build from a MedicationRequest it read."""
    request = copy.deepcopy(request)
    contained = {resource["id"]: resource for resource in request.pop("contained", [])}
    patient = contained.pop(request["subject"]["reference"].removeprefix("#"))
    weight = next((r for r in contained.values() if r["resourceType"] == "Observation"), None)
    request["contained"] = [r for r in contained.values() if r["resourceType"] != "Observation"]
    request["supportingInformation"] = [
        ref for ref in request.get("supportingInformation", []) if ref["reference"].removeprefix("#") in contained
        and contained[ref["reference"].removeprefix("#")]["resourceType"] != "Observation"
    ]  # fmt: skip
    if not request["supportingInformation"]:
        del request["supportingInformation"]
    if not request["contained"]:
        del request["contained"]
    for key in ("id", "meta"):
        request.pop(key, None)
        patient.pop(key, None)
    request["subject"] = {"reference": PATIENT_URL}
    entries = [
        {"fullUrl": PATIENT_URL, "resource": patient, "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:5b0c3c0e-1d1f-4c59-9d6e-2f4b3a1c0d12", "resource": request,
         "request": {"method": "POST", "url": "MedicationRequest"}},
    ]  # fmt: skip
    if weight is not None:
        weight = {key: value for key, value in weight.items() if key not in ("id", "meta")}
        weight["subject"] = {"reference": PATIENT_URL}
        entries.append({"fullUrl": WEIGHT_URL, "resource": weight, "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def sent_and_read(client: Any, bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    answer = response_bundle(post_bundle(client, bundle))
    location = next(e["response"]["location"] for e in answer["entry"] if "MedicationRequest" in e["response"].get(
        "location", ""))  # fmt: skip
    read = fhir_get(client, location)
    assert read.status_code == 200
    return bundle_read(bundle).data, bundle_read(resent(validated(read.json()))).data


@pytest.mark.parametrize("form_in", ["extension", "contained"])
@pytest.mark.parametrize("dosage_form", FORMS)
def test_every_dosage_form_comes_back_as_it_was_sent(prescriber_api, dosage_form, form_in):
    timing = "morning" if dosage_form == "sublingual_drops" else "bedtime"
    bundle = transaction_bundle(dosage_form=dosage_form, form_in=form_in, dose_timing=timing,
                                identifier=("https://ehr.example/rx", f"{dosage_form}-{form_in}"))  # fmt: skip

    sent, read_back = sent_and_read(prescriber_api, bundle)

    assert read_back == sent
    assert read_back["dosage_form"] == dosage_form


def test_a_three_step_titration_comes_back_step_by_step(prescriber_api):
    bundle = transaction_bundle(strength_mg="4.5", titration=THREE_STEPS, quantity=60, days_supply=60,
                                identifier=("https://ehr.example/rx", "three-steps"))  # fmt: skip

    sent, read_back = sent_and_read(prescriber_api, bundle)

    assert read_back == sent
    assert [(str(step["strength_mg"]), step["days"]) for step in read_back["titration"]] == [
        ("0.5", 7), ("1.5", 14), ("3", 14)
    ]  # fmt: skip
    assert str(read_back["strength_mg"]) == "4.5"


def test_a_prescription_without_the_optional_elements_comes_back_without_them(prescriber_api):
    bundle = transaction_bundle(titration=[], icd10=None, prescriber_notes=None, weight_kg=None, phone=None,
                                identifier=None)  # fmt: skip

    sent, read_back = sent_and_read(prescriber_api, bundle)

    assert read_back == sent
