"""What the SMS provider says about a text after taking it: its delivery status, kept on the row.

Twilio posts each status change of a message to /webhooks/twilio/status/. Callbacks can arrive out
of order and more than once, so a status is kept only when it is further along than the one the row
has (a late "sent" never replaces "delivered"); the conditional update makes two at once keep one.
A text the phone never got (undelivered, failed) turns its row failed, so that it shows on the
staff's page of undelivered notifications, and the patient is emailed instead when they gave an email.
"""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from intake.audit import AuditAction, AuditEntry
from intake.models import Audience, Channel, ContactPreference, DeliveryStatus, Notification
from intake.notifications.outbox import notifications_publish

logger = logging.getLogger(__name__)

# Twilio's message statuses in the order a message moves through them; the last four are final.
STATUS_ORDER: dict[str, int] = {
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    "sending": 3,
    "sent": 4,
    "delivered": 5,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
    "read": 6,  # WhatsApp's, after delivered
}
NOT_RECEIVED = ("undelivered", "failed")

# Twilio's delivery error codes most often seen; others are shown by number.
DELIVERY_ERRORS = {
    "30003": "the phone is off or out of reach",
    "30004": "the number blocks texts",
    "30005": "the number does not exist",
    "30006": "the number is a landline or cannot receive texts",
    "30007": "the mobile carrier filtered the text",
    "30008": "the mobile carrier gave no reason",
}


@transaction.atomic(durable=True)
def sms_status_record(*, message_id: str, status: str, error_code: str, entry: AuditEntry) -> Notification | None:
    """Keep one status of a provider's message; None when no row has that message or it knows as much."""
    rank = STATUS_ORDER[status]
    behind = ["", *(known for known, known_rank in STATUS_ORDER.items() if known_rank < rank)]
    moved = Notification.objects.filter(provider_message_id=message_id, provider_status__in=behind).update(
        provider_status=status, provider_status_at=timezone.now()
    )
    if not moved:
        return None
    notification = (
        Notification.objects.select_related("prescription__patient").filter(provider_message_id=message_id).first()
    )
    if notification is None:
        return None
    if status in NOT_RECEIVED:
        _not_received(notification, status=status, error_code=error_code)
    entry.record(AuditAction.UPDATE, prescription=notification.prescription, object_id=notification.pk,
                 object_type="notification")  # fmt: skip
    return notification


def _not_received(notification: Notification, *, status: str, error_code: str) -> None:
    reason = DELIVERY_ERRORS.get(error_code, f"error {error_code}" if error_code else "no reason given")
    error = f"Twilio: the text was {status} ({reason})."
    email = _email_instead(notification)
    if email is not None:
        error += " The patient was emailed instead."
    # Only a row still "sent": one re-sent meanwhile has a new message and is left to it.
    Notification.objects.filter(pk=notification.pk, status=DeliveryStatus.SENT).update(
        status=DeliveryStatus.FAILED, last_error=error
    )
    logger.warning("Notification %s: %s", notification.pk, error)


def _email_instead(notification: Notification) -> Notification | None:
    """The same news by email, when the text was for a patient who gave an email and did not get it
    by email already (those who asked for both were emailed with the text; a re-sent text that
    failed again is not emailed twice)."""
    patient = notification.prescription.patient
    if notification.audience != Audience.PATIENT or not patient.email:
        return None
    if patient.contact_preference == ContactPreference.BOTH:
        return None
    already = Notification.objects.filter(
        prescription=notification.prescription_id,
        event=notification.event,
        channel=Channel.EMAIL,
        created_at__gte=notification.created_at,
    )
    if already.exists():
        return None
    email = Notification.objects.create(
        prescription=notification.prescription,
        event=notification.event,
        audience=Audience.PATIENT,
        channel=Channel.EMAIL,
        recipient=patient.email,
    )
    transaction.on_commit(partial(notifications_publish, [email.pk]))
    return email
