"""Compounding records: the batch, its ingredient lots and its beyond-use date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from accounts.models import User
from intake.models import Prescription


@dataclass(frozen=True)
class LotInput:
    ingredient: str
    lot: str
    expires: date
    manufacturer: str = ""


def compounding_record_create(
    *,
    prescription_id: int,
    actor: User,
    lots: Sequence[LotInput],
    quantity_made: int,
    master_formulation_id: int | None = None,
    compounded_at: datetime | None = None,
    quality_checks: str = "",
    deviations: str = "",
) -> Prescription:
    raise NotImplementedError  # being written
