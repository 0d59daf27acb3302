"""Screening with the patient's whole picture, read from the database: the same patient's other open
prescriptions from any prescriber, earlier answers (every kept version), and the pharmacy's licences."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from intake.models import PrescriptionStatus, StateLicence, licences_forget
from intake.services import workflow
from intake.services.licences import prescriber_licences_record
from intake.services.questionnaire import questionnaire_submit
from intake.services.screening import prescriber_states
from tests.factories import clean_answers, make_prescription
from tests.screening.helpers import codes, flags_of
from tests.workflow_helpers import advance

S = PrescriptionStatus
FLAG_KEYS = {"code", "severity", "message", "source", "verification", "field", "value", "matched_as"}


def answer(prescription, **answers):
    """The patient answers (clean answers with these changes) through the private link's service."""
    return questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=prescription.patient.date_of_birth,
        answers=clean_answers(**answers),
    )


def only(prescription, code):
    (found,) = [flag for flag in flags_of(prescription) if flag["code"] == code]
    return found


# --- duplicate_order --------------------------------------------------------------------------------


def test_another_prescribers_open_order_for_the_same_patient_flags_both(prescriber, other_prescriber):
    # given: prescriber A's order for Ada
    first = make_prescription(prescriber)
    assert "duplicate_order" not in codes(first)

    # when: prescriber B sends one for the same patient (same name and birth date, other case)
    second = make_prescription(other_prescriber, patient={"first_name": "ADA", "last_name": "lovelace"})

    # then: each names the other
    duplicate = only(second, "duplicate_order")
    assert (duplicate["severity"], duplicate["source"], duplicate["verification"]) == ("warning", "orders", None)
    assert first.reference in duplicate["message"] and "Grace Hopper" in duplicate["message"]
    assert duplicate["value"] == first.reference
    assert only(first, "duplicate_order")["value"] == second.reference
    assert first.prescriber != second.prescriber


def test_a_closed_order_is_no_duplicate_and_closing_one_clears_the_other(prescriber, other_prescriber, pharmacist):
    first = make_prescription(prescriber)
    second = make_prescription(other_prescriber)
    assert "duplicate_order" in codes(first)

    workflow.prescription_cancel(prescription_id=second.pk, actor=pharmacist, reason="Sent twice by the clinic.")

    assert "duplicate_order" not in codes(first)
    third_for_someone_else = make_prescription(prescriber, patient={"last_name": "Byron"})
    assert "duplicate_order" not in codes(third_for_someone_else)


def test_a_completed_order_is_no_duplicate(prescriber, other_prescriber, pharmacist, technician):
    done = advance(make_prescription(prescriber), S.COMPLETED, pharmacist=pharmacist, technician=technician)

    later = make_prescription(other_prescriber)

    assert "duplicate_order" not in codes(later)
    assert "duplicate_order" not in codes(done)


def test_three_open_orders_each_name_the_two_others(prescriber, other_prescriber):
    orders = [make_prescription(prescriber), make_prescription(other_prescriber), make_prescription(prescriber)]

    for order in orders:
        named = set(only(order, "duplicate_order")["value"].split(", "))
        assert named == {other.reference for other in orders if other.pk != order.pk}


def test_a_verified_duplicate_stays_verified_until_the_set_of_orders_changes(
    prescriber, other_prescriber, pharmacist, technician
):
    first = make_prescription(prescriber)
    make_prescription(other_prescriber)
    advance(first, S.IN_REVIEW, pharmacist=pharmacist, technician=technician)
    workflow.prescription_verify_flag(
        prescription_id=first.pk, actor=pharmacist, code="duplicate_order", method="prescriber_confirmed",
        note="Both prescribers agree: the second order replaces this one.",
    )  # fmt: skip
    assert only(first, "duplicate_order")["verification"] is not None

    make_prescription(prescriber)  # a third order: the duplicate is another now

    assert only(first, "duplicate_order")["verification"] is None


# --- opioid_disclosure_changed ----------------------------------------------------------------------


def test_an_opioid_disclosed_for_one_prescription_and_missing_for_the_next(prescriber, other_prescriber):
    # given: the first prescription's answers name Norco
    first = make_prescription(prescriber)
    answer(first, current_medications=["Norco 5/325 as needed"])
    assert "opioid_use" in codes(first)

    # when: a second prescription for the same patient, answered without it
    second = make_prescription(other_prescriber)
    answer(second, current_medications=["vitamin D 2000 IU"])

    # then
    changed = only(second, "opioid_disclosure_changed")
    assert (changed["severity"], changed["source"]) == ("hard_stop", "history")
    assert "hydrocodone" in changed["value"]
    assert first.reference in changed["message"]
    assert "opioid_use" not in codes(second)


