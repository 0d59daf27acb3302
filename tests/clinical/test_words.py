"""Every code that can reach a person has words: each flag code, severity, source, verification
method and field a flag names, and every status and choice the models store."""

from __future__ import annotations

import re

import pytest
from django.db import models

import accounts.models
import intake.models
from intake.clinical import flags as flag_codes
from intake.clinical.flags import SEVERITIES, SOURCES
from intake.clinical.verification import METHODS
from intake.clinical.words import (
    field_label,
    flag_words,
    method_label,
    severity_explanation,
    severity_label,
    source_label,
    words,
)

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
NOT_CODES = {"HARD_STOP", "WARNING", "INFO", "SEVERITIES", "SOURCES"}
CODES = sorted(
    value
    for name, value in vars(flag_codes).items()
    if name.isupper() and isinstance(value, str) and name not in NOT_CODES and not name.startswith("SOURCE")
)


def is_words(text: str) -> bool:
    """A phrase a person reads: starts with a capital, no snake_case, no "[0]" path, no dotted path."""
    return bool(text) and text[0].isupper() and not SNAKE.search(text) and "[" not in text and "." not in text[:-1]


def test_the_flag_codes_are_all_found():
    assert {"opioid_use", "hepatic", "naltrexone_allergy", "dose_range", "daily_dose", "licensure",
            "opioid_disclosure_changed", "liver_other", "opioid_antagonist"} <= set(CODES)  # fmt: skip


@pytest.mark.parametrize("code", CODES)
def test_every_flag_code_has_a_title_and_a_sentence(code):
    title, explanation = flag_words(code)

    assert code in words()["flags"]
    assert is_words(title)
    assert explanation.endswith(".") and len(explanation.split()) >= 6
    assert not SNAKE.search(explanation)


def test_no_words_for_a_flag_that_does_not_exist():
    assert set(words()["flags"]) == set(CODES)
    titles = [flag_words(code).title for code in CODES]
    assert len(set(titles)) == len(titles)  # two flags never read the same


@pytest.mark.parametrize("severity", SEVERITIES)
def test_every_severity_has_a_label_and_what_it_means(severity):
    assert is_words(severity_label(severity))
    assert severity_explanation(severity).endswith(".")


def test_severities_read_as_the_pharmacy_says_them():
    assert [severity_label(s) for s in SEVERITIES] == ["Hard stop", "Warning", "For information"]
    assert "before approval" in severity_explanation("hard_stop")


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_has_words(source):
    assert source in words()["sources"]
    assert is_words(source_label(source))


@pytest.mark.parametrize("method", list(METHODS))
def test_every_verification_method_has_words_and_the_form_offers_them(method):
    assert method in words()["methods"]
    assert is_words(method_label(method))
    assert METHODS[method] == method_label(method)


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("current_medications[0]", "Current medications, line 1"),
        ("current_medications[11]", "Current medications, line 12"),
        ("allergies[1]", "Allergies, line 2"),
        ("titration[0].strength_mg", "Titration step 1, strength"),
        ("patient.address.state", "Patient's state"),
        ("strength_mg", "Strength"),
        ("takes_opioids", "Opioid in the last 10 days"),
        ("surgery_within_14_days", "Surgery within 14 days"),
    ],
)
def test_a_field_reads_as_its_label_with_lines_counted_from_one(path, label):
    assert field_label(path) == label


@pytest.mark.parametrize("path", list(words()["fields"]))
def test_every_field_in_the_table_reads_as_words(path):
    assert is_words(field_label(path.replace("[]", "[3]")))


def test_a_code_nobody_worded_is_still_read_aloud_not_shown_raw():
    assert flag_words("brand_new_check").title == "Brand new check"
    assert field_label("refill_answers[2].dose_ml") == "Refill answers 3 dose ml"
    assert severity_label("") == ""


def choice_classes():
    for module in (intake.models, accounts.models):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, models.Choices) and value is not models.TextChoices:
                yield value


@pytest.mark.parametrize("choices", list(choice_classes()), ids=lambda choices: choices.__name__)
def test_every_status_and_choice_the_models_store_has_a_label(choices):
    for value, label in choices.choices:
        assert str(label).strip(), f"{choices.__name__}.{value} has no label"
        assert not SNAKE.search(str(label)), f"{choices.__name__}.{value} reads as a code: {label!r}"


def test_every_prescription_status_and_history_action_is_among_them():
    names = {choices.__name__ for choices in choice_classes()}

    assert {"PrescriptionStatus", "Action", "AuditAction", "FlagLevel", "NotificationEvent"} <= names
