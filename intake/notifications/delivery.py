"""Deliver one outbox row (placeholder until the notification work lands)."""

from __future__ import annotations


def notification_deliver(*, notification_id: int) -> None:
    return None
