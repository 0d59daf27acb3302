"""Celery tasks: ids in, never patient data."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="intake.deliver_notification")
def deliver_notification_task(notification_id: int) -> None:
    from intake.notifications.delivery import notification_deliver

    notification_deliver(notification_id=notification_id)
