"""Screening flags: what a flag is, its severities, codes and sources, and how flags are ordered.

A ``hard_stop`` keeps a prescription from approval until a pharmacist verifies it (where it can be
verified at all), a ``warning`` needs a written reason or a verification, an ``info`` is for
reading only. ``source`` says what raised the flag, which decides how it may be verified
(``verification.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

HARD_STOP: Final = "hard_stop"
WARNING: Final = "warning"
INFO: Final = "info"
SEVERITIES: Final = (HARD_STOP, WARNING, INFO)

# What raised a flag.
SOURCE_PRESCRIPTION: Final = "prescription"  # the prescriber's fields (dose, quantity, the patient's address)
SOURCE_ANSWERS: Final = "answers"  # the patient's explicit yes/no answers
SOURCE_MEDICATIONS: Final = "medications"  # a line of current_medications
SOURCE_ALLERGIES: Final = "allergies"  # a line of allergies
SOURCE_HISTORY: Final = "history"  # earlier answers of the same patient
SOURCE_ORDERS: Final = "orders"  # the same patient's other prescriptions
SOURCES: Final = (
    SOURCE_PRESCRIPTION, SOURCE_ANSWERS, SOURCE_MEDICATIONS, SOURCE_ALLERGIES, SOURCE_HISTORY, SOURCE_ORDERS,
)  # fmt: skip

OPIOID_USE: Final = "opioid_use"
HEPATIC: Final = "hepatic"
NALTREXONE_ALLERGY: Final = "naltrexone_allergy"
DOSE_RANGE: Final = "dose_range"
DAILY_DOSE: Final = "daily_dose"
PREGNANCY: Final = "pregnancy"
INTERACTION_CODE: Final = "interaction"
SURGERY: Final = "surgery"
THYROID_CODE: Final = "thyroid"
IMMUNOSUPPRESSANT_CODE: Final = "immunosuppressant"
ALCOHOL: Final = "alcohol"
DUPLICATE_THERAPY: Final = "duplicate_therapy"  # naltrexone already taken (Revia, Vivitrol, Contrave)
DUPLICATE_ORDER: Final = "duplicate_order"  # another open prescription for the same patient
OPIOID_DISCLOSURE_CHANGED: Final = "opioid_disclosure_changed"  # an opioid disclosed earlier is missing now
LICENSURE: Final = "licensure"  # the patient lives where the pharmacy holds no licence
PRESCRIBER_LICENSURE: Final = "prescriber_licensure"  # the prescriber holds no licence in the patient's state
LIVER_OTHER: Final = "liver_other"  # liver disease other than acute hepatitis or failure
OPIOID_ANTAGONIST: Final = "opioid_antagonist"  # another opioid antagonist (naloxone, Relistor…)

_SEVERITY_ORDER: Final = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str  # hard_stop | warning | info
    message: str  # a plain sentence for a pharmacist
    field: str  # where it came from: "takes_opioids", "current_medications[2]", "strength_mg"
    value: str  # the answer or line as given
    source: str  # one of SOURCES
    matched_as: str = ""  # what a line matched, e.g. "hydrocodone (brand Norco)"

    def as_dict(self) -> dict[str, str]:
        # Flat string fields: no need for dataclasses.asdict's recursive deep copy.
        return {key: str(getattr(self, key)) for key in _FLAG_FIELDS}


_FLAG_FIELDS: Final = tuple(field.name for field in fields(Flag))


def order_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Hard stops first, then warnings, then info, each in the order raised; no exact duplicates."""
    unique = list(dict.fromkeys(flags))
    return sorted(unique, key=lambda flag: _SEVERITY_ORDER.get(flag.severity, len(SEVERITIES)))


def severity_of(flag: Flag | Mapping[str, Any]) -> str:
    return flag.severity if isinstance(flag, Flag) else str(flag.get("severity", ""))


def code_of(flag: Flag | Mapping[str, Any]) -> str:
    return flag.code if isinstance(flag, Flag) else str(flag.get("code", ""))


def source_of(flag: Flag | Mapping[str, Any]) -> str:
    return flag.source if isinstance(flag, Flag) else str(flag.get("source", ""))


def value_of(flag: Flag | Mapping[str, Any]) -> str:
    return flag.value if isinstance(flag, Flag) else str(flag.get("value", ""))


def blocks_approval(flags: Iterable[Flag | Mapping[str, Any]]) -> bool:
    return any(severity_of(flag) == HARD_STOP for flag in flags)


def warnings_needing_reason(flags: Iterable[Flag | Mapping[str, Any]]) -> list[str]:
    """Codes of the warning flags, each once, in order."""
    codes = [code_of(flag) for flag in flags if severity_of(flag) == WARNING]
    return list(dict.fromkeys(codes))
