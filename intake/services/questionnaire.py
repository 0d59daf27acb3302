"""The patient's questionnaire: found by its private token, unlocked by the date of birth."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from intake.errors import Conflict, NotFound, WorkflowError
from intake.models import (
    Action,
    LiverCondition,
    Pregnancy,
    Prescription,
    PrescriptionStatus,
    Questionnaire,
)
from intake.services.events import prescription_event_record
from intake.services.screening import patient_picture, screen_prescription
from intake.services.workflow import transition

PATIENT_LINK = "patient (private link)"
MAX_LIST_ITEMS = 50
MAX_ITEM_LENGTH = 200
BOOLEAN_ANSWERS = (
    "takes_opioids", "opioid_treatment_program", "naltrexone_allergy", "thyroid_medication",
    "immunosuppressants", "surgery_within_14_days",
)  # fmt: skip
# The short re-screen asked before every refill (and accepted wherever earlier answers exist): opioids
# in the last 10 days, the liver, pregnancy, and the medicines taken now. The other answers carry
# over from the patient's earlier ones; the full set is accepted too.
RESCREEN_ANSWERS = ("takes_opioids", "liver_condition", "pregnancy")


# What new_questionnaire_token() makes (URL-safe base64); anything else is not looked up at all,
# so odd input (NUL characters, kilobytes of text) never reaches the database.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class LinkExpired(WorkflowError):
    status_code = 410
    default_message = "This questionnaire link has expired. Call the pharmacy for a new one."


def questionnaire_prescription(token: str) -> Prescription:
    """The prescription behind a questionnaire link; NotFound for an unknown token, LinkExpired after expiry."""
    prescription = (
        Prescription.objects.select_related("patient").filter(questionnaire_token=token).first()
        if token and TOKEN_PATTERN.match(token)
        else None
    )
    if prescription is None:
        raise NotFound()
    if prescription.questionnaire_expires_at < timezone.now():
        raise LinkExpired()
    return prescription


def date_of_birth_matches(prescription: Prescription, date_of_birth: date | None) -> bool:
    return date_of_birth is not None and prescription.patient.date_of_birth == date_of_birth


def questionnaire_editable(prescription: Prescription) -> bool:
    """Answers can be corrected until a pharmacist starts the review."""
    return prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE or (
        prescription.status == PrescriptionStatus.PENDING_REVIEW and prescription.claimed_by_id is None
    )


def questionnaire_closed_reason(prescription: Prescription) -> str:
    """Why the answers can no longer be changed online, in words for the patient."""
    if prescription.status in (PrescriptionStatus.REJECTED, PrescriptionStatus.CANCELLED):
        return gettext("This prescription is closed, so no answers are needed any more.")
    return gettext(
        "A pharmacist has started reviewing your prescription, so your answers can no longer be changed "
        "online. If something has changed, call the pharmacy."
    )


def answers_errors(answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Domain checks of already-typed answers (forms and serializers check the types)."""
    errors: dict[str, list[str]] = {}
    for name in BOOLEAN_ANSWERS:
        if not isinstance(answers.get(name), bool):
            errors[name] = ["Answer yes or no."]
    if answers.get("liver_condition") not in LiverCondition.values:
        errors["liver_condition"] = ["Choose one of the answers."]
    if answers.get("pregnancy") not in Pregnancy.values:
        errors["pregnancy"] = ["Choose one of the answers."]
    drinks = answers.get("alcohol_drinks_per_week")
    if not isinstance(drinks, int) or isinstance(drinks, bool) or drinks < 0 or drinks > 500:
        errors["alcohol_drinks_per_week"] = ["Enter the number of drinks in a usual week (0 or more)."]
    for name in ("current_medications", "allergies"):
        items = answers.get(name)
        if items is None:
            errors[name] = ["List each item; an empty list when there is none."]
        elif not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            errors[name] = ["List each item as text."]
        elif len(items) > MAX_LIST_ITEMS:
            errors[name] = [f"List at most {MAX_LIST_ITEMS} items."]
        elif any(len(item) > MAX_ITEM_LENGTH for item in items):
            errors[name] = [f"Keep each item to {MAX_ITEM_LENGTH} characters."]
    if answers.get("attestation") is not True:
        errors["attestation"] = ["Confirm that your answers are true and complete."]
    return errors


