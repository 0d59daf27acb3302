"""Reads for the notification pages."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from intake.models import DeliveryStatus, Notification


def notifications_undelivered() -> QuerySet[Notification]:
    """Failed rows first (they need a person), then those still waiting or being sent; oldest first."""
    return (
        Notification.objects.filter(status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING, DeliveryStatus.SENDING])
        .select_related("prescription")
        .annotate(
            failed_first=Case(
                When(status=DeliveryStatus.FAILED, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("failed_first", "created_at", "id")
    )


def masked_recipient(*, channel: str, recipient: str) -> str:
    """Enough to recognise the address, not to read it off a screen: a***@example.com, ***0123."""
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    digits = "".join(ch for ch in recipient if ch.isdigit())
    return f"***{digits[-4:]}" if digits else "***"
