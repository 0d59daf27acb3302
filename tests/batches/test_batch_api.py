"""The batches on the API: /api/v1/batches/ and the fill_from_batch action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import AuditRecord, Batch, BatchStatus, Prescription, PrescriptionStatus
from intake.services.batches import prescription_fill_from_batch
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.workflow_helpers import advance, capsule_formulation, released_batch

S = PrescriptionStatus
BATCHES = "/api/v1/batches/"
NOTE = "Record, lots and weights checked against the formula."


def _body(**overrides):
    day = timezone.localdate()
    body = {
        "master_formulation_id": capsule_formulation().pk,
        "strength_mg": "4.5",
        "quantity_made": 500,
        "lots": [
            {"ingredient": "Naltrexone HCl USP", "lot": "NTX-24001", "expires": (day + timedelta(days=365)).isoformat(),
             "manufacturer": "Medisca", "quantity_used": "2.25 g"},
            {"ingredient": "Microcrystalline cellulose NF", "lot": "MCC-7781",
             "expires": (day + timedelta(days=400)).isoformat()},
        ],
        "quality_checks": "Weight variation of 20 capsules within 10%",
    }  # fmt: skip
    body.update(overrides)
    return body


@pytest.fixture
def approved(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber, titration=()), S.APPROVED, pharmacist=pharmacist,
                   technician=technician)  # fmt: skip


def test_staff_make_a_batch_and_read_it_back(technician):
    client = api_client_for(technician)

    made = client.post(BATCHES, _body(), format="json")

    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["status"], body["units_left"], body["strength_mg"], body["unit"]) == ("made", 500, "4.50", "capsule")
    assert [lot["lot"] for lot in body["lots"]] == ["NTX-24001", "MCC-7781"]
    assert body["fills"] == []
    assert made["Location"].endswith(f"/api/v1/batches/{body['id']}/")
    read = client.get(f"{BATCHES}{body['id']}/")
    assert read.status_code == 200
    assert read.json()["beyond_use_date"] == body["beyond_use_date"]
    assert AuditRecord.objects.filter(object_type="batch", object_id=str(body["id"]), action="view").exists()
    listed = client.get(BATCHES, {"status": "made"})
    assert [item["id"] for item in listed.json()] == [body["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lots": []}, "lots"),
        ({"quantity_made": 0}, "quantity_made"),
        ({"strength_mg": "-1"}, "strength_mg"),
        ({"master_formulation_id": 999_999}, "master_formulation_id"),
        ({"lots": [{"ingredient": "Naltrexone HCl USP", "lot": "OLD", "expires": "2001-01-01"}]}, "lots"),
    ],
)
def test_a_wrong_batch_answers_400_naming_the_field_and_saves_nothing(technician, change, field):
    response = api_client_for(technician).post(BATCHES, _body(**change), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Batch.objects.exists()


def test_another_pharmacist_releases_it_and_the_compounder_may_not(pharmacist, second_pharmacist):
    made = api_client_for(pharmacist).post(BATCHES, _body(), format="json").json()
    release = f"{BATCHES}{made['id']}/release/"

    own = api_client_for(pharmacist).post(release, {"note": NOTE}, format="json")
    assert own.status_code == 403
    assert "another pharmacist" in own.json()["detail"]
    assert Batch.objects.get(pk=made["id"]).status == BatchStatus.MADE

    short = api_client_for(second_pharmacist).post(release, {"note": "ok"}, format="json")
    assert short.status_code == 400
    assert "note" in short.json()

    done = api_client_for(second_pharmacist).post(release, {"note": NOTE}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["release_note"]) == ("released", NOTE)

    again = api_client_for(second_pharmacist).post(release, {"note": NOTE}, format="json")
    assert again.status_code == 409


def test_fill_from_batch_moves_to_final_check_and_the_batch_lists_the_fill(approved, technician):
    batch = released_batch()
    url = f"/api/v1/prescriptions/{approved.pk}/actions/fill_from_batch/"

    response = api_client_for(technician).post(url, {"batch": batch.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "final_check"
    assert response.json()["beyond_use_date"] == batch.beyond_use_date.isoformat()
    read = api_client_for(technician).get(f"{BATCHES}{batch.pk}/").json()
    assert read["units_left"] == 470
    assert [(fill["reference"], fill["quantity"]) for fill in read["fills"]] == [(approved.reference, 30)]


def test_fill_from_batch_refusals(approved, prescriber, pharmacist, technician):
    url = f"/api/v1/prescriptions/{approved.pk}/actions/fill_from_batch/"
    client = api_client_for(technician)
    other_strength = released_batch(strength_mg="3")
    quarantined = released_batch()
    Batch.objects.filter(pk=quarantined.pk).update(status=BatchStatus.QUARANTINED)

    mismatch = client.post(url, {"batch": other_strength.pk}, format="json")
    assert mismatch.status_code == 400
    assert "3 mg" in " ".join(mismatch.json()["batch"])

    wrong_state = client.post(url, {"batch": quarantined.pk}, format="json")
    assert wrong_state.status_code == 409
    assert "quarantined" in wrong_state.json()["detail"]

    assert client.post(url, {}, format="json").status_code == 400
    assert client.post(url, {"batch": "x"}, format="json").status_code == 400
    assert api_client_for(prescriber.user).post(url, {"batch": other_strength.pk}, format="json").status_code == 403
    assert Prescription.objects.get(pk=approved.pk).status == S.APPROVED


def test_a_prescriber_may_not_see_batches(prescriber, technician):
    batch = released_batch()
    client = api_client_for(prescriber.user)

    assert client.get(BATCHES).status_code == 403
    assert client.get(f"{BATCHES}{batch.pk}/").status_code == 403
    assert client.post(BATCHES, _body(), format="json").status_code == 403
    assert api_client_for(None).get(BATCHES).status_code == 401
    assert api_client_for(technician).get(f"{BATCHES}987654/").status_code == 404
    assert api_client_for(technician).get(BATCHES, {"status": "nonsense"}).status_code == 400


def test_the_fhir_dispense_of_a_fill_from_a_batch_carries_the_batch_and_its_lots(approved, technician, prescriber):
    from tests.fhir.reading import fhir_get, resources_in, validated

    batch = released_batch()
    prescription_fill_from_batch(prescription_id=approved.pk, actor=technician, batch_id=batch.pk)

    response = fhir_get(api_client_for(prescriber.user), "MedicationDispense",
                        {"prescription": f"MedicationRequest/{approved.pk}"})  # fmt: skip

    (dispense,) = resources_in(validated(response.json()))
    (medication,) = dispense["contained"]
    assert medication["batch"] == {"lotNumber": batch.number, "expirationDate": batch.beyond_use_date.isoformat()}
    parts = [part for item in medication["ingredient"] for part in item["extension"][0]["extension"]]
    lot_numbers = {part["valueString"] for part in parts if part["url"] == "lotNumber"}
    assert lot_numbers == {"NTX-24001", "MCC-7781"}