def _clean_list(items: Any) -> list[str]:
    return [item.strip() for item in items or [] if item and item.strip()]


def with_earlier_answers(answers: Mapping[str, Any], earlier: Questionnaire | None) -> dict[str, Any]:
    """A re-screen's answers completed from the earlier ones: what was not asked again carries
    over; `new_medications` are added to the medicines listed before (or to those listed now).

    Without earlier answers every question must be answered (the checks name what is missing).
    """
    completed = {name: value for name, value in answers.items() if name != "new_medications"}
    if earlier is not None:
        for name, value in earlier.answers().items():
            completed.setdefault(name, value)
    new = answers.get("new_medications")
    if new:
        listed = completed.get("current_medications") or []
        if isinstance(new, list | tuple) and isinstance(listed, list | tuple):
            completed["current_medications"] = [*listed, *new]
        else:
            completed["current_medications"] = new  # not a list: answers_errors says so
    return completed


def is_rescreen(prescription: Prescription) -> bool:
    """A refill's link asks the short re-screen (the patient answered the full questionnaire before)."""
    return prescription.fill_number > 1


@transaction.atomic(durable=True)
def questionnaire_submit(
    *, token: str, date_of_birth: date | None, answers: Mapping[str, Any], ip_address: str | None = None
) -> Prescription:
    """Store the patient's answers, screen them, and move the prescription on to review.

    A wrong date of birth changes nothing and reveals nothing (ValidationError on date_of_birth).
    """
    prescription = questionnaire_prescription(token)
    if not date_of_birth_matches(prescription, date_of_birth):
        raise ValidationError({"date_of_birth": ["This date of birth does not match the prescription."]})
    if not questionnaire_editable(prescription):
        raise Conflict(questionnaire_closed_reason(prescription))
    existing = Questionnaire.objects.filter(prescription=prescription).first()
    answers = with_earlier_answers(answers, existing)
    errors = answers_errors(answers)
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    values = {name: answers[name] for name in BOOLEAN_ANSWERS}
    values.update(
        liver_condition=answers["liver_condition"],
        pregnancy=answers["pregnancy"],
        alcohol_drinks_per_week=answers["alcohol_drinks_per_week"],
        current_medications=_clean_list(answers.get("current_medications")),
        allergies=_clean_list(answers.get("allergies")),
        attested_at=now,
        submitted_from_ip=ip_address,
    )

    def record_and_screen(locked: Prescription) -> None:
        if not questionnaire_editable(locked):
            raise Conflict(questionnaire_closed_reason(locked))
        # Read before the answers are written: the answers they replace count as earlier ones, so
        # a re-answer that drops a disclosed opioid is flagged.
        picture = patient_picture(
            patient_id=locked.patient_id,
            prescription_id=locked.pk,
            with_answers=True,
            prescriber_id=locked.prescriber_id,
        )
        questionnaire, _created = Questionnaire.objects.update_or_create(
            prescription=locked, defaults={**values, "submitted_at": now}
        )
        screen_prescription(locked, questionnaire.answers(), picture=picture)

    if prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE:
        return transition(
            prescription_id=prescription.pk,
            action=Action.QUESTIONNAIRE,
            actor=None,
            actor_label=PATIENT_LINK,
            before=record_and_screen,
        )
    # Answers corrected while still waiting for review: same status, new flags, on record.
    locked = Prescription.objects.select_for_update().select_related("patient").get(pk=prescription.pk)
    record_and_screen(locked)
    locked.save()
    prescription_event_record(
        prescription=locked,
        action=Action.QUESTIONNAIRE,
        from_status=locked.status,
        to_status=locked.status,
        actor_label=PATIENT_LINK,
        message="Answers corrected by the patient",
    )
    return locked
