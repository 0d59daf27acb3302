"""The clock on Celery beat: the schedule holds the task, the task runs the timers, and the
management command (for machines without beat) says what it did."""

from __future__ import annotations

from io import StringIO

from django.conf import settings
from django.core.management import call_command

from intake.models import NotificationEvent, PrescriptionStatus
from intake.tasks import pharmacy_clock_task
from tests.clock.conftest import at_status, sent

S = PrescriptionStatus


def test_beat_runs_the_pharmacy_clock_every_15_minutes():
    entries = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "intake.pharmacy_clock"]

    assert len(entries) == 1
    assert entries[0]["schedule"].total_seconds() == 15 * 60


def test_the_task_runs_the_timers(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)
    clock.at(days=1, minutes=1)

    pharmacy_clock_task.delay()  # in-process (eager) in the tests
    pharmacy_clock_task.delay()

    assert len(sent(prescription, NotificationEvent.CLARIFICATION_REMINDER)) == 1


def test_notifications_tick_reports_every_timer(clock, prescriber, pharmacist, technician):
    at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)
    clock.at(days=1, minutes=1)
    out = StringIO()

    call_command("notifications_tick", stdout=out)

    text = out.getvalue()
    for timer in ("questionnaires expired", "refill reminders", "holds nagged", "ready past bud", "follow ups sent"):
        assert timer in text.lower(), timer
    assert "holds nagged: 1" in text.lower()
