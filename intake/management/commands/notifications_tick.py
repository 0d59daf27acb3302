"""The periodic jobs once, for machines with no Celery beat (the embedded default): run it from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from intake.notifications.outbox import notifications_requeue, questionnaire_reminders_record


class Command(BaseCommand):
    help = "Re-queue undelivered notifications and record questionnaire reminders that are due."

    def handle(self, *args: Any, **options: Any) -> None:
        reminded = questionnaire_reminders_record()
        requeued = notifications_requeue()
        self.stdout.write(f"{len(reminded)} reminder(s) recorded, {len(requeued)} notification(s) re-queued.")
