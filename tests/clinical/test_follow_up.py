"""The side-effect check-in's assessment (intake/clinical/follow_up.py)."""

from __future__ import annotations

import itertools

import pytest

from intake.clinical.follow_up import LEVELS, follow_up_assess, follow_up_table, symptom_labels

SYMPTOMS = tuple(symptom_labels())
MORNING = follow_up_table()["advice"]["morning_dosing"]


def test_the_check_in_asks_about_the_four_early_effects():
    assert SYMPTOMS == ("sleep_problems", "vivid_dreams", "nausea", "headache")


@pytest.mark.parametrize("levels", list(itertools.product(LEVELS, repeat=4)))
def test_every_combination_of_answers(levels):
    answers = dict(zip(SYMPTOMS, levels, strict=True))
    result = follow_up_assess(symptoms=answers)

    bothersome = [code for code, level in answers.items() if level == "bothersome"]
    assert result.needs_pharmacist is bool(bothersome)
    assert len(result.reasons) == len(bothersome)
    sleep_disturbed = answers["sleep_problems"] != "none" or answers["vivid_dreams"] != "none"
    assert (MORNING in result.advice) is sleep_disturbed
    assert result.advice, "the patient always gets a word back"


def test_free_text_or_a_call_request_needs_a_pharmacist():
    quiet = dict.fromkeys(SYMPTOMS, "none")
    assert follow_up_assess(symptoms=quiet, other_effects="  rash on my arm ").reasons == ("Other effects described",)
    assert follow_up_assess(symptoms=quiet, wants_call=True).needs_pharmacist
    assert not follow_up_assess(symptoms=quiet, other_effects="   ").needs_pharmacist


def test_unknown_symptoms_or_levels_are_refused():
    with pytest.raises(ValueError, match="Unknown symptoms"):
        follow_up_assess(symptoms={"dizziness": "mild"})
    with pytest.raises(ValueError, match="Unknown levels"):
        follow_up_assess(symptoms={"nausea": "severe"})
