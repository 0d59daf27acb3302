"""The clock's tests move time with time-machine, never by sleeping: `clock.at(days=3)` jumps to
three days after the test's start (noon, local time, so a day is never cut by midnight)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from intake.models import Notification, Prescriber, Prescription
from tests.factories import make_prescription
from tests.workflow_helpers import advance


@dataclass
class Clock:
    traveller: Any
    start: datetime

    def at(self, **delta: float) -> datetime:
        """Stop the clock at start + delta and return that moment."""
        moment = self.start + timedelta(**delta)
        self.traveller.move_to(moment, tick=False)
        return moment


@pytest.fixture
def clock(time_machine) -> Clock:  # type: ignore[no-untyped-def]
    # In UTC: a day is then 24 hours even across a daylight-saving change (local noon moves by an hour).
    start = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)
    time_machine.move_to(start, tick=False)
    return Clock(traveller=time_machine, start=start)


def at_status(
    prescriber: Prescriber, status: str, *, pharmacist: User, technician: User, **content: Any
) -> Prescription:
    return advance(make_prescription(prescriber, **content), status, pharmacist=pharmacist, technician=technician)


def sent(prescription: Prescription, event: str, **filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(prescription=prescription, event=event, **filters))
