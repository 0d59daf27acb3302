"""GET /fhir/R4/MedicationRequest/{id}: one prescription as the transaction's inbound mapping reads it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intake.api.fhir import codes
from intake.models import AuditAction, AuditRecord, IdempotencyKey
from intake.services.prescriptions import Signature
from intake.services.refills import renewal_approve
from tests.conftest import api_client_for
from tests.factories import UserFactory, make_prescription
from tests.fhir.reading import fhir_get, outcome_issue, prescription_at, validated
from tests.refills.dispensing import dispensed, waiting_renewal


def read(client, prescription):
    return fhir_get(client, f"MedicationRequest/{prescription.pk}")


def test_a_prescriber_reads_their_prescription_as_the_inbound_mapping_reads_it(prescriber_api, prescriber):
    prescription = make_prescription(prescriber, prescriber_notes="Start low; call me if sleep is poor.")

    response = read(prescriber_api, prescription)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    body = validated(response.json())
    assert body["resourceType"] == "MedicationRequest"
    assert body["id"] == str(prescription.pk)
    assert (body["status"], body["intent"]) == ("active", "order")
    assert body["identifier"][0] == {
        "use": "official", "system": codes.ORDER_NUMBER_SYSTEM, "value": prescription.reference
    }  # fmt: skip
    medication = body["medicationCodeableConcept"]
    assert medication["coding"][0]["system"] == codes.RXNORM
    assert medication["coding"][0]["code"] == "7243"
    assert medication["text"]
    # The dosage form both ways the contract reads it.
    (form_extension,) = [ext for ext in body["extension"] if "valueCodeableConcept" in ext]
    assert form_extension["valueCodeableConcept"]["coding"][0] == {
        "system": codes.ORDERABLE_DRUG_FORM, "code": "CAP", "display": "Capsule"
    }  # fmt: skip
    contained = {resource["id"]: resource for resource in body["contained"]}
    assert contained["medication"]["form"]["coding"][0]["code"] == "CAP"
    assert {"reference": "#medication"}.items() <= body["supportingInformation"][0].items()
    patient = contained[body["subject"]["reference"].removeprefix("#")]
    assert patient["resourceType"] == "Patient"
    assert patient["name"] == [{"given": ["Ada"], "family": "Lovelace"}]
    assert (patient["birthDate"], patient["gender"]) == ("1980-02-29", "female")
    assert {"system": "email", "value": "ada@example.com"} in patient["telecom"]
    assert {"system": "phone", "value": "+15555550123"} in patient["telecom"]
    address = patient["address"][0]
    assert (address["line"][0], address["city"], address["state"], address["postalCode"]) == (
        "1 Main St", "Austin", "TX", "78701"
    )  # fmt: skip
    requester = body["requester"]
    assert requester["display"] == prescriber.display_name
    assert requester["identifier"] == {"system": "http://hl7.org/fhir/sid/us-npi", "value": prescriber.npi}
    assert body["authoredOn"].startswith(prescription.signed_at.date().isoformat()[:4])
    assert body["reasonCode"] == [{"coding": [{"system": codes.ICD10_CM, "code": "M79.7"}], "text": "fibromyalgia"}]
    assert body["note"] == [{"text": "Start low; call me if sleep is poor."}]
    dispense = body["dispenseRequest"]
    assert dispense["quantity"]["value"] == 30
    assert (dispense["expectedSupplyDuration"]["value"], dispense["expectedSupplyDuration"]["code"]) == (30, "d")
    assert dispense["numberOfRepeatsAllowed"] == 3
    assert body["meta"]["lastUpdated"]


def test_one_dosage_instruction_per_titration_step_the_last_without_bounds(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)

    body = read(prescriber_api, prescription).json()

    steps = body["dosageInstruction"]
    assert [step["sequence"] for step in steps] == [1, 2, 3]
    assert steps[0]["text"] == "Take 1 capsule by mouth at bedtime"
    assert all("text" not in step for step in steps[1:])
    doses = [step["doseAndRate"][0]["doseQuantity"] for step in steps]
    assert [Decimal(str(dose["value"])) for dose in doses] == [Decimal("1.5"), Decimal("3"), Decimal("4.5")]
    assert {dose["unit"] for dose in doses} == {"mg"}
    assert [step["timing"]["repeat"].get("boundsDuration", {}).get("value") for step in steps] == [14, 14, None]
    assert {step["timing"]["repeat"]["boundsDuration"]["code"] for step in steps[:2]} == {"d"}
    assert all(step["timing"]["repeat"]["when"] == ["HS"] for step in steps)
    assert all("route" not in step for step in steps)


def test_sublingual_drops_in_the_morning_carry_the_route(prescriber_api, prescriber):
    prescription = make_prescription(
        prescriber, dosage_form="sublingual_drops", titration=(), dose_timing="morning", quantity=30,
        directions="Place the drops under the tongue each morning",
    )  # fmt: skip

    body = validated(read(prescriber_api, prescription).json())

    (step,) = body["dosageInstruction"]
    assert step["route"]["coding"][0] == {"system": codes.SNOMED, "code": "37839007", "display": "Sublingual route"}
    assert step["timing"]["repeat"] == {"when": ["MORN"]}
    assert body["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "ORDROP"
    assert body["dispenseRequest"]["quantity"]["unit"] == "mL"


def test_the_identifier_an_ehr_sent_is_answered_beside_the_order_number(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)
    IdempotencyKey.objects.create(
        prescriber=prescriber, key=codes.identifier_key("urn:oid:2.16.840.1.113883.3.1", "ORD-77"),
        request_digest="0" * 64, prescription=prescription,
    )  # fmt: skip

    body = read(prescriber_api, prescription).json()

    assert body["identifier"][1] == {"use": "usual", "system": "urn:oid:2.16.840.1.113883.3.1", "value": "ORD-77"}


def test_a_patient_weight_comes_along_as_a_contained_observation(prescriber_api, prescriber):
    prescription = make_prescription(prescriber, patient={"weight_kg": Decimal("61.5")})

    body = validated(read(prescriber_api, prescription).json())

    (weight,) = [resource for resource in body["contained"] if resource["resourceType"] == "Observation"]
    assert weight["code"]["coding"][0]["code"] == "29463-7"
    assert (weight["valueQuantity"]["value"], weight["valueQuantity"]["code"]) == (61.5, "kg")
    assert {"reference": "#weight", "display": "Body weight"} in body["supportingInformation"]


@pytest.mark.parametrize(
    ("status", "fhir_status"),
    [("on_hold", "on-hold"), ("rejected", "stopped"), ("cancelled", "cancelled"), ("completed", "completed"),
     ("approved", "active"), ("ready", "active")],
)  # fmt: skip
def test_statuses_map_to_fhir(prescriber_api, prescriber, pharmacist, technician, status, fhir_status):
    prescription = prescription_at(status, prescriber, pharmacist=pharmacist, technician=technician)

    body = validated(read(prescriber_api, prescription).json())

    assert body["status"] == fhir_status


def test_staff_read_any_prescription(pharmacist_api, technician_api, prescriber):
    prescription = make_prescription(prescriber)

    assert read(pharmacist_api, prescription).status_code == 200
    assert read(technician_api, prescription).status_code == 200


def test_another_prescribers_prescription_answers_the_same_404_as_an_unknown_id(other_prescriber_api, prescriber):
    prescription = make_prescription(prescriber)
    before = AuditRecord.objects.filter(action=AuditAction.VIEW).count()

    forbidden = read(other_prescriber_api, prescription)
    unknown = fhir_get(other_prescriber_api, "MedicationRequest/999999999")

    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json() == unknown.json()
    assert outcome_issue(forbidden)["code"] == "not-found"
    assert "Lovelace" not in forbidden.content.decode()
    assert AuditRecord.objects.filter(action=AuditAction.VIEW).count() == before


def test_without_a_token_the_answer_is_401_with_an_operation_outcome(api, prescriber):
    prescription = make_prescription(prescriber)

    response = read(api, prescription)

    assert response.status_code == 401
    assert outcome_issue(response)["code"] == "login"


def test_an_account_without_a_role_sees_nothing(prescriber, db):
    prescription = make_prescription(prescriber)
    nobody = api_client_for(UserFactory(email="nobody@example.test"))

    assert read(nobody, prescription).status_code == 404


def test_each_read_is_audited(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)

    read(prescriber_api, prescription)

    record = AuditRecord.objects.filter(action=AuditAction.VIEW, object_id=str(prescription.pk)).latest("id")
    assert record.actor == prescriber.user
    assert record.description == "read through FHIR"
    assert record.prescription_reference == prescription.reference


def test_a_renewal_names_the_prescription_it_renews(prescriber_api, prescriber, pharmacist, technician):
    old = dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)
    renewal = waiting_renewal(old)
    new = renewal_approve(
        renewal_id=renewal.pk, actor=prescriber.user, refills=1,
        signature=Signature(name=prescriber.user.get_full_name(), attested=True),
    )  # fmt: skip

    body = validated(read(prescriber_api, new).json())

    assert body["priorPrescription"] == {"reference": f"MedicationRequest/{old.pk}"}
    assert "priorPrescription" not in read(prescriber_api, old).json()
