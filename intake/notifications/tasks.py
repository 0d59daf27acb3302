"""Celery tasks that deliver notifications and webhooks: ids in, never patient data. The beat's
re-queue of the waiting ones is in intake/tasks.py."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded

from intake.notifications.delivery import RETRY_MAX_SECONDS, Outcome, notification_deliver
from intake.notifications.webhooks import webhook_deliver

logger = logging.getLogger(__name__)


# max_retries=None: the row's attempts (NOTIFICATION_MAX_ATTEMPTS) bound the tries, not Celery.
@shared_task(name="intake.deliver_notification", bind=True, max_retries=None)
def deliver_notification_task(self: Task, notification_id: int) -> None:
    result = notification_deliver(notification_id=notification_id)
    # In-process (eager) runs cannot wait: the row is pending again and the periodic re-queue retries it.
    if result.outcome == Outcome.RETRY and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)


@shared_task(name="intake.deliver_notifications", bind=True)
def deliver_notifications_task(self: Task, notification_ids: list[int]) -> None:
    """Several rows in one message (one event's, say a submission's two): each is delivered on its
    own, a transient failure is retried alone, and one row's error does not stop the others."""
    for notification_id in notification_ids:
        try:
            result = notification_deliver(notification_id=notification_id)
            if result.outcome == Outcome.RETRY and not self.request.is_eager:
                deliver_notification_task.apply_async(args=[notification_id], countdown=result.retry_in)
        except SoftTimeLimitExceeded:
            raise  # the task's time is up: the rows not reached wait for the re-queue
        except Exception as exc:
            # The row stays pending (or "sending" until it is stale) and the periodic re-queue
            # publishes it again. Its id and the error's class only: nothing about a patient.
            logger.error("Notification %s not delivered (%s); the periodic re-queue will retry it",
                         notification_id, type(exc).__name__)  # fmt: skip


def _retry_soon(result_retry_in: int | None) -> bool:
    # A countdown near the broker's visibility timeout would be handed out twice: longer waits are
    # left to the periodic re-queue, which reads each row's next_attempt_at.
    return result_retry_in is not None and result_retry_in <= RETRY_MAX_SECONDS


@shared_task(name="intake.deliver_webhook", bind=True, max_retries=None)
def deliver_webhook_task(self: Task, delivery_id: int) -> None:
    result = webhook_deliver(delivery_id=delivery_id)
    # In-process (eager) runs cannot wait: the row is pending with its next try, for the re-queue.
    if result.outcome == Outcome.RETRY and not self.request.is_eager and _retry_soon(result.retry_in):
        raise self.retry(countdown=result.retry_in)


@shared_task(name="intake.deliver_webhooks", bind=True)
def deliver_webhooks_task(self: Task, delivery_ids: list[int]) -> None:
    """One event's rows (one per subscription), or the re-queue's: each POSTed on its own, a failure
    retried alone, one receiver's error never stopping the others."""
    for delivery_id in delivery_ids:
        try:
            result = webhook_deliver(delivery_id=delivery_id)
            if result.outcome == Outcome.RETRY and not self.request.is_eager and _retry_soon(result.retry_in):
                deliver_webhook_task.apply_async(args=[delivery_id], countdown=result.retry_in)
        except SoftTimeLimitExceeded:
            raise  # the task's time is up: the rows not reached wait for the re-queue
        except Exception as exc:
            logger.error("Webhook delivery %s not made (%s); the periodic re-queue will retry it",
                         delivery_id, type(exc).__name__)  # fmt: skip