def test_an_answer_of_yes_then_no_for_another_prescription_is_flagged(prescriber):
    first = make_prescription(prescriber)
    answer(first, takes_opioids=True)
    second = make_prescription(prescriber, dosage_form="oral_liquid", titration=())

    answer(second)

    assert only(second, "opioid_disclosure_changed")["source"] == "history"


def test_the_opioid_named_again_raises_no_change(prescriber):
    first = make_prescription(prescriber)
    answer(first, current_medications=["Norco 5/325 as needed"])
    second = make_prescription(prescriber)

    answer(second, current_medications=["hydrocodone/APAP 5-325 prn"])

    assert "opioid_disclosure_changed" not in codes(second)


def test_another_patients_answers_are_not_history(prescriber):
    first = make_prescription(prescriber, patient={"last_name": "Byron"})
    answer(first, current_medications=["Norco 5/325 as needed"])
    second = make_prescription(prescriber)

    answer(second)

    assert "opioid_disclosure_changed" not in codes(second)


def test_a_rescreen_that_drops_the_opioid_is_flagged(prescriber, pharmacist, technician):
    # given: the patient disclosed tramadol; the pharmacist asks for the answers again
    prescription = make_prescription(prescriber)
    advance(prescription, S.IN_REVIEW, pharmacist=pharmacist, technician=technician,
            answers=clean_answers(current_medications=["tramadol 50 mg at night"]))  # fmt: skip
    rescreened = workflow.prescription_request_rescreen(
        prescription_id=prescription.pk, actor=pharmacist, message="Please list the medicines you take now."
    )

    # when: the new answers leave tramadol out
    answer(rescreened, current_medications=["vitamin D 2000 IU"])

    # then: the earlier version of this prescription's own answers counts
    assert codes(prescription) >= {"opioid_disclosure_changed"}
    assert "opioid_use" not in codes(prescription)
    assert "tramadol" in only(prescription, "opioid_disclosure_changed")["value"]


# --- licensure ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["AK", "HI", "PR"])
def test_a_patient_where_the_pharmacy_holds_no_licence_raises_licensure(prescriber, state):
    prescription = make_prescription(prescriber, patient={"state": state})

    licensure = only(prescription, "licensure")
    assert (licensure["severity"], licensure["source"], licensure["value"]) == ("warning", "prescription", state)


def test_a_licensed_state_raises_nothing(prescriber):
    assert "licensure" not in codes(make_prescription(prescriber, patient={"state": "NY"}))


def test_without_any_licence_every_patient_raises_licensure(prescriber, no_licences):
    assert "licensure" in codes(make_prescription(prescriber))


@pytest.mark.parametrize("change", ["expired", "inactive"])
def test_an_expired_or_inactive_licence_is_no_licence(prescriber, change):
    licence = StateLicence.objects.get(state="TX")
    if change == "expired":
        licence.expires_on = timezone.localdate() - timedelta(days=1)
    else:
        licence.active = False
    licence.save()

    assert "licensure" in codes(make_prescription(prescriber))


def test_a_licence_is_valid_through_its_expiry_date(prescriber):
    StateLicence.objects.filter(state="TX").update(expires_on=timezone.localdate())
    licences_forget()

    assert "licensure" not in codes(make_prescription(prescriber))


# --- the prescriber's licence in the patient's state ------------------------------------------------


def test_a_patient_in_the_prescribers_registered_state_raises_nothing(prescriber):
    assert "prescriber_licensure" not in codes(make_prescription(prescriber, patient={"state": "TX"}))


def test_a_patient_in_another_state_raises_prescriber_licensure(prescriber):
    prescription = make_prescription(prescriber, patient={"state": "NY"})

    flag = only(prescription, "prescriber_licensure")
    assert (flag["severity"], flag["source"], flag["value"]) == ("warning", "prescription", "NY")
    assert "TX" in flag["message"]


def test_a_further_licence_in_the_patients_state_clears_it(prescriber):
    prescriber_licences_record(prescriber, [("NY", "NY-12345", timezone.localdate() + timedelta(days=30))])

    assert "prescriber_licensure" not in codes(make_prescription(prescriber, patient={"state": "NY"}))


