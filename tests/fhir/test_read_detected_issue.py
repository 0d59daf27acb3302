"""GET /fhir/R4/DetectedIssue?implicated=MedicationRequest/{id}: one DetectedIssue per screening flag."""

from __future__ import annotations

from datetime import datetime

import pytest

from intake.api.fhir import codes
from intake.models import AuditAction, AuditRecord, Prescription
from intake.services import workflow
from tests.factories import clean_answers, make_prescription
from tests.fhir.reading import fhir_get, outcome_issue, prescription_at, resources_in, validated
from tests.workflow_helpers import advance

NOTE = "Spoke with the patient: the surgery was last year and none is planned."


def issues(client, prescription, reference=None):
    return fhir_get(client, "DetectedIssue", {"implicated": reference or f"MedicationRequest/{prescription.pk}"})


@pytest.fixture
def flagged(prescriber, pharmacist, technician) -> Prescription:
    """Approved with two warnings: surgery verified by the pharmacist, thyroid given a written reason."""
    answers = clean_answers(surgery_within_14_days=True, thyroid_medication=True)
    prescription = prescription_at("in_review", prescriber, pharmacist=pharmacist, technician=technician,
                                   answers=answers)  # fmt: skip
    workflow.prescription_verify_flag(
        prescription_id=prescription.pk, actor=pharmacist, code="surgery", method="patient_interview", note=NOTE
    )
    return advance(prescription, "approved", pharmacist=pharmacist, technician=technician)


def test_one_detected_issue_per_flag_with_its_mitigation(pharmacist_api, flagged, pharmacist):
    response = issues(pharmacist_api, flagged)

    assert response.status_code == 200
    bundle = validated(response.json())
    found = {issue["code"]["coding"][0]["code"]: issue for issue in resources_in(bundle)}
    assert bundle["total"] == len(flagged.flags) == len(found)
    for flag in flagged.flags:
        issue = found[flag["code"]]
        assert issue["status"] == "final"
        assert issue["severity"] == codes.SEVERITY_TO_FHIR[flag["severity"]]
        assert issue["code"]["coding"][0]["system"] == codes.FLAG_SYSTEM
        assert issue["code"]["coding"][0]["display"]
        assert issue["detail"] == flag["message"]
        assert issue["implicated"] == [{"reference": f"MedicationRequest/{flagged.pk}"}]

    (verified,) = found["surgery"]["mitigation"]
    method = verified["action"]["coding"][0]
    assert (method["system"], method["code"]) == (codes.MITIGATION_SYSTEM, "patient_interview")
    assert method["display"] in verified["action"]["text"]
    assert NOTE in verified["action"]["text"]
    assert verified["author"]["display"] == str(pharmacist)
    assert datetime.fromisoformat(verified["date"])

    (overridden,) = found["thyroid"]["mitigation"]
    assert overridden["action"]["coding"][0]["code"] == codes.OVERRIDE_REASON
    assert overridden["action"]["text"] == "Discussed with the prescriber; benefit outweighs the risk."
    assert overridden["author"]["display"] == str(pharmacist)


def test_a_flag_not_yet_cleared_has_no_mitigation(prescriber_api, prescriber):
    prescription = make_prescription(prescriber, strength_mg="6")

    bundle = validated(issues(prescriber_api, prescription).json())

    (dose,) = [issue for issue in resources_in(bundle) if issue["code"]["coding"][0]["code"] == "dose_range"]
    assert dose["severity"] == "moderate"
    assert "mitigation" not in dose


def test_a_hard_stop_is_high(prescriber_api, prescriber, pharmacist, technician):
    prescription = prescription_at("pending_review", prescriber, pharmacist=pharmacist, technician=technician,
                                   answers=clean_answers(takes_opioids=True))  # fmt: skip

    bundle = validated(issues(prescriber_api, prescription).json())

    assert "high" in {issue["severity"] for issue in resources_in(bundle)}


def test_no_flags_is_an_empty_searchset(prescriber_api, prescriber):
    prescription = make_prescription(prescriber)
    assert prescription.flags == []

    bundle = validated(issues(prescriber_api, prescription).json())

    assert bundle["total"] == 0


def test_a_bare_id_or_a_full_url_names_the_prescription_too(prescriber_api, prescriber):
    prescription = make_prescription(prescriber, strength_mg="6")

    bare = issues(prescriber_api, prescription, str(prescription.pk))
    full = issues(prescriber_api, prescription, f"http://testserver/fhir/R4/MedicationRequest/{prescription.pk}")

    assert bare.json()["total"] == full.json()["total"] == len(prescription.flags) > 0


@pytest.mark.parametrize("params", [{}, {"implicated": ""}, {"implicated": "Patient/1"}, {"implicated": "abc"}])
def test_implicated_missing_or_wrong_answers_400(prescriber_api, prescriber, params):
    response = fhir_get(prescriber_api, "DetectedIssue", params)

    assert response.status_code == 400
    assert outcome_issue(response)["expression"] == ["implicated"]


def test_access(api, prescriber_api, other_prescriber_api, technician_api, prescriber):
    prescription = make_prescription(prescriber, strength_mg="6")
    before = AuditRecord.objects.count()

    assert issues(api, prescription).status_code == 401
    forbidden = issues(other_prescriber_api, prescription)
    unknown = fhir_get(other_prescriber_api, "DetectedIssue", {"implicated": "MedicationRequest/999999999"})
    assert forbidden.status_code == unknown.status_code == 404
    assert forbidden.json() == unknown.json()
    assert AuditRecord.objects.count() == before

    assert issues(prescriber_api, prescription).status_code == 200
    assert issues(technician_api, prescription).status_code == 200
    record = AuditRecord.objects.filter(action=AuditAction.VIEW, object_id=str(prescription.pk)).latest("id")
    assert record.description == "flags read through FHIR"
