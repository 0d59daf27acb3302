"""The lot trace and the recall endpoints: shapes, roles, the quarantine at record_compounding, audit."""

from __future__ import annotations

import pytest

from intake.models import AuditRecord, PrescriptionStatus, Recall
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.recalls.helpers import RECALLED
from tests.workflow_helpers import advance

S = PrescriptionStatus
BODY = {"ingredient": "Naltrexone HCl USP", "lot": RECALLED, "reason": "Supplier notice: failed potency assay.",
        "recall_class": "I"}  # fmt: skip
USE_KEYS = {"prescription", "reference", "status", "handed_over_at"}


@pytest.fixture
def shipped_and_ready(prescriber, pharmacist, technician):
    shipped = advance(make_prescription(prescriber), S.SHIPPED, pharmacist=pharmacist, technician=technician)
    ready = advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)
    return shipped, ready


def test_the_trace_of_a_lot(technician_api, shipped_and_ready, technician):
    shipped, ready = shipped_and_ready

    response = technician_api.get(f"/api/v1/lots/{RECALLED.lower()}/", {"count": "true"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and body["next"] is None
    assert [row["reference"] for row in body["results"]] == [shipped.reference, ready.reference]
    assert all(set(row) >= USE_KEYS for row in body["results"])
    assert body["results"][0]["status"] == "shipped" and body["results"][0]["handed_over_at"]
    assert body["results"][1]["handed_over_at"] is None
    assert response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    assert AuditRecord.objects.filter(actor=technician, object_type="lot_trace", action="list").exists()


def test_the_trace_refuses_a_bad_cursor_and_answers_an_unknown_lot_empty(technician_api, db):
    assert technician_api.get("/api/v1/lots/X1/", {"after": "abc"}).status_code == 400
    assert technician_api.get("/api/v1/lots/X1/", {"count": "maybe"}).status_code == 400
    body = technician_api.get("/api/v1/lots/X1/").json()
    assert body == {"lot": "X1", "count": None, "next": None, "results": []}


def test_opening_a_recall_answers_what_it_reached(pharmacist_api, shipped_and_ready, pharmacist):
    shipped, ready = shipped_and_ready

    response = pharmacist_api.post("/api/v1/recalls/", BODY, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "lot", "affected"} <= set(body)
    assert body["lot"] == RECALLED
    rows = {row["reference"]: row for row in body["affected"]}
    assert all(set(row) >= USE_KEYS for row in body["affected"])
    assert rows[shipped.reference]["status"] == "shipped"
    assert rows[shipped.reference]["outcome"] == "patient_told"
    assert rows[ready.reference]["status"] == "compounding"
    assert rows[ready.reference]["outcome"] == "remade"
    assert AuditRecord.objects.filter(actor=pharmacist, object_type="recall", action="create").exists()

    # a second open recall of the lot is refused on its field
    again = pharmacist_api.post("/api/v1/recalls/", {**BODY, "lot": RECALLED.lower()}, format="json")
    assert again.status_code == 400
    assert "lot" in again.json()

    listed = pharmacist_api.get("/api/v1/recalls/").json()
    assert [item["id"] for item in listed] == [body["id"]]
    detail = pharmacist_api.get(f"/api/v1/recalls/{body['id']}/")
    assert detail.status_code == 200
    assert len(detail.json()["affected"]) == 2


def test_record_compounding_with_a_recalled_lot_answers_400(pharmacist_api, technician_api, prescriber, pharmacist,
                                                             technician):  # fmt: skip
    compounding = advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
    assert pharmacist_api.post("/api/v1/recalls/", BODY, format="json").status_code == 201

    response = technician_api.post(
        f"/api/v1/prescriptions/{compounding.pk}/actions/record_compounding/",
        {"lots": [{"ingredient": "Naltrexone HCl USP", "lot": RECALLED.lower(), "expires": "2099-01-01"},
                  {"ingredient": "Microcrystalline cellulose NF", "lot": "MCC-1", "expires": "2099-01-01"}],
         "quantity_made": compounding.quantity},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert "is under recall (class I" in str(response.json())
    assert technician_api.get(f"/api/v1/prescriptions/{compounding.pk}/").json()["status"] == "compounding"


def test_closing_a_recall(pharmacist_api, technician_api, db, pharmacist):
    opened = pharmacist_api.post("/api/v1/recalls/", BODY, format="json").json()
    url = f"/api/v1/recalls/{opened['id']}/close/"

    assert pharmacist_api.post(url, {"note": "ok"}, format="json").status_code == 400
    assert technician_api.post(url, {"note": "Supplier withdrew the notice."}, format="json").status_code == 403
    assert Recall.objects.get().is_open

    closed = pharmacist_api.post(url, {"note": "Supplier withdrew the notice after retesting."}, format="json")
    assert closed.status_code == 200
    assert closed.json()["is_open"] is False
    assert pharmacist_api.post(url, {"note": "Supplier withdrew the notice again."}, format="json").status_code == 409
    assert pharmacist_api.post("/api/v1/recalls/999999/close/", {"note": "x y z w"}, format="json").status_code == 404


def test_who_may_call(api, prescriber_api, technician_api, pharmacist, db):
    recall = api_client_for(pharmacist).post("/api/v1/recalls/", BODY, format="json").json()
    for path in ("/api/v1/lots/NTX-24001/", "/api/v1/recalls/", f"/api/v1/recalls/{recall['id']}/"):
        assert api.get(path).status_code == 401
        assert prescriber_api.get(path).status_code == 403
        assert technician_api.get(path).status_code == 200
    assert technician_api.post("/api/v1/recalls/", {**BODY, "lot": "OTHER"}, format="json").status_code == 403
    assert prescriber_api.post("/api/v1/recalls/", {**BODY, "lot": "OTHER"}, format="json").status_code == 403
    assert Recall.objects.count() == 1
    assert technician_api.get("/api/v1/recalls/999999/").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{}, {**BODY, "recall_class": "IV"}, {**BODY, "lot": 42}, {**BODY, "reason": ""}, {**BODY, "lot": "x" * 61},
     {**BODY, "ingredient": "a\nb"}],
)  # fmt: skip
def test_bad_bodies_are_400_and_create_nothing(pharmacist_api, body, db):
    assert pharmacist_api.post("/api/v1/recalls/", body, format="json").status_code == 400
    assert Recall.objects.count() == 0
