"""The periodic jobs once, for machines with no Celery beat (the embedded default): run it from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from intake.notifications.outbox import notifications_requeue
from intake.notifications.webhooks import webhook_deliveries_requeue
from intake.services.timers import pharmacy_clock


class Command(BaseCommand):
    help = (
        "Run the pharmacy's timers (reminders, expiries, escalations) and re-queue undelivered notifications "
        "and webhook deliveries."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        run = pharmacy_clock()
        requeued = notifications_requeue()
        webhooks = webhook_deliveries_requeue()
        reminded = run.fired["questionnaire_reminders"]
        others = ", ".join(f"{name.replace('_', ' ')}: {len(ids)}" for name, ids in run.fired.items()
                           if name != "questionnaire_reminders")  # fmt: skip
        self.stdout.write(
            f"{len(reminded)} reminder(s) recorded, {len(requeued)} notification(s) re-queued, "
            f"{len(webhooks)} webhook delivery(ies) re-queued; {others}."
        )
