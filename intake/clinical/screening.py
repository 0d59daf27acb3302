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
from typing import Any, Final, NamedTuple

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
    PRESCRIBER_LICENSURE,
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
    NALTREXONE,
    OPIOID,
    THYROID,
    LineReading,
    MedicationMatch,
    ingredients,
    match_medication,
    read_line,
)

# The names callers import from here as well as from flags.py.
__all__ = [
    "ALCOHOL",
    "DAILY_DOSE",
    "DOSE_RANGE",
    "DUPLICATE_ORDER",
    "DUPLICATE_THERAPY",
    "HARD_STOP",
    "HEPATIC",
    "IMMUNOSUPPRESSANT_CODE",
    "INFO",
    "INTERACTION_CODE",
    "LICENSURE",
    "PRESCRIBER_LICENSURE",
    "LIVER_OTHER",
    "NALTREXONE_ALLERGY",
    "OPIOID_ANTAGONIST",
    "OPIOID_DISCLOSURE_CHANGED",
    "OPIOID_USE",
    "PREGNANCY",
    "SEVERITIES",
    "SURGERY",
    "THYROID_CODE",
    "WARNING",
    "EarlierAnswer",
    "Flag",
    "OtherOrder",
    "PrescriptionFacts",
    "QuestionnaireAnswers",
    "ScreeningContext",
    "blocks_approval",
    "opioids_named",
    "order_flags",
    "screen",
    "warnings_needing_reason",
]

LIVER_CONDITIONS: Final = ("none", "acute_hepatitis", "liver_failure", "other")
# A prescription in one of these is no longer open: it is no duplicate of a new order.
CLOSED_STATUSES: Final = frozenset({"completed", "rejected", "cancelled"})
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
    allergies: tuple[str, ...] = ()  # the patient's allergies as the prescriber wrote them

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
        """From the questionnaire's JSON keys, already validated; other keys are ignored."""
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
    # The states where the prescriber holds a valid licence (registered and further ones); where the
    # one they registered with covers the patient's state, that state alone; None: not checked.
    prescriber_states: frozenset[str] | None = None


def screen(
    facts: PrescriptionFacts,
    answers: QuestionnaireAnswers | None = None,
    context: ScreeningContext | None = None,
) -> list[Flag]:
    """Dose flags always, questionnaire flags when answered, the patient's picture when given:
    hard stops, then warnings, then info."""
    flags = dose_flags(facts.dose_facts())
    flags.extend(prescription_allergy_flags(facts.allergies))
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


def prescription_allergy_flags(allergies: Iterable[str]) -> list[Flag]:
    """The allergies the prescriber wrote, read as the patient's own list is; the prescriber
    raised them, so they cannot be verified away (only corrected, or the order rejected)."""
    flags: list[Flag] = []
    for position, line in enumerate(allergies):
        flags.extend(
            _allergy_line_flags(f"prescriber_allergies[{position}]", line, source=SOURCE_PRESCRIPTION, by="prescriber")
        )
    return flags


def context_flags(
    facts: PrescriptionFacts, answers: QuestionnaireAnswers | None, context: ScreeningContext
) -> list[Flag]:
    flags: list[Flag] = []
    open_orders = [order for order in context.other_open_orders if order.status not in CLOSED_STATUSES]
    if open_orders:
        flags.append(_duplicate_order_flag(open_orders))
    if context.licensed_states is not None:
        licence = _licensure_flag(facts.patient_state, context.licensed_states)
        if licence is not None:
            flags.append(licence)
    if context.prescriber_states is not None:
        prescriber_licence = _prescriber_licensure_flag(facts.patient_state, context.prescriber_states)
        if prescriber_licence is not None:
            flags.append(prescriber_licence)
    if answers is not None:
        flags.extend(_disclosure_changed_flags(answers, context.earlier_answers))
    return flags


def opioids_named(lines: Iterable[str]) -> frozenset[str]:
    """The opioid generics that medication lines name, taken now or in the past (denied ones: none)."""
    return frozenset(match.generic for line in lines for match in match_medication(line) if match.kind == OPIOID)


