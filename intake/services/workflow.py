"""The pharmacy's workflow: the one place that changes a prescription's status.

Each action locks the prescription row, checks the transition table and the actor's role,
changes the status conditionally (so two simultaneous requests cannot both succeed), writes a
PrescriptionEvent and records the notifications, all in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from intake.clinical.refills import refill_reminder_on
from intake.clinical.verification import (
    METHODS,
    confirmations_missing,
    hard_stops_blocking,
    is_verifiable,
    method_problem,
    reason_problem,
    reasons_needed,
)
from intake.errors import Conflict, Forbidden, NotFound, WorkflowError
from intake.links import new_questionnaire_token
from intake.metrics import SUBMISSION_TO_READY
from intake.models import (
    OWNER,
    PATIENT,
    SYSTEM,
    TRANSITIONS,
    Action,
    Clarification,
    Fill,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    StateLicence,
)
from intake.notifications.outbox import notification_record
from intake.queue import queue_counts_changed
from intake.selectors import prescriptions_visible_to
from intake.services.addresses import ship_to_of
from intake.services.events import prescription_event_record
from intake.services.final_check import CheckInput, final_check_record
from intake.services.pricing import price_quote_set, refuse_without_price_consent
from intake.services.screening import duplicate_orders_refresh
from intake.shipping.backends import (
    CarrierError,
    Label,
    Rate,
    ShippingBackend,
    ShipTo,
    shipping_backend,
    shipping_buys_labels,
)

S = PrescriptionStatus
MAX_TEXT = 1000

# What each status change tells people: the notification events each action records.
NOTIFY_ON: dict[str, str] = {
    Action.REQUEST_CLARIFICATION: NotificationEvent.CLARIFICATION_REQUESTED,
    Action.RESPOND: NotificationEvent.CLARIFICATION_ANSWERED,
    Action.APPROVE: NotificationEvent.APPROVED,
    Action.REJECT: NotificationEvent.REJECTED,
    Action.CANCEL: NotificationEvent.CANCELLED,
    Action.FINAL_CHECK: NotificationEvent.READY_FOR_PICKUP,
    Action.SHIP: NotificationEvent.SHIPPED,
    Action.REFILL_RESCREEN: NotificationEvent.RESCREEN_INVITATION,
    Action.REQUEST_RESCREEN: NotificationEvent.RESCREEN_REQUESTED,
    Action.RECALL_REMAKE: NotificationEvent.RECALL_REMADE,
    Action.DELIVERED: NotificationEvent.DELIVERED,
    Action.EXPIRE: NotificationEvent.QUESTIONNAIRE_EXPIRED,
    Action.REFILL_LAPSE: NotificationEvent.QUESTIONNAIRE_EXPIRED,
    Action.PRICE_DECLINE: NotificationEvent.PRICE_DECLINED,
    Action.PRICE_DECLINE_REFILL: NotificationEvent.PRICE_DECLINED,
}
# A refill that ends before it was made: the prescription shows its last dispensed fill again, which
# stays as it was closed.
LAPSING = frozenset({Action.REFILL_LAPSE, Action.PRICE_DECLINE_REFILL})
CLOSING = frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED})

logger = logging.getLogger(__name__)


def lock_prescription(actor: User | None, prescription_id: int) -> Prescription:
    """The prescription row, locked until the transaction ends; NotFound if the actor may not see it.

    actor None is the patient (through their private link) or the system, already authorised.
    """
    visible = Prescription.objects.all() if actor is None else prescriptions_visible_to(actor)
    prescription = visible.select_for_update(of=("self",)).filter(pk=prescription_id).first()
    if prescription is None:
        raise NotFound()
    return prescription


def may_act(actor: User | None, action: str, prescription: Prescription) -> bool:
    allowed = TRANSITIONS[action].actors
    if actor is None:
        # Without an account: the patient (private link, or reference and birth date) or a timer,
        # each already authorised by the caller.
        return bool(allowed & {PATIENT, SYSTEM})
    if OWNER in allowed and actor.is_prescriber and prescription.prescriber.user_id == actor.pk:
        return True
    return bool(actor.roles & allowed)


def required_text(value: str, field: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: [f"Write {what}."]})
    if len(text) > MAX_TEXT:
        raise ValidationError({field: [f"Keep it to {MAX_TEXT} characters."]})
    return text


def sentence(value: str, field: str, what: str) -> str:
    """required_text that is also a sentence a colleague could act on ("ok" documents nothing)."""
    text = required_text(value, field, what)
    problem = reason_problem(text)
    if problem:
        raise ValidationError({field: [problem]})
    return text


def transition_check(actor: User | None, action: str, prescription: Prescription) -> None:
    """Refuse the wrong actor (403), then the wrong status (409); the API asks this before reading a body."""
    if not may_act(actor, action, prescription):
        raise Forbidden()
    if prescription.status not in TRANSITIONS[action].sources:
        raise Conflict(
            # The action's value reads as a verb ("claim", "record compounding"); its label is past tense.
            f"Cannot {str(action).replace('_', ' ')} a prescription that is {S(prescription.status).label.lower()}."
        )


def transition(
    *,
    prescription_id: int,
    action: str,
    actor: User | None,
    message: str = "",
    details: Mapping[str, Any] | None = None,
    before: Callable[[Prescription], None] | None = None,
    actor_label: str = "",
) -> Prescription:
    """Apply one workflow action. Must run inside a transaction (the public services open it)."""
    rule = TRANSITIONS[action]
    prescription = lock_prescription(actor, prescription_id)
    transition_check(actor, action, prescription)
    if before is not None:
        before(prescription)
    old_status = prescription.status
    now = timezone.now()
    # Conditional update: on a database without row locks (SQLite) the second of two racing
    # requests finds the status already changed and gets a conflict instead of a double move.
    moved = Prescription.objects.filter(pk=prescription.pk, status=old_status).update(
        status=rule.target, claimed_by=prescription.claimed_by, claimed_at=prescription.claimed_at
    )
    if moved != 1:
        raise Conflict("Someone else changed this prescription a moment ago; reload it.")
    prescription.status = rule.target
    prescription.status_changed_at = now
    if rule.target in CLOSING:
        prescription.closed_at = now
    prescription.save()
    fill_sync(prescription, action=action, old_status=old_status, now=now)
    if rule.target in CLOSING:
        # A closed prescription is no longer a duplicate of the patient's other open ones.
        duplicate_orders_refresh(prescription)
    queue_counts_changed()
    prescription_event_record(
        prescription=prescription,
        action=action,
        from_status=old_status,
        to_status=rule.target,
        actor=actor,
        actor_label=actor_label,
        message=message,
        details={**dict(details or {}), "fill": prescription.fill_number},
    )
    if action in NOTIFY_ON:
        notification_record(prescription=prescription, event=NOTIFY_ON[action])
    if rule.target == S.READY:
        ready_time_observe(prescription, now=now)
    return prescription


def ready_time_observe(prescription: Prescription, *, now: datetime) -> None:
    """Count how long this fill took from its request to ready, once the transaction commits: a
    final check rolled back counts nothing."""
    requested_at = Fill.objects.values_list("requested_at", flat=True).get(
        prescription=prescription, number=prescription.fill_number
    )
    waited = (now - requested_at).total_seconds()
    transaction.on_commit(lambda: SUBMISSION_TO_READY.observe(waited))


def fill_sync(prescription: Prescription, *, action: str, old_status: str, now: Any) -> None:
    """Copy the status and dispensing details of the current fill onto its own row (one UPDATE)."""
    values: dict[str, Any] = {
        "status": prescription.status,
        "beyond_use_date": prescription.beyond_use_date,
        "ready_at": prescription.ready_at,
        "carrier": prescription.carrier,
        "tracking_number": prescription.tracking_number,
    }
    # Handed over: shipped, or picked up (completed straight from ready). The days supply counts from here.
    if action == Action.SHIP or (action == Action.COMPLETE and old_status == S.READY):
        values["dispensed_at"] = now
        values["refill_reminder_on"] = refill_reminder_on(
            dispensed_on=timezone.localdate(now), days_supply=prescription.days_supply
        )
    if prescription.status in CLOSING and action not in LAPSING:
        values["closed_at"] = now
    Fill.objects.filter(prescription=prescription, number=prescription.fill_number).update(**values)


@transaction.atomic(durable=True)
def prescription_claim(*, prescription_id: int, actor: User) -> Prescription:
    def take(prescription: Prescription) -> None:
        prescription.claimed_by = actor
        prescription.claimed_at = timezone.now()

    return transition(prescription_id=prescription_id, action=Action.CLAIM, actor=actor, before=take)


@transaction.atomic(durable=True)
def prescription_claim_next(*, actor: User) -> Prescription | None:
    """Claim the oldest unclaimed prescription waiting for review; None when the queue is empty.

    SKIP LOCKED lets two pharmacists press "next" at once and get two different prescriptions.
    """
    if not actor.has_role(Role.PHARMACIST, Role.TECHNICIAN):
        raise Forbidden()
    candidate = (
        Prescription.objects.select_for_update(skip_locked=True)
        .filter(status=S.PENDING_REVIEW, claimed_by__isnull=True)  # the oldest first, from rx_queue_idx
        .order_by("submitted_at", "id")
        .values_list("pk", flat=True)
        .first()
    )
    if candidate is None:
        return None

    def take(prescription: Prescription) -> None:
        prescription.claimed_by = actor
        prescription.claimed_at = timezone.now()

    return transition(prescription_id=candidate, action=Action.CLAIM, actor=actor, before=take)


@transaction.atomic(durable=True)
def prescription_release(*, prescription_id: int, actor: User) -> Prescription:
    def drop(prescription: Prescription) -> None:
        if prescription.claimed_by_id != actor.pk and not actor.is_pharmacist:
            raise Forbidden("Only the person who claimed it, or a pharmacist, can release it.")
        prescription.claimed_by = None
        prescription.claimed_at = None

    return transition(prescription_id=prescription_id, action=Action.RELEASE, actor=actor, before=drop)


@transaction.atomic(durable=True)
def prescription_request_clarification(*, prescription_id: int, actor: User, message: str) -> Prescription:
    question = required_text(message, "message", "the question for the prescriber")

    def ask(prescription: Prescription) -> None:
        Clarification.objects.create(
            prescription=prescription, question=question, asked_by=actor, asked_at=timezone.now()
        )
        prescription.claimed_by = None
        prescription.claimed_at = None

    return transition(
        prescription_id=prescription_id, action=Action.REQUEST_CLARIFICATION, actor=actor, message=question, before=ask
    )


@transaction.atomic(durable=True)
def prescription_approve(*, prescription_id: int, actor: User, override_reasons: Mapping[str, str]) -> Prescription:
    """Approve: every hard stop verified (409 first), every warning verified or given a reason a
    colleague could act on (400 on override_reasons). A strength above the LDN range is cleared only
    by the prescriber's confirmation, never by a reason: a tenfold slip is the commonest dose error."""
    reasons = {str(code): str(text).strip() for code, text in (override_reasons or {}).items()}

    def check(prescription: Prescription) -> None:
        blocking = hard_stops_blocking(prescription.flags)
        if blocking:
            raise Conflict(
                f"A hard stop not verified blocks approval: {', '.join(sorted(blocking))}. Verify it where it can be "
                "verified; otherwise reject, ask the prescriber, or ask the patient to answer again."
            )
        if prescription.is_altered:
            raise Conflict("The prescribed content no longer matches what was signed; it cannot be approved.")
        unconfirmed = confirmations_missing(prescription.flags)
        if unconfirmed:
            raise ValidationError(
                {"override_reasons": [
                    f"A strength above the usual LDN range is approved only once verified with the prescriber "
                    f"(verify_flag with prescriber_confirmed), never with a written reason: {', '.join(unconfirmed)}."
                ]}
            )  # fmt: skip
        needed = reasons_needed(prescription.flags)
        missing = sorted(code for code in needed if not reasons.get(code))
        if missing:
            raise ValidationError(
                {"override_reasons": [
                    f"Write why each warning does not stop this prescription, or verify it: {', '.join(missing)}."
                ]}
            )  # fmt: skip
        too_long = [code for code, text in reasons.items() if len(text) > MAX_TEXT]
        if too_long:
            raise ValidationError({"override_reasons": [f"Keep each reason to {MAX_TEXT} characters."]})
        for code in needed:
            problem = reason_problem(reasons[code])
            if problem:
                raise ValidationError({"override_reasons": [f"{code}: {problem}"]})

    details: dict[str, Any] = {"override_reasons": {code: text for code, text in reasons.items() if text}}

    def check_and_quote(prescription: Prescription) -> None:
        check(prescription)
        # The price of this fill, in the approval's transaction: the patient sees it from now on.
        details.update(price_quote_set(prescription, now=timezone.now()))

    return transition(
        prescription_id=prescription_id,
        action=Action.APPROVE,
        actor=actor,
        details=details,
        before=check_and_quote,
    )


