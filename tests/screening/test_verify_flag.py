"""prescription_verify_flag: how a pharmacist checked a flag, and every refusal changing nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Conflict, Forbidden
from intake.models import Action, PrescriptionEvent, PrescriptionStatus
from intake.services import workflow
from tests.factories import clean_answers, make_prescription
from tests.screening.helpers import NOTE, flags_of, in_review, snapshot
from tests.workflow_helpers import advance

S = PrescriptionStatus
TWO_OPIOID_LINES = clean_answers(current_medications=["oxycodone 10 mg last year", "Norco 5/325 stopped in May"])


@pytest.fixture
def opioid_lines(prescriber, pharmacist, technician):
    """In review with two opioid lines of history: two opioid_use hard stops from medications."""
    return in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=TWO_OPIOID_LINES)


def verify(prescription, actor, **overrides):
    values = {"code": "opioid_use", "method": "pdmp_reviewed", "note": NOTE, **overrides}
    return workflow.prescription_verify_flag(prescription_id=prescription.pk, actor=actor, **values)


def test_a_medication_line_hard_stop_is_verified_and_no_longer_blocks_approval(opioid_lines, pharmacist):
    # given
    with pytest.raises(Conflict, match="opioid_use"):
        workflow.prescription_approve(prescription_id=opioid_lines.pk, actor=pharmacist, override_reasons={})

    # when
    verify(opioid_lines, pharmacist)

    # then: both lines' flags carry the verification; the flags stay on the prescription
    stops = [flag for flag in flags_of(opioid_lines) if flag["code"] == "opioid_use"]
    assert [flag["field"] for flag in stops] == ["current_medications[0]", "current_medications[1]"]
    for flag in stops:
        verification = flag["verification"]
        assert (verification["method"], verification["note"], verification["by"]) == (
            "pdmp_reviewed", NOTE, "Paula Pharmacist"
        )  # fmt: skip
        assert abs((timezone.now() - datetime.fromisoformat(verification["at"])).total_seconds()) < 60
    event = PrescriptionEvent.objects.filter(prescription=opioid_lines).latest("id")
    assert (event.action, event.from_status, event.to_status, event.actor, event.message) == (
        Action.VERIFY_FLAG, S.IN_REVIEW, S.IN_REVIEW, pharmacist, NOTE
    )  # fmt: skip
    assert event.details["code"] == "opioid_use" and event.details["method"] == "pdmp_reviewed"
    approved = workflow.prescription_approve(prescription_id=opioid_lines.pk, actor=pharmacist, override_reasons={})
    assert approved.status == S.APPROVED


def test_verifying_one_line_leaves_the_other_blocking(opioid_lines, pharmacist):
    verify(opioid_lines, pharmacist, field="current_medications[1]")

    verified = {flag["field"]: flag["verification"] for flag in flags_of(opioid_lines) if flag["code"] == "opioid_use"}
    assert verified["current_medications[0]"] is None
    assert verified["current_medications[1]"]["method"] == "pdmp_reviewed"
    with pytest.raises(Conflict, match="opioid_use"):
        workflow.prescription_approve(prescription_id=opioid_lines.pk, actor=pharmacist, override_reasons={})


def test_verifying_does_not_change_the_status_clock(opioid_lines, pharmacist):
    before = opioid_lines.status_changed_at

    verify(opioid_lines, pharmacist)

    opioid_lines.refresh_from_db()
    assert (opioid_lines.status, opioid_lines.status_changed_at) == (S.IN_REVIEW, before)


def test_a_hard_stop_from_the_patients_own_answer_cannot_be_verified(prescriber, pharmacist, technician):
    # given: the patient answered yes, and lists an old line too: one of the opioid_use flags is the answer's
    answers = clean_answers(takes_opioids=True, current_medications=["oxycodone 10 mg last year"])
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=answers)
    before = snapshot(prescription)

    with pytest.raises(Conflict, match="cannot be verified"):
        verify(prescription, pharmacist)

    assert snapshot(prescription) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ({"strength_mg": Decimal("60"), "titration": ()}, "dose_range"),  # 50 mg or more: not LDN
        ({"quantity": 1000, "titration": ()}, "daily_dose"),  # 150 mg a day
    ],
)
def test_a_dose_from_50_mg_cannot_be_verified(prescriber, pharmacist, technician, content, code):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, **content)
    before = snapshot(prescription)

    with pytest.raises(Conflict):
        verify(prescription, pharmacist, code=code, method="prescriber_confirmed")

    assert snapshot(prescription) == before


def test_an_allergy_line_naming_naltrexone_cannot_be_verified(prescriber, pharmacist, technician):
    answers = clean_answers(allergies=["naltrexone: hives"])
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=answers)
    assert any(f["code"] == "naltrexone_allergy" and f["source"] == "allergies" for f in flags_of(prescription))
    before = snapshot(prescription)

    with pytest.raises(Conflict):
        verify(prescription, pharmacist, code="naltrexone_allergy", method="patient_interview")

    assert snapshot(prescription) == before


def test_a_strength_above_the_range_is_verified_only_with_the_prescribers_confirmation(
    prescriber, pharmacist, technician
):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("6"),
                             titration=())  # fmt: skip
    before = snapshot(prescription)

    with pytest.raises(ValidationError) as refused:
        verify(prescription, pharmacist, code="dose_range", method="patient_interview")
    assert "Confirmed with the prescriber" in " ".join(refused.value.message_dict["method"])
    assert snapshot(prescription) == before

    verify(prescription, pharmacist, code="dose_range", method="prescriber_confirmed",
           note="Called Dr Hopper: 6 mg is intended after 4.5 mg for three months.")  # fmt: skip
    (dose,) = [flag for flag in flags_of(prescription) if flag["code"] == "dose_range"]
    assert dose["verification"]["method"] == "prescriber_confirmed"


def test_a_strength_below_the_range_is_verified_by_any_method(prescriber, pharmacist, technician):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("0.25"),
                             titration=())  # fmt: skip

    verify(prescription, pharmacist, code="dose_range", method="records_reviewed",
           note="Ultra-low dose started by the prescriber for a sensitive patient.")  # fmt: skip

    assert [flag["verification"]["method"] for flag in flags_of(prescription) if flag["code"] == "dose_range"] == [
        "records_reviewed"
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "pregnancy"}, "code"),  # not carried
        ({"code": ""}, "code"),
        ({"method": "gut_feeling"}, "method"),
        ({"method": ""}, "method"),
        ({"note": ""}, "note"),
        ({"note": "ok"}, "note"),
        ({"note": "n/a"}, "note"),
        ({"note": "checked it now"}, "note"),  # 14 characters
        ({"note": "PDMP-checked.........."}, "note"),  # two words
        ({"note": "x" * 1001}, "note"),
    ],
)
def test_a_bad_verification_answers_on_its_field_and_changes_nothing(opioid_lines, pharmacist, overrides, field):
    before = snapshot(opioid_lines)

    with pytest.raises(ValidationError) as refused:
        verify(opioid_lines, pharmacist, **overrides)

    assert set(refused.value.message_dict) == {field}
    assert snapshot(opioid_lines) == before


def test_a_flag_raised_by_another_field_is_not_there_to_verify(opioid_lines, pharmacist):
    before = snapshot(opioid_lines)

    with pytest.raises(ValidationError) as refused:
        verify(opioid_lines, pharmacist, field="current_medications[7]")

    assert set(refused.value.message_dict) == {"code"}
    assert snapshot(opioid_lines) == before


def test_only_a_pharmacist_verifies(opioid_lines, technician, pharmacy_admin):
    before = snapshot(opioid_lines)

    for actor in (technician, pharmacy_admin):
        with pytest.raises(Forbidden):
            verify(opioid_lines, actor)

    assert snapshot(opioid_lines) == before


@pytest.mark.parametrize("status", [S.PENDING_REVIEW, S.ON_HOLD])
def test_only_in_review(prescriber, pharmacist, technician, status):
    prescription = advance(make_prescription(prescriber), status, pharmacist=pharmacist, technician=technician,
                           answers=TWO_OPIOID_LINES)  # fmt: skip
    before = snapshot(prescription)

    with pytest.raises(Conflict):
        verify(prescription, pharmacist)

    assert snapshot(prescription) == before


def test_verifying_again_replaces_the_verification_and_history_keeps_both(opioid_lines, pharmacist):
    verify(opioid_lines, pharmacist)
    second = "Spoke with the patient: no opioid since May, confirmed by the pharmacy record."

    verify(opioid_lines, pharmacist, method="patient_interview", note=second)

    assert {flag["verification"]["note"] for flag in flags_of(opioid_lines) if flag["code"] == "opioid_use"} == {second}
    notes = PrescriptionEvent.objects.filter(prescription=opioid_lines, action=Action.VERIFY_FLAG)
    assert list(notes.values_list("message", flat=True)) == [NOTE, second]
