"""Run the clinical engine on a prescription and keep its flags with it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone

from intake.clinical.screening import HARD_STOP, INFO, WARNING, Flag, PrescriptionFacts, QuestionnaireAnswers, screen
from intake.models import FlagLevel, Prescription

_LEVEL_ORDER = {HARD_STOP: 3, WARNING: 2, INFO: 1}


def prescription_facts(
    *,
    dosage_form: str,
    strength_mg: Decimal,
    titration_mg: Iterable[Decimal],
    age_years: int,
    weight_kg: Decimal | None,
) -> PrescriptionFacts:
    return PrescriptionFacts(
        dosage_form=dosage_form,
        strength_mg=Decimal(strength_mg),
        titration_mg=tuple(Decimal(s) for s in titration_mg),
        patient_age_years=age_years,
        weight_kg=None if weight_kg is None else Decimal(weight_kg),
    )


def flag_level(flags: Iterable[Mapping[str, Any]]) -> str:
    worst = max((_LEVEL_ORDER.get(str(f.get("severity")), 0) for f in flags), default=0)
    return {3: FlagLevel.HARD_STOP, 2: FlagLevel.WARNING, 1: FlagLevel.INFO}.get(worst, FlagLevel.NONE)


def screen_prescription(prescription: Prescription, answers: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
    """Screen the prescription (and its questionnaire, if answered) and store the flags on it.

    The caller saves the prescription; this only sets `flags` and `flag_level`.
    """
    if answers is None and hasattr(prescription, "questionnaire"):
        answers = prescription.questionnaire.answers()
    facts = prescription_facts(
        dosage_form=prescription.dosage_form,
        strength_mg=prescription.strength_mg,
        titration_mg=[step.strength_mg for step in prescription.titration_steps.all()],
        age_years=prescription.patient.age_on(timezone.localdate()),
        weight_kg=prescription.weight_kg,
    )
    parsed = QuestionnaireAnswers.from_mapping(answers) if answers is not None else None
    flags: list[Flag] = screen(facts, parsed)
    prescription.flags = [flag.as_dict() for flag in flags]
    prescription.flag_level = flag_level(prescription.flags)
    return prescription.flags