@transaction.atomic(durable=True)
def prescription_reject(*, prescription_id: int, actor: User, reason: str) -> Prescription:
    text = sentence(reason, "reason", "the reason for the rejection")
    return transition(prescription_id=prescription_id, action=Action.REJECT, actor=actor, message=text)


@transaction.atomic(durable=True)
def prescription_cancel(*, prescription_id: int, actor: User, reason: str) -> Prescription:
    text = required_text(reason, "reason", "the reason for cancelling")
    return transition(prescription_id=prescription_id, action=Action.CANCEL, actor=actor, message=text)


@transaction.atomic(durable=True)
def prescription_start_compounding(*, prescription_id: int, actor: User) -> Prescription:
    return transition(
        prescription_id=prescription_id, action=Action.START_COMPOUNDING, actor=actor,
        before=refuse_without_price_consent,
    )  # fmt: skip


@transaction.atomic(durable=True)
def prescription_final_check(
    *,
    prescription_id: int,
    actor: User,
    confirmed: Collection[str] | None = None,
    scans: Mapping[int, str] | None = None,
) -> Prescription:
    """A pharmacist other than the compounder checks the batch (intake.services.final_check):
    the checklist items `confirmed` and each container's scan; with neither (the API's bare
    action), the check is recorded as the checker's attestation through the API."""
    details: dict[str, Any] = {}

    def check(prescription: Prescription) -> None:
        details.update(
            final_check_record(prescription=prescription, actor=actor,
                               given=CheckInput(confirmed=confirmed, scans=scans))
        )  # fmt: skip

    return transition(
        prescription_id=prescription_id, action=Action.FINAL_CHECK, actor=actor, details=details, before=check
    )