def _opioids_taken_now(lines: Iterable[str]) -> frozenset[str]:
    """The opioid generics that medication lines name as taken now (not denied, not past use)."""
    return frozenset(
        match.generic
        for line in lines
        for match in match_medication(line)
        if match.kind == OPIOID and not match.past_use
    )


def _licensure_flag(patient_state: str, licensed_states: Iterable[str]) -> Flag | None:
    state = patient_state.strip().upper()
    if state and state in {licensed.strip().upper() for licensed in licensed_states}:
        return None
    if not state:
        message = "The patient's address has no state, so the pharmacy's licence for it cannot be checked."
    else:
        message = f"The patient's address is in {state}, where the pharmacy holds no valid licence."
    return Flag(
        code=LICENSURE,
        severity=WARNING,
        message=message,
        field="patient.address.state",
        value=state,
        source=SOURCE_PRESCRIPTION,
    )


def _prescriber_licensure_flag(patient_state: str, prescriber_states: Iterable[str]) -> Flag | None:
    """A prescriber must hold a licence where the patient is (telehealth included). The patient's
    state unknown is the pharmacy's own licensure flag's business, not raised twice."""
    state = patient_state.strip().upper()
    held = sorted({licensed.strip().upper() for licensed in prescriber_states})
    if not state or state in held:
        return None
    on_file = f"'s licences on file are for {', '.join(held)}" if held else " has no valid licence on file"
    return Flag(
        code=PRESCRIBER_LICENSURE,
        severity=WARNING,
        message=(
            f"The patient's address is in {state}, and the prescriber{on_file}. Check with the {state} board "
            "that the prescriber may prescribe for a patient there."
        ),
        field="patient.address.state",
        value=state,
        source=SOURCE_PRESCRIPTION,
    )


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
    """An opioid an earlier answer disclosed as taken that this answer no longer names: a patient may
    leave it out to be approved, so a pharmacist asks before anything is dispensed."""
    named_now = opioids_named(answers.current_medications)
    says_opioids_now = answers.takes_opioids or answers.opioid_treatment_program or bool(named_now)
    flags: list[Flag] = []
    reported: set[str] = set()
    for answer in sorted(earlier, key=lambda a: a.answered_on):
        # An opioid once written as past use ("stopped tramadol last year") may rightly go unsaid now.
        dropped = set(_opioids_taken_now(answer.current_medications) - named_now)
        if says_opioids_now:
            # "Opioids" then "Norco": the same disclosure, now named.
            dropped.discard(_UNSPECIFIED_OPIOID)
        if answer.opioid_treatment_program and not (answers.opioid_treatment_program or named_now):
            dropped.add(_SAID_TREATMENT_PROGRAM)
        if answer.takes_opioids and not says_opioids_now:
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
_UNSPECIFIED_OPIOID: Final = "unspecified opioid"


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


class _Finding(NamedTuple):
    """A flag a line's reading raises, its message split around the line as written."""

    code: str
    severity: str
    before: str
    after: str
    matched_as: str


def _medication_line_flags(field: str, line: str) -> list[Flag]:
    reading = read_line(line)
    if not reading.matches:
        # Nothing named, or named only to say it is not taken ("no opioids", "denies narcotics").
        return []
    return [
        Flag(
            code=finding.code,
            severity=finding.severity,
            message=finding.before + line + finding.after,
            field=field,
            value=line,
            source=SOURCE_MEDICATIONS,
            matched_as=finding.matched_as,
        )  # fmt: skip
        for finding in _medication_findings(reading)
    ]


