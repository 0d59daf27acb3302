"""The patient's answer to the price of an approved fill, without an account (their private link,
or the order number and birth date, already checked by the caller).

Agreeing keeps the fill approved and tells the pharmacy it can be made. Declining ends the fill as
an unanswered questionnaire does: the first fill is cancelled, a refill lapses (its refill given
back), and the prescriber is told. Asking twice gives the first answer again and changes nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from intake.errors import Conflict
from intake.models import Action, NotificationEvent, Prescription, PrescriptionStatus, PriceConsent
from intake.notifications.outbox import notification_record
from intake.services.events import prescription_event_record
from intake.services.refills import refill_lapse
from intake.services.workflow import MAX_TEXT, lock_prescription, transition, transition_check

S = PrescriptionStatus
DECLINED_WITHOUT_REASON = "The patient declined the price."


def _unanswerable(prescription: Prescription) -> Conflict:
    if prescription.price_consent == PriceConsent.CONSENTED:
        return Conflict(gettext("You already agreed to this price. To change your mind, please call the pharmacy."))
    if prescription.price_consent == PriceConsent.DECLINED:
        return Conflict(gettext("You already declined this price."))
    return Conflict(gettext("There is no price waiting for your answer on this order."))


@transaction.atomic(durable=True)
def price_consent_give(*, prescription_id: int, actor_label: str) -> Prescription:
    prescription = lock_prescription(None, prescription_id)
    if prescription.price_consent == PriceConsent.CONSENTED:
        return prescription  # the same button pressed twice
    if prescription.price_consent != PriceConsent.PENDING or prescription.status != S.APPROVED:
        raise _unanswerable(prescription)
    transition_check(None, Action.PRICE_CONSENT, prescription)
    prescription.price_consent = PriceConsent.CONSENTED
    prescription.price_consent_at = timezone.now()
    prescription.save(update_fields=["price_consent", "price_consent_at", "updated_at"])
    prescription_event_record(
        prescription=prescription, action=Action.PRICE_CONSENT, from_status=prescription.status,
        to_status=prescription.status, actor_label=actor_label,
        details={"amount": str(prescription.price_amount), "currency": prescription.price_currency,
                 "fill": prescription.fill_number},
    )  # fmt: skip
    notification_record(prescription=prescription, event=NotificationEvent.PRICE_CONSENTED)
    return prescription


@transaction.atomic(durable=True)
def price_consent_decline(*, prescription_id: int, actor_label: str, reason: str = "") -> Prescription:
    text = (reason or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError({"reason": [f"Keep it to {MAX_TEXT} characters."]})
    current = lock_prescription(None, prescription_id)
    if current.price_consent == PriceConsent.DECLINED:
        return current  # the same button pressed twice
    if current.price_consent != PriceConsent.PENDING or current.status != S.APPROVED:
        raise _unanswerable(current)
    refill = current.fill_number > 1
    amount, currency = str(current.price_amount), current.price_currency

    def decline(prescription: Prescription) -> None:
        prescription.price_consent = PriceConsent.DECLINED
        prescription.price_consent_at = timezone.now()
        prescription.claimed_by = None
        prescription.claimed_at = None
        if refill:
            refill_lapse(prescription)

    # The prescriber hears of it through the action's notification (workflow.NOTIFY_ON).
    return transition(
        prescription_id=prescription_id,
        action=Action.PRICE_DECLINE_REFILL if refill else Action.PRICE_DECLINE,
        actor=None,
        actor_label=actor_label,
        message=text or DECLINED_WITHOUT_REASON,
        details={"amount": amount, "currency": currency},
        before=decline,
    )