def prescription_ship(
    *, prescription_id: int, actor: User, carrier: str = "", tracking_number: str = "", service: str = ""
) -> Prescription:
    """Ship a ready fill: with a tracking number typed in, as it is; without one, through the carrier
    service (SHIPPING_BACKEND=easypost), which sells a label for the patient's address."""
    if tracking_number.strip() or not shipping_buys_labels():
        return prescription_ship_recorded(
            prescription_id=prescription_id, actor=actor, carrier=carrier, tracking_number=tracking_number
        )
    if not settings.EASYPOST_API_KEY:
        # Without a key no label can be bought: the number is then as required as with the manual backend.
        raise ValidationError(
            {"tracking_number": ["Type the tracking number: the carrier service has no API key (EASYPOST_API_KEY)."]}
        )
    try:
        backend = shipping_backend()
    except CarrierError as exc:
        raise Conflict(exc.message) from exc
    return prescription_ship_bought(
        prescription_id=prescription_id, actor=actor, backend=backend, carrier=carrier.strip(), service=service.strip()
    )


@transaction.atomic(durable=True)
def prescription_ship_recorded(
    *, prescription_id: int, actor: User, carrier: str, tracking_number: str, label: Label | None = None
) -> Prescription:
    carrier_name = required_text(carrier, "carrier", "the carrier")[:40]
    tracking = required_text(tracking_number, "tracking_number", "the tracking number")
    if len(tracking) > 60:
        raise ValidationError({"tracking_number": ["A tracking number is at most 60 characters."]})

    def ship(prescription: Prescription) -> None:
        refuse_past_beyond_use_date(prescription)
        refuse_unlicensed_state(prescription)
        if label is not None and current_fill(prescription).carrier_shipment_id != label.shipment_id:
            raise Conflict("Someone else changed this prescription's label a moment ago; reload it.")
        prescription.carrier = carrier_name
        prescription.tracking_number = tracking
        prescription.shipped_at = timezone.now()

    details = {"carrier": carrier_name, "tracking_number": tracking}
    if label is not None:
        details |= {"service": label.service, "carrier_shipment_id": label.shipment_id}
    return transition(prescription_id=prescription_id, action=Action.SHIP, actor=actor, details=details, before=ship)


