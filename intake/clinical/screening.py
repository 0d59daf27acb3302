"""Screening of a prescription and of the patient's questionnaire (CONTRACT.md "Screening flags").

``screen`` turns plain facts into flags: a ``hard_stop`` keeps a prescription from approval, a
``warning`` needs the pharmacist's written reason, an ``info`` is for reading only. One flag per
source: two opioid lines give two ``opioid_use`` flags, each naming its own field.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from intake.clinical.medications import (
    ANTAGONIST,
    IMMUNOSUPPRESSANT,
    INTERACTION,
    OPIOID,
    THYROID,
    MedicationMatch,
    match_medication,
)

HARD_STOP: Final = "hard_stop"
WARNING: Final = "warning"
INFO: Final = "info"
SEVERITIES: Final = (HARD_STOP, WARNING, INFO)

# Flag codes. The first ten are the contract's; the last three are this module's own.
OPIOID_USE: Final = "opioid_use"
HEPATIC: Final = "hepatic"
NALTREXONE_ALLERGY: Final = "naltrexone_allergy"
DOSE_RANGE: Final = "dose_range"
PREGNANCY: Final = "pregnancy"
INTERACTION_CODE: Final = "interaction"
SURGERY: Final = "surgery"
THYROID_CODE: Final = "thyroid"
IMMUNOSUPPRESSANT_CODE: Final = "immunosuppressant"
ALCOHOL: Final = "alcohol"
LIVER_OTHER: Final = "liver_other"  # warning: liver disease other than acute hepatitis or failure
DUPLICATE_NALTREXONE: Final = "duplicate_naltrexone"  # info: naltrexone already among the medicines
OPIOID_ANTAGONIST: Final = "opioid_antagonist"  # info: another opioid antagonist (naloxone, Relistor…)

LIVER_CONDITIONS: Final = ("none", "acute_hepatitis", "liver_failure", "other")
PREGNANCY_ANSWERS: Final = ("no", "pregnant", "planning", "breastfeeding")
_LIVER_HARD_STOPS: Final = frozenset({"acute_hepatitis", "liver_failure"})
_PREGNANCY_WORDS: Final = {
    "pregnant": "is pregnant",
    "planning": "is planning a pregnancy",
    "breastfeeding": "is breastfeeding",
}

_SEVERITY_ORDER: Final = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str  # hard_stop | warning | info
    message: str  # a plain sentence for a pharmacist
    field: str  # where it came from: "takes_opioids", "current_medications[2]", "strength_mg"
    value: str  # the answer or line as given
    matched_as: str = ""  # what a line matched, e.g. "hydrocodone (brand Norco)"

    def as_dict(self) -> dict[str, str]:
        # Flat string fields: no need for dataclasses.asdict's recursive deep copy.
        return {key: str(getattr(self, key)) for key in _FLAG_FIELDS}


_FLAG_FIELDS: Final = tuple(field.name for field in fields(Flag))


@dataclass(frozen=True)
class PrescriptionFacts:
    dosage_form: str  # capsule | oral_liquid | sublingual_drops | topical_cream
    strength_mg: Decimal
    titration_mg: tuple[Decimal, ...] = ()  # strength of each titration step, in order
    patient_age_years: int = 40
    weight_kg: Decimal | None = None


@dataclass(frozen=True)
class QuestionnaireAnswers:
    takes_opioids: bool
    opioid_treatment_program: bool
    liver_condition: str  # none | acute_hepatitis | liver_failure | other
    pregnancy: str  # no | pregnant | planning | breastfeeding
    alcohol_drinks_per_week: int
    naltrexone_allergy: bool
    thyroid_medication: bool
    immunosuppressants: bool
    surgery_within_14_days: bool
    current_medications: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, answers: Mapping[str, Any]) -> QuestionnaireAnswers:
        """From the contract's JSON keys, already validated; other keys are ignored."""
        return cls(
            takes_opioids=bool(answers["takes_opioids"]),
            opioid_treatment_program=bool(answers["opioid_treatment_program"]),
            liver_condition=str(answers["liver_condition"]),
            pregnancy=str(answers["pregnancy"]),
            alcohol_drinks_per_week=int(answers["alcohol_drinks_per_week"]),
            naltrexone_allergy=bool(answers["naltrexone_allergy"]),
            thyroid_medication=bool(answers["thyroid_medication"]),
            immunosuppressants=bool(answers["immunosuppressants"]),
            surgery_within_14_days=bool(answers["surgery_within_14_days"]),
            current_medications=_lines(answers.get("current_medications")),
            allergies=_lines(answers.get("allergies")),
        )


