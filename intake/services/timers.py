"""The pharmacy's clock: what happens because time passed. Celery beat runs pharmacy_clock()
every 15 minutes (pharmacy/settings.py); `manage.py notifications_tick` runs it without beat.

Every timer is idempotent: it writes a TimerFiring row whose unique key (kind, prescription, key)
says "this one already fired", in the same transaction as its event and notifications, under the
prescription's row lock. Running a timer twice, or two beats at once, fires it once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Exists, F, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from intake.models import (
    Action,
    Fill,
    FollowUp,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    TimerFiring,
    TimerKind,
)
from intake.notifications.outbox import notification_record, questionnaire_reminders_record
from intake.services.events import prescription_event_record
from intake.services.refills import refill_lapse
from intake.services.workflow import transition

logger = logging.getLogger(__name__)
S = PrescriptionStatus
CLOCK = "system (pharmacy clock)"
BATCH = 500


def _fire_once(prescription: Prescription, kind: str, key: str, now: datetime) -> bool:
    """Record that this timer fired; False when it already had (the caller then does nothing)."""
    try:
        with transaction.atomic():
            TimerFiring.objects.create(kind=kind, prescription=prescription, key=key, fired_at=now)
    except IntegrityError:
        return False
    return True


def _locked(prescription_id: int, **conditions: object) -> Prescription | None:
    """The prescription, row-locked, if it still meets the timer's conditions (None otherwise)."""
    return (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "prescriber__user")
        .filter(pk=prescription_id, **conditions)
        .first()
    )


def _note(prescription: Prescription, message: str, **details: object) -> None:
    prescription_event_record(
        prescription=prescription, action=Action.TIMER, from_status=prescription.status,
        to_status=prescription.status, actor_label=CLOCK, message=message,
        details={**details, "fill": prescription.fill_number},
    )  # fmt: skip


# Questionnaire expiry --------------------------------------------------------------------------


def questionnaires_expire(*, now: datetime | None = None) -> list[int]:
    """A questionnaire unanswered when its link expires (30 days) ends what waited for it: a first
    fill is cancelled; a refill lapses and its refill is given back. Prescriber and patient are told."""
    now = now or timezone.now()
    due = Prescription.objects.filter(status=S.AWAITING_QUESTIONNAIRE, questionnaire_expires_at__lte=now)
    return [pk for pk in due.order_by("questionnaire_expires_at").values_list("pk", flat=True)[:BATCH]
            if questionnaire_expire(prescription_id=pk, now=now)]  # fmt: skip


@transaction.atomic(durable=True)
def questionnaire_expire(*, prescription_id: int, now: datetime) -> bool:
    prescription = _locked(prescription_id, status=S.AWAITING_QUESTIONNAIRE)
    if prescription is None or prescription.questionnaire_expires_at > now:
        return False
    if not _fire_once(prescription, TimerKind.QUESTIONNAIRE_EXPIRY, f"fill-{prescription.fill_number}", now):
        return False
    refill = prescription.fill_number > 1 and prescription.refills_used > 0
    transition(
        prescription_id=prescription.pk,
        action=Action.REFILL_LAPSE if refill else Action.EXPIRE,
        actor=None,
        actor_label=CLOCK,
        message=f"The questionnaire was not answered within {settings.QUESTIONNAIRE_LINK_DAYS} days.",
        before=refill_lapse if refill else None,
    )
    return True


# Refill reminders ------------------------------------------------------------------------------


def refill_reminders(*, now: datetime | None = None) -> list[int]:
    """Tell the patient 7 days before the current fill's supply runs out, when a refill is left and
    the prescription is still valid. Once per fill."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reminded = Exists(
        TimerFiring.objects.filter(
            prescription=OuterRef("prescription"),
            kind=TimerKind.REFILL_REMINDER,
            key=Concat(Value("fill-"), Cast(OuterRef("number"), output_field=CharField())),
        )
    )
    due = (
        Fill.objects.filter(
            refill_reminder_on__lte=today,
            number=F("prescription__fill_number"),
            prescription__status__in=(S.SHIPPED, S.COMPLETED),
            prescription__refills_used__lt=F("prescription__refills"),
            # Roughly still valid; refill_remind checks the exact expiry.
            prescription__signed_at__gt=now - timedelta(days=367),
        )
        .exclude(reminded)
        .order_by("refill_reminder_on")
        .values_list("prescription_id", "number")[:BATCH]
    )
    return [pk for pk, number in due if refill_remind(prescription_id=pk, fill_number=number, now=now)]


@transaction.atomic(durable=True)
def refill_remind(*, prescription_id: int, fill_number: int, now: datetime) -> bool:
    prescription = _locked(prescription_id, fill_number=fill_number, status__in=(S.SHIPPED, S.COMPLETED))
    if prescription is None or prescription.refills_left <= 0:
        return False
    if timezone.localdate(now) >= prescription.expires_on:
        return False
    if not _fire_once(prescription, TimerKind.REFILL_REMINDER, f"fill-{fill_number}", now):
        return False
    notification_record(prescription=prescription, event=NotificationEvent.REFILL_REMINDER)
    _note(prescription, "Refill reminder sent to the patient.")
    return True


# Prescriptions on hold ---------------------------------------------------------------------------


def holds_nag(*, now: datetime | None = None) -> list[int]:
    """A prescription on hold reminds its prescriber once a day, and after HOLD_ESCALATION_DAYS it is
    escalated once to the lead pharmacist. Day n of a hold is keyed by the hold's start."""
    now = now or timezone.now()
    due = (
        Prescription.objects.filter(status=S.ON_HOLD, status_changed_at__lte=now - timedelta(days=1))
        .order_by("status_changed_at")
        .values_list("pk", flat=True)[:BATCH]
    )
    return [pk for pk in due if hold_nag(prescription_id=pk, now=now)]


