"""How a pharmacist clears a flag: verification (how it was checked) or a written reason.

The NCPDP DUR idea: a conflict, what the pharmacist did about it, and the result. A verification
names its method; a reason or note is a sentence a colleague could act on ("ok" documents nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from intake.clinical.dosing import LDN_MAX_MG
from intake.clinical.flags import (
    DOSE_RANGE,
    HARD_STOP,
    SOURCE_HISTORY,
    SOURCE_MEDICATIONS,
    SOURCE_ORDERS,
    WARNING,
    Flag,
    code_of,
    severity_of,
    source_of,
    value_of,
)
from intake.clinical.screening import screening_data

PRESCRIBER_CONFIRMED: Final = "prescriber_confirmed"
PDMP_REVIEWED: Final = "pdmp_reviewed"
PATIENT_INTERVIEW: Final = "patient_interview"
RECORDS_REVIEWED: Final = "records_reviewed"
METHODS: Final[dict[str, str]] = {
    PRESCRIBER_CONFIRMED: "Confirmed with the prescriber",
    PDMP_REVIEWED: "Checked the state PDMP report",
    PATIENT_INTERVIEW: "Spoke with the patient",
    RECORDS_REVIEWED: "Reviewed the patient's records",
}

# A hard stop from a medication line, earlier answers or other orders may be old, misread or
# stopped: the pharmacist can check it. One from the patient's own explicit answers cannot.
_VERIFIABLE_HARD_STOP_SOURCES: Final = frozenset({SOURCE_MEDICATIONS, SOURCE_HISTORY, SOURCE_ORDERS})

_WORD = re.compile(r"[^\W\d_]{2,}")


def is_verifiable(flag: Flag | Mapping[str, Any]) -> bool:
    """False for a hard stop that only a rejection, a correction or a new questionnaire can end."""
    if severity_of(flag) != HARD_STOP:
        return True
    return source_of(flag) in _VERIFIABLE_HARD_STOP_SOURCES


def needs_prescriber_confirmation(flag: Flag | Mapping[str, Any]) -> bool:
    """A strength above the LDN range: the commonest serious dose error is a tenfold slip (45 mg for
    4.5), so only the prescriber's confirmation clears it, never a reason written at the bench."""
    if code_of(flag) != DOSE_RANGE or severity_of(flag) != WARNING:
        return False
    try:
        return Decimal(value_of(flag)) > LDN_MAX_MG
    except InvalidOperation:
        return False


def method_problem(flag: Flag | Mapping[str, Any], method: str) -> str | None:
    """Why this method cannot verify this flag, or None."""
    if method not in METHODS:
        return f"Choose how the flag was checked: {', '.join(METHODS)}."
    if needs_prescriber_confirmation(flag) and method != PRESCRIBER_CONFIRMED:
        return (
            f"A strength above {LDN_MAX_MG} mg is verified only by confirming it with the prescriber "
            f"({PRESCRIBER_CONFIRMED})."
        )
    return None


def reason_problem(text: str) -> str | None:
    """Why a reason or note does not document anything, or None when it is a real sentence."""
    data = screening_data()
    least_characters, least_words = int(data["reason_min_characters"]), int(data["reason_min_words"])
    cleaned = " ".join((text or "").split())
    words = {word.casefold() for word in _WORD.findall(cleaned)}
    if len(cleaned) < least_characters or len(words) < least_words:
        return (
            f"Write a sentence a colleague could act on (at least {least_characters} characters and "
            f"{least_words} words): what was checked and what it showed."
        )
    return None
