"""The cash price of a fill, from the pharmacy's price list in ``data/prices.json``.

A fill is quoted from what is made for it: one container per strength of a capsule kit, or the one
bottle or jar of a liquid, drops or cream. The price is the form's fee per fill, a fee for each
further container (a titration kit is labelled and checked per strength), and each container's
units at its strength band's price; rounded to the cent, never below the form's minimum.
Plain values in, a Decimal in US dollars out: no card data, no Django.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parent / "data" / "prices.json"
CENT = Decimal("0.01")


class PriceListError(ValueError):
    """The price list cannot be read as it is written; the message names the file and the entry."""


@dataclass(frozen=True)
class StrengthBand:
    up_to_mg: Decimal | None  # None: any strength above the bands before it
    unit_price: Decimal


@dataclass(frozen=True)
class FormPrices:
    unit: str
    fill_fee: Decimal
    step_fee: Decimal
    minimum: Decimal
    bands: tuple[StrengthBand, ...]

    def unit_price(self, strength_mg: Decimal) -> Decimal:
        for band in self.bands:
            if band.up_to_mg is None or strength_mg <= band.up_to_mg:
                return band.unit_price
        raise PriceListError(f"No price band for {strength_mg} mg")  # the loader makes the last band open


@dataclass(frozen=True)
class PriceList:
    currency: str
    forms: dict[str, FormPrices]


@dataclass(frozen=True)
class PricedContainer:
    """One container of the fill: its strength (a liquid's prescribed strength) and units in it."""

    strength_mg: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class QuoteLine:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    amount: Decimal
    currency: str
    lines: tuple[QuoteLine, ...]


def _money(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PriceListError(f"{where}: {value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise PriceListError(f"{where}: {value!r} is not an amount of 0 or more")
    return amount


def _form_prices(form: str, raw: dict[str, Any], where: str) -> FormPrices:
    here = f"{where}: {form}"
    missing = {"unit", "fill_fee", "step_fee", "minimum", "strengths"} - set(raw)
    if missing:
        raise PriceListError(f"{here}: missing {', '.join(sorted(missing))}")
    bands: list[StrengthBand] = []
    for position, band in enumerate(raw["strengths"], start=1):
        up_to = band.get("up_to_mg")
        bands.append(
            StrengthBand(
                up_to_mg=None if up_to is None else _money(up_to, f"{here} band {position} up_to_mg"),
                unit_price=_money(band.get("unit_price"), f"{here} band {position} unit_price"),
            )
        )
    if not bands or bands[-1].up_to_mg is not None:
        raise PriceListError(f"{here}: the last strength band is for any strength (up_to_mg null)")
    limits = [band.up_to_mg for band in bands[:-1]]
    bounded = [limit for limit in limits if limit is not None]
    if len(bounded) != len(limits) or bounded != sorted(set(bounded)):
        raise PriceListError(f"{here}: strength bands go up, each once, and only the last is open")
    return FormPrices(
        unit=str(raw["unit"]),
        fill_fee=_money(raw["fill_fee"], f"{here} fill_fee"),
        step_fee=_money(raw["step_fee"], f"{here} step_fee"),
        minimum=_money(raw["minimum"], f"{here} minimum"),
        bands=tuple(bands),
    )


def price_list_read(path: Path) -> PriceList:
    where = path.name
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PriceListError(f"{where}: {exc}") from None
    currency = raw.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
        raise PriceListError(f"{where}: currency is a three-letter code such as USD")
    forms = raw.get("forms")
    if not isinstance(forms, dict) or not forms:
        raise PriceListError(f"{where}: list the prices of each dosage form under forms")
    return PriceList(currency=currency, forms={form: _form_prices(form, entry, where) for form, entry in forms.items()})


@functools.cache
def price_list() -> PriceList:
    """The pharmacy's price list, read once per process."""
    return price_list_read(PRICES)


def price_quote(*, dosage_form: str, containers: Sequence[PricedContainer], prices: PriceList | None = None) -> Quote:
    """The price of one fill of `dosage_form` made as `containers` (a kit's strengths in order)."""
    prices = prices or price_list()
    if dosage_form not in prices.forms:
        raise PriceListError(f"No price for the dosage form {dosage_form!r}")
    if not containers:
        raise ValueError("A fill has at least one container")
    form = prices.forms[dosage_form]
    lines = [QuoteLine("Preparation fee", form.fill_fee)]
    if len(containers) > 1 and form.step_fee:
        lines.append(QuoteLine(f"Titration kit: {len(containers) - 1} more container(s)",
                               form.step_fee * (len(containers) - 1)))  # fmt: skip
    for container in containers:
        if container.quantity < 0 or container.strength_mg <= 0:
            raise ValueError("A container holds 0 or more units of a strength above 0 mg")
        cost = container.quantity * form.unit_price(container.strength_mg)
        unit = f"{form.unit}s" if form.unit == "capsule" and container.quantity != 1 else form.unit
        lines.append(QuoteLine(f"{_plain(container.quantity)} {unit} of {_plain(container.strength_mg)} mg", cost))
    total = sum((line.amount for line in lines), Decimal(0))
    if total < form.minimum:
        lines.append(QuoteLine("Up to the minimum price", form.minimum - total))
        total = form.minimum
    return Quote(
        amount=total.quantize(CENT, rounding=ROUND_HALF_UP),
        currency=prices.currency,
        lines=tuple(QuoteLine(line.label, line.amount.quantize(CENT, rounding=ROUND_HALF_UP)) for line in lines),
    )


def _plain(value: Decimal) -> str:
    """1.50 as 1.5, 30.00 as 30."""
    return format(value.normalize(), "f")
