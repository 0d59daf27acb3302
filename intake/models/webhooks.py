"""Webhooks for prescribers' systems: a subscription per endpoint, a delivery row per (subscription, event).

A delivery row is written in the transaction of the status change it reports, like a notification,
and is the only source of truth for whether the prescriber's system heard of it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual

from intake.models.notifications import DeliveryStatus
from intake.models.people import Prescriber
from intake.models.prescriptions import Prescription

SECRET_MIN_LENGTH = 16
SECRET_MAX_LENGTH = 256
URL_MAX_LENGTH = 2000


class WebhookEvent(models.TextChoices):
    STATUS_CHANGED = "prescription.status_changed", "Prescription status changed"
    PING = "webhook.ping", "Test ping"


class WebhookSubscription(models.Model):
    """An endpoint of a prescriber's system that hears about their prescriptions' status changes.

    The secret is kept as given: the pharmacy signs every delivery with it (HMAC), so it must be
    able to read it back; it is never shown again after the subscription is made (a hint only).
    """

    prescriber = models.ForeignKey(Prescriber, on_delete=models.PROTECT, related_name="webhook_subscriptions")
    url = models.CharField(max_length=URL_MAX_LENGTH)
    secret = models.CharField(max_length=SECRET_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("secret"), SECRET_MIN_LENGTH), name="webhook_secret_long_enough"
            ),
            models.CheckConstraint(
                condition=Q(url__startswith="https://") | Q(url__startswith="http://"), name="webhook_url_http"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("created_at")),
                name="webhook_ended_after_created",
            ),
        ]
        indexes = [
            # A status change reads the prescriber's active subscriptions.
            models.Index(fields=["prescriber"], condition=Q(ended_at__isnull=True), name="webhook_active_idx"),
        ]

    def __str__(self) -> str:
        return self.url

    @property
    def active(self) -> bool:
        return self.ended_at is None

    @property
    def secret_hint(self) -> str:
        """Enough to tell two secrets apart, never enough to sign with."""
        return f"…{self.secret[-4:]}"


class WebhookDelivery(models.Model):
    """One event for one subscription: its payload, as signed and sent, and how its delivery went."""

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.PROTECT, related_name="deliveries")
    # The event's id, the same for every subscription that hears of it: receivers drop repeats by it.
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    prescription = models.ForeignKey(
        Prescription, null=True, blank=True, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_once"),
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_known"),
            models.CheckConstraint(
                condition=Q(status=DeliveryStatus.SENT, sent_at__isnull=False)
                | (~Q(status=DeliveryStatus.SENT) & Q(sent_at__isnull=True)),
                name="webhook_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=Q(event=WebhookEvent.PING) | Q(prescription__isnull=False),
                name="webhook_status_event_has_prescription",
            ),
            models.CheckConstraint(
                condition=Q(last_response_status__isnull=True)
                | Q(last_response_status__gte=100, last_response_status__lte=599),
                name="webhook_response_status_http",
            ),
        ]
        indexes = [
            # The periodic re-queue scans only undelivered rows, by when they are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_undelivered_idx",
            ),
            models.Index(fields=["subscription", "created_at"], name="webhook_delivery_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} to subscription {self.subscription_id}"
