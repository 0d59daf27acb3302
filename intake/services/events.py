"""The history of a prescription: one function writes every PrescriptionEvent.

A status change (or a new prescription's first status) is also reported to the prescriber's
systems: the webhook rows are written in the same transaction as the event and published after
it commits, so a change rolled back reports nothing and one committed is never lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accounts.models import User
from intake.models import Prescription, PrescriptionEvent
from intake.notifications.webhooks import webhook_status_changed_record


def prescription_event_record(
    *,
    prescription: Prescription,
    action: str,
    from_status: str,
    to_status: str,
    actor: User | None = None,
    actor_label: str = "",
    message: str = "",
    details: Mapping[str, Any] | None = None,
) -> PrescriptionEvent:
    """Write one history event; must run inside the transaction of what it records."""
    event = PrescriptionEvent.objects.create(
        prescription=prescription, action=action, from_status=from_status, to_status=to_status, actor=actor,
        actor_label=actor_label, message=message, details=dict(details or {}),
    )  # fmt: skip
    if from_status != to_status:
        webhook_status_changed_record(prescription=prescription, status=to_status, at=event.created_at)
    return event
