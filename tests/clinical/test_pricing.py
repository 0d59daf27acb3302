"""The price list and the quote: plain values, exact cents."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from intake.clinical.pricing import (
    PRICES,
    PricedContainer,
    PriceListError,
    price_list,
    price_list_read,
    price_quote,
)
from intake.models import DosageFormCode

D = Decimal


def one(strength: str, quantity: int | str) -> list[PricedContainer]:
    return [PricedContainer(strength_mg=D(strength), quantity=D(quantity))]


def test_every_dosage_form_of_the_formulary_has_a_price() -> None:
    assert set(price_list().forms) == set(DosageFormCode.values)
    assert price_list().currency == "USD"


def test_units_match_what_the_dispense_plan_counts() -> None:
    units = json.loads((PRICES.parent / "dispensing.json").read_text())["units"]
    for form, prices in price_list().forms.items():
        assert prices.unit == units[form]


def test_capsules_are_the_fill_fee_and_each_capsule_at_its_band() -> None:
    quote = price_quote(dosage_form="capsule", containers=one("4.5", 30))

    assert quote.amount == D("37.50")  # 12.00 + 30 x 0.85
    assert quote.currency == "USD"
    assert [line.label for line in quote.lines] == ["Preparation fee", "30 capsules of 4.5 mg"]
    assert sum(line.amount for line in quote.lines) == quote.amount


@pytest.mark.parametrize(
    ("strength", "unit_price"),
    [("0.5", "0.70"), ("1.5", "0.70"), ("1.51", "0.85"), ("4.5", "0.85"), ("4.51", "1.10"), ("10", "1.10"),
     ("10.01", "1.50"), ("50", "1.50")],
)  # fmt: skip
def test_a_band_reaches_up_to_its_limit_and_no_further(strength: str, unit_price: str) -> None:
    quote = price_quote(dosage_form="capsule", containers=one(strength, 100))

    assert quote.amount == D("12.00") + 100 * D(unit_price)


def test_a_titration_kit_is_priced_per_step() -> None:
    kit = [
        PricedContainer(D("1.5"), D(14)),
        PricedContainer(D("3"), D(14)),
        PricedContainer(D("4.5"), D(2)),
    ]

    quote = price_quote(dosage_form="capsule", containers=kit)

    # 12.00 + 2 x 5.00 + 14 x 0.70 + 14 x 0.85 + 2 x 0.85
    assert quote.amount == D("45.40")
    assert "Titration kit: 2 more container(s)" in [line.label for line in quote.lines]
    assert sum(line.amount for line in quote.lines) == quote.amount


def test_a_small_fill_costs_the_minimum() -> None:
    quote = price_quote(dosage_form="capsule", containers=one("1.5", 5))

    assert quote.amount == D("25.00")
    assert quote.lines[-1].label == "Up to the minimum price"
    assert sum(line.amount for line in quote.lines) == quote.amount


@pytest.mark.parametrize(
    ("form", "strength", "quantity", "amount"),
    [
        ("oral_liquid", "4.5", "120", "45.00"),  # 15 + 120 x 0.25
        ("oral_liquid", "6", "100", "55.00"),  # 15 + 100 x 0.40
        ("oral_liquid", "1", "30", "30.00"),  # the minimum
        ("sublingual_drops", "4.5", "30", "51.00"),  # 15 + 30 x 1.20
        ("topical_cream", "4.5", "30", "45.00"),  # 18 + 30 x 0.90
    ],
)
def test_measured_forms_are_priced_per_ml_or_g(form: str, strength: str, quantity: str, amount: str) -> None:
    assert price_quote(dosage_form=form, containers=one(strength, quantity)).amount == D(amount)


def test_amounts_round_half_up_to_the_cent(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"currency": "USD", "forms": {"capsule": {
        "unit": "capsule", "fill_fee": "0", "step_fee": "0", "minimum": "0",
        "strengths": [{"up_to_mg": None, "unit_price": "0.125"}]}}}))  # fmt: skip

    quote = price_quote(dosage_form="capsule", containers=one("1", 1), prices=price_list_read(path))

    assert quote.amount == D("0.13")


def test_an_unknown_form_is_refused() -> None:
    with pytest.raises(PriceListError, match="tablet"):
        price_quote(dosage_form="tablet", containers=one("4.5", 30))


@pytest.mark.parametrize(
    "containers", [[], one("0", 30), one("-1", 30), one("4.5", -1)], ids=["none", "zero mg", "negative mg", "minus"]
)
def test_impossible_containers_are_refused(containers: list[PricedContainer]) -> None:
    with pytest.raises(ValueError, match="container"):
        price_quote(dosage_form="capsule", containers=containers)


GOOD_FORM = {"unit": "capsule", "fill_fee": "1", "step_fee": "1", "minimum": "1",
             "strengths": [{"up_to_mg": "1", "unit_price": "1"}, {"up_to_mg": None, "unit_price": "2"}]}  # fmt: skip


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"currency": "usd", "forms": {"capsule": GOOD_FORM}}, "currency"),
        ({"currency": "USD", "forms": {}}, "forms"),
        ({"currency": "USD", "forms": {"capsule": {**GOOD_FORM, "fill_fee": "ten"}}}, "capsule fill_fee"),
        ({"currency": "USD", "forms": {"capsule": {**GOOD_FORM, "minimum": "-1"}}}, "capsule minimum"),
        ({"currency": "USD", "forms": {"capsule": {k: v for k, v in GOOD_FORM.items() if k != "unit"}}}, "unit"),
        ({"currency": "USD", "forms": {"capsule": {**GOOD_FORM, "strengths": [{"up_to_mg": "1", "unit_price": "1"}]}}},
         "last strength band"),
        ({"currency": "USD", "forms": {"capsule": {**GOOD_FORM, "strengths": [
            {"up_to_mg": "4", "unit_price": "1"}, {"up_to_mg": "2", "unit_price": "1"},
            {"up_to_mg": None, "unit_price": "1"}]}}}, "go up"),
        ({"currency": "USD", "forms": {"capsule": {**GOOD_FORM, "strengths": [
            {"up_to_mg": None, "unit_price": "1"}, {"up_to_mg": None, "unit_price": "1"}]}}}, "only the last is open"),
    ],
)  # fmt: skip
def test_a_bad_price_list_is_refused_naming_the_entry(tmp_path: Path, document: dict, problem: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document))

    with pytest.raises(PriceListError, match=problem):
        price_list_read(path)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{")

    with pytest.raises(PriceListError, match="prices.json"):
        price_list_read(path)
