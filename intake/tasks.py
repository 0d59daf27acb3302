"""The beat's Celery tasks (CELERY_BEAT_SCHEDULE): the pharmacy's clock, the re-queue of waiting
notifications and webhook deliveries, and the carrier's check of new addresses. Each calls one
function and carries no patient data.

Celery's autodiscovery finds this module (pharmacy/celery.py); the delivery tasks that the outbox
publishes live in intake/notifications/tasks.py.
"""

from __future__ import annotations

from celery import shared_task

from intake.notifications.outbox import notifications_requeue
from intake.notifications.webhooks import webhook_deliveries_requeue
from intake.services.addresses import addresses_check_due
from intake.services.timers import pharmacy_clock


@shared_task(name="intake.pharmacy_clock")
def pharmacy_clock_task() -> None:
    pharmacy_clock()


@shared_task(name="intake.notifications_requeue")
def notifications_requeue_task() -> None:
    notifications_requeue()
    webhook_deliveries_requeue()


@shared_task(name="intake.addresses_check")
def addresses_check_task() -> None:
    addresses_check_due()
