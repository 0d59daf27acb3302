"""Screening a prescription and its questionnaire into flags."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from intake.clinical.screening import (
    HARD_STOP,
    INFO,
    WARNING,
    Flag,
    PrescriptionFacts,
    QuestionnaireAnswers,
    blocks_approval,
    screen,
    warnings_needing_reason,
)

FACTS = PrescriptionFacts(dosage_form="capsule", strength_mg=Decimal("4.5"))
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


def _codes(flags: list[Flag]) -> list[tuple[str, str, str]]:
    return [(flag.code, flag.severity, flag.field) for flag in flags]


def test_a_clear_questionnaire_and_usual_dose_raise_nothing():
    assert screen(FACTS, CLEAR) == []
    assert screen(FACTS) == []


def test_without_answers_only_the_dose_is_screened():
    flags = screen(replace(FACTS, strength_mg=Decimal("6")))

    assert _codes(flags) == [("dose_range", WARNING, "strength_mg")]


# --- each answer ------------------------------------------------------------------------------


def test_taking_opioids_is_a_hard_stop():
    [flag] = screen(FACTS, _answers(takes_opioids=True))

    assert (flag.code, flag.severity, flag.field, flag.value, flag.matched_as) == (
        "opioid_use", HARD_STOP, "takes_opioids", "true", ""
    )  # fmt: skip
    assert flag.message.endswith(".")


def test_an_opioid_treatment_program_is_a_hard_stop():
    assert _codes(screen(FACTS, _answers(opioid_treatment_program=True))) == [
        ("opioid_use", HARD_STOP, "opioid_treatment_program")
    ]


def test_both_opioid_answers_give_one_flag_each():
    flags = screen(FACTS, _answers(takes_opioids=True, opioid_treatment_program=True))

    assert _codes(flags) == [
        ("opioid_use", HARD_STOP, "takes_opioids"),
        ("opioid_use", HARD_STOP, "opioid_treatment_program"),
    ]


@pytest.mark.parametrize(
    ("liver", "expected"),
    [
        ("none", []),
        ("acute_hepatitis", [("hepatic", HARD_STOP, "liver_condition")]),
        ("liver_failure", [("hepatic", HARD_STOP, "liver_condition")]),
        ("other", [("liver_other", WARNING, "liver_condition")]),
    ],
)
def test_each_liver_answer(liver: str, expected: list[tuple[str, str, str]]):
    flags = screen(FACTS, _answers(liver_condition=liver))

    assert _codes(flags) == expected
    assert all(flag.value == liver for flag in flags)


@pytest.mark.parametrize(
    ("pregnancy", "expected"),
    [
        ("no", []),
        ("pregnant", [("pregnancy", WARNING, "pregnancy")]),
        ("planning", [("pregnancy", WARNING, "pregnancy")]),
        ("breastfeeding", [("pregnancy", WARNING, "pregnancy")]),
    ],
)
def test_each_pregnancy_answer(pregnancy: str, expected: list[tuple[str, str, str]]):
    flags = screen(FACTS, _answers(pregnancy=pregnancy))

    assert _codes(flags) == expected
    assert all(flag.value == pregnancy for flag in flags)


def test_naltrexone_allergy_answer_is_a_hard_stop():
    assert _codes(screen(FACTS, _answers(naltrexone_allergy=True))) == [
        ("naltrexone_allergy", HARD_STOP, "naltrexone_allergy")
    ]


def test_surgery_is_a_warning():
    assert _codes(screen(FACTS, _answers(surgery_within_14_days=True))) == [
        ("surgery", WARNING, "surgery_within_14_days")
    ]


def test_thyroid_medication_is_a_warning():
    assert _codes(screen(FACTS, _answers(thyroid_medication=True))) == [("thyroid", WARNING, "thyroid_medication")]


def test_immunosuppressants_are_a_warning():
    assert _codes(screen(FACTS, _answers(immunosuppressants=True))) == [
        ("immunosuppressant", WARNING, "immunosuppressants")
    ]


@pytest.mark.parametrize(("drinks", "flagged"), [(0, False), (13, False), (14, False), (15, True), (40, True)])
def test_alcohol_warns_above_fourteen_a_week(drinks: int, flagged: bool):
    flags = screen(FACTS, _answers(alcohol_drinks_per_week=drinks))

    assert _codes(flags) == ([("alcohol", WARNING, "alcohol_drinks_per_week")] if flagged else [])
    if flagged:
        assert flags[0].value == str(drinks)


# --- medication and allergy lines ---------------------------------------------------------------


def test_an_opioid_line_names_the_line_and_what_it_matched():
    flags = screen(FACTS, _answers(current_medications=("vit D", "metformin", "Norco 5/325 prn")))

    [flag] = flags
    assert flag.code == "opioid_use"
    assert flag.severity == HARD_STOP
    assert flag.field == "current_medications[2]"
    assert flag.value == "Norco 5/325 prn"
    assert flag.matched_as == "hydrocodone (in combination product Norco)"
    assert "Norco 5/325 prn" in flag.message
    assert "hydrocodone" in flag.message


def test_two_opioid_lines_give_two_flags():
    flags = screen(FACTS, _answers(current_medications=("tramadol 50", "Percocet 10mg")))

    assert _codes(flags) == [
        ("opioid_use", HARD_STOP, "current_medications[0]"),
        ("opioid_use", HARD_STOP, "current_medications[1]"),
    ]


def test_the_answer_and_a_line_each_give_an_opioid_flag():
    flags = screen(FACTS, _answers(takes_opioids=True, current_medications=("oxycodone 5mg",)))

    assert [flag.field for flag in flags] == ["takes_opioids", "current_medications[0]"]


def test_a_lookalike_line_raises_nothing():
    lines = ("bupropion XL 300", "Robitussin DM", "Imodium", "hydroxyzine 25", "trazodone 50")

    assert screen(FACTS, _answers(current_medications=lines)) == []


def test_naloxone_alone_is_not_a_stop():
    flags = screen(FACTS, _answers(current_medications=("Narcan nasal spray",)))

    assert not blocks_approval(flags)
    assert _codes(flags) == [("opioid_antagonist", INFO, "current_medications[0]")]


def test_suboxone_is_one_hard_stop_and_no_antagonist_note():
    flags = screen(FACTS, _answers(current_medications=("Suboxone film 8-2mg",)))

    assert _codes(flags) == [("opioid_use", HARD_STOP, "current_medications[0]")]
    assert flags[0].matched_as == "buprenorphine (in combination product Suboxone)"


def test_naltrexone_already_taken_is_duplicate_therapy():
    flags = screen(FACTS, _answers(current_medications=("LDN 1.5mg",)))

    assert _codes(flags) == [("duplicate_therapy", WARNING, "current_medications[0]")]
    assert not blocks_approval(flags)
    assert warnings_needing_reason(flags) == ["duplicate_therapy"]


def test_an_interacting_drug_is_a_warning_with_its_reason():
    [flag] = screen(FACTS, _answers(current_medications=("Antabuse 250mg",)))

    assert (flag.code, flag.severity, flag.field) == ("interaction", WARNING, "current_medications[0]")
    assert "liver" in flag.message
    assert flag.matched_as == "disulfiram (brand Antabuse)"


def test_thioridazine_is_an_interaction():
    assert _codes(screen(FACTS, _answers(current_medications=("thioridazine 25",)))) == [
        ("interaction", WARNING, "current_medications[0]")
    ]


def test_a_thyroid_line_is_a_warning():
    assert _codes(screen(FACTS, _answers(current_medications=("Synthroid 88 mcg",)))) == [
        ("thyroid", WARNING, "current_medications[0]")
    ]


def test_an_immunosuppressant_line_is_a_warning():
    assert _codes(screen(FACTS, _answers(current_medications=("tacrolimus 1mg bid",)))) == [
        ("immunosuppressant", WARNING, "current_medications[0]")
    ]


def test_the_thyroid_answer_and_a_thyroid_line_each_flag():
    flags = screen(FACTS, _answers(thyroid_medication=True, current_medications=("levothyroxine",)))

    assert [flag.field for flag in flags] == ["thyroid_medication", "current_medications[0]"]
    assert warnings_needing_reason(flags) == ["thyroid"]


@pytest.mark.parametrize(
    "line",
    ["naltrexone", "Revia", "Revia (hives)", "Vivitrol", "Depade", "Contrave", "naltrexon (hives)", "LDN",
     "naltrexone - rash", "low dose naltrexone: swelling", "Vivitrol injection site reaction", "NALTREXONE",
     "allergic to naltrexone", "naltrexone HCl", "Mysimba", "Nalorex", "naltrexone (anaphylaxis)", "naltrexne"],
)  # fmt: skip
def test_an_allergy_line_naming_naltrexone_is_a_hard_stop_from_allergies(line: str):
    flags = screen(FACTS, _answers(allergies=("penicillin", line)))

    assert _codes(flags) == [("naltrexone_allergy", HARD_STOP, "allergies[1]")]
    assert flags[0].value == line
    assert flags[0].source == "allergies"
    assert "naltrexone" in flags[0].matched_as


@pytest.mark.parametrize(
    "line",
    ["penicillin", "sulfa", "codeine", "naloxone", "latex", "morphine (itching)", "Percocet - nausea", "Suboxone",
     "tramadol (seizure)", "oxycodone", "opioids", "Narcan", "NKDA", "NKA", "no known drug allergies", "none",
     "not allergic to naltrexone", "no allergy to naltrexone", "naltrexone: no", "bupropion (rash)", "Wellbutrin",
     "hydrocodone - hives", "kratom"],
)  # fmt: skip
def test_other_and_denied_allergies_raise_nothing(line: str):
    assert screen(FACTS, _answers(allergies=(line,))) == []


def test_an_opioid_among_allergies_is_never_opioid_use():
    flags = screen(FACTS, _answers(allergies=("codeine", "morphine (itching)", "Norco", "Suboxone film")))

    assert not [flag for flag in flags if flag.code == "opioid_use"]
    assert not blocks_approval(flags)


# --- negation and past use in medication lines ----------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["no opioids", "denies narcotics", "never used opiates", "I don't take opioids", "not taking any pain pills",
     "I do not take opioids", "doesn't take tramadol", "opioids: none", "none", "N/A", "no narcotics or opiates",
     "not on any opioids", "codeine-free cough syrup", "Tylenol without codeine", "never taken oxycodone"],
)  # fmt: skip
def test_a_negated_line_discloses_nothing(line: str):
    assert screen(FACTS, _answers(current_medications=(line,))) == []


@pytest.mark.parametrize(
    ("line", "words"),
    [("oxycodone last year", "last year"), ("stopped tramadol in May", "stopped"),
     ("Norco - stopped 2021", "stopped"), ("history of heroin use", "history of"),
     ("I don't take oxycodone anymore", "anymore"), ("Oxycodone 5mg, discontinued in 2020", "discontinued")],
)  # fmt: skip
def test_past_use_stays_a_hard_stop_from_medications_and_says_so(line: str, words: str):
    [flag] = screen(FACTS, _answers(current_medications=(line,)))

    assert (flag.code, flag.severity, flag.source, flag.field) == (
        "opioid_use", HARD_STOP, "medications", "current_medications[0]"
    )  # fmt: skip
    assert "past use" in flag.message
    assert f"'{words}'" in flag.message
    assert "over 10 days ago" in flag.message
    assert line in flag.message


def test_a_line_with_a_current_and_a_past_opioid_reads_as_current():
    [flag] = screen(FACTS, _answers(current_medications=("stopped oxycodone, now on tramadol 50 bid",)))

    assert "past use" not in flag.message
    assert "oxycodone" in flag.message and "tramadol" in flag.message


def test_a_current_line_says_it_contains_an_opioid():
    [flag] = screen(FACTS, _answers(current_medications=("Suboxon 8mg film",)))

    assert (flag.code, flag.severity, flag.source) == ("opioid_use", HARD_STOP, "medications")
    assert "contains an opioid (buprenorphine)" in flag.message
    assert flag.matched_as == "buprenorphine (in combination product Suboxone, written 'suboxon')"


# --- duplicate therapy --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    ["Revia 50mg", "Depade", "Vivitrol 380 mg monthly", "Contrave 8/90 2 tabs bid", "LDN 3mg", "naltrexone 4.5",
     "low dose naltrexone", "Mysimba", "naltrexon 50", "ultra low dose naltrexone"],
)  # fmt: skip
def test_naltrexone_already_taken_by_any_name_is_duplicate_therapy(line: str):
    flags = screen(FACTS, _answers(current_medications=(line,)))

    assert _codes(flags) == [("duplicate_therapy", WARNING, "current_medications[0]")]
    assert flags[0].source == "medications"
    assert "naltrexone" in flags[0].matched_as


def test_contrave_is_read_for_its_bupropion_too_and_is_no_opioid():
    flags = screen(FACTS, _answers(current_medications=("Contrave",)))

    assert [flag.code for flag in flags] == ["duplicate_therapy"]
    assert flags[0].matched_as == "naltrexone (in combination product Contrave)"


def test_an_opioid_with_sequestered_naltrexone_is_a_stop_and_a_duplicate():
    flags = screen(FACTS, _answers(current_medications=("Embeda 30 mg",)))

    assert [(flag.code, flag.severity) for flag in flags] == [("opioid_use", HARD_STOP), ("duplicate_therapy", WARNING)]


# --- every flag carries its source -------------------------------------------------------------------


def test_every_flag_names_its_source():
    from intake.clinical.flags import SOURCES

    facts = replace(FACTS, strength_mg=Decimal("60"), quantity=900, days_supply=30, titration_mg=(Decimal("0.25"),))
    answers = _answers(
        takes_opioids=True, opioid_treatment_program=True, liver_condition="other", pregnancy="pregnant",
        alcohol_drinks_per_week=30, naltrexone_allergy=True, thyroid_medication=True, immunosuppressants=True,
        surgery_within_14_days=True,
        current_medications=("Norco", "Antabuse", "Synthroid", "Prograf", "Narcan", "Vivitrol", "oxycodone last year"),
        allergies=("Revia (hives)",),
    )  # fmt: skip

    flags = screen(facts, answers)

    assert len(flags) >= 15
    assert {flag.source for flag in flags} == {"prescription", "answers", "medications", "allergies"}
    assert all(flag.source in SOURCES for flag in flags)
    assert all(flag.message.endswith(".") for flag in flags)


# --- ordering, duplicates, the helpers ------------------------------------------------------------


def test_order_is_hard_stops_then_warnings_then_info():
    facts = replace(FACTS, strength_mg=Decimal("6"))
    answers = _answers(
        pregnancy="pregnant",
        current_medications=("LDN", "Norco"),
        liver_condition="liver_failure",
        alcohol_drinks_per_week=20,
    )

    flags = screen(facts, answers)

    severities = [flag.severity for flag in flags]
    assert severities == sorted(severities, key=[HARD_STOP, WARNING, INFO].index)
    assert _codes(flags) == [
        ("hepatic", HARD_STOP, "liver_condition"),
        ("opioid_use", HARD_STOP, "current_medications[1]"),
        ("dose_range", WARNING, "strength_mg"),
        ("pregnancy", WARNING, "pregnancy"),
        ("alcohol", WARNING, "alcohol_drinks_per_week"),
        ("duplicate_therapy", WARNING, "current_medications[0]"),
    ]


def test_screening_is_deterministic():
    answers = _answers(current_medications=("Norco", "tacrolimus", "Narcan"), thyroid_medication=True)

    assert screen(FACTS, answers) == screen(FACTS, answers)


def test_no_exact_duplicates():
    flags = screen(FACTS, _answers(current_medications=("Norco", "Norco")))

    assert len(flags) == 2  # two lines, two sources
    assert len(set(flags)) == len(flags)


def test_as_dict_has_all_seven_keys():
    flag = Flag(
        code="opioid_use", severity=HARD_STOP, message="m", field="f", value="v", source="answers", matched_as="x"
    )

    assert flag.as_dict() == {
        "code": "opioid_use",
        "severity": HARD_STOP,
        "message": "m",
        "field": "f",
        "value": "v",
        "source": "answers",
        "matched_as": "x",
    }


def test_blocks_approval_accepts_flags_and_mappings():
    stop = Flag(code="hepatic", severity=HARD_STOP, message="m", field="f", value="v", source="answers", matched_as="")
    warn = Flag(code="surgery", severity=WARNING, message="m", field="f", value="v", source="answers", matched_as="")

    assert blocks_approval([warn, stop])
    assert not blocks_approval([warn])
    assert not blocks_approval([])
    assert blocks_approval([{"code": "hepatic", "severity": "hard_stop", "message": "m"}])
    assert not blocks_approval([warn.as_dict()])


def test_warnings_needing_reason_are_unique_codes_in_order():
    flags = screen(
        replace(FACTS, strength_mg=Decimal("6"), titration_mg=(Decimal("0.25"),)),
        _answers(surgery_within_14_days=True, current_medications=("LDN", "Norco")),
    )

    assert warnings_needing_reason(flags) == ["dose_range", "surgery", "duplicate_therapy"]
    assert warnings_needing_reason([flag.as_dict() for flag in flags]) == ["dose_range", "surgery", "duplicate_therapy"]


# --- from the questionnaire's JSON ---------------------------------------------------------------


def test_from_mapping_reads_the_contract_keys_and_ignores_the_rest():
    answers = QuestionnaireAnswers.from_mapping(
        {
            "date_of_birth": "1980-02-29",
            "takes_opioids": False,
            "opioid_treatment_program": False,
            "liver_condition": "other",
            "pregnancy": "planning",
            "alcohol_drinks_per_week": 3,
            "naltrexone_allergy": False,
            "thyroid_medication": True,
            "immunosuppressants": False,
            "surgery_within_14_days": True,
            "current_medications": ["Norco 5/325 prn", "vit D", "  "],
            "allergies": ["penicillin"],
            "attestation": True,
        }
    )

    assert answers == QuestionnaireAnswers(
        takes_opioids=False,
        opioid_treatment_program=False,
        liver_condition="other",
        pregnancy="planning",
        alcohol_drinks_per_week=3,
        naltrexone_allergy=False,
        thyroid_medication=True,
        immunosuppressants=False,
        surgery_within_14_days=True,
        current_medications=("Norco 5/325 prn", "vit D"),
        allergies=("penicillin",),
    )


def test_from_mapping_without_lists_gives_empty_tuples():
    answers = QuestionnaireAnswers.from_mapping(
        {
            "takes_opioids": False,
            "opioid_treatment_program": False,
            "liver_condition": "none",
            "pregnancy": "no",
            "alcohol_drinks_per_week": 0,
            "naltrexone_allergy": False,
            "thyroid_medication": False,
            "immunosuppressants": False,
            "surgery_within_14_days": False,
        }
    )

    assert answers == CLEAR
