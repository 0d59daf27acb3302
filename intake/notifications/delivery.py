"""Deliver one outbox row: claim it, render it, send it, record the outcome.

The claim is a conditional update committed before any network I/O, so a task that runs twice
(a redelivered message, a re-queue racing a retry) sends once: the second finds the row taken.
Sending happens outside any transaction; only the short status updates write to the database.
"""

from __future__ import annotations

import enum
import logging
import smtplib
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from intake.logging import redact
from intake.models import Channel, DeliveryStatus, Notification
from intake.notifications.rendering import RenderedMessage, notification_render
from intake.notifications.sms import SmsSendError, sms_backend

logger = logging.getLogger(__name__)


# A failed try waits 30 s, then 1, 2, 4... minutes (at most 30) before the next: the task's own retry.
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60


def retry_delay(*, attempts: int, max_seconds: int = RETRY_MAX_SECONDS) -> int:
    """Seconds to wait after the given number of tries before trying again."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), max_seconds)


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # another delivery has the row, or it is no longer pending
    RETRY = "retry"  # a transient error: the row is pending again
    FAILED = "failed"


@dataclass(frozen=True)
class DeliveryResult:
    outcome: Outcome
    attempts: int = 0
    retry_in: int | None = None


def notification_claim(*, notification_id: int) -> bool:
    """Take a pending row for this delivery; False when someone else has it or it is done."""
    claimed = Notification.objects.filter(pk=notification_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    return claimed == 1


def notification_mark_sent(*, notification_id: int, provider_message_id: str = "") -> None:
    """Sent: the server or the SMS provider took it. A provider's id starts its delivery status afresh
    (a re-sent text is a new message with an id of its own)."""
    now = timezone.now()
    provider = (
        {"provider_message_id": provider_message_id, "provider_status": "", "provider_status_at": None}
        if provider_message_id
        else {}
    )
    updated = Notification.objects.filter(pk=notification_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.SENT, sent_at=now, last_error="", **provider
    )
    if not updated:
        logger.warning("Notification %s was sent but its row was no longer being sent", notification_id)


def notification_release(*, notification_id: int, error: str) -> None:
    """Back to pending after a transient error, for the task's retry or the periodic re-queue."""
    Notification.objects.filter(pk=notification_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.PENDING, last_error=error
    )


def notification_mark_failed(*, notification_id: int, error: str) -> None:
    """The last try failed (or the error cannot be fixed by trying again): staff see it and may re-send."""
    Notification.objects.filter(pk=notification_id, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED, last_error=error
    )


def is_transient(exc: BaseException) -> bool:
    """Whether trying again later may succeed: SMTP down or busy (4xx), timeouts, network errors."""
    if isinstance(exc, SmsSendError):
        return exc.transient
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _message in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return False
    # SMTPServerDisconnected, connection refused or reset, DNS failures and timeouts are OSErrors.
    return isinstance(exc, OSError | TimeoutError | SoftTimeLimitExceeded)


def describe_error(exc: BaseException) -> str:
    """The error for last_error and the log: codes and classes, never an address or a name."""
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _message in exc.recipients.values()})
        return f"{name}: recipient refused (SMTP {', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        # The server's text can quote the address; the code says enough.
        return f"{name}: SMTP {exc.smtp_code}"
    detail = redact(str(exc))[:300]
    return f"{name}: {detail}" if detail else name


def _message_id(notification: Notification) -> str:
    # One Message-ID per row, so a receiving server can tell a duplicate from a new message.
    domain = settings.PHARMACY_EMAIL.rpartition("@")[2] or "localhost"
    return f"<notification-{notification.pk}@{domain}>"


def _send(notification: Notification, message: RenderedMessage) -> str:
    """Send the row's message; returns the SMS provider's id for it, or "" (email, or none given)."""
    if notification.channel == Channel.SMS:
        return sms_backend().send(notification.recipient, message.sms) or ""
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[settings.PHARMACY_EMAIL],
        headers={"Message-ID": _message_id(notification)},
    )
    email.attach_alternative(message.html, "text/html")
    email.send(fail_silently=False)
    return ""


def notification_deliver(*, notification_id: int) -> DeliveryResult:
    """Send one row if it is pending. Never raises for a delivery error: the outcome says what happened."""
    if not notification_claim(notification_id=notification_id):
        return DeliveryResult(outcome=Outcome.SKIPPED)
    notification = Notification.objects.select_related("prescription__patient", "prescription__prescriber__user").get(
        pk=notification_id
    )
    try:
        provider_message_id = _send(notification, notification_render(notification=notification))
    except Exception as exc:
        error = describe_error(exc)
        if is_transient(exc) and notification.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
            notification_release(notification_id=notification_id, error=error)
            delay = retry_delay(attempts=notification.attempts)
            logger.info("Notification %s try %d failed (%s); retrying in %d s",
                        notification_id, notification.attempts, error, delay)  # fmt: skip
            return DeliveryResult(outcome=Outcome.RETRY, attempts=notification.attempts, retry_in=delay)
        notification_mark_failed(notification_id=notification_id, error=error)
        logger.warning("Notification %s failed after %d tries: %s", notification_id, notification.attempts, error)
        return DeliveryResult(outcome=Outcome.FAILED, attempts=notification.attempts)
    notification_mark_sent(notification_id=notification_id, provider_message_id=provider_message_id)
    return DeliveryResult(outcome=Outcome.SENT, attempts=notification.attempts)
