"""The notification outbox: one row per message, written in the transaction of its event."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from intake.models.prescriptions import Prescription


class NotificationEvent(models.TextChoices):
    PRESCRIPTION_RECEIVED = "prescription_received", "Prescription received"
    QUESTIONNAIRE_INVITATION = "questionnaire_invitation", "Questionnaire invitation"
    QUESTIONNAIRE_REMINDER = "questionnaire_reminder", "Questionnaire reminder"
    CLARIFICATION_REQUESTED = "clarification_requested", "Clarification requested"
    CLARIFICATION_ANSWERED = "clarification_answered", "Clarification answered"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    SHIPPED = "shipped", "Shipped"
    REFILL_STARTED = "refill_started", "Refill started"
    RESCREEN_INVITATION = "rescreen_invitation", "Re-screening questions before a refill"
    QUESTIONNAIRE_EXPIRED = "questionnaire_expired", "Questionnaire link expired"
    REFILL_REMINDER = "refill_reminder", "Refill reminder"
    RENEWAL_REQUESTED = "renewal_requested", "Renewal requested"
    RENEWAL_APPROVED = "renewal_approved", "Renewal approved"
    RENEWAL_DENIED = "renewal_denied", "Renewal denied"
    CLARIFICATION_REMINDER = "clarification_reminder", "Question still open"
    HOLD_ESCALATED = "hold_escalated", "Hold escalated"
    BUD_PASSED = "bud_passed", "Ready fill past its beyond-use date"
    FOLLOW_UP_INVITATION = "follow_up_invitation", "Side-effect check-in"
    FOLLOW_UP_FLAGGED = "follow_up_flagged", "Check-in answers for a pharmacist"
    RESCREEN_REQUESTED = "rescreen_requested", "New questionnaire asked by the pharmacist"
    RECALL_CONTACT = "recall_contact", "Recall: please contact the pharmacy"
    RECALL_REMADE = "recall_remade", "Recall: being made again"
    OUT_FOR_DELIVERY = "out_for_delivery", "Parcel out for delivery"
    DELIVERED = "delivered", "Parcel delivered"
    ADDRESS_UNDELIVERABLE = "address_undeliverable", "The carrier cannot deliver to the address"
    PRICE_CONSENTED = "price_consented", "The patient agreed to the price"
    PRICE_DECLINED = "price_declined", "The patient declined the price"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"


class Audience(models.TextChoices):
    PRESCRIBER = "prescriber", "Prescriber"
    PATIENT = "patient", "Patient"
    PHARMACY = "pharmacy", "Pharmacy"
    LEAD_PHARMACIST = "lead_pharmacist", "Lead pharmacist"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=30, choices=NotificationEvent.choices)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What the SMS provider said after accepting the message (its id, then its delivery callbacks):
    # "sent" above means the provider took it; these say whether the phone got it.
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    provider_status = models.CharField(max_length=20, blank=True)
    provider_status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [
            # The periodic re-queue scans only undelivered rows.
            models.Index(
                fields=["created_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="notification_undelivered_idx",
            ),
            models.Index(fields=["status", "created_at"], name="notification_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.audience} by {self.channel}"
