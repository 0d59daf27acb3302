"""Run the clinical engine on a prescription with the patient's whole picture, and keep its flags.

The engine (intake/clinical/screening.py) takes plain values; this module reads them from the
database: the same patient's other open prescriptions from any prescriber, the earlier answers of
the patient's questionnaires (every version that django-simple-history kept, this prescription's
own included), and the states where the pharmacy holds a valid licence. A re-screening keeps a
pharmacist's verification only on a flag that is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Subquery
from django.utils import timezone

from intake.clinical.flags import DUPLICATE_ORDER, SEVERITIES
from intake.clinical.screening import (
    EarlierAnswer,
    Flag,
    OtherOrder,
    PrescriptionFacts,
    QuestionnaireAnswers,
    ScreeningContext,
    screen,
)
from intake.clinical.verification import flag_key, keep_verifications
from intake.models import OPEN_STATUSES, Prescriber, PrescriberLicence, Prescription, Questionnaire, StateLicence
from intake.models.prescriptions import flag_level_of
from intake.services.dispensing import fill_plan, plan_flags

_SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
# The newest versions of the patient's answers that screening compares with: years of refills
# each answered twice are far fewer, and the read stays bounded.
EARLIER_ANSWERS_READ = 100


def prescription_facts(
    *,
    dosage_form: str,
    strength_mg: Decimal,
    titration_mg: Iterable[Decimal],
    age_years: int,
    weight_kg: Decimal | None,
    quantity: int = 0,
    days_supply: int = 0,
    patient_state: str = "",
    allergies: Iterable[str] = (),
) -> PrescriptionFacts:
    return PrescriptionFacts(
        dosage_form=dosage_form,
        strength_mg=Decimal(strength_mg),
        titration_mg=tuple(Decimal(s) for s in titration_mg),
        patient_age_years=age_years,
        weight_kg=None if weight_kg is None else Decimal(weight_kg),
        quantity=quantity,
        days_supply=days_supply,
        patient_state=patient_state,
        allergies=tuple(allergies),
    )


def stored_flags(flags: Iterable[Flag], *, previous: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """The engine's flags as stored on a prescription and answered in its JSON: each with its
    `verification` (kept from an unchanged earlier flag, else None)."""
    return keep_verifications([flag.as_dict() for flag in flags], previous)


# --- The patient's picture ----------------------------------------------------------------------


@dataclass(frozen=True)
class PatientPicture:
    """What screening reads beyond the prescription: the engine's context, and the other open
    prescriptions themselves (locked), whose own duplicate_order flag may need this one added."""

    context: ScreeningContext
    others: list[Prescription]


def licensed_states() -> frozenset[str]:
    return StateLicence.objects.valid_states(timezone.localdate())


def prescriber_states(
    prescriber_id: int, *, registered: Prescriber | None = None, patient_state: str = ""
) -> frozenset[str]:
    """The states where the prescriber holds a licence valid today: the one they registered with
    and their further ones, in one query.

    With the prescriber's row in hand (`registered`) and the licence they registered with valid in
    the patient's state, that state alone answers, with no query: the screening asks only whether a
    licence covers the patient, and names the others only where none does.
    """
    today = timezone.localdate()
    if (
        registered is not None
        and patient_state.strip().upper() == registered.license_state
        and registered.license_expires >= today
    ):
        return frozenset({registered.license_state})
    # Unordered: SQLite refuses an ORDER BY (the models' default ordering) inside a UNION.
    own = Prescriber.objects.filter(pk=prescriber_id, license_expires__gte=today).order_by()
    further = PrescriberLicence.objects.filter(prescriber_id=prescriber_id, expires_on__gte=today).order_by()
    states = own.values_list("license_state").union(further.values_list("state"))
    return frozenset(state for (state,) in states)


def patient_picture(
    *,
    patient_id: int | None,
    prescription_id: int | None,
    with_answers: bool,
    new_patient: bool = False,
    prescriber_id: int | None = None,
    prescriber: Prescriber | None = None,
    patient_state: str = "",
) -> PatientPicture:
    """Read the patient's picture: at most three queries (none for the orders of a patient created
    just now), the pharmacy's licences from the process's copy. `with_answers`: also the earlier
    answers, which only a screening of answers compares with. `prescriber_id`: also the states the
    prescriber is licensed in; `prescriber`, their row in hand, in place of the id, with
    `patient_state`: see prescriber_states."""
    others: list[Prescription] = []
    if patient_id is not None and not new_patient:
        # Not locked: a row is locked only when its duplicate_order flag must change (rarely), so
        # screening two prescriptions of one patient at once does not wait on the other.
        open_orders = (
            Prescription.objects.select_related("prescriber__user")
            .filter(patient_id=patient_id, status__in=sorted(OPEN_STATUSES))
            .order_by("submitted_at", "id")
        )
        others = [order for order in open_orders if order.pk != prescription_id]
    earlier: tuple[EarlierAnswer, ...] = ()
    if with_answers and patient_id is not None and not new_patient:
        earlier = earlier_answers(patient_id=patient_id)
    states: frozenset[str] | None = None
    if prescriber is not None:
        states = prescriber_states(prescriber.pk, registered=prescriber, patient_state=patient_state)
    elif prescriber_id is not None:
        states = prescriber_states(prescriber_id)
    context = ScreeningContext(
        earlier_answers=earlier,
        other_open_orders=tuple(other_order(other) for other in others),
        licensed_states=licensed_states(),
        prescriber_states=states,
    )
    return PatientPicture(context=context, others=others)


def other_order(prescription: Prescription) -> OtherOrder:
    return OtherOrder(
        reference=prescription.reference,
        status=prescription.status,
        prescriber=prescription.prescriber.display_name,
        dosage_form=prescription.dosage_form,
        strength_mg=Decimal(prescription.strength_mg),
    )


def earlier_answers(*, patient_id: int) -> tuple[EarlierAnswer, ...]:
    """Every kept version of the patient's questionnaire answers, newest first, in one query.

    History rows are found through the questionnaires' ids (the history table's one indexed column
    besides the date), the questionnaires through the patient's prescriptions.
    """
    questionnaires = Questionnaire.objects.filter(prescription__patient_id=patient_id).values("id")
    rows = (
        Questionnaire.history.filter(id__in=Subquery(questionnaires))  # type: ignore[attr-defined]
        .exclude(history_type="-")
        .order_by("-history_date", "-history_id")
        .values_list(
            "prescription__reference", "submitted_at", "takes_opioids", "opioid_treatment_program",
            "current_medications",
        )[:EARLIER_ANSWERS_READ]
    )  # fmt: skip
    return tuple(
        EarlierAnswer(
            reference=reference or "",
            answered_on=timezone.localdate(submitted_at),
            takes_opioids=bool(takes_opioids),
            opioid_treatment_program=bool(program),
            current_medications=tuple(str(line) for line in medications or ()),
        )
        for reference, submitted_at, takes_opioids, program, medications in rows
    )


# --- Screening a stored prescription ------------------------------------------------------------


def facts_of(prescription: Prescription) -> PrescriptionFacts:
    patient = prescription.patient
    return prescription_facts(
        dosage_form=prescription.dosage_form,
        strength_mg=prescription.strength_mg,
        titration_mg=[step.strength_mg for step in prescription.titration_steps.all()],
        age_years=patient.age_on(timezone.localdate()),
        weight_kg=prescription.weight_kg,
        quantity=prescription.quantity,
        days_supply=prescription.days_supply,
        patient_state=patient.state,
        allergies=prescription.prescriber_allergies or (),
    )


def screen_prescription(
    prescription: Prescription,
    answers: Mapping[str, Any] | None = None,
    *,
    picture: PatientPicture | None = None,
) -> list[dict[str, Any]]:
    """Screen the prescription (and its questionnaire, if answered) with the patient's picture and
    store the flags on it; the other open prescriptions of the patient are marked too.

    `picture`: read beforehand when the answers are about to be written (so that the answers being
    replaced count as earlier ones); read here otherwise. The caller saves the prescription; this
    sets `flags` and `flag_level`.
    """
    if answers is None and hasattr(prescription, "questionnaire"):
        answers = prescription.questionnaire.answers()
    if picture is None:
        picture = patient_picture(
            patient_id=prescription.patient_id,
            prescription_id=prescription.pk,
            with_answers=answers is not None,
            prescriber_id=prescription.prescriber_id,
        )
    parsed = QuestionnaireAnswers.from_mapping(answers) if answers is not None else None
    flags = screen(facts_of(prescription), parsed, picture.context)
    # What the pharmacy would dispense is screened too: a plan that cannot match the prescription.
    found = [flag.as_dict() for flag in flags] + plan_flags(fill_plan(prescription).problems)
    prescription.flags = keep_verifications(found, prescription.flags or ())
    prescription.flag_level = flag_level_of(prescription.flags)
    duplicate_orders_mark(prescription, picture.others)
    return prescription.flags


def screen_new(prescription: Prescription, facts: PrescriptionFacts, picture: PatientPicture) -> None:
    """A new prescription: screened from its content (no answers yet) before its first INSERT."""
    prescription.flags = stored_flags(screen(facts, None, picture.context))
    prescription.flag_level = flag_level_of(prescription.flags)


def duplicate_orders_mark(prescription: Prescription, others: Sequence[Prescription]) -> None:
    """Give each of the patient's other open prescriptions a duplicate_order flag that names this
    one, so that whoever reviews either sees both. Writes only those whose flag changes."""
    if not others or prescription.status not in OPEN_STATUSES:
        return
    everyone = [prescription, *others]
    for other in others:
        named = tuple(other_order(order) for order in everyone if order.pk != other.pk)
        _duplicate_flag_set(other, named)


def duplicate_orders_refresh(prescription: Prescription) -> None:
    """A prescription closed: its patient's other open prescriptions no longer have it as a duplicate."""
    others = list(
        Prescription.objects.select_related("prescriber__user")
        .filter(patient_id=prescription.patient_id, status__in=sorted(OPEN_STATUSES))
        .exclude(pk=prescription.pk)
        .order_by("submitted_at", "id")
    )
    for other in others:
        named = tuple(other_order(order) for order in others if order.pk != other.pk)
        _duplicate_flag_set(other, named)


