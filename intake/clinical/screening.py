"""Screening of a prescription, the patient's questionnaire and the patient's whole picture.

``screen`` turns plain facts into flags: a ``hard_stop`` keeps a prescription from approval, a
``warning`` needs the pharmacist's written reason, an ``info`` is for reading only. One flag per
field: two opioid lines give two ``opioid_use`` flags, each naming its own line. Like a DUR, it
looks beyond the one order when the caller gives a ``ScreeningContext``: the same patient's other
open prescriptions, earlier answers, and the states the pharmacy is licensed in.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from intake.clinical.dosing import DoseFacts, dose_flags, format_mg
from intake.clinical.flags import (
    ALCOHOL,
    DAILY_DOSE,
    DOSE_RANGE,
    DUPLICATE_ORDER,
    DUPLICATE_THERAPY,
    HARD_STOP,
    HEPATIC,
    IMMUNOSUPPRESSANT_CODE,
    INFO,
    INTERACTION_CODE,
    LICENSURE,
    LIVER_OTHER,
    NALTREXONE_ALLERGY,
    OPIOID_ANTAGONIST,
    OPIOID_DISCLOSURE_CHANGED,
    OPIOID_USE,
    PREGNANCY,
    SEVERITIES,
    SOURCE_ALLERGIES,
    SOURCE_ANSWERS,
    SOURCE_HISTORY,
    SOURCE_MEDICATIONS,
    SOURCE_ORDERS,
    SOURCE_PRESCRIPTION,
    SURGERY,
    THYROID_CODE,
    WARNING,
    Flag,
    blocks_approval,
    order_flags,
    warnings_needing_reason,
)
from intake.clinical.medications import (
    ANTAGONIST,
    IMMUNOSUPPRESSANT,
    INTERACTION,
    OPIOID,
    THYROID,
    MedicationMatch,
    match_medication,
)

# The names callers import from here as well as from flags.py.
__all__ = [
    "ALCOHOL", "DAILY_DOSE", "DOSE_RANGE", "DUPLICATE_ORDER", "DUPLICATE_THERAPY", "HARD_STOP", "HEPATIC",
    "IMMUNOSUPPRESSANT_CODE", "INFO", "INTERACTION_CODE", "LICENSURE", "LIVER_OTHER", "NALTREXONE_ALLERGY",
    "OPIOID_ANTAGONIST", "OPIOID_DISCLOSURE_CHANGED", "OPIOID_USE", "PREGNANCY", "SEVERITIES", "SURGERY",
    "THYROID_CODE", "WARNING", "EarlierAnswer", "Flag", "OtherOrder", "PrescriptionFacts", "QuestionnaireAnswers",
    "ScreeningContext", "blocks_approval", "opioids_named", "order_flags", "screen", "warnings_needing_reason",
]

LIVER_CONDITIONS: Final = ("none", "acute_hepatitis", "liver_failure", "other")
PREGNANCY_ANSWERS: Final = ("no", "pregnant", "planning", "breastfeeding")
_LIVER_HARD_STOPS: Final = frozenset({"acute_hepatitis", "liver_failure"})
_PREGNANCY_WORDS: Final = {
    "pregnant": "is pregnant",
    "planning": "is planning a pregnancy",
    "breastfeeding": "is breastfeeding",
}


@dataclass(frozen=True)
class PrescriptionFacts:
    dosage_form: str  # capsule | oral_liquid | sublingual_drops | topical_cream
    strength_mg: Decimal
    titration_mg: tuple[Decimal, ...] = ()  # strength of each titration step, in order
    patient_age_years: int = 40
    weight_kg: Decimal | None = None
    quantity: int = 0  # 0: not known
    days_supply: int = 0
    patient_state: str = ""  # two-letter state of the patient's address

    def dose_facts(self) -> DoseFacts:
        return DoseFacts(
            dosage_form=self.dosage_form, strength_mg=self.strength_mg, titration_mg=self.titration_mg,
            quantity=self.quantity, days_supply=self.days_supply, patient_age_years=self.patient_age_years,
            weight_kg=self.weight_kg,
        )  # fmt: skip


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


@dataclass(frozen=True)
class EarlierAnswer:
    """An earlier questionnaire answer of the same patient (this prescription's or another's)."""

    reference: str  # the prescription it answered
    answered_on: date
    takes_opioids: bool
    opioid_treatment_program: bool
    current_medications: tuple[str, ...] = ()


@dataclass(frozen=True)
class OtherOrder:
    """Another open prescription for the same patient, from any prescriber."""

    reference: str
    status: str
    prescriber: str
    dosage_form: str
    strength_mg: Decimal


@dataclass(frozen=True)
class ScreeningContext:
    """The patient's picture beyond this prescription, as plain values the caller reads."""

    earlier_answers: tuple[EarlierAnswer, ...] = ()
    other_open_orders: tuple[OtherOrder, ...] = ()
    # The states (two-letter codes) where the pharmacy holds a valid licence; None: not checked.
    licensed_states: frozenset[str] | None = None