def current_fill(prescription: Prescription) -> Fill:
    return Fill.objects.get(prescription=prescription, number=prescription.fill_number)


@transaction.atomic(durable=True)
def ship_label_claim(*, prescription_id: int, actor: User) -> tuple[Fill, ShipTo]:
    """Every refusal that needs no carrier comes first (status, beyond-use date, licence); then the
    fill, under the prescription's lock, names the one shipment its label is bought from."""
    prescription = lock_prescription(actor, prescription_id)
    transition_check(actor, Action.SHIP, prescription)
    refuse_past_beyond_use_date(prescription)
    refuse_unlicensed_state(prescription)
    return current_fill(prescription), ship_to_patient(prescription)


def ship_to_patient(prescription: Prescription) -> ShipTo:
    return ship_to_of(prescription.patient)


@dataclass(frozen=True)
class ShipOffer:
    """What the ship page offers with a carrier service: its rates, or why there are none."""

    rates: tuple[Rate, ...] = ()
    problem: str = ""


def ship_offer(prescription: Prescription) -> ShipOffer | None:
    """The carrier's rates for a ready fill (None: no carrier service, staff type the tracking)."""
    if not shipping_buys_labels() or prescription.status != S.READY:
        return None
    ship_to = ship_to_patient(prescription)
    # Each quote creates a shipment at the carrier: the page viewed again within minutes shows the
    # same rates. Buying quotes afresh, so a cached rate is only ever shown, never charged.
    shipment = (ship_to, settings.SHIPPING_BACKEND, settings.SHIPPING_CARRIERS, settings.SHIPPING_SERVICES,
                settings.SHIPPING_PARCEL, settings.SHIPPING_FROM_ADDRESS)  # fmt: skip
    key = "shipping-rates:" + hashlib.sha256(repr(shipment).encode()).hexdigest()
    rates = cache.get(key)
    if rates is None:
        try:
            rates = shipping_backend().quote(ship_to).rates
        except CarrierError as exc:
            return ShipOffer(problem=exc.message)
        cache.set(key, rates, settings.SHIPPING_RATES_CACHE_SECONDS)
    return ShipOffer(rates=rates)


