"""How a pharmacist clears a flag: verification (how it was checked) or a written reason.

The NCPDP DUR idea: a conflict, what the pharmacist did about it, and the result. A verification
names its method; a reason or note is a sentence a colleague could act on ("ok" documents nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
from intake.clinical.words import method_label

PRESCRIBER_CONFIRMED: Final = "prescriber_confirmed"
PDMP_REVIEWED: Final = "pdmp_reviewed"
PATIENT_INTERVIEW: Final = "patient_interview"
RECORDS_REVIEWED: Final = "records_reviewed"
# Each method in words, as the verify form offers it (data/words.json).
METHODS: Final[dict[str, str]] = {
    method: method_label(method)
    for method in (PRESCRIBER_CONFIRMED, PDMP_REVIEWED, PATIENT_INTERVIEW, RECORDS_REVIEWED)
}

# A hard stop from a medication line, earlier answers or other orders may be old, misread or
# stopped: the pharmacist can check it. One from the patient's own explicit answers cannot.
_VERIFIABLE_HARD_STOP_SOURCES: Final = frozenset({SOURCE_MEDICATIONS, SOURCE_HISTORY, SOURCE_ORDERS})

_WORD = re.compile(r"[^\W\d_]{2,}")


def verification_of(flag: Flag | Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The stored verification of a flag (a dict with method, note, by, at), or None."""
    if isinstance(flag, Flag):
        return None
    found = flag.get("verification")
    return found if isinstance(found, Mapping) and found else None


def is_verified(flag: Flag | Mapping[str, Any]) -> bool:
    return verification_of(flag) is not None


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
            f"A strength above {LDN_MAX_MG} mg is verified only by confirming it with the prescriber: "
            f"choose “{METHODS[PRESCRIBER_CONFIRMED]}”."
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


def flag_key(flag: Flag | Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What makes a flag the same flag on a new screening: a verification of it still stands."""
    if isinstance(flag, Flag):
        return flag.code, flag.source, flag.field, flag.value
    return code_of(flag), source_of(flag), str(flag.get("field", "")), value_of(flag)


def keep_verifications(
    new_flags: Iterable[Mapping[str, Any]], old_flags: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The new flags, each with the verification its unchanged predecessor had (same code, source,
    field and value); anything new or changed starts unverified."""
    verified = {flag_key(old): verification_of(old) for old in old_flags if is_verified(old)}
    return [{**flag, "verification": verified.get(flag_key(flag))} for flag in new_flags]


def hard_stops_blocking(flags: Iterable[Flag | Mapping[str, Any]]) -> list[str]:
    """Codes of the hard stops not verified, each once: each keeps the prescription from approval."""
    codes = [code_of(f) for f in flags if severity_of(f) == HARD_STOP and not is_verified(f)]
    return list(dict.fromkeys(codes))


def confirmations_missing(flags: Iterable[Flag | Mapping[str, Any]]) -> list[str]:
    """Codes of the warnings only the prescriber's confirmation clears, not verified yet."""
    codes = [code_of(f) for f in flags if needs_prescriber_confirmation(f) and not is_verified(f)]
    return list(dict.fromkeys(codes))


def reasons_needed(flags: Iterable[Flag | Mapping[str, Any]]) -> list[str]:
    """Codes of the warnings that need the pharmacist's written reason to approve: not verified, and
    not one that only the prescriber's confirmation clears. Each once, in order."""
    flags = list(flags)
    by_confirmation = set(confirmations_missing(flags))
    codes = [
        code_of(f)
        for f in flags
        if severity_of(f) == WARNING and not is_verified(f) and code_of(f) not in by_confirmation
    ]
    return list(dict.fromkeys(codes))
