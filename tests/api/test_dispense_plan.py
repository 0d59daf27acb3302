"""Dispensed as written, over HTTP: the plan on the prescription's JSON, compounding it, checking it."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from intake.models import CompoundingRecord, FinalCheck, FinalCheckMethod, MasterFormulation
from intake.services.final_check import CHECKLIST
from tests.api.conftest import PRESCRIPTIONS, action_url, detail_url, snapshot
from tests.conftest import api_client_for
from tests.factories import api_payload
from tests.refills.dispensing import days_later, dispensed
from tests.workflow_helpers import warning_reasons

EVERYTHING = [item.value for item in CHECKLIST]


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def created(prescriber_api, **overrides):
    response = post(prescriber_api, PRESCRIPTIONS, api_payload(**overrides))
    assert response.status_code == 201, response.json()
    return response.json()


def lots(**overrides):
    today = timezone.localdate()
    body = {"lots": [{"ingredient": "Naltrexone HCl USP", "lot": "NTX-1",
                      "expires": (today + timedelta(days=365)).isoformat()}], "quantity_made": 30}  # fmt: skip
    body.update(overrides)
    return body


def test_the_contracts_titration_is_three_strengths_never_thirty_of_one(prescriber_api, pharmacist_api):
    answer = created(prescriber_api)

    expected = [
        {"strength_mg": 1.5, "days": 14, "quantity": 14, "unit": "capsule"},
        {"strength_mg": 3, "days": 14, "quantity": 14, "unit": "capsule"},
        {"strength_mg": 4.5, "days": 2, "quantity": 2, "unit": "capsule"},
    ]
    assert answer["dispense_plan"] == expected
    assert not [flag for flag in answer["flags"] if flag["code"] == "dispense_plan"]
    assert pharmacist_api.get(detail_url(answer["id"])).json()["dispense_plan"] == expected
    listed = pharmacist_api.get(PRESCRIPTIONS).json()["results"]
    assert [row["dispense_plan"] for row in listed] == [expected]


def test_a_plain_prescription_is_one_entry(prescriber_api):
    answer = created(prescriber_api, titration=[])

    assert answer["dispense_plan"] == [{"strength_mg": 4.5, "days": 30, "quantity": 30, "unit": "capsule"}]


def test_a_kit_with_too_few_capsules_for_its_steps_is_refused_naming_the_field(prescriber_api):
    response = post(prescriber_api, PRESCRIPTIONS, api_payload(quantity=20))

    assert response.status_code == 400
    assert "titration" in response.json()


@pytest.mark.parametrize("concentration", ["1", "2", "0.5"])
@pytest.mark.parametrize("dosage_form", ["oral_liquid", "sublingual_drops"])
def test_liquids_and_drops_give_a_dose_in_ml_for_each_step(dosage_form, concentration, prescriber_api):
    MasterFormulation.objects.filter(dosage_form__code=dosage_form).update(concentration=Decimal(concentration))

    plan = created(prescriber_api, dosage_form=dosage_form, quantity=300)["dispense_plan"]

    assert [entry["strength_mg"] for entry in plan] == [1.5, 3, 4.5]
    assert [entry["days"] for entry in plan] == [14, 14, 2]
    for entry in plan:
        assert entry["unit"] == "mL"
        assert entry["concentration_mg_per_ml"] == float(concentration)
        dose, strength = Decimal(str(entry["dose_ml"])), Decimal(str(entry["strength_mg"]))
        assert dose * Decimal(concentration) == strength
        assert Decimal(str(entry["quantity"])) == dose * entry["days"]


def test_a_liquid_too_small_for_its_schedule_is_taken_with_a_flag(prescriber_api, pharmacist, technician):
    answer = created(prescriber_api, dosage_form="oral_liquid", quantity=30)

    (flag,) = [flag for flag in answer["flags"] if flag["code"] == "dispense_plan"]
    assert flag["severity"] == "warning"
    assert "72 mL" in flag["message"] and "runs out on day 18" in flag["message"]
    assert flag["field"] == "quantity"
    assert answer["dispense_plan"][0]["dose_ml"] == 1.5  # the schedule as prescribed, never rounded to fit


def test_the_flag_needs_the_pharmacists_reason_to_approve(prescriber, pharmacist_api, pharmacist, technician):
    from tests.factories import make_prescription
    from tests.workflow_helpers import advance

    prescription = advance(make_prescription(prescriber, dosage_form="oral_liquid", quantity=30), "in_review",
                           pharmacist=pharmacist, technician=technician)  # fmt: skip
    reasons = {code: why for code, why in warning_reasons(prescription).items() if code != "dispense_plan"}

    refused = post(pharmacist_api, action_url(prescription, "approve"), {"override_reasons": reasons})

    assert refused.status_code == 400
    assert "dispense_plan" in json.dumps(refused.json())


def test_record_compounding_refuses_a_quantity_that_is_not_the_plan(rx_at, technician_api):
    prescription = rx_at("compounding")
    before = snapshot(prescription)

    response = post(technician_api, action_url(prescription, "record_compounding"), lots(quantity_made=28))

    assert response.status_code == 400
    assert "14 x 1.5 mg, 14 x 3 mg and 2 x 4.5 mg capsules" in response.json()["quantity_made"][0]
    assert snapshot(prescription) == before
    assert not CompoundingRecord.objects.exists()


def test_record_compounding_refuses_weights_outside_the_tolerance(rx_at, technician_api):
    prescription = rx_at("compounding")
    before = snapshot(prescription)
    containers = [{"quantity_made": 14, "capsule_weights_mg": ["200", "260"]}, {"naltrexone_mg": "60"}, {}]

    response = post(technician_api, action_url(prescription, "record_compounding"), lots(containers=containers))

    assert response.status_code == 400
    body = response.json()
    assert "capsule 2 weighs 260 mg" in body["containers"]["1"]["capsule_weights_mg"][0]
    assert "60 mg of naltrexone HCl is outside" in body["containers"]["2"]["naltrexone_mg"][0]
    assert snapshot(prescription) == before


def test_record_compounding_takes_each_containers_details(rx_at, technician_api):
    prescription = rx_at("compounding")
    containers = [{"quantity_made": 14, "naltrexone_mg": "21.4", "capsule_weights_mg": [201, "198.5"]},
                  {"quantity_made": 14}, {"quantity_made": 2}]  # fmt: skip

    response = post(technician_api, action_url(prescription, "record_compounding"), lots(containers=containers))

    assert response.status_code == 200
    assert response.json()["status"] == "final_check"
    record = CompoundingRecord.objects.get(prescription=prescription)
    assert record.containers.get(number=1).capsule_weights_mg == ["201", "198.5"]


def final_check(client, prescription, body):
    return post(client, action_url(prescription, "final_check"), body)


def codes(prescription):
    record = CompoundingRecord.objects.get(prescription=prescription)
    return {str(c.number): c.code for c in record.containers.all()}


def test_a_final_check_with_the_checklist_and_scans_is_recorded(rx_at, second_pharmacist):
    prescription = rx_at("final_check")

    response = final_check(api_client_for(second_pharmacist), prescription,
                           {"checklist": EVERYTHING, "scans": codes(prescription)})  # fmt: skip

    assert response.status_code == 200
    check = FinalCheck.objects.get()
    assert check.method == FinalCheckMethod.CHECKLIST
    assert check.items.count() == len(EVERYTHING) + 3


def test_a_final_check_through_the_api_refuses_another_orders_container(rx_at, prescriber, second_pharmacist):
    other = rx_at("final_check", patient={"first_name": "Grace"})
    prescription = rx_at("final_check")
    before = snapshot(prescription)
    scans = codes(prescription) | {"1": codes(other)["1"]}

    response = final_check(api_client_for(second_pharmacist), prescription, {"checklist": EVERYTHING, "scans": scans})

    assert response.status_code == 400
    assert other.reference in response.json()["scans"]["1"][0]
    assert snapshot(prescription) == before
    assert not FinalCheck.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checklist": EVERYTHING[:-1], "scans": "codes"}, "checklist"),
        ({"checklist": EVERYTHING}, "scans"),
        ({"checklist": ["drug", "smell"]}, "checklist"),
        ({"scans": {"one": "RX-1"}}, "scans"),
    ],
)
def test_a_final_check_with_a_missing_or_wrong_item_is_refused(body, field, rx_at, second_pharmacist):
    prescription = rx_at("final_check")
    if body.get("scans") == "codes":
        body = {**body, "scans": codes(prescription)}
    before = snapshot(prescription)

    response = final_check(api_client_for(second_pharmacist), prescription, body)

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(prescription) == before


def test_a_refill_of_a_titration_dispenses_the_prescribed_strength(prescriber, prescriber_api, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)

    with time_machine.travel(days_later(25), tick=False):
        response = post(prescriber_api, f"{detail_url(prescription)}refill/", {})

    assert response.status_code in (200, 201), response.json()
    assert response.json()["dispense_plan"] == [{"strength_mg": 4.5, "days": 30, "quantity": 30, "unit": "capsule"}]


def test_a_prescription_may_ask_for_the_titration_on_every_refill(prescriber, prescriber_api, pharmacist, technician):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician, repeat_titration=True)
    assert prescription.repeat_titration

    with time_machine.travel(days_later(25), tick=False):
        response = post(prescriber_api, f"{detail_url(prescription)}refill/", {})

    assert [entry["strength_mg"] for entry in response.json()["dispense_plan"]] == [1.5, 3, 4.5]
    assert response.json()["repeat_titration"] is True
    assert not prescription.is_altered


def test_repeat_titration_is_taken_from_the_api(prescriber_api):
    assert created(prescriber_api, repeat_titration=True)["repeat_titration"] is True
    assert (
        created(prescriber_api, patient={**api_payload()["patient"], "first_name": "Bo"})["repeat_titration"] is False
    )
