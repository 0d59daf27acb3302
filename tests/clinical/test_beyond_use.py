"""Beyond-use dates by USP <795> and the ingredient lots' expiries."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from intake.clinical.beyond_use import (
    BudRule,
    ExpiredLotError,
    beyond_use_date,
    bud_rule_for,
    bud_rule_for_dosage_form,
    bud_rules,
    check_lots_usable,
)

DATA = Path(__file__).resolve().parents[2] / "intake" / "clinical" / "data" / "usp795.json"
COMPOUNDED = date(2025, 3, 1)


@pytest.mark.parametrize(
    ("name", "days", "storage"),
    [
        ("aqueous_unpreserved", 14, "refrigerator"),
        ("aqueous_preserved", 35, "room temperature or refrigerator"),
        ("nonaqueous_oral_liquid", 90, "room temperature or refrigerator"),
        ("nonaqueous_solid", 180, "room temperature or refrigerator"),
    ],
)
def test_each_rule(name: str, days: int, storage: str):
    rule = bud_rules()[name]

    assert (rule.name, rule.days, rule.storage) == (name, days, storage)
    assert "<795>" in rule.reference
    assert rule.description


def test_there_are_exactly_four_rules_read_from_the_data_file():
    raw = json.loads(DATA.read_text(encoding="utf-8"))

    assert set(bud_rules()) == {row["name"] for row in raw["rules"]}
    assert len(bud_rules()) == 4


def test_bud_rules_is_a_copy():
    bud_rules().clear()

    assert len(bud_rules()) == 4


@pytest.mark.parametrize(
    ("aqueous", "preserved", "liquid", "expected"),
    [
        (True, False, True, "aqueous_unpreserved"),  # oral liquid, water-based drops
        (True, False, False, "aqueous_unpreserved"),  # cream
        (True, True, True, "aqueous_preserved"),
        (True, True, False, "aqueous_preserved"),
        (False, False, True, "nonaqueous_oral_liquid"),  # oil-based drops
        (False, True, True, "nonaqueous_oral_liquid"),
        (False, False, False, "nonaqueous_solid"),  # capsules
        (False, True, False, "nonaqueous_solid"),
    ],
)
def test_rule_for_each_kind_of_preparation(aqueous: bool, preserved: bool, liquid: bool, expected: str):
    assert bud_rule_for(aqueous=aqueous, preserved=preserved, liquid=liquid).name == expected


@pytest.mark.parametrize(
    ("dosage_form", "expected", "days"),
    [
        ("capsule", "nonaqueous_solid", 180),
        ("oral_liquid", "aqueous_unpreserved", 14),
        ("sublingual_drops", "aqueous_unpreserved", 14),
        ("topical_cream", "aqueous_unpreserved", 14),
    ],
)
def test_default_rule_for_each_dosage_form(dosage_form: str, expected: str, days: int):
    rule = bud_rule_for_dosage_form(dosage_form)

    assert (rule.name, rule.days) == (expected, days)


@pytest.mark.parametrize("dosage_form", ["tablet", "about", ""])
def test_an_unknown_dosage_form_has_no_default(dosage_form: str):
    with pytest.raises(ValueError, match="No beyond-use rule"):
        bud_rule_for_dosage_form(dosage_form)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("aqueous_unpreserved", date(2025, 3, 15)),
        ("aqueous_preserved", date(2025, 4, 5)),
        ("nonaqueous_oral_liquid", date(2025, 5, 30)),
        ("nonaqueous_solid", date(2025, 8, 28)),
    ],
)
def test_bud_counts_days_from_compounding(rule: str, expected: date):
    assert beyond_use_date(rule=rule, compounded_on=COMPOUNDED) == expected


def test_the_earliest_lot_caps_the_bud():
    bud = beyond_use_date(
        rule="nonaqueous_solid",
        compounded_on=COMPOUNDED,
        lot_expiries=[date(2026, 1, 1), date(2025, 6, 30), date(2025, 7, 31)],
    )

    assert bud == date(2025, 6, 30)


def test_a_lot_later_than_the_bud_does_not_extend_it():
    bud = beyond_use_date(rule="aqueous_unpreserved", compounded_on=COMPOUNDED, lot_expiries=[date(2027, 1, 1)])

    assert bud == date(2025, 3, 15)


def test_a_lot_expiring_on_the_bud_gives_the_same_date():
    assert beyond_use_date(
        rule="aqueous_unpreserved", compounded_on=COMPOUNDED, lot_expiries=iter([date(2025, 3, 15)])
    ) == date(2025, 3, 15)


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="Unknown beyond-use rule"):
        beyond_use_date(rule="forever", compounded_on=COMPOUNDED)


def test_usable_lots_pass():
    check_lots_usable(lot_expiries=[date(2025, 3, 2), date(2026, 1, 1)], compounded_on=COMPOUNDED)
    check_lots_usable(lot_expiries=[], compounded_on=COMPOUNDED)


def test_a_lot_expiring_on_the_compounding_day_counts_as_expired():
    with pytest.raises(ExpiredLotError) as caught:
        check_lots_usable(lot_expiries=[date(2026, 1, 1), COMPOUNDED], compounded_on=COMPOUNDED)

    assert caught.value.expired == (COMPOUNDED,)
    assert "2025-03-01" in str(caught.value)


def test_every_expired_lot_is_named_and_the_error_is_a_value_error():
    expired = [date(2025, 2, 1), date(2024, 12, 31)]

    with pytest.raises(ValueError, match="2024-12-31, 2025-02-01"):
        check_lots_usable(lot_expiries=[*expired, date(2025, 9, 1)], compounded_on=COMPOUNDED)


def test_bud_rule_is_frozen():
    rule = bud_rules()["nonaqueous_solid"]

    assert isinstance(rule, BudRule)
    with pytest.raises(AttributeError):
        rule.days = 365  # type: ignore[misc]