def prescription_ship_bought(
    *, prescription_id: int, actor: User, backend: ShippingBackend, carrier: str = "", service: str = ""
) -> Prescription:
    """Buy the fill's label and ship it. The carrier's HTTP calls happen outside any row lock; a
    label is bought at most once per fill: the fill keeps the one shipment it is bought from (the
    first request to name it wins, the carrier sells a shipment once), and a label whose ship then
    fails is refunded."""
    fill, ship_to = ship_label_claim(prescription_id=prescription_id, actor=actor)
    try:
        if not fill.carrier_shipment_id:
            quote = backend.quote(ship_to)
            # Conditional update: of two staff at once, the first names the shipment; the other buys it too,
            # and the carrier answers the same label.
            Fill.objects.filter(pk=fill.pk, carrier_shipment_id="").update(carrier_shipment_id=quote.shipment_id)
            fill.refresh_from_db(fields=["carrier_shipment_id", "label_url"])
        label = backend.buy(fill.carrier_shipment_id, carrier=carrier, service=service)
    except CarrierError as exc:
        raise Conflict(exc.message) from exc
    Fill.objects.filter(pk=fill.pk, carrier_shipment_id=label.shipment_id).update(label_url=label.label_url)
    try:
        return prescription_ship_recorded(
            prescription_id=prescription_id, actor=actor, carrier=label.carrier, tracking_number=label.tracking_code,
            label=label,
        )  # fmt: skip
    except (WorkflowError, ValidationError):
        ship_label_refund(fill_id=fill.pk, label=label, backend=backend)
        raise