def screen(facts: PrescriptionFacts, answers: QuestionnaireAnswers | None = None) -> list[Flag]:
    """Dose flags always, questionnaire flags when answered: hard stops, then warnings, then info."""
    # Imported here: dosing builds its flags with this module's Flag.
    from intake.clinical.dosing import dose_flags

    flags = dose_flags(facts)
    if answers is not None:
        flags.extend(questionnaire_flags(answers))
    return order_flags(flags)


def questionnaire_flags(answers: QuestionnaireAnswers) -> list[Flag]:
    flags: list[Flag] = []
    flags.extend(_answer_flags(answers))
    for position, line in enumerate(answers.current_medications):
        flags.extend(_medication_line_flags(f"current_medications[{position}]", line))
    for position, line in enumerate(answers.allergies):
        flags.extend(_allergy_line_flags(f"allergies[{position}]", line))
    return flags


def order_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Hard stops first, then warnings, then info, each in the order raised; no exact duplicates."""
    unique = list(dict.fromkeys(flags))
    return sorted(unique, key=lambda flag: _SEVERITY_ORDER.get(flag.severity, len(SEVERITIES)))


def blocks_approval(flags: Iterable[Flag | Mapping[str, Any]]) -> bool:
    return any(_severity(flag) == HARD_STOP for flag in flags)


def warnings_needing_reason(flags: Iterable[Flag | Mapping[str, Any]]) -> list[str]:
    """Codes of the warning flags, each once, in order."""
    codes = [_code(flag) for flag in flags if _severity(flag) == WARNING]
    return list(dict.fromkeys(codes))


# --- the answers ------------------------------------------------------------------------------


def _answer_flags(answers: QuestionnaireAnswers) -> list[Flag]:
    flags: list[Flag] = []
    if answers.takes_opioids:
        flags.append(
            Flag(
                code=OPIOID_USE,
                severity=HARD_STOP,
                message="The patient has taken an opioid in the last 10 days; naltrexone would block it "
                "and can bring on withdrawal.",
                field="takes_opioids",
                value="true",
            )
        )
    if answers.opioid_treatment_program:
        flags.append(
            Flag(
                code=OPIOID_USE,
                severity=HARD_STOP,
                message="The patient is in methadone or buprenorphine treatment; naltrexone would bring on withdrawal.",
                field="opioid_treatment_program",
                value="true",
            )
        )
    liver = answers.liver_condition
    if liver in _LIVER_HARD_STOPS:
        flags.append(
            Flag(
                code=HEPATIC,
                severity=HARD_STOP,
                message=f"The patient reports {liver.replace('_', ' ')}; naltrexone is not given with "
                "acute hepatitis or liver failure.",
                field="liver_condition",
                value=liver,
            )
        )
    elif liver != "none":
        # "other", or anything unexpected: a pharmacist looks rather than nothing being said.
        flags.append(
            Flag(
                code=LIVER_OTHER,
                severity=WARNING,
                message="The patient reports another liver condition; check it before approving.",
                field="liver_condition",
                value=liver,
            )
        )
    if answers.naltrexone_allergy:
        flags.append(
            Flag(
                code=NALTREXONE_ALLERGY,
                severity=HARD_STOP,
                message="The patient reports an allergy to naltrexone.",
                field="naltrexone_allergy",
                value="true",
            )
        )
    if answers.pregnancy != "no":
        flags.append(
            Flag(
                code=PREGNANCY,
                severity=WARNING,
                message=f"The patient {_PREGNANCY_WORDS.get(answers.pregnancy, 'reports ' + answers.pregnancy)}; "
                "LDN in pregnancy and breastfeeding needs the pharmacist's judgement.",
                field="pregnancy",
                value=answers.pregnancy,
            )
        )
    if answers.surgery_within_14_days:
        flags.append(
            Flag(
                code=SURGERY,
                severity=WARNING,
                message="Surgery within 14 days: LDN is stopped beforehand so that opioid pain relief works.",
                field="surgery_within_14_days",
                value="true",
            )
        )
    if answers.thyroid_medication:
        flags.append(
            Flag(
                code=THYROID_CODE,
                severity=WARNING,
                message="The patient takes thyroid medication; with LDN the thyroid dose may need "
                "lowering (Hashimoto's).",
                field="thyroid_medication",
                value="true",
            )
        )
    if answers.immunosuppressants:
        flags.append(
            Flag(
                code=IMMUNOSUPPRESSANT_CODE,
                severity=WARNING,
                message="The patient takes immunosuppressants; check with the prescriber, especially "
                "after a transplant.",
                field="immunosuppressants",
                value="true",
            )
        )
    limit = alcohol_warning_above()
    if answers.alcohol_drinks_per_week > limit:
        flags.append(
            Flag(
                code=ALCOHOL,
                severity=WARNING,
                message=f"The patient drinks {answers.alcohol_drinks_per_week} drinks a week, more than "
                f"{limit}; advise limiting alcohol.",
                field="alcohol_drinks_per_week",
                value=str(answers.alcohol_drinks_per_week),
            )
        )
    return flags


def _medication_line_flags(field: str, line: str) -> list[Flag]:
    by_kind: dict[str, list[MedicationMatch]] = {}
    for match in match_medication(line):
        by_kind.setdefault(match.kind, []).append(match)
    if not by_kind:
        return []
    flags: list[Flag] = []

    def add(code: str, severity: str, message: str, found: Sequence[MedicationMatch]) -> None:
        flags.append(
            Flag(code=code, severity=severity, message=message, field=field, value=line, matched_as=_described(found))
        )

    opioids = by_kind.get(OPIOID, [])
    if opioids:
        add(
            OPIOID_USE,
            HARD_STOP,
            f"The medication '{line}' contains an opioid ({_generics(opioids)}); "
            "naltrexone would block it and can bring on withdrawal.",
            opioids,
        )
    interactions = by_kind.get(INTERACTION, [])
    if interactions:
        reasons = "; ".join(f"{match.generic}: {match.drug_class}" for match in interactions)
        add(INTERACTION_CODE, WARNING, f"The medication '{line}' interacts with naltrexone ({reasons}).", interactions)
    thyroid = by_kind.get(THYROID, [])
    if thyroid:
        add(
            THYROID_CODE,
            WARNING,
            f"The medication '{line}' is a thyroid hormone; with LDN the thyroid dose may need lowering.",
            thyroid,
        )
    immunosuppressants = by_kind.get(IMMUNOSUPPRESSANT, [])
    if immunosuppressants:
        add(
            IMMUNOSUPPRESSANT_CODE,
            WARNING,
            f"The medication '{line}' is an immunosuppressant; check with the prescriber.",
            immunosuppressants,
        )
    antagonists = by_kind.get(ANTAGONIST, [])
    allergy_generics = naltrexone_allergy_generics()
    naltrexone = [match for match in antagonists if match.generic in allergy_generics]
    others = [match for match in antagonists if match.generic not in allergy_generics]
    if naltrexone:
        add(
            DUPLICATE_NALTREXONE,
            INFO,
            f"The patient already takes naltrexone ('{line}'): make sure the doses are not doubled.",
            naltrexone,
        )
    if others and not opioids:
        # Naloxone in Suboxone says nothing more than the buprenorphine's hard stop does.
        add(
            OPIOID_ANTAGONIST,
            INFO,
            f"The medication '{line}' is an opioid antagonist ({_generics(others)}); "
            "not a reason to stop, but it is often kept or given because of opioid use: ask.",
            others,
        )
    return flags


def _allergy_line_flags(field: str, line: str) -> list[Flag]:
    allergy_generics = naltrexone_allergy_generics()
    named = [match for match in match_medication(line) if match.generic in allergy_generics]
    if not named:
        return []
    return [
        Flag(
            code=NALTREXONE_ALLERGY,
            severity=HARD_STOP,
            message=f"The patient lists an allergy to '{line}', which is naltrexone.",
            field=field,
            value=line,
            matched_as=_described(named),
        )
    ]


def _of_kind(matches: Sequence[MedicationMatch], kind: str) -> list[MedicationMatch]:
    return [match for match in matches if match.kind == kind]


def _generics(matches: Sequence[MedicationMatch]) -> str:
    return ", ".join(dict.fromkeys(match.generic for match in matches))


def _described(matches: Sequence[MedicationMatch]) -> str:
    return "; ".join(match.describe() for match in matches)


def _lines(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    return tuple(str(line).strip() for line in value if str(line).strip())


def _severity(flag: Flag | Mapping[str, Any]) -> str:
    return flag.severity if isinstance(flag, Flag) else str(flag.get("severity", ""))


def _code(flag: Flag | Mapping[str, Any]) -> str:
    return flag.code if isinstance(flag, Flag) else str(flag.get("code", ""))


# --- data ---------------------------------------------------------------------------------------


@functools.cache
def _screening_data() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "data" / "screening.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def alcohol_warning_above() -> int:
    """More drinks a week than this raise an alcohol warning."""
    return int(_screening_data()["alcohol_warning_above_drinks_per_week"])


@functools.cache
def naltrexone_allergy_generics() -> frozenset[str]:
    return frozenset(str(name).lower() for name in _screening_data()["naltrexone_allergy_generics"])
