"""POST /fhir/R4/ refusals: each answers an OperationOutcome naming the element, and saves nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from intake.api.fhir import codes
from intake.api.fhir.bundle_in import ELEMENTS, bundle_read
from intake.models import DosageForm, Prescription
from tests.conftest import api_client_for
from tests.fhir.bundles import EHR_SYSTEM, resource_of, transaction_bundle
from tests.fhir.conftest import expressions, nothing_saved, outcome_of, post_bundle

P, MR, OBS = "Bundle.entry[0].resource", "Bundle.entry[1].resource", "Bundle.entry[2].resource"
LONG = "x" * 1001
Change = Callable[[dict[str, Any]], Any]


def patient(change: Change) -> Change:
    return lambda bundle: change(resource_of(bundle, "Patient"))


def request(change: Change) -> Change:
    return lambda bundle: change(resource_of(bundle, "MedicationRequest"))


def weight(change: Change) -> Change:
    return lambda bundle: change(resource_of(bundle, "Observation"))


def step(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda mr: mr["dosageInstruction"][index]


def set_dose(index: int, value: Any) -> Change:
    return request(lambda mr: step(index)(mr)["doseAndRate"][0]["doseQuantity"].update(value=value))


def set_bounds(index: int, **values: Any) -> Change:
    return request(lambda mr: step(index)(mr)["timing"]["repeat"]["boundsDuration"].update(**values))


# --- Every field of the submission, back to the element that carried it ------------------------

# (field of the JSON API's body, how to make its value wrong in the Bundle, the element named)
FIELD_ERRORS: list[tuple[str, Change, str]] = [
    ("patient.first_name", patient(lambda p: p["name"][0].update(given=["A" * 101])), f"{P}.name[0].given[0]"),
    ("patient.last_name", patient(lambda p: p["name"][0].update(family="L" * 101)), f"{P}.name[0].family"),
    ("patient.date_of_birth", patient(lambda p: p.update(birthDate="2999-01-01")), f"{P}.birthDate"),
    ("patient.sex", patient(lambda p: p.update(gender="woman")), f"{P}.gender"),
    ("patient.email", patient(lambda p: p["telecom"][0].update(value="not-an-email")), f"{P}.telecom[0].value"),
    ("patient.phone", patient(lambda p: p["telecom"][1].update(value="call me")), f"{P}.telecom[1].value"),
    ("patient.language", patient(lambda p: p.update(communication=[{"language": {"coding": [
        {"system": "urn:ietf:bcp:47", "code": "fr"}]}}])), f"{P}.communication[0].language.coding[0].code"),
    ("patient.weight_kg", weight(lambda o: o["valueQuantity"].update(value=0.1)), f"{OBS}.valueQuantity.value"),
    ("patient.address", patient(lambda p: p.pop("address")), f"{P}.address[0]"),
    ("patient.address.line1", patient(lambda p: p["address"][0].update(line=["1" * 201])), f"{P}.address[0].line[0]"),
    ("patient.address.line2", patient(lambda p: p["address"][0]["line"].append("2" * 201)),
     f"{P}.address[0].line[1]"),
    ("patient.address.city", patient(lambda p: p["address"][0].update(city="C" * 101)), f"{P}.address[0].city"),
    ("patient.address.state", patient(lambda p: p["address"][0].update(state="ZZ")), f"{P}.address[0].state"),
    ("patient.address.postal_code", patient(lambda p: p["address"][0].update(postalCode="x")),
     f"{P}.address[0].postalCode"),
    ("dosage_form", request(lambda mr: mr.pop("extension")), f"{MR}.extension"),
    ("strength_mg", set_dose(2, 0), f"{MR}.dosageInstruction[2].doseAndRate[0].doseQuantity.value"),
    ("directions", request(lambda mr: step(0)(mr).update(text=LONG)), f"{MR}.dosageInstruction[0].text"),
    ("quantity", request(lambda mr: mr["dispenseRequest"]["quantity"].update(value=0)),
     f"{MR}.dispenseRequest.quantity.value"),
    ("days_supply", request(lambda mr: mr["dispenseRequest"]["expectedSupplyDuration"].update(value=400)),
     f"{MR}.dispenseRequest.expectedSupplyDuration.value"),
    ("refills", request(lambda mr: mr["dispenseRequest"].update(numberOfRepeatsAllowed=12)),
     f"{MR}.dispenseRequest.numberOfRepeatsAllowed"),
    ("indication", request(lambda mr: mr["reasonCode"][0].update(text="i" * 201)), f"{MR}.reasonCode[0].text"),
    ("icd10", request(lambda mr: mr["reasonCode"][0]["coding"][0].update(code="123")),
     f"{MR}.reasonCode[0].coding[0].code"),
    ("titration", set_bounds(0, value=20), f"{MR}.dosageInstruction"),
    ("titration.*.strength_mg", set_dose(1, 0), f"{MR}.dosageInstruction[1].doseAndRate[0].doseQuantity.value"),
    ("titration.*.days", set_bounds(1, value=0), f"{MR}.dosageInstruction[1].timing.repeat.boundsDuration.value"),
    ("dose_timing", request(lambda mr: [s["timing"]["repeat"].pop("when") for s in mr["dosageInstruction"]]),
     f"{MR}.dosageInstruction[2].timing.repeat.when"),
    ("prescriber_notes", request(lambda mr: mr.update(note=[{"text": LONG}])), f"{MR}.note[0].text"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "change", "element"), FIELD_ERRORS, ids=[row[0] for row in FIELD_ERRORS])
def test_a_wrong_value_is_named_at_its_element(prescriber_api, field, change, element):
    bundle = transaction_bundle()
    change(bundle)

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == 400, response.json()
    assert expressions(response) == [element]
    assert nothing_saved()


def test_the_element_of_a_titration_step_follows_its_sequence(prescriber_api):
    # given: the instructions listed backwards; the second step in sequence is dosageInstruction[1] still
    bundle = transaction_bundle(titration=[{"strength_mg": "1", "days": 7}, {"strength_mg": "2", "days": 7},
                                           {"strength_mg": "3", "days": 7}])  # fmt: skip
    resource_of(bundle, "MedicationRequest")["dosageInstruction"].reverse()
    step(0)(resource_of(bundle, "MedicationRequest"))["text"] = "Take as directed"
    set_dose(0, 0)(bundle)  # the dose to stay on, listed first
    set_dose(2, 0)(bundle)  # the second step (sequence 2)

    response = post_bundle(prescriber_api, bundle)

    dose = "doseAndRate[0].doseQuantity.value"
    assert sorted(expressions(response)) == [f"{MR}.dosageInstruction[0].{dose}", f"{MR}.dosageInstruction[2].{dose}"]
    assert nothing_saved()


def test_a_minor_without_a_body_weight_is_told_where_it_goes(prescriber_api):
    response = post_bundle(prescriber_api, transaction_bundle(birth_date="2015-06-01", weight_kg=None))

    assert response.status_code == 400
    assert expressions(response) == ["Bundle.entry"]
    assert "weight" in outcome_of(response)["issue"][0]["diagnostics"]
    assert nothing_saved()


def test_a_dosage_form_the_pharmacy_stopped_is_named_on_the_form(prescriber_api):
    DosageForm.objects.filter(code="oral_liquid").update(active=False)

    response = post_bundle(prescriber_api, transaction_bundle(dosage_form="oral_liquid", titration=[], quantity=300))

    assert response.status_code == 400
    assert expressions(response) == [f"{MR}.extension[0].valueCodeableConcept.coding[0].code"]
    assert nothing_saved()


# Every row of the table, read from the reference Bundle (the fields no Bundle value can break alone, too).
EXPECTED_ELEMENTS = {
    **{field: element for field, _change, element in FIELD_ERRORS},
    "patient": P,
    # The reference Bundle sends no language (the patient's stays English): the element is named whole.
    "patient.language": f"{P}.communication",
    "dosage_form": f"{MR}.extension[0].valueCodeableConcept.coding[0].code",
    "titration.*": f"{MR}.dosageInstruction[1]",
    "dose_timing": f"{MR}.dosageInstruction[0].timing.repeat.when[0]",
    "idempotency_key": f"{MR}.identifier[0]",
    "signature": MR,
    "signature_name": MR,
    "signature_attestation": MR,
    "non_field_errors": MR,
    "__all__": MR,
}


@pytest.mark.parametrize("field", sorted(ELEMENTS))
def test_every_row_of_the_element_table(field):
    read = bundle_read(transaction_bundle())

    name = field.replace("*", "1")
    assert read.expression(name) == EXPECTED_ELEMENTS[field]


def test_the_table_is_tested_whole():
    assert set(EXPECTED_ELEMENTS) == set(ELEMENTS)


def test_an_unknown_field_falls_back_to_its_parent():
    read = bundle_read(transaction_bundle())

    assert read.expression("patient.allergies") == P
    assert read.expression("titration.9.days") == f"{MR}.dosageInstruction"
    assert read.expression("whatever") == "Bundle"


# --- The Bundle's shape and its codes ---------------------------------------------------------


def entries_without(kind: str) -> Change:
    return lambda bundle: bundle.update(entry=[e for e in bundle["entry"] if e["resource"]["resourceType"] != kind])


def add_entry(resource: dict[str, Any]) -> Change:
    entry = {"fullUrl": "urn:uuid:extra", "resource": resource,
             "request": {"method": "POST", "url": resource["resourceType"]}}  # fmt: skip
    return lambda bundle: bundle["entry"].append(entry)


def set_form_code(code: str) -> Change:
    return request(lambda mr: mr["extension"][0]["valueCodeableConcept"]["coding"][0].update(code=code))


SHAPE_ERRORS: list[tuple[str, Change, int, str]] = [
    ("batch", lambda b: b.update(type="batch"), 400, "Bundle.type"),
    ("no Patient", entries_without("Patient"), 400, "Bundle.entry"),
    ("no MedicationRequest", entries_without("MedicationRequest"), 400, "Bundle.entry"),
    ("two Patients", lambda b: b["entry"].append(b["entry"][0]), 400, "Bundle.entry[3]"),
    ("another resource type", add_entry({"resourceType": "Condition", "subject": {"reference": "x"}}), 400,
     "Bundle.entry[3].resource.resourceType"),
    ("an entry that is not a POST", lambda b: b["entry"][0]["request"].update(method="PUT"), 400,
     "Bundle.entry[0].request.method"),
    ("an entry without request", lambda b: b["entry"][0].pop("request"), 400, "Bundle.entry[0].request.method"),
    ("an element FHIR does not have", patient(lambda p: p.update(shoeSize=42)), 400, f"{P}.shoeSize"),
    ("a birth date that is no date", patient(lambda p: p.update(birthDate="29/02/1980")), 400, f"{P}.birthDate"),
    ("a missing birth date", patient(lambda p: p.pop("birthDate")), 400, f"{P}.birthDate"),
    ("a missing quantity", request(lambda mr: mr["dispenseRequest"].pop("quantity")), 400,
     f"{MR}.dispenseRequest.quantity.value"),
    ("no dispenseRequest", request(lambda mr: mr.pop("dispenseRequest")), 400,
     f"{MR}.dispenseRequest.quantity.value"),
    ("a subject that is not the Patient", request(lambda mr: mr.update(subject={"reference": "Patient/9"})), 400,
     f"{MR}.subject"),
    ("a Patient without fullUrl", lambda b: b["entry"][0].pop("fullUrl"), 400, "Bundle.entry[0].fullUrl"),
    ("status draft", request(lambda mr: mr.update(status="draft")), 400, f"{MR}.status"),
    ("intent plan", request(lambda mr: mr.update(intent="plan")), 400, f"{MR}.intent"),
    ("another drug", request(lambda mr: mr["medicationCodeableConcept"]["coding"][0].update(code="1819")), 422,
     f"{MR}.medicationCodeableConcept"),
    ("a drug without coding", request(lambda mr: mr.update(medicationCodeableConcept={"text": "LDN 4.5 mg"})),
     422, f"{MR}.medicationCodeableConcept"),
    ("no medication", request(lambda mr: mr.pop("medicationCodeableConcept")), 400, MR),
    ("an unknown dosage form", set_form_code("TAB"), 400, f"{MR}.extension[0].valueCodeableConcept.coding[0].code"),
    ("an unknown gender", patient(lambda p: p.update(gender="f")), 400, f"{P}.gender"),
    ("an unknown timing", request(lambda mr: step(1)(mr)["timing"]["repeat"].update(when=["AC"])), 400,
     f"{MR}.dosageInstruction[1].timing.repeat.when[0]"),
    ("two timings", request(lambda mr: step(2)(mr)["timing"]["repeat"].update(when=["MORN"])), 400,
     f"{MR}.dosageInstruction[2].timing.repeat.when[0]"),
    ("a dose in mcg", request(lambda mr: step(2)(mr)["doseAndRate"][0]["doseQuantity"].update(code="ug", unit="ug")),
     400, f"{MR}.dosageInstruction[2].doseAndRate[0].doseQuantity.code"),
    ("a step length in months", set_bounds(0, code="mo", unit="months"), 400,
     f"{MR}.dosageInstruction[0].timing.repeat.boundsDuration.code"),
    ("a step without its length", request(lambda mr: step(0)(mr)["timing"]["repeat"].pop("boundsDuration")), 400,
     f"{MR}.dosageInstruction[0].timing.repeat.boundsDuration"),
    ("a last step with a length", request(lambda mr: step(2)(mr)["timing"]["repeat"].update(
        boundsDuration={"value": 2, "code": "d", "system": codes.UCUM})), 400,
     f"{MR}.dosageInstruction[2].timing.repeat.boundsDuration"),
    ("another Observation", weight(lambda o: o["code"]["coding"][0].update(code="8302-2")), 400, f"{OBS}.code"),
    ("a weight in stones", weight(lambda o: o["valueQuantity"].update(code="[stone_av]")), 400,
     f"{OBS}.valueQuantity.code"),
]  # fmt: skip


@pytest.mark.parametrize(("what", "change", "status", "element"), SHAPE_ERRORS, ids=[row[0] for row in SHAPE_ERRORS])
def test_a_bundle_of_the_wrong_shape_is_refused_naming_the_element(prescriber_api, what, change, status, element):
    bundle = transaction_bundle()
    change(bundle)

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == status, response.json()
    assert element in expressions(response)
    assert nothing_saved()


def test_sublingual_drops_by_another_route_are_refused(prescriber_api):
    bundle = transaction_bundle(dosage_form="sublingual_drops", quantity=300)
    resource_of(bundle, "MedicationRequest")["dosageInstruction"][1]["route"]["coding"][0]["code"] = "26643006"

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == 400
    assert expressions(response) == [f"{MR}.dosageInstruction[1].route"]
    assert nothing_saved()


def test_a_drug_by_reference_to_another_contained_medication_is_refused(prescriber_api):
    bundle = transaction_bundle(form_in="contained")
    resource_of(bundle, "MedicationRequest")["contained"][0]["code"]["coding"][0]["code"] = "1819"

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == 422
    assert expressions(response) == [f"{MR}.medicationReference"]
    assert nothing_saved()


@pytest.mark.parametrize(
    ("body", "element"),
    [
        ("[]", "Bundle.resourceType"),
        ('"Bundle"', "Bundle.resourceType"),
        ('{"resourceType": "Patient"}', "Bundle.resourceType"),
        ('{"resourceType": "Bundle", "type": "transaction", "entry": "all"}', "Bundle.entry"),
    ],
)
def test_a_body_that_is_not_a_bundle_is_refused(prescriber_api, body, element):
    response = post_bundle(prescriber_api, body)

    assert response.status_code == 400
    assert element in expressions(response)
    assert nothing_saved()


def test_a_contained_resource_of_an_unknown_type_is_refused(prescriber_api):
    bundle = transaction_bundle()
    resource_of(bundle, "MedicationRequest")["contained"] = [{"resourceType": "Spaceship", "id": "x"}]

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == 400
    assert outcome_of(response)["issue"]
    assert nothing_saved()


@pytest.mark.parametrize(
    ("element", "value", "named"),
    [
        ("contained", [1], f"{MR}.contained[0]"),
        ("contained", "x", f"{MR}.contained"),
        ("contained", [{"resourceType": "Medication", "form": 3}], f"{MR}.contained[0].form"),
        ("dosageInstruction", "x", f"{MR}.dosageInstruction"),
        ("dosageInstruction", [{}], f"{MR}.dosageInstruction[0].doseAndRate[0].doseQuantity.value"),
        ("dispenseRequest", {"quantity": {"value": 1e308}}, f"{MR}.dispenseRequest.quantity.value"),
        ("dispenseRequest", {"numberOfRepeatsAllowed": -1}, f"{MR}.dispenseRequest.numberOfRepeatsAllowed"),
        ("subject", {"reference": 5}, f"{MR}.subject.reference"),
        ("note", [{"text": "\ud800"}], f"{MR}.note[0].text"),
        ("reasonCode", [{}], f"{MR}.reasonCode[0].text"),
    ],
)
def test_malformed_elements_are_named_never_a_500(prescriber_api, element, value, named):
    bundle = transaction_bundle()
    resource_of(bundle, "MedicationRequest")[element] = value

    response = post_bundle(prescriber_api, bundle)

    assert response.status_code == 400
    assert named in expressions(response)
    assert nothing_saved()


def test_a_body_that_is_not_json_is_refused(prescriber_api):
    response = post_bundle(prescriber_api, "{not json")

    assert response.status_code == 400
    assert outcome_of(response)["issue"][0]["severity"] == "error"
    assert nothing_saved()


# --- Who may submit ---------------------------------------------------------------------------


def test_without_a_token_401(api, db):
    response = post_bundle(api, transaction_bundle())

    assert response.status_code == 401
    assert outcome_of(response)["issue"][0]["code"] == "login"
    assert nothing_saved()


@pytest.mark.parametrize("persona", ["pharmacist", "technician", "pharmacy_admin"])
def test_pharmacy_staff_cannot_submit(request, persona):
    response = post_bundle(api_client_for(request.getfixturevalue(persona)), transaction_bundle())

    assert response.status_code == 403
    assert outcome_of(response)["issue"][0]["code"] == "forbidden"
    assert nothing_saved()


def test_an_unverified_prescriber_is_told_why(prescriber_api, prescriber):
    prescriber.verified_at = None
    prescriber.save()

    response = post_bundle(prescriber_api, transaction_bundle())

    assert response.status_code == 403
    assert "verified" in outcome_of(response)["issue"][0]["diagnostics"]
    assert nothing_saved()


def test_a_refused_bundle_does_not_use_up_its_identifier(prescriber_api):
    bad = transaction_bundle(identifier=(EHR_SYSTEM, "RX-9"), quantity=0)
    assert post_bundle(prescriber_api, bad).status_code == 400

    response = post_bundle(prescriber_api, transaction_bundle(identifier=(EHR_SYSTEM, "RX-9")))

    assert response.status_code == 200
    assert Prescription.objects.count() == 1
