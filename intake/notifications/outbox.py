"""The notification outbox: rows written in the event's transaction, published after it commits.

A row is the message's only source of truth. Publishing to Celery is a hint that never fails the
request: if the broker is down the row stays pending and notifications_requeue (Celery beat, every
minute) publishes it again, as it does for a task that was lost or a worker that died mid-send.
Delivery itself (intake/notifications/delivery.py) claims the row first, so duplicates send once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import (
    Audience,
    Channel,
    ContactPreference,
    DeliveryStatus,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
)
from intake.notifications.delivery import retry_delay

logger = logging.getLogger(__name__)

E = NotificationEvent
# Who hears about each event.
AUDIENCES: dict[str, tuple[str, ...]] = {
    E.PRESCRIPTION_RECEIVED: (Audience.PRESCRIBER,),
    E.QUESTIONNAIRE_INVITATION: (Audience.PATIENT,),
    E.QUESTIONNAIRE_REMINDER: (Audience.PATIENT,),
    E.CLARIFICATION_REQUESTED: (Audience.PRESCRIBER,),
    E.CLARIFICATION_ANSWERED: (Audience.PHARMACY,),
    E.APPROVED: (Audience.PRESCRIBER, Audience.PATIENT),
    E.REJECTED: (Audience.PRESCRIBER, Audience.PATIENT),
    E.CANCELLED: (Audience.PRESCRIBER, Audience.PATIENT),
    E.READY_FOR_PICKUP: (Audience.PATIENT,),
    E.SHIPPED: (Audience.PATIENT,),
    E.REFILL_STARTED: (Audience.PATIENT,),
    E.RESCREEN_INVITATION: (Audience.PATIENT,),
    E.QUESTIONNAIRE_EXPIRED: (Audience.PATIENT, Audience.PRESCRIBER),
    E.REFILL_REMINDER: (Audience.PATIENT,),
    E.RENEWAL_REQUESTED: (Audience.PRESCRIBER,),
    E.RENEWAL_APPROVED: (Audience.PATIENT,),
    E.RENEWAL_DENIED: (Audience.PATIENT,),
    E.CLARIFICATION_REMINDER: (Audience.PRESCRIBER,),
    E.HOLD_ESCALATED: (Audience.LEAD_PHARMACIST,),
    E.BUD_PASSED: (Audience.PHARMACY,),
    E.FOLLOW_UP_INVITATION: (Audience.PATIENT,),
    E.FOLLOW_UP_FLAGGED: (Audience.PHARMACY,),
    E.RESCREEN_REQUESTED: (Audience.PATIENT,),
    E.RECALL_CONTACT: (Audience.PATIENT,),
    E.RECALL_REMADE: (Audience.PATIENT,),
    E.OUT_FOR_DELIVERY: (Audience.PATIENT,),
    E.DELIVERED: (Audience.PATIENT,),
    E.ADDRESS_UNDELIVERABLE: (Audience.PATIENT,),
    E.PRICE_CONSENTED: (Audience.PHARMACY,),
    E.PRICE_DECLINED: (Audience.PRESCRIBER,),
}


def _addresses(prescription: Prescription, audience: str) -> list[tuple[str, str]]:
    if audience == Audience.PRESCRIBER:
        return [(Channel.EMAIL, prescription.prescriber.user.email)]
    if audience == Audience.PHARMACY:
        return [(Channel.EMAIL, settings.PHARMACY_EMAIL)]
    if audience == Audience.LEAD_PHARMACIST:
        return [(Channel.EMAIL, settings.LEAD_PHARMACIST_EMAIL)]
    patient = prescription.patient
    wanted = patient.contact_preference
    found: list[tuple[str, str]] = []
    if wanted in (ContactPreference.EMAIL, ContactPreference.BOTH) and patient.email:
        found.append((Channel.EMAIL, patient.email))
    if wanted in (ContactPreference.SMS, ContactPreference.BOTH) and patient.phone:
        found.append((Channel.SMS, patient.phone))
    # A patient who asked for texts but gave no phone still hears by email, and the reverse.
    if not found and patient.email:
        found.append((Channel.EMAIL, patient.email))
    if not found and patient.phone:
        found.append((Channel.SMS, patient.phone))
    return found


def notification_record(*, prescription: Prescription, event: str) -> list[Notification]:
    """Write the outbox rows for one event; must run inside the event's transaction."""
    return notifications_record(prescription=prescription, events=(event,))


def notifications_record(*, prescription: Prescription, events: Sequence[str]) -> list[Notification]:
    """Write the outbox rows for several events of one moment in one INSERT (a submission tells
    the prescriber and invites the patient); must run inside the events' transaction."""
    rows = [
        Notification(prescription=prescription, event=event, audience=audience, channel=channel, recipient=address)
        for event in events
        for audience in AUDIENCES[event]
        for channel, address in _addresses(prescription, audience)
    ]
    Notification.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(partial(notifications_publish, ids))
    return rows


# Rows per published message: an event writes at most four (two audiences, two channels each).
PUBLISH_TOGETHER = 4