def ship_label_refund(*, fill_id: int, label: Label, backend: ShippingBackend) -> None:
    """A bought label that did not ship goes back to the carrier; the fill forgets it, so that a later
    ship buys a new one. A refund the carrier refuses leaves the label on the fill, for staff to see."""
    if Fill.objects.filter(pk=fill_id, tracking_number=label.tracking_code).exists():
        return  # another request shipped the fill under this very label
    try:
        backend.refund(label.shipment_id)
    except CarrierError:
        logger.warning("label refund refused", extra={"fill": fill_id})
        return
    Fill.objects.filter(pk=fill_id, carrier_shipment_id=label.shipment_id, tracking_number="").update(
        carrier_shipment_id="", label_url=""
    )


@transaction.atomic(durable=True)
def prescription_complete(*, prescription_id: int, actor: User) -> Prescription:
    return transition(
        prescription_id=prescription_id, action=Action.COMPLETE, actor=actor, before=refuse_past_beyond_use_date
    )


def refuse_past_beyond_use_date(prescription: Prescription) -> None:
    """A ready fill is never handed over after its beyond-use date (a shipped one is already out)."""
    if prescription.is_past_beyond_use_date():
        raise Conflict(
            f"This fill passed its beyond-use date ({prescription.beyond_use_date:%m/%d/%Y}) "
            "and cannot be handed over. "
            "Destroy it and compound it again."
        )


def refuse_unlicensed_state(prescription: Prescription) -> None:
    """Medicine is sent only to a state where the pharmacy holds a valid licence."""
    state = prescription.patient.state
    if state not in StateLicence.objects.valid_states(timezone.localdate()):
        raise Conflict(
            f"The pharmacy holds no valid licence in {state or 'this state'}: it cannot ship there. "
            "The patient can pick it up, or a pharmacist records the licence first."
        )


@transaction.atomic(durable=True)
def prescription_recompound(*, prescription_id: int, actor: User, reason: str) -> Prescription:
    """A ready fill that cannot be handed over (past its beyond-use date, damaged) goes back to
    compounding; its batch stays on record, a new one is made and checked."""
    text = required_text(reason, "reason", "why the fill is compounded again")

    def reset(prescription: Prescription) -> None:
        prescription.beyond_use_date = None
        prescription.ready_at = None

    return transition(
        prescription_id=prescription_id, action=Action.RECOMPOUND, actor=actor, message=text, before=reset
    )


@transaction.atomic
def prescription_recall_remake(*, prescription_id: int, actor: User, message: str,
                               details: Mapping[str, Any] | None = None) -> Prescription:  # fmt: skip
    """A fill not yet handed over whose record used a recalled lot goes back to compounding: that
    record is void and a new one is made and checked. Not durable: a recall opens it for every fill
    it reaches, in the recall's own transaction."""
    text = required_text(message, "message", "the recall that makes the fill again")

    def reset(prescription: Prescription) -> None:
        prescription.beyond_use_date = None
        prescription.ready_at = None

    return transition(
        prescription_id=prescription_id, action=Action.RECALL_REMAKE, actor=actor, message=text, details=details,
        before=reset,
    )  # fmt: skip