@functools.lru_cache(maxsize=16384)
def _medication_findings(reading: LineReading) -> tuple[_Finding, ...]:
    # Many lines share the reading of the one name they hold ("Norco 5/325", "norco prn").
    by_kind: dict[str, list[MedicationMatch]] = {}
    for match in reading.matches:
        by_kind.setdefault(match.kind, []).append(match)
    findings: list[_Finding] = []
    opioids = by_kind.get(OPIOID, [])
    if opioids:
        past = _past_use_words(opioids)
        if past:
            after = (
                f"' names an opioid ({_generics(opioids)}) with words of past use ('{past}'): it reads as "
                "past use, but it stays a stop until the last dose is confirmed over 10 days ago (a last "
                "dose date, a PDMP report or the prescriber's word)."
            )
        else:
            after = (
                f"' contains an opioid ({_generics(opioids)}); naltrexone would block it and can bring on withdrawal."
            )
        findings.append(_Finding(OPIOID_USE, HARD_STOP, "The medication '", after, _described(opioids)))
    interactions = by_kind.get(INTERACTION, [])
    if interactions:
        reasons = "; ".join(f"{match.generic}: {match.drug_class}" for match in interactions)
        after = f"' interacts with naltrexone ({reasons}){_past_note(interactions)}."
        findings.append(_Finding(INTERACTION_CODE, WARNING, "The medication '", after, _described(interactions)))
    thyroid = by_kind.get(THYROID, [])
    if thyroid:
        after = f"' is a thyroid hormone{_past_note(thyroid)}; with LDN the thyroid dose may need lowering."
        findings.append(_Finding(THYROID_CODE, WARNING, "The medication '", after, _described(thyroid)))
    immunosuppressants = by_kind.get(IMMUNOSUPPRESSANT, [])
    if immunosuppressants:
        after = f"' is an immunosuppressant{_past_note(immunosuppressants)}; check with the prescriber."
        findings.append(
            _Finding(IMMUNOSUPPRESSANT_CODE, WARNING, "The medication '", after, _described(immunosuppressants))
        )
    antagonists = by_kind.get(ANTAGONIST, [])
    naltrexone = [match for match in antagonists if match.role == NALTREXONE]
    others = [match for match in antagonists if match.role != NALTREXONE]
    if naltrexone:
        after = f"'){_past_note(naltrexone)}: LDN on top of it duplicates the ingredient."
        findings.append(
            _Finding(
                DUPLICATE_THERAPY, WARNING, "The patient already takes naltrexone ('", after, _described(naltrexone)
            )
        )
    if others and not opioids:
        # Naloxone in Suboxone says nothing more than the buprenorphine's hard stop does.
        after = (
            f"' is an opioid antagonist ({_generics(others)}); not a reason to stop, but it is often kept "
            "or given because of opioid use: ask."
        )
        findings.append(_Finding(OPIOID_ANTAGONIST, INFO, "The medication '", after, _described(others)))
    return tuple(findings)


def _allergy_line_flags(field: str, line: str, *, source: str = SOURCE_ALLERGIES, by: str = "patient") -> list[Flag]:
    # Only naltrexone matters here: an opioid named among allergies is not opioid use, and a
    # denied allergy ("not allergic to naltrexone", "NKDA") names nothing.
    named = [match for match in read_line(line).matches if match.role == NALTREXONE]
    if not named:
        return []
    return [
        Flag(
            code=NALTREXONE_ALLERGY,
            severity=HARD_STOP,
            message=f"The {by} lists an allergy to '{line}', which is naltrexone.",
            field=field,
            value=line,
            source=source,
            matched_as=_described(named),
        )
    ]


def _past_use_words(matches: Sequence[MedicationMatch]) -> str:
    """The words of past use when every match reads as past use; "" when any is taken now."""
    if all(match.past_use for match in matches):
        return ", ".join(dict.fromkeys(match.past_use for match in matches))
    return ""


def _past_note(matches: Sequence[MedicationMatch]) -> str:
    past = _past_use_words(matches)
    return f" (it reads as past use: '{past}')" if past else ""


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
    """The ingredients that make an allergy line a naltrexone allergy: the table's naltrexone role."""
    return frozenset(name for name, ingredient in ingredients().items() if ingredient.role == NALTREXONE)
