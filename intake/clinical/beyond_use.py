"""Beyond-use dates by USP <795> (2023), from the table in ``data/usp795.json``.

A BUD is counted from the day of compounding and is never later than the earliest expiry of any
ingredient lot used (USP <795>); a lot that has expired is refused.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

AQUEOUS_UNPRESERVED: Final = "aqueous_unpreserved"
AQUEOUS_PRESERVED: Final = "aqueous_preserved"
NONAQUEOUS_ORAL_LIQUID: Final = "nonaqueous_oral_liquid"
NONAQUEOUS_SOLID: Final = "nonaqueous_solid"


@dataclass(frozen=True)
class BudRule:
    name: str
    days: int
    storage: str
    description: str
    reference: str


class ExpiredLotError(ValueError):
    """An ingredient lot expired on or before the day of compounding."""

    def __init__(self, message: str, *, expired: tuple[date, ...]) -> None:
        super().__init__(message)
        self.expired = expired


def bud_rules() -> dict[str, BudRule]:
    return dict(_rules())


def bud_rule_for(*, aqueous: bool, preserved: bool, liquid: bool) -> BudRule:
    """The USP <795> row for a preparation.

    Aqueous means water activity of 0.6 or more; for an aqueous preparation only the
    preservative matters, for a non-aqueous one only whether it is an oral liquid.
    """
    if aqueous:
        name = AQUEOUS_PRESERVED if preserved else AQUEOUS_UNPRESERVED
    else:
        name = NONAQUEOUS_ORAL_LIQUID if liquid else NONAQUEOUS_SOLID
    return _rules()[name]


def bud_rule_for_dosage_form(dosage_form: str) -> BudRule:
    """The rule a dosage form gets when its master formulation says nothing more (the shortest that
    can apply: drops and creams are taken as water-based and unpreserved)."""
    defaults = _table()["dosage_form_defaults"]
    if dosage_form not in defaults or dosage_form == "about":
        raise ValueError(f"No beyond-use rule for the dosage form {dosage_form!r}.")
    return _rules()[str(defaults[dosage_form])]


def beyond_use_date(*, rule: str, compounded_on: date, lot_expiries: Iterable[date] = ()) -> date:
    """``compounded_on`` plus the rule's days, never later than the earliest lot expiry."""
    rules = _rules()
    if rule not in rules:
        raise ValueError(f"Unknown beyond-use rule {rule!r}; expected one of {', '.join(rules)}.")
    limit = compounded_on + timedelta(days=rules[rule].days)
    return min([limit, *lot_expiries])


def check_lots_usable(*, lot_expiries: Iterable[date], compounded_on: date) -> None:
    """Raise ExpiredLotError if any lot expired on or before the day of compounding."""
    expired = tuple(sorted(expiry for expiry in lot_expiries if expiry <= compounded_on))
    if expired:
        shown = ", ".join(expiry.isoformat() for expiry in expired)
        raise ExpiredLotError(
            f"An ingredient lot expired on {shown}, on or before the compounding day "
            f"{compounded_on.isoformat()}; it cannot be used.",
            expired=expired,
        )


@functools.cache
def _table() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "data" / "usp795.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _rules() -> dict[str, BudRule]:
    table = _table()
    rules = {
        str(row["name"]): BudRule(
            name=str(row["name"]),
            days=int(row["days"]),
            storage=str(row["storage"]),
            description=str(row["description"]),
            reference=str(table["reference"]),
        )
        for row in table["rules"]
    }
    expected = {AQUEOUS_UNPRESERVED, AQUEOUS_PRESERVED, NONAQUEOUS_ORAL_LIQUID, NONAQUEOUS_SOLID}
    if set(rules) != expected or any(rule.days < 1 for rule in rules.values()):
        raise ValueError(f"usp795.json must hold the rules {sorted(expected)}, each of at least 1 day.")
    return rules
