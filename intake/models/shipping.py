"""What the carrier tells the pharmacy about a parcel after it was shipped.

A tracking event is kept as the carrier sent it (its status and its own words), once per event id,
so that a webhook delivered twice changes nothing the second time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.models.fills import Fill
from intake.models.prescriptions import Prescription
from intake.validators import validate_single_line


class CarrierStatus(models.TextChoices):
    # EasyPost's tracker statuses.
    UNKNOWN = "unknown", _("No news from the carrier yet")
    PRE_TRANSIT = "pre_transit", _("Label made, not yet with the carrier")
    IN_TRANSIT = "in_transit", _("On its way")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for delivery")
    DELIVERED = "delivered", _("Delivered")
    AVAILABLE_FOR_PICKUP = "available_for_pickup", _("Waiting at the carrier for pickup")
    RETURN_TO_SENDER = "return_to_sender", _("Coming back to the pharmacy")
    FAILURE = "failure", _("Delivery failed")
    CANCELLED = "cancelled", _("Cancelled")
    ERROR = "error", _("Carrier error")


# The carrier's news that a person at the pharmacy must act on.
NEEDS_STAFF = frozenset({CarrierStatus.FAILURE, CarrierStatus.RETURN_TO_SENDER, CarrierStatus.ERROR})


class TrackingEvent(models.Model):
    """One tracker update from the carrier about a shipped fill."""

    # The carrier service's own event id: the same event delivered twice is kept once.
    event_id = models.CharField(max_length=80, unique=True, validators=[validate_single_line])
    tracking_code = models.CharField(max_length=60, validators=[validate_single_line])
    prescription = models.ForeignKey(
        Prescription, null=True, blank=True, on_delete=models.PROTECT, related_name="tracking_events"
    )
    fill = models.ForeignKey(Fill, null=True, blank=True, on_delete=models.PROTECT, related_name="tracking_events")
    status = models.CharField(max_length=24, choices=CarrierStatus.choices)
    # The carrier's own words ("Addressee not available"), shown to staff as sent.
    message = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # Failure and return to sender wait in a staff list until someone records what was done.
    needs_staff = models.BooleanField(default=False)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_note = models.CharField(max_length=300, blank=True, validators=[validate_single_line])

    class Meta:
        ordering = ("-occurred_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(handled_at__isnull=True) | Q(handled_by__isnull=False), name="tracking_handled_by_someone"
            ),
        ]
        indexes = [
            models.Index(fields=["tracking_code", "-occurred_at"], name="tracking_code_idx"),
            models.Index(
                fields=["received_at"],
                condition=Q(needs_staff=True, handled_at__isnull=True),
                name="tracking_to_handle_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code}: {self.status}"
