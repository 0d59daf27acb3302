"""Dose range, children's weight-based limit, titration arithmetic."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from intake.clinical.dosing import (
    LDN_MAX_MG,
    LDN_MIN_MG,
    NOT_LDN_FROM_MG,
    DoseFacts,
    TitrationStep,
    daily_dose_mg,
    dose_flags,
    dose_limits,
    format_mg,
    schedule,
    titration_errors,
)
from intake.clinical.flags import HARD_STOP, WARNING

D = Decimal
DATA = Path(__file__).resolve().parents[2] / "intake" / "clinical" / "data" / "dosing.json"


def _facts(strength: str, *steps: str, age: int = 40, weight: str | None = None) -> DoseFacts:
    return DoseFacts(
        dosage_form="capsule",
        strength_mg=D(strength),
        titration_mg=tuple(D(step) for step in steps),
        patient_age_years=age,
        weight_kg=None if weight is None else D(weight),
    )


def test_limits_come_from_the_data_file():
    raw = json.loads(DATA.read_text(encoding="utf-8"))

    assert D("0.5") == LDN_MIN_MG
    assert D("4.5") == LDN_MAX_MG
    assert D("50") == NOT_LDN_FROM_MG
    assert D(raw["ldn_min_mg"]) == LDN_MIN_MG
    assert D(raw["paediatric_max_mg_per_kg_per_day"]) == dose_limits().paediatric_max_mg_per_kg_per_day
    assert "check" in raw["paediatric_max_mg_per_kg_per_day_status"]


@pytest.mark.parametrize(
    ("strength", "severity"),
    [
        ("0.01", WARNING),
        ("0.49", WARNING),
        ("0.5", None),
        ("0.50", None),
        ("1.5", None),
        ("4.5", None),
        ("4.50", None),
        ("4.51", WARNING),
        ("6", WARNING),
        ("49.99", WARNING),
        ("50", HARD_STOP),
        ("50.00", HARD_STOP),
        ("100", HARD_STOP),
    ],
)
def test_strength_boundaries(strength: str, severity: str | None):
    flags = dose_flags(_facts(strength))

    if severity is None:
        assert flags == []
    else:
        [flag] = flags
        assert (flag.code, flag.severity, flag.field) == ("dose_range", severity, "strength_mg")
        assert flag.value == format_mg(D(strength))


def test_fifty_mg_says_it_is_not_ldn():
    [flag] = dose_flags(_facts("50"))

    assert "not LDN" in flag.message


def test_a_warning_names_the_usual_range():
    [flag] = dose_flags(_facts("6"))

    assert "0.5–4.5 mg" in flag.message
    assert "6 mg" in flag.message


def test_every_titration_step_is_checked():
    flags = dose_flags(_facts("4.5", "0.25", "1.5", "60", "4.6"))

    assert [(flag.severity, flag.field, flag.value) for flag in flags] == [
        (WARNING, "titration[0].strength_mg", "0.25"),
        (HARD_STOP, "titration[2].strength_mg", "60"),
        (WARNING, "titration[3].strength_mg", "4.6"),
    ]


def test_an_adult_needs_no_weight():
    assert dose_flags(_facts("4.5", age=18)) == []


def test_a_child_without_weight_is_flagged():
    [flag] = dose_flags(_facts("1", age=17))

    assert (flag.code, flag.severity, flag.field) == ("dose_range", WARNING, "weight_kg")
    assert "weight" in flag.message


def test_a_child_within_the_weight_limit_raises_nothing():
    # 0.1 mg/kg/day x 20 kg = 2 mg: exactly at the limit is allowed.
    assert dose_flags(_facts("2", "1", age=8, weight="20")) == []


def test_a_child_above_the_weight_limit_is_flagged_for_each_strength_over_it():
    flags = dose_flags(_facts("3", "1", "2.5", age=8, weight="20"))

    assert [(flag.severity, flag.field, flag.value) for flag in flags] == [
        (WARNING, "strength_mg", "3"),
        (WARNING, "titration[1].strength_mg", "2.5"),
    ]
    assert "0.1 mg/kg" in flags[0].message
    assert "20 kg" in flags[0].message
    assert flags[0].matched_as == "0.1 mg/kg/day"


def test_a_child_gets_both_the_range_and_the_weight_flags():
    flags = dose_flags(_facts("6", age=10, weight="30"))

    assert [(flag.field, flag.severity) for flag in flags] == [("strength_mg", WARNING), ("strength_mg", WARNING)]
    assert flags[0].message != flags[1].message


def test_format_mg():
    assert format_mg(D("4.50")) == "4.5"
    assert format_mg(D("30")) == "30"
    assert format_mg(D("3.0")) == "3"
    assert format_mg(D("0.25")) == "0.25"


# --- titration ----------------------------------------------------------------------------------

CONTRACT_STEPS = [TitrationStep(strength_mg=D("1.5"), days=14), TitrationStep(strength_mg=D("3"), days=14)]


def test_the_contract_example_is_valid():
    assert (
        titration_errors(steps=CONTRACT_STEPS, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True) == []
    )


def test_the_contract_example_schedule_ends_with_two_days_at_the_strength():
    assert schedule(steps=CONTRACT_STEPS, strength_mg=D("4.5"), days_supply=30) == [
        TitrationStep(strength_mg=D("1.5"), days=14),
        TitrationStep(strength_mg=D("3"), days=14),
        TitrationStep(strength_mg=D("4.5"), days=2),
    ]


def test_no_steps_is_fine_and_the_schedule_is_one_step():
    assert titration_errors(steps=[], strength_mg=D("4.5"), quantity=28, days_supply=30, unit_dose=True) == []
    assert schedule(steps=[], strength_mg=D("4.5"), days_supply=30) == [TitrationStep(strength_mg=D("4.5"), days=30)]


def test_too_many_days():
    steps = [TitrationStep(strength_mg=D("1.5"), days=21), TitrationStep(strength_mg=D("3"), days=14)]

    errors = titration_errors(steps=steps, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True)

    assert errors == ["The titration steps add up to 35 days, more than the 30-day supply."]
    with pytest.raises(ValueError, match="35 days"):
        schedule(steps=steps, strength_mg=D("4.5"), days_supply=30)


def test_filling_every_day_below_the_strength_never_reaches_it():
    steps = [TitrationStep(strength_mg=D("1.5"), days=15), TitrationStep(strength_mg=D("3"), days=15)]

    errors = titration_errors(steps=steps, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True)

    assert len(errors) == 1
    assert "never reaches the prescribed 4.5 mg" in errors[0]


def test_filling_every_day_and_ending_at_the_strength_is_fine():
    steps = [TitrationStep(strength_mg=D("1.5"), days=14), TitrationStep(strength_mg=D("4.50"), days=16)]

    assert titration_errors(steps=steps, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True) == []
    assert schedule(steps=steps, strength_mg=D("4.5"), days_supply=30) == steps


def test_a_capsule_kit_holds_one_capsule_a_day():
    errors = titration_errors(steps=CONTRACT_STEPS, strength_mg=D("4.5"), quantity=28, days_supply=30, unit_dose=True)

    assert errors == ["A 30-day titration kit at one capsule a day holds 30 capsules, not 28."]


def test_a_liquid_is_not_counted_in_units():
    assert (
        titration_errors(steps=CONTRACT_STEPS, strength_mg=D("4.5"), quantity=60, days_supply=30, unit_dose=False) == []
    )


@pytest.mark.parametrize("days", [0, -3])
def test_each_step_needs_at_least_one_day(days: int):
    steps = [TitrationStep(strength_mg=D("1.5"), days=14), TitrationStep(strength_mg=D("3"), days=days)]

    errors = titration_errors(steps=steps, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True)

    assert errors == [f"Titration step 2 lasts {days} days; each step needs at least 1 day."]
    with pytest.raises(ValueError, match="at least 1 day"):
        schedule(steps=steps, strength_mg=D("4.5"), days_supply=30)


def test_a_step_needs_a_positive_strength():
    steps = [TitrationStep(strength_mg=D("0"), days=7)]

    errors = titration_errors(steps=steps, strength_mg=D("4.5"), quantity=30, days_supply=30, unit_dose=True)

    assert errors == ["Titration step 1 is 0 mg; a strength must be more than 0 mg."]


def test_every_error_is_reported_at_once():
    steps = [TitrationStep(strength_mg=D("1.5"), days=0), TitrationStep(strength_mg=D("3"), days=40)]

    errors = titration_errors(steps=steps, strength_mg=D("4.5"), quantity=10, days_supply=30, unit_dose=True)

    assert len(errors) == 3


def test_a_schedule_adds_the_days_left_to_a_last_step_at_the_strength():
    steps = [TitrationStep(strength_mg=D("1.5"), days=7), TitrationStep(strength_mg=D("4.5"), days=7)]

    assert schedule(steps=steps, strength_mg=D("4.5"), days_supply=30) == [
        TitrationStep(strength_mg=D("1.5"), days=7),
        TitrationStep(strength_mg=D("4.5"), days=23),
    ]


def test_a_schedule_covers_every_day_of_the_supply():
    steps = [
        TitrationStep(strength_mg=D("0.5"), days=7),
        TitrationStep(strength_mg=D("1.5"), days=7),
        TitrationStep(strength_mg=D("3"), days=7),
    ]

    plan = schedule(steps=steps, strength_mg=D("4.5"), days_supply=90)

    assert sum(step.days for step in plan) == 90
    assert plan[-1] == TitrationStep(strength_mg=D("4.5"), days=69)


# --- the daily dose a capsule quantity implies ------------------------------------------------------


def _supply(quantity: int, strength: str, days: int, form: str = "capsule") -> DoseFacts:
    return DoseFacts(dosage_form=form, strength_mg=D(strength), quantity=quantity, days_supply=days)


def _daily(facts: DoseFacts) -> list[tuple[str, str, str, str]]:
    return [
        (flag.code, flag.severity, flag.field, flag.value) for flag in dose_flags(facts) if flag.code == "daily_dose"
    ]


@pytest.mark.parametrize(
    ("quantity", "strength", "days", "expected"),
    [
        (30, "4.5", 30, []),  # exactly 4.5 mg a day
        (60, "2.25", 30, []),  # 4.5 mg a day in two capsules
        (90, "1.5", 30, []),
        (31, "4.5", 30, [("daily_dose", WARNING, "quantity", "4.65")]),  # just above
        (1001, "4.5", 1000, [("daily_dose", WARNING, "quantity", "4.5")]),  # 4.5045: above, though it shows 4.5
        (60, "4.5", 30, [("daily_dose", WARNING, "quantity", "9")]),
        (1000, "4.5", 30, [("daily_dose", HARD_STOP, "quantity", "150")]),  # 1,000 capsules: a quantity slip
        (333, "4.5", 30, [("daily_dose", WARNING, "quantity", "49.95")]),  # just below 50
        (1000, "1.5", 30, [("daily_dose", HARD_STOP, "quantity", "50")]),  # exactly 50 mg a day
        (30, "0.5", 30, []),
        (0, "4.5", 30, []),  # quantity not known
        (30, "4.5", 0, []),  # days supply not known
    ],
)
def test_daily_dose_boundaries(quantity: int, strength: str, days: int, expected: list[tuple[str, str, str, str]]):
    assert _daily(_supply(quantity, strength, days)) == expected


@pytest.mark.parametrize("form", ["oral_liquid", "sublingual_drops", "topical_cream"])
def test_only_capsules_count_doses(form: str):
    assert _daily(_supply(1000, "4.5", 30, form)) == []
    assert daily_dose_mg(dosage_form=form, strength_mg=D("4.5"), quantity=1000, days_supply=30) is None


def test_the_daily_dose_is_rounded_to_the_hundredth():
    assert daily_dose_mg(dosage_form="capsule", strength_mg=D("4.5"), quantity=31, days_supply=30) == D("4.65")
    assert daily_dose_mg(dosage_form="capsule", strength_mg=D("1"), quantity=10, days_supply=3) == D("3.33")
    assert daily_dose_mg(dosage_form="capsule", strength_mg=D("4.5"), quantity=0, days_supply=30) is None


def test_a_daily_dose_flag_says_how_it_was_worked_out():
    [flag] = [flag for flag in dose_flags(_supply(1000, "4.5", 30)) if flag.code == "daily_dose"]

    assert flag.source == "prescription"
    assert "1000 × 4.5 mg over 30 days is 150 mg a day" in flag.message
    assert "not LDN" in flag.message


def test_a_daily_dose_warning_names_the_usual_maximum():
    [flag] = [flag for flag in dose_flags(_supply(60, "4.5", 30)) if flag.code == "daily_dose"]

    assert "above the usual LDN maximum of 4.5 mg a day" in flag.message


def test_a_strength_and_a_daily_dose_are_flagged_separately():
    flags = dose_flags(_supply(30, "45", 30))  # a tenfold slip: 45 mg, once a day

    assert [(flag.code, flag.severity) for flag in flags] == [("dose_range", WARNING), ("daily_dose", WARNING)]