@transaction.atomic(durable=True)
def hold_nag(*, prescription_id: int, now: datetime) -> bool:
    prescription = _locked(prescription_id, status=S.ON_HOLD)
    if prescription is None or prescription.status_changed_at is None:
        return False
    held_since = prescription.status_changed_at
    days = (now - held_since).days
    if days < 1:
        return False
    hold_key = f"hold-{held_since:%Y%m%dT%H%M%S}"
    acted = False
    if _fire_once(prescription, TimerKind.HOLD_NAG, f"{hold_key}-day-{days}", now):
        notification_record(prescription=prescription, event=NotificationEvent.CLARIFICATION_REMINDER)
        _note(prescription, f"Day {days} on hold: prescriber reminded.")
        acted = True
    if days >= settings.HOLD_ESCALATION_DAYS and _fire_once(prescription, TimerKind.HOLD_ESCALATION, hold_key, now):
        notification_record(prescription=prescription, event=NotificationEvent.HOLD_ESCALATED)
        _note(prescription, f"On hold for {days} days: escalated to the lead pharmacist.")
        acted = True
    return acted


# Ready fills past their beyond-use date -----------------------------------------------------------


def ready_past_bud(*, now: datetime | None = None) -> list[int]:
    """A ready fill whose beyond-use date has passed cannot be handed over (the workflow refuses);
    the pharmacy is told once per fill so it is destroyed and compounded again."""
    now = now or timezone.now()
    due = (
        Prescription.objects.filter(status=S.READY, beyond_use_date__lt=timezone.localdate(now))
        .order_by("beyond_use_date")
        .values_list("pk", flat=True)[:BATCH]
    )
    return [pk for pk in due if ready_bud_flag(prescription_id=pk, now=now)]


@transaction.atomic(durable=True)
def ready_bud_flag(*, prescription_id: int, now: datetime) -> bool:
    prescription = _locked(prescription_id, status=S.READY)
    if prescription is None or not prescription.is_past_beyond_use_date(timezone.localdate(now)):
        return False
    # Keyed by the BUD too: a batch compounded again for the same fill can pass its own date.
    key = f"fill-{prescription.fill_number}-bud-{prescription.beyond_use_date:%Y%m%d}"
    if not _fire_once(prescription, TimerKind.BUD_PASSED, key, now):
        return False
    notification_record(prescription=prescription, event=NotificationEvent.BUD_PASSED)
    _note(prescription, f"Past its beyond-use date ({prescription.beyond_use_date:%m/%d/%Y}): do not hand over.")
    return True


# The side-effect check-in -------------------------------------------------------------------------


def follow_ups_send(*, now: datetime | None = None) -> list[int]:
    """FOLLOW_UP_AFTER_DAYS after a patient's first fill was handed over, send the side-effect
    check-in (once per prescription; a renewal is not a first fill)."""
    now = now or timezone.now()
    due = (
        Fill.objects.filter(
            number=1,
            dispensed_at__lte=now - timedelta(days=settings.FOLLOW_UP_AFTER_DAYS),
            prescription__renewed_from__isnull=True,
            prescription__follow_up__isnull=True,
        )
        .order_by("dispensed_at")
        .values_list("prescription_id", flat=True)[:BATCH]
    )
    return [pk for pk in due if follow_up_send(prescription_id=pk, now=now)]


@transaction.atomic(durable=True)
def follow_up_send(*, prescription_id: int, now: datetime) -> bool:
    prescription = _locked(prescription_id)
    if prescription is None or FollowUp.objects.filter(prescription=prescription).exists():
        return False
    if not _fire_once(prescription, TimerKind.FOLLOW_UP, "first-fill", now):
        return False
    FollowUp.objects.create(
        prescription=prescription,
        token=secrets.token_urlsafe(32),
        sent_at=now,
        expires_at=now + timedelta(days=settings.QUESTIONNAIRE_LINK_DAYS),
    )
    notification_record(prescription=prescription, event=NotificationEvent.FOLLOW_UP_INVITATION)
    _note(prescription, "Side-effect check-in sent to the patient.")
    return True


# All of them -------------------------------------------------------------------------------------


@dataclass
class ClockRun:
    fired: dict[str, list[int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.fired.values())


TIMERS: dict[str, Callable[..., list[int]]] = {
    "questionnaire_reminders": questionnaire_reminders_record,
    "questionnaires_expired": questionnaires_expire,
    "refill_reminders": refill_reminders,
    "holds_nagged": holds_nag,
    "ready_past_bud": ready_past_bud,
    "follow_ups_sent": follow_ups_send,
}


def pharmacy_clock(*, now: datetime | None = None) -> ClockRun:
    """Run every timer once. One failing timer does not stop the others; it is logged and retried
    at the next run (each timer is idempotent)."""
    now = now or timezone.now()
    run = ClockRun()
    for name, timer in TIMERS.items():
        try:
            run.fired[name] = timer(now=now)
        except Exception:
            logger.exception("Timer %s failed; it runs again at the next tick", name)
            run.fired[name] = []
    return run
