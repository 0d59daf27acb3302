"""Celery tasks: ids in, never patient data; each calls one service."""

from __future__ import annotations

from celery import Task, shared_task

from intake.notifications.delivery import Outcome, notification_deliver
from intake.notifications.outbox import notifications_requeue
from intake.services.timers import pharmacy_clock


# max_retries=None: the row's attempts (NOTIFICATION_MAX_ATTEMPTS) bound the tries, not Celery.
@shared_task(name="intake.deliver_notification", bind=True, max_retries=None)
def deliver_notification_task(self: Task, notification_id: int) -> None:
    result = notification_deliver(notification_id=notification_id)
    # In-process (eager) runs cannot wait: the row is pending again and the periodic re-queue retries it.
    if result.outcome == Outcome.RETRY and not self.request.is_eager:
        raise self.retry(countdown=result.retry_in)


@shared_task(name="intake.notifications_requeue")
def notifications_requeue_task() -> None:
    notifications_requeue()



@shared_task(name="intake.pharmacy_clock")
def pharmacy_clock_task() -> None:
    pharmacy_clock()
