"""The dispense plan and the compounding arithmetic (intake.clinical.dispensing): plain values in and out."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from intake.clinical.dispensing import (
    Formula,
    calculation,
    directions,
    dispense_plan,
    dispensing_rules,
    weight_problems,
)
from intake.clinical.dosing import TitrationStep

CONTRACT_STEPS = [TitrationStep(D("1.5"), 14), TitrationStep(D("3"), 14)]


def plan(dosage_form="capsule", strength="4.5", steps=CONTRACT_STEPS, quantity=30, days_supply=30, **extra):
    return dispense_plan(dosage_form=dosage_form, strength_mg=D(strength), steps=steps, quantity=quantity,
                         days_supply=days_supply, **extra)  # fmt: skip


def shape(result):
    return [(entry.strength_mg, entry.days, entry.quantity) for entry in result.entries]


# --- capsules -------------------------------------------------------------------------------------


def test_the_contracts_titration_is_three_containers_of_three_strengths():
    result = plan()

    assert shape(result) == [(D("1.5"), 14, 14), (D("3"), 14, 14), (D("4.5"), 2, 2)]
    assert [(c.number, c.first_day, c.last_day, c.quantity) for c in result.containers] == [
        (1, 1, 14, 14), (2, 15, 28, 14), (3, 29, 30, 2),
    ]  # fmt: skip
    assert result.total_quantity == 30
    assert result.problems == ()
    assert result.as_json() == [
        {"strength_mg": 1.5, "days": 14, "quantity": 14, "unit": "capsule"},
        {"strength_mg": 3, "days": 14, "quantity": 14, "unit": "capsule"},
        {"strength_mg": 4.5, "days": 2, "quantity": 2, "unit": "capsule"},
    ]
    assert result.describe() == "14 x 1.5 mg, 14 x 3 mg and 2 x 4.5 mg capsules: 30 in all"


def test_a_plain_prescription_is_one_container():
    result = plan(steps=[])

    assert shape(result) == [(D("4.5"), 30, 30)]
    assert len(result.containers) == 1
    assert result.problems == ()


def test_a_three_step_titration_is_four_strengths():
    steps = [TitrationStep(D("0.5"), 7), TitrationStep(D("1.5"), 7), TitrationStep(D("3"), 7)]

    result = plan(steps=steps, quantity=28, days_supply=28)

    assert shape(result) == [(D("0.5"), 7, 7), (D("1.5"), 7, 7), (D("3"), 7, 7), (D("4.5"), 7, 7)]
    assert [c.first_day for c in result.containers] == [1, 8, 15, 22]


def test_steps_that_fill_the_supply_at_the_prescribed_strength_end_the_kit():
    steps = [TitrationStep(D("1.5"), 10), TitrationStep(D("4.5"), 20)]

    assert shape(plan(steps=steps)) == [(D("1.5"), 10, 10), (D("4.5"), 20, 20)]


def test_consecutive_steps_at_one_strength_are_one_container():
    steps = [TitrationStep(D("1.5"), 7), TitrationStep(D("1.5"), 7), TitrationStep(D("3"), 7)]

    result = plan(steps=steps, quantity=30)

    assert shape(result) == [(D("1.5"), 14, 14), (D("3"), 7, 7), (D("4.5"), 9, 9)]


def test_two_capsules_a_day_count_twice_per_day():
    result = plan(steps=[], strength="2.25", quantity=60)

    assert shape(result) == [(D("2.25"), 30, 60)]
    assert result.entries[0].units_per_dose == 2
    assert directions("capsule", result.containers[0], timing="at bedtime", whole_supply=True) == [
        "Take 2 capsules (4.5 mg) by mouth at bedtime."
    ]


@pytest.mark.parametrize(("quantity", "days_supply"), [(28, 30), (45, 30), (31, 30)])
def test_an_odd_capsule_count_is_kept_as_prescribed_and_flagged(quantity, days_supply):
    result = plan(steps=[], quantity=quantity, days_supply=days_supply)

    assert shape(result) == [(D("4.5"), days_supply, quantity)]  # never rounded to fit
    assert [problem.field for problem in result.problems] == ["quantity"]
    assert f"{quantity} capsules for {days_supply} days" in result.problems[0].message


def test_a_kit_with_too_few_capsules_for_its_steps_is_flagged_not_cut():
    # The submission refuses it (titration_errors); a plan made from such a prescription says so.
    result = plan(quantity=20)

    assert shape(result) == [(D("1.5"), 14, 14), (D("3"), 14, 14), (D("4.5"), 2, 2)]
    assert any("needs 30 capsules" in problem.message for problem in result.problems)


def test_steps_longer_than_the_supply_are_flagged():
    result = plan(steps=[TitrationStep(D("1.5"), 20), TitrationStep(D("3"), 20)])

    assert any(problem.field == "titration" for problem in result.problems)


def test_a_refill_of_a_titration_is_the_prescribed_strength_only():
    result = plan(maintenance_only=True)

    assert shape(result) == [(D("4.5"), 30, 30)]
    assert result.maintenance_only
    assert result.titrated


def test_kit_directions_say_the_days_each_container_covers():
    result = plan()

    assert [directions("capsule", c, timing="at bedtime", whole_supply=False) for c in result.containers] == [
        ["Days 1-14: take 1 capsule (1.5 mg) by mouth at bedtime."],
        ["Days 15-28: take 1 capsule (3 mg) by mouth at bedtime."],
        ["Days 29-30: take 1 capsule (4.5 mg) by mouth at bedtime."],
    ]


# --- liquids, drops, creams -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concentration", "doses"),
    [
        ("1", [D("1.5"), D("3"), D("4.5")]),
        ("2", [D("0.75"), D("1.5"), D("2.25")]),
        ("0.5", [D("3"), D("6"), D("9")]),
        ("1.5", [D("1"), D("2"), D("3")]),
    ],
)
def test_a_liquid_titration_is_one_bottle_with_a_dose_in_ml_per_step(concentration, doses):
    result = plan("oral_liquid", quantity=300, concentration=D(concentration))

    assert [entry.dose for entry in result.entries] == doses
    for entry in result.entries:
        assert entry.dose * entry.concentration == entry.strength_mg
        assert entry.quantity == entry.dose * entry.days
        assert entry.unit == "mL"
    assert len(result.containers) == 1
    assert result.total_quantity == 300  # the bottle as prescribed
    assert result.problems == ()
    first = result.as_json()[0]
    assert first["concentration_mg_per_ml"] * first["dose_ml"] == first["strength_mg"]
    assert set(first) == {"strength_mg", "days", "quantity", "unit", "concentration_mg_per_ml", "dose_ml"}


def test_a_liquid_too_small_for_its_schedule_says_the_day_it_runs_out():
    # 21 + 42 + 9 = 72 mL at 1 mg/mL
    result = plan("oral_liquid", quantity=30, concentration=D("1"))

    assert [problem.field for problem in result.problems] == ["quantity"]
    assert "takes 72 mL" in result.problems[0].message
    # days 1-14 take 21 mL; the 9 mL left are days 15-17 at 3 mL
    assert "runs out on day 18" in result.problems[0].message


def test_a_liquid_of_exactly_its_schedule_raises_nothing():
    assert plan("oral_liquid", quantity=72, concentration=D("1")).problems == ()


def test_a_dose_that_cannot_be_measured_is_flagged_not_silently_rounded():
    result = plan("oral_liquid", strength="1", steps=[], quantity=30, concentration=D("3"))

    assert [problem.field for problem in result.problems] == ["strength_mg"]
    assert "0.3333 mL" in result.problems[0].message


def test_a_liquid_without_a_concentration_cannot_be_planned():
    result = plan("oral_liquid", concentration=None)

    assert not result.computable
    assert result.problems[0].field == "dosage_form"


def test_drops_are_measured_in_steps_of_the_dropper():
    step = dispensing_rules().dose_steps["sublingual_drops"]
    result = plan("sublingual_drops", strength="1.5", steps=[], quantity=45, concentration=D("1"))

    assert result.entries[0].dose == D("1.5")
    assert result.entries[0].dose % step == 0
    assert directions("sublingual_drops", result.containers[0], timing="at bedtime", whole_supply=True) == [
        "Place 1.5 mL (1.5 mg) under the tongue at bedtime."
    ]


def test_liquid_directions_are_in_ml_for_each_step():
    result = plan("oral_liquid", quantity=72, concentration=D("1"))

    assert directions("oral_liquid", result.containers[0], timing="in the morning", whole_supply=False) == [
        "Days 1-14: take 1.5 mL (1.5 mg) by mouth in the morning.",
        "Days 15-28: take 3 mL (3 mg) by mouth in the morning.",
        "Days 29-30: take 4.5 mL (4.5 mg) by mouth in the morning.",
    ]


def test_a_cream_is_dosed_in_grams():
    result = plan("topical_cream", strength="3", steps=[], quantity=90, concentration=D("1"))

    assert result.as_json() == [
        {"strength_mg": 3, "days": 30, "quantity": 90, "unit": "g", "concentration_mg_per_g": 1, "dose_g": 3}
    ]


# --- the worksheet's arithmetic and the weights ---------------------------------------------------


def test_capsule_arithmetic_uses_the_salt_factor_overage_and_fill_weight():
    container = plan().containers[0]  # 14 x 1.5 mg

    calc = calculation(container, Formula(salt_factor=D("1.107"), overage_percent=D("5"), capsule_fill_mg=D("200")))

    assert calc.naltrexone_mg == D("24.409")  # 1.5 x 1.107 x 14 x 1.05 = 24.40935
    assert calc.filler_mg == D("2915.591")  # 200 x 14 x 1.05 - 24.409
    assert calc.target_fill_mg == D("200")
    assert calc.allowed(D("200")) == (D("180"), D("220"))
    assert calc.problems == ()


def test_capsule_arithmetic_without_a_fill_weight_says_so():
    calc = calculation(plan().containers[0], Formula())

    assert calc.naltrexone_mg == D("21.000")
    assert calc.filler_mg is None
    assert "fill weight" in calc.problems[0]


def test_liquid_arithmetic_is_the_concentration_times_the_volume():
    container = plan("oral_liquid", quantity=72, concentration=D("1")).containers[0]

    calc = calculation(container, Formula(concentration=D("1")))

    assert calc.naltrexone_mg == D("72.000")
    assert calc.batch_quantity == D("72")


def test_weights_inside_the_tolerance_pass():
    calc = calculation(plan().containers[0], Formula(capsule_fill_mg=D("200")))

    assert weight_problems(calc, naltrexone_weighed_mg=D("21.5"), capsule_weights_mg=[D("181"), D("219")]) == {}


def test_weights_outside_the_tolerance_are_named():
    calc = calculation(plan().containers[0], Formula(capsule_fill_mg=D("200")))

    problems = weight_problems(calc, naltrexone_weighed_mg=D("25"), capsule_weights_mg=[D("200"), D("179.9")])

    assert set(problems) == {"naltrexone_mg", "capsule_weights_mg"}
    assert "outside 18.9-23.1 mg" in problems["naltrexone_mg"][0]
    assert "capsule 2 weighs 179.9 mg" in problems["capsule_weights_mg"][0]
    assert "capsule 1" not in problems["capsule_weights_mg"][0]


def test_capsule_weights_of_a_liquid_are_refused():
    calc = calculation(plan("oral_liquid", quantity=72, concentration=D("1")).containers[0], Formula())

    assert "capsule_weights_mg" in weight_problems(calc, naltrexone_weighed_mg=None, capsule_weights_mg=[D("1")])


def test_the_data_file_holds_a_unit_and_wording_for_every_form():
    rules = dispensing_rules()

    assert set(rules.units) == {"capsule", "oral_liquid", "sublingual_drops", "topical_cream"}
    assert rules.weight_tolerance_percent == D("10")
    assert "USP <795>" in rules.weight_tolerance_reference


# --- the directions in Spanish, for a patient who reads Spanish ------------------------------------


def test_spanish_directions_for_one_strength():
    result = plan(steps=[])

    assert directions("capsule", result.containers[0], timing="at bedtime", whole_supply=True, language="es") == [
        "Tome 1 cápsula (4.5 mg) por vía oral a la hora de acostarse."
    ]


def test_spanish_directions_count_capsules_and_keep_the_decimal_point():
    result = plan(steps=[], strength="2.25", quantity=60)

    assert directions("capsule", result.containers[0], timing="in the morning", whole_supply=True, language="es") == [
        "Tome 2 cápsulas (4.5 mg) por vía oral por la mañana."
    ]


def test_spanish_kit_directions_say_the_days_of_each_titration_step():
    result = plan()

    assert [
        directions("capsule", c, timing="at bedtime", whole_supply=False, language="es") for c in result.containers
    ] == [
        ["Días 1-14: tome 1 cápsula (1.5 mg) por vía oral a la hora de acostarse."],
        ["Días 15-28: tome 1 cápsula (3 mg) por vía oral a la hora de acostarse."],
        ["Días 29-30: tome 1 cápsula (4.5 mg) por vía oral a la hora de acostarse."],
    ]


def test_spanish_directions_for_drops_say_under_the_tongue_in_ml():
    result = plan("sublingual_drops", strength="1.5", steps=[], quantity=45, concentration=D("1"))
    lines = directions("sublingual_drops", result.containers[0], timing="at bedtime", whole_supply=True, language="es")

    assert lines == ["Coloque 1.5 mL (1.5 mg) debajo de la lengua a la hora de acostarse."]


def test_spanish_liquid_directions_are_in_ml_for_each_step():
    result = plan("oral_liquid", quantity=72, concentration=D("1"))

    assert directions("oral_liquid", result.containers[0], timing="in the morning", whole_supply=False, language="es")[
        :2
    ] == [
        "Días 1-14: tome 1.5 mL (1.5 mg) por vía oral por la mañana.",
        "Días 15-28: tome 3 mL (3 mg) por vía oral por la mañana.",
    ]


def test_a_timing_without_spanish_words_gives_no_half_translated_directions():
    result = plan(steps=[])

    with pytest.raises(ValueError, match="timing"):
        directions("capsule", result.containers[0], timing="with lunch", whole_supply=True, language="es")


def test_every_dose_timing_and_dosage_form_has_spanish_words():
    from intake.clinical.dispensing import dispensing_rules, label_phrasing

    spanish = label_phrasing("es")
    assert spanish is not None
    # The English timing words as the prescription gives them (DoseTiming's labels, lower-cased).
    assert set(spanish.timing) == {"at bedtime", "in the morning"}
    assert set(spanish.wording) == set(dispensing_rules().wording)
    assert spanish.auxiliary_warning == "No tome analgésicos opioides mientras toma este medicamento."
    assert label_phrasing("en") is None