def notifications_publish(notification_ids: list[int]) -> None:
    """Hand the rows to Celery. Never raises, never stalls: an unpublished row waits for the re-queue.

    Up to PUBLISH_TOGETHER rows go in one message: an event's rows (a submission writes two) cost
    one publish, while the re-queue's hundreds still spread over every worker. The broker's connect
    and socket timeouts are short (CELERY_BROKER_TRANSPORT_OPTIONS) and the publish is not retried;
    after one failure the other rows are left to the re-queue too, so a request waits for at most
    one timeout.
    """
    from intake.notifications.tasks import deliver_notifications_task

    for start in range(0, len(notification_ids), PUBLISH_TOGETHER):
        started = time.monotonic()
        ids = notification_ids[start : start + PUBLISH_TOGETHER]
        try:
            # argsrepr: the ids as they are (Celery's own safe repr of them cost a tenth of the publish).
            deliver_notifications_task.apply_async(args=[ids], argsrepr=repr([ids]), kwargsrepr="{}", retry=False)
        except Exception as exc:
            # Ids and the error's class only: nothing about a patient reaches the log.
            logger.warning(
                "Could not queue notifications %s (%s after %.1f s); the periodic re-queue will send them",
                notification_ids[start:], type(exc).__name__, time.monotonic() - started,
            )  # fmt: skip
            return


def stuck_after() -> timedelta:
    # Longer than any delivery can run (the hard time limit kills it), so a live worker keeps its row.
    return timedelta(seconds=max(10 * 60, 3 * settings.CELERY_TASK_TIME_LIMIT))


def notifications_requeue(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Publish again every row still undelivered after a while. Returns the ids published.

    Pending rows are due NOTIFICATION_RETRY_AFTER_SECONDS after they were written, or after their
    last try's back-off. Rows left "sending" by a worker that died are put back (or failed when
    out of tries) once they are older than any task can run.
    """
    now = now or timezone.now()
    stuck = Notification.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - stuck_after())
    stuck.filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED, last_error="The worker stopped while sending and no tries are left."
    )
    stuck.update(status=DeliveryStatus.PENDING, last_error="The worker stopped while sending; queued again.")

    retry_after = timedelta(seconds=settings.NOTIFICATION_RETRY_AFTER_SECONDS)
    candidates = (
        Notification.objects.filter(status=DeliveryStatus.PENDING)
        .filter(
            Q(claimed_at__isnull=True, created_at__lte=now - retry_after)
            | Q(claimed_at__isnull=False, claimed_at__lte=now - retry_after)
        )
        .order_by("created_at", "id")
        .values_list("pk", "attempts", "claimed_at")[:limit]
    )
    due = [
        pk
        for pk, attempts, claimed_at in candidates
        if claimed_at is None or claimed_at + timedelta(seconds=retry_delay(attempts=attempts)) + retry_after <= now
    ]
    if due:
        logger.info("Re-queueing %d undelivered notifications", len(due))
        notifications_publish(due)
    return due


def questionnaire_reminders_record(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Remind patients whose questionnaire is unanswered QUESTIONNAIRE_REMINDER_HOURS after it was
    asked for (the submission, or a refill that needs the answers confirmed).

    Once per wait: the reminder is itself an outbox row, and a prescription that has one written
    since it began waiting is skipped. Returns the ids of the prescriptions reminded.
    """
    now = now or timezone.now()
    # Once per wait: a refill that waits for its confirmed answers is reminded again.
    reminded = Notification.objects.filter(
        prescription=OuterRef("pk"),
        event=NotificationEvent.QUESTIONNAIRE_REMINDER,
        created_at__gte=OuterRef("status_changed_at"),
    )
    due = (
        Prescription.objects.filter(
            status=PrescriptionStatus.AWAITING_QUESTIONNAIRE,
            status_changed_at__lte=now - timedelta(hours=settings.QUESTIONNAIRE_REMINDER_HOURS),
            questionnaire_expires_at__gt=now,
        )
        .exclude(Exists(reminded))
        .order_by("submitted_at")
        .values_list("pk", flat=True)[:limit]
    )
    return [pk for pk in list(due) if questionnaire_remind(prescription_id=pk)]


@transaction.atomic(durable=True)
def questionnaire_remind(*, prescription_id: int) -> bool:
    """Record the one reminder for a prescription still awaiting its questionnaire; False if not due."""
    # The row lock makes two overlapping runs (two beat processes, a slow run) record one reminder.
    prescription = (
        Prescription.objects.select_for_update(of=("self",))
        .select_related("patient", "prescriber__user")
        .filter(pk=prescription_id, status=PrescriptionStatus.AWAITING_QUESTIONNAIRE)
        .first()
    )
    if prescription is None:
        return False
    if prescription.notifications.filter(
        event=NotificationEvent.QUESTIONNAIRE_REMINDER, created_at__gte=prescription.status_changed_at
    ).exists():
        return False
    notification_record(prescription=prescription, event=NotificationEvent.QUESTIONNAIRE_REMINDER)
    return True


@transaction.atomic(durable=True)
def notification_resend(*, notification_id: int, actor: User) -> Notification:
    """Put a failed row back in the outbox with fresh tries; it is published after the commit."""
    if not actor.is_pharmacy_staff:
        raise Forbidden()
    reset = Notification.objects.filter(pk=notification_id, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, claimed_at=None, last_error=""
    )
    notification = Notification.objects.select_related("prescription").filter(pk=notification_id).first()
    if notification is None:
        raise NotFound()
    if not reset:
        raise Conflict("This notification has not failed: it is already queued or sent.")
    transaction.on_commit(partial(notifications_publish, [notification_id]))
    return notification
