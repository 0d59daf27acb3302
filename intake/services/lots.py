"""An ingredient lot as written on a compounding or batch record: what compounding, stock and
recalls all read, kept apart so that none of them imports another for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LotInput:
    ingredient: str
    lot: str
    expires: date
    manufacturer: str = ""
    quantity_used: str = ""
