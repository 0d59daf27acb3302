"""Quantities written on a compounding record, read into the unit a stock lot is counted in."""

from __future__ import annotations

from decimal import Decimal

import pytest

from intake.clinical.quantities import Quantity, QuantityError, convert, parse_quantity, quantity_in


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1.35 g", "g", "1.350"),
        ("1.35g", "g", "1.350"),
        ("  1.35   g ", "g", "1.350"),
        ("1.35 G", "g", "1.350"),
        ("1.35 grams", "g", "1.350"),
        ("1 gram", "g", "1.000"),
        ("2 gm", "g", "2.000"),
        ("500 mg", "mg", "500.000"),
        ("500 mg", "g", "0.500"),
        ("500 MG", "g", "0.500"),
        ("135 milligrams", "g", "0.135"),
        ("1.35 g", "mg", "1350.000"),
        ("0.5 mg", "g", "0.001"),  # rounded up: on hand is never overstated
        ("0.0004 g", "g", "0.001"),
        ("1.2341 g", "g", "1.235"),
        ("1 kg", "g", "1000.000"),
        ("1 kg", "mg", "1000000.000"),
        ("250 mcg", "mg", "0.250"),
        ("250 µg", "mg", "0.250"),
        ("250 ug", "mg", "0.250"),
        (".5 g", "g", "0.500"),
        ("30 each", "each", "30.000"),
        ("30 ea", "each", "30.000"),
        ("30 capsules", "each", "30.000"),
        ("1 bottle", "each", "1.000"),
        ("30 EACH", "each", "30.000"),
        ("100 mL", "mL", "100.000"),
        ("100 ml", "mL", "100.000"),
        ("100 ML", "mL", "100.000"),
        ("1 L", "mL", "1000.000"),
        ("0.25 litres", "mL", "250.000"),
        ("2 milliliters", "mL", "2.000"),
    ],
)
def test_quantity_read_in_the_lots_unit(text, unit, expected):
    assert quantity_in(text, unit) == Decimal(expected)


@pytest.mark.parametrize("text", ["", "   ", "\t", None])
def test_blank_is_unknown(text):
    assert parse_quantity(text) is None
    assert quantity_in(text, "g") is None


@pytest.mark.parametrize("text", ["12,5 g", "1,000 mg", "0,5mg", "1,35 g"])
def test_a_comma_is_refused_with_the_reason(text):
    with pytest.raises(QuantityError, match="decimals with a point"):
        parse_quantity(text)


@pytest.mark.parametrize("text", ["5", "1.35", " 30 "])
def test_a_number_without_unit_is_refused(text):
    with pytest.raises(QuantityError, match="give the unit"):
        parse_quantity(text)


@pytest.mark.parametrize("text", ["0 g", "0.000 mg", "-1 g", "- 5 mg"])
def test_nothing_or_less_is_refused(text):
    with pytest.raises(QuantityError, match="more than 0"):
        parse_quantity(text)


@pytest.mark.parametrize("text", ["5 oz", "5 tsp", "3 drops", "5 g/mL"])
def test_an_unknown_unit_is_refused(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(
    "text", ["g 5", "about 5 g", "5 g 3 mg", "1.2.3 g", "1e3 mg", "NaN g", "Infinity mg", "five grams", "5. g",
             "٥ g", "½ g"],
)  # fmt: skip
def test_anything_else_is_refused_not_guessed(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("5 mL", "g"), ("5 mL", "mg"), ("5 g", "mL"), ("30 each", "g"), ("5 mg", "each"), ("1 L", "each")],
)
def test_a_mismatched_unit_is_refused_with_a_clear_message(text, unit):
    with pytest.raises(QuantityError, match=f"counted in {unit}"):
        quantity_in(text, unit)


def test_the_message_names_what_was_written_and_the_lots_unit():
    with pytest.raises(QuantityError) as caught:
        quantity_in("5 mL", "g")
    assert str(caught.value) == "“5 mL” is a volume; this lot is counted in g, a mass."


def test_an_unknown_stock_unit_is_refused():
    with pytest.raises(QuantityError, match="not a stock unit"):
        convert(Quantity(Decimal(1), "g"), "kg")


def test_more_than_any_lot_holds_is_refused_not_a_crash():
    with pytest.raises(QuantityError, match="more than any lot"):
        quantity_in("1" + "0" * 40 + " kg", "mg")
    with pytest.raises(QuantityError, match="more than any lot"):
        quantity_in("1000000000 g", "g")


def test_a_quantity_reads_back_as_written():
    assert str(parse_quantity("1.350 g")) == "1.35 g"
    assert parse_quantity("30 capsules") == Quantity(Decimal(30), "each")
