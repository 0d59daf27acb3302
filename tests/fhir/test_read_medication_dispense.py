"""GET /fhir/R4/MedicationDispense?prescription={id}: one per fill once compounded, its batch and lots."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from intake.api.fhir import codes
from intake.models import AuditAction, AuditRecord, CompoundingRecord, Fill, Requester
from intake.services import workflow
from intake.services.refills import refill_request
from tests.factories import make_prescription
from tests.fhir.reading import fhir_get, outcome_issue, prescription_at, resources_in, validated
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed
from tests.workflow_helpers import advance


def dispenses(client, prescription):
    return fhir_get(client, "MedicationDispense", {"prescription": f"MedicationRequest/{prescription.pk}"})


def only_dispense(client, prescription):
    bundle = validated(dispenses(client, prescription).json())
    (dispense,) = resources_in(bundle)
    return dispense


@pytest.mark.parametrize("status", ["awaiting_questionnaire", "approved", "compounding"])
def test_before_compounding_is_recorded_there_is_none(prescriber_api, prescriber, pharmacist, technician, status):
    prescription = prescription_at(status, prescriber, pharmacist=pharmacist, technician=technician)

    response = dispenses(prescriber_api, prescription)

    assert response.status_code == 200
    bundle = validated(response.json())
    assert (bundle["type"], bundle["total"]) == ("searchset", 0)


def test_once_compounded_the_dispense_carries_the_batch_lots_and_beyond_use_date(
    prescriber_api, prescriber, pharmacist, technician
):
    prescription = prescription_at("final_check", prescriber, pharmacist=pharmacist, technician=technician)
    record = CompoundingRecord.objects.get(prescription=prescription)

    dispense = only_dispense(prescriber_api, prescription)

    assert dispense["status"] == "preparation"
    assert dispense["id"] == f"{prescription.pk}-1"
    assert dispense["authorizingPrescription"] == [{"reference": f"MedicationRequest/{prescription.pk}"}]
    assert (dispense["quantity"]["value"], dispense["quantity"]["unit"]) == (30, "capsule")
    assert (dispense["daysSupply"]["value"], dispense["daysSupply"]["code"]) == (30, "d")
    assert datetime.fromisoformat(dispense["whenPrepared"]) == record.compounded_at
    assert "whenHandedOver" not in dispense
    (medication,) = dispense["contained"]
    assert dispense["medicationReference"] == {"reference": f"#{medication['id']}"}
    assert medication["code"]["coding"][0]["code"] == codes.NALTREXONE_RXCUI
    assert medication["form"]["coding"][0]["code"] == "CAP"
    assert medication["batch"] == {
        "lotNumber": f"{prescription.reference}-{record.pk}",
        "expirationDate": record.beyond_use_date.isoformat(),
    }
    assert record.beyond_use_date == prescription.beyond_use_date
    lots = {}
    for ingredient in medication["ingredient"]:
        (extension,) = ingredient["extension"]
        assert extension["url"] == codes.INGREDIENT_LOT_EXTENSION
        details = {
            part["url"]: next(v for k, v in part.items() if k.startswith("value")) for part in extension["extension"]
        }
        lots[ingredient["itemCodeableConcept"]["text"]] = details
    assert lots["Naltrexone HCl USP"]["lotNumber"] == "NTX-24001"
    assert lots["Naltrexone HCl USP"]["manufacturer"] == "Medisca"
    assert lots["Microcrystalline cellulose NF"]["lotNumber"] == "MCC-7781"
    assert set(lots["Naltrexone HCl USP"]) >= {"lotNumber", "expirationDate"}


def test_ready_for_pickup_is_in_progress(prescriber_api, prescriber, pharmacist, technician):
    prescription = prescription_at("ready", prescriber, pharmacist=pharmacist, technician=technician)

    dispense = only_dispense(prescriber_api, prescription)

    assert dispense["status"] == "in-progress"
    record = CompoundingRecord.objects.get(prescription=prescription)
    assert record.checked_at is not None
    assert datetime.fromisoformat(dispense["whenPrepared"]) == record.checked_at


@pytest.mark.parametrize("status", ["shipped", "completed"])
def test_handed_over_is_completed(prescriber_api, prescriber, pharmacist, technician, status):
    prescription = prescription_at(status, prescriber, pharmacist=pharmacist, technician=technician)
    fill = Fill.objects.get(prescription=prescription, number=1)

    dispense = only_dispense(prescriber_api, prescription)

    assert dispense["status"] == "completed"
    assert fill.dispensed_at is not None
    assert datetime.fromisoformat(dispense["whenHandedOver"]) == fill.dispensed_at
    assert dispense["contained"][0]["batch"]["expirationDate"] == fill.beyond_use_date.isoformat()


def test_picked_up_straight_from_ready_is_completed(prescriber_api, prescriber, pharmacist, technician):
    prescription = prescription_at("ready", prescriber, pharmacist=pharmacist, technician=technician)
    workflow.prescription_complete(prescription_id=prescription.pk, actor=technician)

    dispense = only_dispense(prescriber_api, prescription)

    assert dispense["status"] == "completed"
    assert "whenHandedOver" in dispense


@pytest.mark.parametrize("params", [{}, {"prescription": "Patient/3"}, {"prescription": "x"}])
def test_the_prescription_is_required(prescriber_api, prescriber, params):
    response = fhir_get(prescriber_api, "MedicationDispense", params)

    assert response.status_code == 400
    assert outcome_issue(response)["expression"] == ["prescription"]


def test_access(api, prescriber_api, other_prescriber_api, pharmacist_api, prescriber):
    prescription = make_prescription(prescriber)
    before = AuditRecord.objects.count()

    assert dispenses(api, prescription).status_code == 401
    forbidden = dispenses(other_prescriber_api, prescription)
    unknown = fhir_get(other_prescriber_api, "MedicationDispense", {"prescription": "999999999"})
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json() == unknown.json()
    assert AuditRecord.objects.count() == before

    assert dispenses(prescriber_api, prescription).status_code == 200
    assert dispenses(pharmacist_api, prescription).status_code == 200
    record = AuditRecord.objects.filter(action=AuditAction.VIEW, object_id=str(prescription.pk)).latest("id")
    assert record.description == "dispenses read through FHIR"


def test_one_dispense_per_fill_a_refill_with_its_own_batch(prescriber_api, prescriber, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
        advance(prescription, "final_check", pharmacist=pharmacist, technician=technician)

        bundle = validated(dispenses(prescriber_api, prescription).json())

    first, second = resources_in(bundle)
    assert (first["id"], first["status"]) == (f"{prescription.pk}-1", "completed")
    assert (second["id"], second["status"]) == (f"{prescription.pk}-2", "preparation")
    assert "whenHandedOver" not in second
    assert first["contained"][0]["batch"]["lotNumber"] != second["contained"][0]["batch"]["lotNumber"]
