"""Quantities of an ingredient as a compounder writes them on a record ("1.35 g", "500 mg",
"30 each"), read into the unit a stock lot is counted in.

Plain values in and out: a Decimal and a unit ("g", "mg", "mL", "each"). Masses convert into each
other, volumes into each other; a mass is never counted from a lot kept in mL, nor the reverse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal, InvalidOperation

# The units a stock lot is counted in (intake.models.StockUnit's values).
STOCK_UNITS = ("g", "mg", "mL", "each")
# Stock keeps three decimal places; a use is rounded up to them, so on-hand is never overstated.
PLACES = Decimal("0.001")
# Stock columns hold 12 digits, 3 after the point.
LARGEST = Decimal("999999999.999")


class QuantityError(ValueError):
    """A quantity that cannot be read or counted; str() is the message for the compounder."""


@dataclass(frozen=True)
class Quantity:
    amount: Decimal
    unit: str  # one of the canonical unit names below

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.unit}"


# Each written unit: (canonical unit, kind, size in the kind's base unit: mg, mL or one item).
_UNITS: dict[str, tuple[str, str, Decimal]] = {}
for _names, _canonical, _kind, _size in (
    (("kg", "kilogram", "kilograms"), "kg", "mass", Decimal(1_000_000)),
    (("g", "gm", "gram", "grams"), "g", "mass", Decimal(1000)),
    (("mg", "milligram", "milligrams"), "mg", "mass", Decimal(1)),
    (("mcg", "µg", "μg", "ug", "microgram", "micrograms"), "mcg", "mass", Decimal("0.001")),
    (("l", "litre", "litres", "liter", "liters"), "L", "volume", Decimal(1000)),
    (("ml", "millilitre", "millilitres", "milliliter", "milliliters"), "mL", "volume", Decimal(1)),
    (("each", "ea", "unit", "units", "capsule", "capsules", "bottle", "bottles"), "each", "count", Decimal(1)),
):
    for _name in _names:
        _UNITS[_name] = (_canonical, _kind, _size)

_KIND_WORDS = {"mass": "a mass", "volume": "a volume", "count": "a count"}
_QUANTITY = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[^\s0-9.,]+)?")


def parse_quantity(text: str) -> Quantity | None:
    """The quantity written, or None when nothing is written (unknown); QuantityError otherwise."""
    written = (text or "").strip()
    if not written:
        return None
    if "," in written:
        raise QuantityError(f"“{written}”: write decimals with a point and no thousands separator (12.5 g, 1000 mg).")
    match = _QUANTITY.fullmatch(written)
    if match is None:
        if written.startswith("-"):
            raise QuantityError(f"“{written}”: a quantity used is more than 0.")
        raise QuantityError(f"“{written}”: write a number and its unit (1.35 g, 500 mg, 30 each).")
    unit_written = match.group("unit")
    if unit_written is None:
        raise QuantityError(f"“{written}”: give the unit with the number (g, mg, mL or each).")
    known = _UNITS.get(unit_written.casefold())
    if known is None:
        raise QuantityError(f"“{written}”: “{unit_written}” is not a unit stock is counted in (g, mg, mL, each).")
    try:
        amount = Decimal(match.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and one point
        raise QuantityError(f"“{written}”: write a number and its unit (1.35 g, 500 mg, 30 each).") from None
    if amount <= 0:
        raise QuantityError(f"“{written}”: a quantity used is more than 0.")
    return Quantity(amount=amount, unit=known[0])


def convert(quantity: Quantity, unit: str) -> Decimal:
    """The quantity in `unit` (a stock unit), rounded up to three places; QuantityError when the
    two measure different things (a volume from a lot counted by mass)."""
    if unit not in STOCK_UNITS:
        raise QuantityError(f"“{unit}” is not a stock unit (g, mg, mL or each).")
    _canonical, kind, size = _UNITS[quantity.unit.casefold()]
    _target, target_kind, target_size = _UNITS[unit.casefold()]
    if kind != target_kind:
        raise QuantityError(
            f"“{quantity}” is {_KIND_WORDS[kind]}; this lot is counted in {unit}, {_KIND_WORDS[target_kind]}."
        )
    amount = quantity.amount * size / target_size
    if amount > LARGEST:
        raise QuantityError(f"“{quantity}” is more than any lot holds.")
    return amount.quantize(PLACES, rounding=ROUND_UP)


def quantity_in(text: str, unit: str) -> Decimal | None:
    """What `text` amounts to in `unit`; None when blank (unknown); QuantityError otherwise."""
    quantity = parse_quantity(text)
    return None if quantity is None else convert(quantity, unit)
