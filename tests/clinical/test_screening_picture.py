"""Screening the patient's whole picture: other open orders, licences, earlier answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from intake.clinical.screening import (
    HARD_STOP,
    WARNING,
    EarlierAnswer,
    Flag,
    OtherOrder,
    PrescriptionFacts,
    QuestionnaireAnswers,
    ScreeningContext,
    context_flags,
    opioids_named,
    screen,
)

FACTS = PrescriptionFacts(dosage_form="capsule", strength_mg=Decimal("4.5"), patient_state="CA")
CLEAR = QuestionnaireAnswers(
    takes_opioids=False,
    opioid_treatment_program=False,
    liver_condition="none",
    pregnancy="no",
    alcohol_drinks_per_week=0,
    naltrexone_allergy=False,
    thyroid_medication=False,
    immunosuppressants=False,
    surgery_within_14_days=False,
)


def _answers(**changes: Any) -> QuestionnaireAnswers:
    return replace(CLEAR, **changes)


def _earlier(reference: str = "RX-1", on: date = date(2026, 3, 1), **changes: Any) -> EarlierAnswer:
    fields: dict[str, Any] = {"takes_opioids": False, "opioid_treatment_program": False, "current_medications": ()}
    fields.update(changes)
    return EarlierAnswer(reference=reference, answered_on=on, **fields)


def _order(reference: str = "RX-2", status: str = "pending_review") -> OtherOrder:
    return OtherOrder(
        reference=reference, status=status, prescriber="Dr Lovelace", dosage_form="capsule", strength_mg=Decimal("3")
    )


def _codes(flags: list[Flag]) -> list[tuple[str, str, str]]:
    return [(flag.code, flag.severity, flag.source) for flag in flags]


def test_an_empty_picture_raises_nothing():
    assert screen(FACTS, CLEAR, ScreeningContext()) == []
    assert context_flags(FACTS, None, ScreeningContext()) == []


# --- duplicate orders ------------------------------------------------------------------------------


def test_another_open_order_is_a_duplicate_order_warning_from_orders():
    [flag] = screen(FACTS, CLEAR, ScreeningContext(other_open_orders=(_order(),)))

    assert _codes([flag]) == [("duplicate_order", WARNING, "orders")]
    assert flag.value == "RX-2"
    assert "RX-2 (capsule 3 mg from Dr Lovelace, pending review)" in flag.message


def test_several_open_orders_make_one_flag_naming_each():
    [flag] = context_flags(FACTS, None, ScreeningContext(other_open_orders=(_order("RX-2"), _order("RX-3", "on_hold"))))

    assert flag.value == "RX-2, RX-3"
    assert "RX-3 (capsule 3 mg from Dr Lovelace, on hold)" in flag.message


@pytest.mark.parametrize("status", ["completed", "rejected", "cancelled"])
def test_a_closed_order_is_no_duplicate(status: str):
    assert context_flags(FACTS, None, ScreeningContext(other_open_orders=(_order(status=status),))) == []


@pytest.mark.parametrize(
    "status",
    ["awaiting_questionnaire", "pending_review", "in_review", "on_hold", "approved", "compounding", "final_check",
     "ready", "shipped"],
)  # fmt: skip
def test_every_open_status_is_a_duplicate(status: str):
    assert [
        flag.code for flag in context_flags(FACTS, None, ScreeningContext(other_open_orders=(_order(status=status),)))
    ] == ["duplicate_order"]


# --- licensure -------------------------------------------------------------------------------------


def test_a_licensed_state_raises_nothing():
    assert context_flags(FACTS, None, ScreeningContext(licensed_states=frozenset({"CA", "NY"}))) == []


def test_licences_are_read_in_any_case_and_spacing():
    facts = replace(FACTS, patient_state=" ca ")

    assert context_flags(facts, None, ScreeningContext(licensed_states=frozenset({"ca", " NY"}))) == []


def test_an_unlicensed_state_is_a_licensure_warning():
    [flag] = context_flags(
        replace(FACTS, patient_state="tx"), None, ScreeningContext(licensed_states=frozenset({"CA"}))
    )

    assert _codes([flag]) == [("licensure", WARNING, "prescription")]
    assert flag.value == "TX"
    assert flag.field == "patient.address.state"
    assert "TX" in flag.message


def test_no_licence_at_all_flags_every_state():
    [flag] = context_flags(FACTS, None, ScreeningContext(licensed_states=frozenset()))

    assert flag.code == "licensure"


def test_an_address_without_a_state_cannot_be_checked():
    [flag] = context_flags(replace(FACTS, patient_state=""), None, ScreeningContext(licensed_states=frozenset({"CA"})))

    assert (flag.code, flag.value) == ("licensure", "")
    assert "no state" in flag.message


def test_licences_not_given_are_not_checked():
    assert context_flags(replace(FACTS, patient_state="TX"), None, ScreeningContext(licensed_states=None)) == []


# --- the prescriber's licences -----------------------------------------------------------------------


def test_a_prescriber_licensed_in_the_patients_state_raises_nothing():
    assert context_flags(FACTS, None, ScreeningContext(prescriber_states=frozenset({"TX", "CA"}))) == []


def test_a_prescriber_licensed_elsewhere_is_a_prescriber_licensure_warning():
    [flag] = context_flags(FACTS, None, ScreeningContext(prescriber_states=frozenset({"TX", "NM"})))

    assert _codes([flag]) == [("prescriber_licensure", WARNING, "prescription")]
    assert (flag.field, flag.value) == ("patient.address.state", "CA")
    assert "CA" in flag.message and "NM, TX" in flag.message


def test_a_prescriber_with_no_valid_licence_is_flagged_for_every_state():
    [flag] = context_flags(FACTS, None, ScreeningContext(prescriber_states=frozenset()))

    assert flag.code == "prescriber_licensure"
    assert "no valid licence" in flag.message


def test_prescriber_states_are_read_in_any_case_and_spacing():
    facts = replace(FACTS, patient_state=" ca ")

    assert context_flags(facts, None, ScreeningContext(prescriber_states=frozenset({" Ca"}))) == []


def test_an_address_without_a_state_is_left_to_the_pharmacys_licensure_flag():
    facts = replace(FACTS, patient_state="")
    context = ScreeningContext(licensed_states=frozenset({"CA"}), prescriber_states=frozenset({"CA"}))

    assert [flag.code for flag in context_flags(facts, None, context)] == ["licensure"]


def test_prescriber_states_not_given_are_not_checked():
    assert context_flags(FACTS, None, ScreeningContext(prescriber_states=None)) == []


def test_both_licence_flags_at_once_for_a_state_neither_is_licensed_in():
    context = ScreeningContext(licensed_states=frozenset({"TX"}), prescriber_states=frozenset({"TX"}))

    assert sorted(flag.code for flag in context_flags(FACTS, None, context)) == ["licensure", "prescriber_licensure"]


# --- an opioid disclosure that changed -----------------------------------------------------------------


def _changed(answers: QuestionnaireAnswers, *earlier: EarlierAnswer) -> list[Flag]:
    return [
        flag
        for flag in context_flags(FACTS, answers, ScreeningContext(earlier_answers=earlier))
        if flag.code == "opioid_disclosure_changed"
    ]


def test_an_earlier_yes_answer_now_no_is_a_hard_stop_from_history():
    [flag] = _changed(CLEAR, _earlier(takes_opioids=True))

    assert _codes([flag]) == [("opioid_disclosure_changed", HARD_STOP, "history")]
    assert flag.value == "opioid use in the last 10 days"
    assert flag.matched_as == "RX-1"
    assert "RX-1, 2026-03-01" in flag.message


def test_an_earlier_yes_answer_still_yes_raises_nothing():
    assert _changed(_answers(takes_opioids=True), _earlier(takes_opioids=True)) == []


def test_an_earlier_yes_answer_now_named_in_a_line_raises_nothing():
    assert _changed(_answers(current_medications=("Norco 5/325",)), _earlier(takes_opioids=True)) == []


def test_an_earlier_treatment_program_now_denied_is_flagged():
    [flag] = _changed(CLEAR, _earlier(opioid_treatment_program=True))

    assert flag.value == "an opioid treatment program"


def test_an_earlier_treatment_program_still_named_raises_nothing():
    assert _changed(_answers(opioid_treatment_program=True), _earlier(opioid_treatment_program=True)) == []
    assert _changed(_answers(current_medications=("methadone 80mg",)), _earlier(opioid_treatment_program=True)) == []


def test_an_earlier_program_and_use_both_dropped_are_named_together():
    [flag] = _changed(CLEAR, _earlier(takes_opioids=True, opioid_treatment_program=True))

    assert flag.value == "an opioid treatment program, opioid use in the last 10 days"


def test_an_opioid_line_missing_now_is_flagged():
    [flag] = _changed(_answers(current_medications=("vitamin D",)), _earlier(current_medications=("Norco 5/325 prn",)))

    assert flag.value == "hydrocodone"


def test_an_opioid_line_now_negated_is_flagged():
    [flag] = _changed(_answers(current_medications=("no opioids",)), _earlier(current_medications=("oxycodone 5mg",)))

    assert flag.value == "oxycodone"


def test_a_still_disclosed_opioid_raises_nothing_however_it_is_written():
    earlier = _earlier(current_medications=("Norco 10/325",))

    assert _changed(_answers(current_medications=("hydrocodone-acetaminophen 10-325",)), earlier) == []
    assert _changed(_answers(current_medications=("norko",)), earlier) == []


def test_only_the_dropped_opioid_is_named():
    earlier = _earlier(current_medications=("oxycodone 5mg", "tramadol 50"))

    [flag] = _changed(_answers(current_medications=("tramadol 50",)), earlier)

    assert flag.value == "oxycodone"


def test_an_opioid_now_written_as_stopped_is_still_disclosed():
    # The new line raises its own past-use stop; nothing was hidden.
    answers = _answers(current_medications=("stopped oxycodone last month",))

    assert _changed(answers, _earlier(current_medications=("oxycodone 5mg",))) == []
    assert "opioid_use" in [flag.code for flag in screen(FACTS, answers)]


def test_an_opioid_once_written_as_past_use_may_go_unsaid():
    assert _changed(CLEAR, _earlier(current_medications=("tramadol last year",))) == []


def test_the_word_opioids_then_a_named_opioid_is_the_same_disclosure():
    earlier = _earlier(current_medications=("opioids",))

    assert _changed(_answers(current_medications=("Percocet",)), earlier) == []
    assert [flag.value for flag in _changed(CLEAR, earlier)] == ["unspecified opioid"]


def test_each_dropped_opioid_is_reported_once_from_the_earliest_answer():
    first = _earlier("RX-1", date(2026, 1, 5), current_medications=("oxycodone",))
    second = _earlier("RX-2", date(2026, 3, 5), current_medications=("oxycodone", "kratom"))

    flags = _changed(CLEAR, second, first)

    assert [(flag.matched_as, flag.value) for flag in flags] == [("RX-1", "oxycodone"), ("RX-2", "kratom")]


def test_a_disclosure_change_is_screened_with_everything_else():
    flags = screen(FACTS, CLEAR, ScreeningContext(earlier_answers=(_earlier(takes_opioids=True),)))

    assert _codes(flags) == [("opioid_disclosure_changed", HARD_STOP, "history")]


# --- opioids_named ---------------------------------------------------------------------------------


def test_opioids_named_reads_generics_and_ignores_denials():
    lines = ["Norco 5/325", "Suboxon 8mg film", "no opioids", "denies tramadol", "bupropion", "oxycodone last year"]

    assert opioids_named(lines) == frozenset({"hydrocodone", "buprenorphine", "oxycodone"})
    assert opioids_named([]) == frozenset()