def test_a_further_licence_counts_through_its_expiry_date_and_not_after(prescriber):
    prescriber_licences_record(prescriber, [("NY", "NY-12345", timezone.localdate())])
    assert "prescriber_licensure" not in codes(make_prescription(prescriber, patient={"state": "NY"}))

    prescriber.licences.update(expires_on=timezone.localdate() - timedelta(days=1))
    assert "prescriber_licensure" in codes(make_prescription(prescriber, patient={"state": "NY"}))


def test_another_prescribers_licence_does_not_count(prescriber, other_prescriber):
    prescriber_licences_record(other_prescriber, [("NY", "NY-54321", timezone.localdate() + timedelta(days=30))])

    assert "prescriber_licensure" in codes(make_prescription(prescriber, patient={"state": "NY"}))


def test_the_questionnaire_screening_keeps_the_prescriber_licence_check(prescriber):
    prescription = make_prescription(prescriber, patient={"state": "NY"})
    answer(prescription)

    assert "prescriber_licensure" in codes(prescription)


def test_a_licence_recorded_after_submission_clears_the_flag_at_the_next_screening(prescriber):
    prescription = make_prescription(prescriber, patient={"state": "NY"})
    prescriber_licences_record(prescriber, [("NY", "NY-12345", timezone.localdate() + timedelta(days=30))])
    answer(prescription)

    assert "prescriber_licensure" not in codes(prescription)


# --- what is stored, and what a re-screening keeps -----------------------------------------------------


def test_every_stored_flag_carries_its_source_and_verification(prescriber):
    prescription = make_prescription(prescriber, strength_mg=Decimal("6"), titration=(), patient={"state": "AK"})
    answer(prescription, pregnancy="planning", current_medications=["Percocet 5/325"])

    flags = flags_of(prescription)
    assert {flag["code"] for flag in flags} >= {"dose_range", "daily_dose", "licensure", "pregnancy", "opioid_use"}
    for flag in flags:
        assert set(flag) == FLAG_KEYS
        assert flag["verification"] is None
        assert flag["source"] in ("prescription", "answers", "medications", "allergies", "history", "orders")


def test_the_daily_dose_a_capsule_quantity_implies_is_screened_at_submission(prescriber):
    prescription = make_prescription(prescriber, quantity=1000, titration=())

    daily = only(prescription, "daily_dose")
    assert (daily["severity"], daily["value"]) == ("hard_stop", "150")


def test_a_rescreen_keeps_verifications_only_of_unchanged_flags(prescriber, pharmacist, technician):
    # given: two warnings, both verified
    prescription = make_prescription(prescriber)
    advance(prescription, S.IN_REVIEW, pharmacist=pharmacist, technician=technician,
            answers=clean_answers(thyroid_medication=True, pregnancy="planning"))  # fmt: skip
    for code in ("thyroid", "pregnancy"):
        workflow.prescription_verify_flag(prescription_id=prescription.pk, actor=pharmacist, code=code,
                                          method="patient_interview",
                                          note="Spoke with the patient and the prescriber about it today.")  # fmt: skip
    workflow.prescription_request_rescreen(prescription_id=prescription.pk, actor=pharmacist,
                                           message="Please check the pregnancy answer again.")  # fmt: skip
    prescription.refresh_from_db()

    # when: thyroid unchanged, pregnancy now "pregnant", and a new warning
    answer(prescription, thyroid_medication=True, pregnancy="pregnant", surgery_within_14_days=True)

    # then
    assert only(prescription, "thyroid")["verification"]["method"] == "patient_interview"
    assert only(prescription, "pregnancy")["verification"] is None
    assert only(prescription, "surgery")["verification"] is None


def test_an_expired_registered_licence_does_not_cover_its_own_state(prescriber):
    type(prescriber).objects.filter(pk=prescriber.pk).update(license_expires=timezone.localdate() - timedelta(days=1))
    prescriber.refresh_from_db()

    assert prescriber_states(prescriber.pk, registered=prescriber, patient_state="TX") == frozenset()


def test_the_registered_licence_covering_the_patient_answers_without_a_query(prescriber):
    prescriber_licences_record(prescriber, [("NY", "NY-12345", timezone.localdate() + timedelta(days=30))])

    with CaptureQueriesContext(connection) as covered:
        assert prescriber_states(prescriber.pk, registered=prescriber, patient_state="tx ") == {"TX"}
    with CaptureQueriesContext(connection) as elsewhere:
        assert prescriber_states(prescriber.pk, registered=prescriber, patient_state="CA") == {"TX", "NY"}

    assert len(covered.captured_queries) == 0
    assert len(elsewhere.captured_queries) == 1