@transaction.atomic(durable=True)
def prescription_respond(
    *,
    prescription_id: int,
    actor: User,
    message: str,
    corrections: Mapping[str, Any] | None = None,
    signature_name: str = "",
    ip_address: str | None = None,
) -> Prescription:
    """The prescriber answers the pharmacy's question, possibly correcting the prescription.

    A correction changes signed content, so it is signed again (new digest) and screened again.
    """
    from intake.services.corrections import apply_corrections

    answer = required_text(message, "message", "your answer to the pharmacy")

    def answer_question(prescription: Prescription) -> None:
        now = timezone.now()
        Clarification.objects.filter(prescription=prescription, responded_at__isnull=True).update(
            response=answer, responded_by=actor, responded_at=now
        )
        if corrections:
            apply_corrections(prescription, corrections, signature_name=signature_name, ip_address=ip_address)
        prescription.claimed_by = None
        prescription.claimed_at = None

    return transition(
        prescription_id=prescription_id,
        action=Action.RESPOND,
        actor=actor,
        message=answer,
        details={"corrected": sorted(corrections or {})},
        before=answer_question,
    )


# Verifying a flag, and a new questionnaire ------------------------------------------------------


@transaction.atomic(durable=True)
def prescription_verify_flag(
    *, prescription_id: int, actor: User, code: str, method: str, note: str, field: str = ""
) -> Prescription:
    """Record how a pharmacist checked a flag (the NCPDP DUR idea: the conflict, what was done, the
    result). The flag stays on the prescription with its verification and no longer blocks approval.

    Every flag with the code is verified at once (two opioid lines are two flags of one code), or
    only the one raised by `field` when given; if any of them cannot be verified (a hard stop from
    the patient's own answers, a dose from 50 mg) the whole verification is refused (409) and
    nothing changes. Verifying again replaces the verification; the history keeps both.
    """
    prescription = lock_prescription(actor, prescription_id)
    transition_check(actor, Action.VERIFY_FLAG, prescription)
    code = (code or "").strip()
    field = (field or "").strip()
    chosen = [
        position
        for position, flag in enumerate(prescription.flags)
        if flag.get("code") == code and (not field or flag.get("field") == field)
    ]
    if not chosen:
        where = f" from {field}" if field else ""
        raise ValidationError({"code": [f"This prescription carries no '{code}' flag{where} to verify."]})
    flags = [prescription.flags[position] for position in chosen]
    if not all(is_verifiable(flag) for flag in flags):
        raise Conflict(
            f"The {code} hard stop cannot be verified: it comes from the patient's own answers or is a dose that is "
            "not LDN. Reject it, ask the prescriber to correct it, or ask the patient to answer again."
        )
    if method not in METHODS:
        raise ValidationError({"method": [f"Choose how the flag was checked: {', '.join(METHODS)}."]})
    for flag in flags:
        problem = method_problem(flag, method)
        if problem:
            raise ValidationError({"method": [problem]})
    text = sentence(note, "note", "what you checked and what it showed")
    verification = {"method": method, "note": text, "by": str(actor), "at": timezone.now().isoformat()}
    updated = list(prescription.flags)
    for position in chosen:
        updated[position] = {**updated[position], "verification": verification}
    prescription.flags = updated
    prescription.save(update_fields=["flags", "updated_at"])
    prescription_event_record(
        prescription=prescription, action=Action.VERIFY_FLAG, from_status=prescription.status,
        to_status=prescription.status, actor=actor, message=text,
        details={"code": code, "method": method, "fields": [flag.get("field", "") for flag in flags],
                 "fill": prescription.fill_number},
    )  # fmt: skip
    return prescription


@transaction.atomic(durable=True)
def prescription_request_rescreen(*, prescription_id: int, actor: User, message: str) -> Prescription:
    """Ask the patient to answer again through a new link (the old one stops working): for what only
    the patient can change, such as an opioid answered yes by mistake. The flags stay, with their
    verifications, until the new answers are screened."""
    text = required_text(message, "message", "why the patient is asked to answer again")

    def new_link(prescription: Prescription) -> None:
        prescription.questionnaire_token = new_questionnaire_token()
        prescription.questionnaire_expires_at = timezone.now() + timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS)
        prescription.claimed_by = None
        prescription.claimed_at = None

    return transition(
        prescription_id=prescription_id, action=Action.REQUEST_RESCREEN, actor=actor, message=text, before=new_link
    )
