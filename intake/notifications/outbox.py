"""Write notification rows in the caller's transaction; publish them after it commits."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.db import transaction

from intake.models import Audience, Channel, ContactPreference, Notification, NotificationEvent, Prescription

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
}


def _addresses(prescription: Prescription, audience: str) -> list[tuple[str, str]]:
    if audience == Audience.PRESCRIBER:
        return [(Channel.EMAIL, prescription.prescriber.user.email)]
    if audience == Audience.PHARMACY:
        return [(Channel.EMAIL, settings.PHARMACY_EMAIL)]
    patient = prescription.patient
    wanted = patient.contact_preference
    found = []
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
    rows = [
        Notification(prescription=prescription, event=event, audience=audience, channel=channel, recipient=address)
        for audience in AUDIENCES[event]
        for channel, address in _addresses(prescription, audience)
    ]
    created = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in created if row.pk is not None]
    if ids:
        transaction.on_commit(partial(notifications_publish, ids))
    return created


def notifications_publish(notification_ids: list[int]) -> None:
    """Hand the rows to Celery. Never raises: an unpublished row waits for the periodic re-queue."""
    from intake.notifications.tasks import deliver_notification_task

    for notification_id in notification_ids:
        try:
            deliver_notification_task.apply_async(args=[notification_id])
        except Exception:
            logger.warning("Could not queue notification %s; the periodic job will retry it", notification_id)
