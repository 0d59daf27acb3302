"""The side-effect check-in: found by its private token, unlocked by the date of birth like the
questionnaire; answers that need a pharmacist land in the staff's follow-up list."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from intake.clinical.follow_up import LEVELS, follow_up_assess, symptom_labels
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import Action, FollowUp, NotificationEvent
from intake.notifications.outbox import notification_record
from intake.services.events import prescription_event_record
from intake.services.questionnaire import TOKEN_PATTERN, LinkExpired
from intake.services.workflow import MAX_TEXT

PATIENT_CHECK_IN = "patient (check-in link)"


def follow_up_by_token(token: str) -> FollowUp:
    """NotFound for an unknown token, LinkExpired (410) after expiry."""
    follow_up = (
        FollowUp.objects.select_related("prescription__patient").filter(token=token).first()
        if token and TOKEN_PATTERN.match(token)
        else None
    )
    if follow_up is None:
        raise NotFound()
    if follow_up.answered_at is None and follow_up.expires_at < timezone.now():
        raise LinkExpired("This check-in link has expired. Call the pharmacy if you have questions.")
    return follow_up


@transaction.atomic(durable=True)
def follow_up_submit(
    *, token: str, date_of_birth: date | None, symptoms: Mapping[str, str], other_effects: str = "",
    wants_call: bool = False,
) -> FollowUp:  # fmt: skip
    """Store the answers once, assess them, and tell the pharmacy when a pharmacist is needed."""
    found = follow_up_by_token(token)
    if date_of_birth is None or found.prescription.patient.date_of_birth != date_of_birth:
        raise ValidationError({"date_of_birth": ["This date of birth does not match."]})
    follow_up = FollowUp.objects.select_for_update().select_related("prescription").get(pk=found.pk)
    if follow_up.answered_at is not None:
        raise Conflict("Thank you: this check-in was already answered. Call the pharmacy to add anything.")
    errors: dict[str, list[str]] = {}
    for code in symptom_labels():
        if symptoms.get(code) not in LEVELS:
            errors[code] = ["Choose one of the answers."]
    text = (other_effects or "").strip()
    if len(text) > MAX_TEXT:
        errors["other_effects"] = [f"Keep it to {MAX_TEXT} characters."]
    if errors:
        raise ValidationError(errors)
    assessment = follow_up_assess(
        symptoms={code: symptoms[code] for code in symptom_labels()}, other_effects=text, wants_call=wants_call
    )
    for code in symptom_labels():
        setattr(follow_up, code, symptoms[code])
    follow_up.other_effects = text
    follow_up.wants_call = bool(wants_call)
    follow_up.needs_pharmacist = assessment.needs_pharmacist
    follow_up.reasons = list(assessment.reasons)
    follow_up.advice = list(assessment.advice)
    follow_up.answered_at = timezone.now()
    follow_up.save()
    prescription = follow_up.prescription
    prescription_event_record(
        prescription=prescription, action=Action.FOLLOW_UP, from_status=prescription.status,
        to_status=prescription.status, actor_label=PATIENT_CHECK_IN,
        message="Check-in answered" + ("; needs a pharmacist" if assessment.needs_pharmacist else ""),
        details={"reasons": list(assessment.reasons), "fill": prescription.fill_number},
    )  # fmt: skip
    if assessment.needs_pharmacist:
        notification_record(prescription=prescription, event=NotificationEvent.FOLLOW_UP_FLAGGED)
    return follow_up


def follow_ups_for_pharmacist() -> QuerySet[FollowUp]:
    """Answered check-ins that need a pharmacist and have not been reviewed, oldest first."""
    return (
        FollowUp.objects.filter(needs_pharmacist=True, reviewed_at__isnull=True, answered_at__isnull=False)
        .select_related("prescription__patient", "prescription__prescriber__user")
        .order_by("answered_at")
    )


@transaction.atomic(durable=True)
def follow_up_review(*, follow_up_id: int, actor: User, note: str) -> FollowUp:
    """A pharmacist records what was done (called the patient, told the prescriber...)."""
    if not actor.is_pharmacist:
        raise Forbidden()
    text = (note or "").strip()
    if not text:
        raise ValidationError({"note": ["Write what was done, e.g. who was called and what was agreed."]})
    if len(text) > MAX_TEXT:
        raise ValidationError({"note": [f"Keep it to {MAX_TEXT} characters."]})
    follow_up = FollowUp.objects.select_for_update().select_related("prescription").filter(pk=follow_up_id).first()
    if follow_up is None or follow_up.answered_at is None:
        raise NotFound()
    if follow_up.reviewed_at is not None:
        raise Conflict("Another pharmacist already reviewed this check-in.")
    follow_up.reviewed_by = actor
    follow_up.reviewed_at = timezone.now()
    follow_up.review_note = text
    follow_up.save()
    prescription = follow_up.prescription
    prescription_event_record(
        prescription=prescription, action=Action.FOLLOW_UP, from_status=prescription.status,
        to_status=prescription.status, actor=actor, message=text, details={"reviewed": True},
    )  # fmt: skip
    return follow_up