def screen(
    facts: PrescriptionFacts,
    answers: QuestionnaireAnswers | None = None,
    context: ScreeningContext | None = None,
) -> list[Flag]:
    """Dose flags always, questionnaire flags when answered, the patient's picture when given:
    hard stops, then warnings, then info."""
    flags = dose_flags(facts.dose_facts())
    if answers is not None:
        flags.extend(questionnaire_flags(answers))
    if context is not None:
        flags.extend(context_flags(facts, answers, context))
    return order_flags(flags)


def questionnaire_flags(answers: QuestionnaireAnswers) -> list[Flag]:
    flags: list[Flag] = []
    flags.extend(_answer_flags(answers))
    for position, line in enumerate(answers.current_medications):
        flags.extend(_medication_line_flags(f"current_medications[{position}]", line))
    for position, line in enumerate(answers.allergies):
        flags.extend(_allergy_line_flags(f"allergies[{position}]", line))
    return flags


def context_flags(
    facts: PrescriptionFacts, answers: QuestionnaireAnswers | None, context: ScreeningContext
) -> list[Flag]:
    flags: list[Flag] = []
    if context.other_open_orders:
        flags.append(_duplicate_order_flag(context.other_open_orders))
    if context.licensed_states is not None and facts.patient_state.upper() not in context.licensed_states:
        state = facts.patient_state.upper() or "no state"
        flags.append(
            Flag(
                code=LICENSURE,
                severity=WARNING,
                message=f"The patient's address is in {state}, where the pharmacy holds no valid licence.",
                field="patient.address.state",
                value=state,
                source=SOURCE_PRESCRIPTION,
            )
        )
    if answers is not None:
        flags.extend(_disclosure_changed_flags(answers, context.earlier_answers))
    return flags


def opioids_named(lines: Iterable[str]) -> frozenset[str]:
    """The opioid generics that medication lines name (negated lines name none)."""
    return frozenset(match.generic for line in lines for match in match_medication(line) if match.kind == OPIOID)


def _duplicate_order_flag(orders: Sequence[OtherOrder]) -> Flag:
    described = "; ".join(
        f"{order.reference} ({order.dosage_form.replace('_', ' ')} {format_mg(order.strength_mg)} mg "
        f"from {order.prescriber}, {order.status.replace('_', ' ')})"
        for order in orders
    )
    return Flag(
        code=DUPLICATE_ORDER,
        severity=WARNING,
        message=f"The patient has another open prescription: {described}. Make sure it is not the same order twice.",
        field="patient",
        value=", ".join(order.reference for order in orders),
        source=SOURCE_ORDERS,
    )


def _disclosure_changed_flags(answers: QuestionnaireAnswers, earlier: Sequence[EarlierAnswer]) -> list[Flag]:
    """An opioid an earlier answer disclosed that this answer no longer names: a patient may leave
    it out to be approved, so a pharmacist asks before anything is dispensed."""
    named_now = opioids_named(answers.current_medications)
    says_opioids_now = answers.takes_opioids or answers.opioid_treatment_program or bool(named_now)
    flags: list[Flag] = []
    reported: set[str] = set()
    for answer in sorted(earlier, key=lambda a: a.answered_on):
        dropped = set(opioids_named(answer.current_medications) - named_now)
        if answer.opioid_treatment_program and not answer.takes_opioids and not says_opioids_now:
            dropped.add(_SAID_TREATMENT_PROGRAM)
        elif (answer.takes_opioids or answer.opioid_treatment_program) and not says_opioids_now:
            dropped.add(_SAID_OPIOID_USE)
        dropped -= reported
        if not dropped:
            continue
        reported.update(dropped)
        names = ", ".join(sorted(dropped))
        flags.append(
            Flag(
                code=OPIOID_DISCLOSURE_CHANGED,
                severity=HARD_STOP,
                message=f"An earlier answer ({answer.reference}, {answer.answered_on.isoformat()}) disclosed "
                f"{names}; this answer no longer does. Ask the patient before approving.",
                field="current_medications",
                value=names,
                source=SOURCE_HISTORY,
                matched_as=answer.reference,
            )
        )
    return flags


_SAID_OPIOID_USE: Final = "opioid use in the last 10 days"
_SAID_TREATMENT_PROGRAM: Final = "an opioid treatment program"


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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
                source=SOURCE_ANSWERS,
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
            Flag(
                code=code, severity=severity, message=message, field=field, value=line,
                source=SOURCE_MEDICATIONS, matched_as=_described(found),
            )  # fmt: skip
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
            DUPLICATE_THERAPY,
            WARNING,
            f"The patient already takes naltrexone ('{line}'): LDN on top of it duplicates the ingredient.",
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
            source=SOURCE_ALLERGIES,
            matched_as=_described(named),
        )
    ]


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


# --- data ---------------------------------------------------------------------------------------


@functools.cache
def screening_data() -> dict[str, Any]:
    path = Path(__file__).resolve().parent / "data" / "screening.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def alcohol_warning_above() -> int:
    """More drinks a week than this raise an alcohol warning."""
    return int(screening_data()["alcohol_warning_above_drinks_per_week"])


@functools.cache
def naltrexone_allergy_generics() -> frozenset[str]:
    return frozenset(str(name).lower() for name in screening_data()["naltrexone_allergy_generics"])