def _duplicate_flag_set(prescription: Prescription, named: tuple[OtherOrder, ...]) -> None:
    facts = PrescriptionFacts(dosage_form=prescription.dosage_form, strength_mg=Decimal(prescription.strength_mg))
    # Only the engine's duplicate_order flag is wanted here; the rest of this screening is not.
    wanted = [
        flag
        for flag in (screen(facts, None, ScreeningContext(other_open_orders=named)) if named else [])
        if flag.code == DUPLICATE_ORDER
    ]
    if _duplicate_keys(prescription.flags) == [flag_key(flag) for flag in wanted]:
        return
    # The row locked and read again before its flags are rewritten: a verification recorded on it
    # a moment ago is kept, not overwritten with the copy read above.
    locked = Prescription.objects.select_for_update(of=("self",)).get(pk=prescription.pk)
    current = [flag for flag in locked.flags if flag.get("code") == DUPLICATE_ORDER]
    kept = [flag for flag in locked.flags if flag.get("code") != DUPLICATE_ORDER]
    flags = kept + keep_verifications([flag.as_dict() for flag in wanted], current)
    # Worst first, as the engine orders them; the sort is stable, so each keeps its place.
    flags.sort(key=lambda flag: _SEVERITY_RANK.get(str(flag.get("severity")), len(SEVERITIES)))
    locked.flags = flags
    locked.flag_level = flag_level_of(flags)
    locked.save(update_fields=["flags", "flag_level", "updated_at"])
    prescription.flags, prescription.flag_level = locked.flags, locked.flag_level


def _duplicate_keys(flags: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [flag_key(flag) for flag in flags if flag.get("code") == DUPLICATE_ORDER]
