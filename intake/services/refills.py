"""Repeat business: refills of a prescription and renewals by its prescriber.

The rules (75% of the days supply, one-year expiry, refills left) are plain Python in
intake/clinical/refills.py; this module applies them to the locked prescription and moves it
through the one workflow (intake/services/workflow.py), so a refill is re-screened, reviewed,
compounded, checked and handed over like the first fill, as a fill of its own. No refill is
released on an old questionnaire: every refill first asks the patient the short re-screen
(opioids in the last 10 days, liver, pregnancy, the medicines taken now) through a new link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from intake.clinical.refills import RefillDecision, RefillRefusal, refill_decision
from intake.errors import Conflict, Forbidden, NotFound
from intake.links import new_questionnaire_token
from intake.models import (
    Action,
    Fill,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    RenewalRequest,
    RenewalStatus,
)
from intake.notifications.outbox import notification_record
from intake.services.dispensing import dispense_plan_flags_refresh
from intake.services.events import prescription_event_record
from intake.services.prescriptions import (
    PatientDetails,
    PrescribedContent,
    Signature,
    Step,
    prescription_create_signed,
)
from intake.services.workflow import lock_prescription, required_text, transition
from intake.when import date_words

S = PrescriptionStatus


@dataclass(frozen=True)
class RefillState:
    """What the patient, prescriber and pharmacy see about the next fill."""

    decision: RefillDecision
    last_dispensed: Fill | None
    pending_renewal: RenewalRequest | None
    renewed_as: Prescription | None
    # The newest renewal request whatever its outcome (a denied one too), for the patient's status.
    last_renewal: RenewalRequest | None = None

    @property
    def can_refill(self) -> bool:
        return self.decision.allowed

    @property
    def can_ask_renewal(self) -> bool:
        return self.decision.needs_renewal and self.pending_renewal is None and self.renewed_as is None

    def explanation(self) -> str:
        """Why a refill cannot be asked for now, in plain words (empty when it can)."""
        refusal = self.decision.refusal
        if refusal is None:
            return ""
        if refusal == RefillRefusal.TOO_SOON and self.decision.earliest:
            return gettext("Too soon for a refill: you can ask for one from {day}.").format(
                day=date_words(self.decision.earliest)
            )
        if refusal == RefillRefusal.NO_REFILLS_LEFT:
            return gettext("No refills are left on this prescription. The prescriber can renew it.")
        if refusal == RefillRefusal.EXPIRED and self.decision.expires_on:
            return gettext(
                "This prescription is valid until {day} and cannot be refilled after that. The prescriber can renew it."
            ).format(day=date_words(self.decision.expires_on - timedelta(days=1)))
        return gettext("A refill can be asked for once the current fill has been handed over.")


def refill_state(prescription: Prescription, *, today: date | None = None) -> RefillState:
    today = today or timezone.localdate()
    if prescription.status not in (S.SHIPPED, S.COMPLETED):
        # A fill under way (or a closed prescription): nothing to ask for, and no renewal can exist,
        # since one is asked for only once a fill was handed over. No query: the status page is hot.
        return RefillState(
            decision=RefillDecision(False, RefillRefusal.NOT_DISPENSED, expires_on=prescription.expires_on),
            last_dispensed=None,
            pending_renewal=None,
            renewed_as=None,
        )
    last, renewals, _answered_at = refill_facts(prescription)
    decision = refill_decision(
        refills_authorised=prescription.refills,
        refills_used=prescription.refills_used,
        written_on=prescription.written_on,
        dispensed_on=timezone.localdate(last.dispensed_at) if last and last.dispensed_at else None,
        days_supply=last.days_supply if last else prescription.days_supply,
        today=today,
    )
    return RefillState(
        decision=decision,
        last_dispensed=last,
        pending_renewal=next((r for r in renewals if r.status == RenewalStatus.PENDING), None),
        renewed_as=next((r.new_prescription for r in renewals if r.status == RenewalStatus.APPROVED), None),
        last_renewal=renewals[0] if renewals else None,
    )


def dispensed_fills_newest_first(prescription: Prescription) -> QuerySet[Fill]:
    """The fills handed over (picked up or shipped), the last one first: what a refill counts from."""
    return Fill.objects.filter(prescription=prescription, dispensed_at__isnull=False).order_by("-number")


def refill_facts(prescription: Prescription) -> tuple[Fill | None, list[RenewalRequest], datetime | None]:
    """What the refill rules read about a dispensed prescription: its last dispensed fill, its
    renewal requests (newest first, each with its new prescription) and when its questionnaire was
    answered (no query when the questionnaire was read with the prescription)."""
    # Only the columns the refill rules read: the patient's status lookup asks this on every call,
    # and building the full column lists cost more than the two queries themselves.
    last = (
        dispensed_fills_newest_first(prescription)
        .only("prescription_id", "number", "dispensed_at", "days_supply")
        .first()
    )
    renewals = list(
        prescription.renewal_requests.select_related("new_prescription")
        .only("prescription_id", "status", "requested_at", "new_prescription__reference")
        .order_by("-requested_at", "-id")
    )
    questionnaire = getattr(prescription, "questionnaire", None)
    return last, renewals, questionnaire.submitted_at if questionnaire is not None else None


@transaction.atomic(durable=True)
def refill_request(
    *, prescription_id: int, actor: User | None, requester: str, today: date | None = None
) -> Prescription:
    """Open the next fill. actor None is the patient, already identified by their link or by the
    reference and birth date. Refused (409) when too soon, expired or out of refills."""
    current = lock_prescription(actor, prescription_id)
    state = refill_state(current, today=today)
    if not state.can_refill:
        raise Conflict(state.explanation())
    action = Action.REFILL_RESCREEN
    user = actor if actor is not None and actor.is_authenticated else None

    def open_next_fill(prescription: Prescription) -> None:
        now = timezone.now()
        number = (Fill.objects.filter(prescription=prescription).aggregate(n=Max("number"))["n"] or 0) + 1
        Fill.objects.create(
            prescription=prescription, number=number, status=S.AWAITING_QUESTIONNAIRE, requested_by=requester,
            requested_by_user=user, requested_at=now, quantity=prescription.quantity,
            days_supply=prescription.days_supply,
        )  # fmt: skip
        prescription.fill_number = number
        prescription.refills_used += 1
        # A refill of a titration has a plan of its own (the maintenance strength, usually).
        dispense_plan_flags_refresh(prescription)
        # The previous fill's dispensing is on its own row; the prescription now shows the new fill's.
        prescription.beyond_use_date = None
        prescription.ready_at = prescription.shipped_at = prescription.closed_at = None
        prescription.carrier = prescription.tracking_number = ""
        prescription.claimed_by = None
        prescription.claimed_at = None
        # A fresh link for the re-screen: the old one may sit in a mailbox for months.
        prescription.questionnaire_token = new_questionnaire_token()
        prescription.questionnaire_expires_at = now + timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS)

    return transition(
        prescription_id=prescription_id,
        action=action,
        actor=actor,
        actor_label="patient" if actor is None else "",
        details={"requested_by": requester},
        before=open_next_fill,
    )


def refill_lapse(prescription: Prescription) -> None:
    """Before-hook of REFILL_LAPSE: the refill asked for is cancelled and its refill given back; the
    prescription shows its last dispensed fill again (it stays completed, refills left for later)."""
    now = timezone.now()
    Fill.objects.filter(prescription=prescription, number=prescription.fill_number).update(
        status=S.CANCELLED, closed_at=now
    )
    previous = dispensed_fills_newest_first(prescription).first()
    prescription.refills_used = max(prescription.refills_used - 1, 0)
    if previous is not None:
        prescription.fill_number = previous.number
        prescription.beyond_use_date = previous.beyond_use_date
        prescription.ready_at = previous.ready_at
        prescription.carrier = previous.carrier
        prescription.tracking_number = previous.tracking_number


# Renewals -------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def renewal_request(*, prescription_id: int, actor: User | None, requester: str) -> RenewalRequest:
    """Ask the prescriber for a new prescription when no refill is left (or it expired).

    Asking again while one waits returns the waiting one: the prescriber is asked once.
    """
    prescription = lock_prescription(actor, prescription_id)
    if actor is not None and not (actor.is_pharmacy_staff or prescription.prescriber.user_id == actor.pk):
        raise Forbidden()
    state = refill_state(prescription)
    if state.pending_renewal is not None:
        return state.pending_renewal
    if state.renewed_as is not None:
        raise Conflict(
            gettext("This prescription was already renewed as {reference}.").format(
                reference=state.renewed_as.reference
            )
        )
    if prescription.status in (S.REJECTED, S.CANCELLED):
        raise Conflict(
            gettext("A rejected or cancelled prescription cannot be renewed; the prescriber can write a new one.")
        )
    if not state.decision.needs_renewal:
        raise Conflict(
            gettext("Refills are still left on this prescription: ask for a refill instead.")
            if state.decision.refusal != RefillRefusal.NOT_DISPENSED
            else gettext("This prescription has not been handed over yet.")
        )
    renewal = RenewalRequest.objects.create(
        prescription=prescription,
        requested_by=requester,
        requested_by_user=actor if actor is not None and actor.is_authenticated else None,
        requested_at=timezone.now(),
    )
    _renewal_event(prescription, Action.RENEWAL_REQUEST, actor=actor, details={"requested_by": requester})
    notification_record(prescription=prescription, event=NotificationEvent.RENEWAL_REQUESTED)
    return renewal


def _renewal_for_prescriber(renewal_id: int, actor: User) -> RenewalRequest:
    renewal = (
        RenewalRequest.objects.select_for_update(of=("self",))
        .select_related("prescription__patient", "prescription__prescriber__user")
        .filter(pk=renewal_id)
        .first()
    )
    # Only the prescriber who wrote the prescription decides; anyone else learns nothing.
    if renewal is None or not actor.is_prescriber or renewal.prescription.prescriber.user_id != actor.pk:
        raise NotFound()
    if renewal.status != RenewalStatus.PENDING:
        raise Conflict(f"This renewal request was already {RenewalStatus(renewal.status).label.lower()}.")
    return renewal


def renewal_content(old: Prescription, *, refills: int) -> tuple[PatientDetails, PrescribedContent]:
    patient = old.patient
    details = PatientDetails(
        first_name=patient.first_name, last_name=patient.last_name, date_of_birth=patient.date_of_birth,
        sex=patient.sex, address_line1=patient.address_line1, address_line2=patient.address_line2,
        city=patient.city, state=patient.state, postal_code=patient.postal_code, email=patient.email,
        phone=patient.phone, weight_kg=patient.weight_kg, contact_preference=patient.contact_preference,
        language=patient.language,
    )  # fmt: skip
    # A renewal continues the maintenance dose: the titration of the first prescription is done.
    content = PrescribedContent(
        dosage_form=old.dosage_form, strength_mg=old.strength_mg, directions=old.directions,
        quantity=old.quantity, days_supply=old.days_supply, refills=refills, indication=old.indication,
        icd10=old.icd10, dose_timing=old.dose_timing, prescriber_notes="", titration=tuple[Step, ...](),
        allergies=tuple(old.prescriber_allergies),
    )  # fmt: skip
    return details, content


def renewal_approve(*, renewal_id: int, actor: User, signature: Signature, refills: int) -> Prescription:
    """The prescriber signs a new prescription with the same content, linked to the old one."""
    for attempt in range(RENEWAL_ATTEMPTS):
        try:
            return _renewal_approve(renewal_id=renewal_id, actor=actor, signature=signature, refills=refills)
        except IntegrityError:
            # A new reference or link token that was already taken (the submit service inserts
            # without savepoints): the whole transaction runs again and draws new ones.
            if attempt == RENEWAL_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


RENEWAL_ATTEMPTS = 3


@transaction.atomic(durable=True)
def _renewal_approve(*, renewal_id: int, actor: User, signature: Signature, refills: int) -> Prescription:
    renewal = _renewal_for_prescriber(renewal_id, actor)
    if isinstance(refills, bool) or not isinstance(refills, int) or not 0 <= refills <= 11:
        raise ValidationError({"refills": ["Refills are a whole number from 0 to 11."]})
    old = renewal.prescription
    prescriber = old.prescriber
    if prescriber.submission_blocker():
        raise Forbidden(prescriber.submission_blocker())
    patient, content = renewal_content(old, refills=refills)
    new = prescription_create_signed(
        prescriber=prescriber, patient=patient, content=content, signature=signature, renewed_from=old
    )
    renewal.status = RenewalStatus.APPROVED
    renewal.decided_by = actor
    renewal.decided_at = timezone.now()
    renewal.new_prescription = new
    renewal.save()
    _renewal_event(old, Action.RENEWAL_APPROVE, actor=actor, details={"new_prescription": new.reference})
    notification_record(prescription=old, event=NotificationEvent.RENEWAL_APPROVED)
    return new


@transaction.atomic(durable=True)
def renewal_deny(*, renewal_id: int, actor: User, reason: str) -> RenewalRequest:
    text = required_text(reason, "reason", "why the prescription is not renewed")
    renewal = _renewal_for_prescriber(renewal_id, actor)
    renewal.status = RenewalStatus.DENIED
    renewal.decided_by = actor
    renewal.decided_at = timezone.now()
    renewal.denial_reason = text
    renewal.save()
    _renewal_event(renewal.prescription, Action.RENEWAL_DENY, actor=actor, message=text)
    notification_record(prescription=renewal.prescription, event=NotificationEvent.RENEWAL_DENIED)
    return renewal


def _renewal_event(
    prescription: Prescription,
    action: str,
    *,
    actor: User | None,
    message: str = "",
    details: dict[str, str] | None = None,
) -> None:
    prescription_event_record(
        prescription=prescription, action=action, from_status=prescription.status, to_status=prescription.status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label="" if actor is not None else "patient", message=message,
        details={**(details or {}), "fill": prescription.fill_number},
    )  # fmt: skip


def pending_renewals_for(user: User) -> list[RenewalRequest]:
    """The renewal requests waiting for this prescriber, oldest first."""
    if not user.is_prescriber:
        return []
    return list(
        RenewalRequest.objects.filter(status=RenewalStatus.PENDING, prescription__prescriber__user=user)
        .select_related("prescription__patient")
        .order_by("requested_at")
    )
