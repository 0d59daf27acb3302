"""Repeat business: fills of a prescription, renewal requests, the side-effect check-in, and the
marks that keep each timer firing once.

A prescription with refills is dispensed as successive fills. The prescription's own status is
the status of its current fill (the API and the pages show one status per prescription); each
Fill row keeps its own cycle, beyond-use date, dispensing and label, and the events carry the
fill's number.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from intake.models.prescriptions import Prescription, PrescriptionStatus
from intake.validators import validate_free_text, validate_single_line


class Requester(models.TextChoices):
    """Who asked for a fill or a renewal."""

    PRESCRIPTION = "prescription", "The prescription itself (first fill)"
    PATIENT = "patient", "The patient"
    PRESCRIBER = "prescriber", "The prescriber"
    PHARMACY = "pharmacy", "The pharmacy"


class Fill(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="fills")
    number = models.PositiveSmallIntegerField()  # 1 is the first fill; 2 is the first refill
    status = models.CharField(max_length=24, choices=PrescriptionStatus.choices)
    requested_by = models.CharField(max_length=12, choices=Requester.choices, default=Requester.PRESCRIPTION)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    quantity = models.PositiveIntegerField()
    days_supply = models.PositiveIntegerField()
    beyond_use_date = models.DateField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    # Handed over: picked up (complete from ready) or shipped. The days supply counts from here.
    dispensed_at = models.DateTimeField(null=True, blank=True)
    # 7 days before the supply runs out (intake.clinical.refills), set when dispensed.
    refill_reminder_on = models.DateField(null=True, blank=True)
    carrier = models.CharField(max_length=40, blank=True, validators=[validate_single_line])
    tracking_number = models.CharField(max_length=60, blank=True, validators=[validate_single_line])
    # A label bought through the carrier service (SHIPPING_BACKEND=easypost): its shipment and the
    # printable label, so the ship page can print it again.
    carrier_shipment_id = models.CharField(max_length=60, blank=True, validators=[validate_single_line])
    label_url = models.URLField(max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("prescription", "number")
        constraints = [
            models.UniqueConstraint(fields=["prescription", "number"], name="fill_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="fill_number_positive"),
            models.CheckConstraint(condition=Q(status__in=PrescriptionStatus.values), name="fill_status_valid"),
        ]
        indexes = [
            # Refill reminders and the follow-up check-in scan dispensed fills by date.
            models.Index(fields=["dispensed_at"], condition=Q(dispensed_at__isnull=False), name="fill_dispensed_idx"),
            models.Index(
                fields=["refill_reminder_on"], condition=Q(refill_reminder_on__isnull=False), name="fill_reminder_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prescription_id} fill {self.number}"

    @property
    def is_refill(self) -> bool:
        return self.number > 1


class RenewalStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the prescriber"
    APPROVED = "approved", "Renewed"
    DENIED = "denied", "Denied"


class RenewalRequest(models.Model):
    """A request to the prescriber for a new prescription when no refill is left (NCPDP RxRenewal)."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="renewal_requests")
    requested_by = models.CharField(max_length=12, choices=Requester.choices)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=RenewalStatus.choices, default=RenewalStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    denial_reason = models.TextField(blank=True, validators=[validate_free_text])
    new_prescription = models.OneToOneField(
        Prescription, null=True, blank=True, on_delete=models.PROTECT, related_name="renewal_of"
    )

    class Meta:
        ordering = ("-requested_at",)
        constraints = [
            # One open request per prescription: asking twice does not nag the prescriber twice.
            models.UniqueConstraint(fields=["prescription"], condition=Q(status="pending"), name="renewal_one_pending"),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(new_prescription__isnull=False), name="renewal_approved_has_rx"
            ),
            models.CheckConstraint(condition=~Q(status="denied") | ~Q(denial_reason=""), name="renewal_denied_why"),
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.prescription_id} ({self.status})"


class SymptomLevel(models.TextChoices):
    NONE = "none", _("Not at all")
    MILD = "mild", _("A little")
    BOTHERSOME = "bothersome", _("A lot: it bothers me")


class FollowUp(models.Model):
    """The side-effect check-in 14 days after a first fill, answered through a private link."""

    prescription = models.OneToOneField(Prescription, on_delete=models.CASCADE, related_name="follow_up")
    token = models.CharField(max_length=64, unique=True, editable=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    sleep_problems = models.CharField(max_length=12, choices=SymptomLevel.choices, blank=True)
    vivid_dreams = models.CharField(max_length=12, choices=SymptomLevel.choices, blank=True)
    nausea = models.CharField(max_length=12, choices=SymptomLevel.choices, blank=True)
    headache = models.CharField(max_length=12, choices=SymptomLevel.choices, blank=True)
    other_effects = models.TextField(blank=True, validators=[validate_free_text])
    wants_call = models.BooleanField(default=False)
    # Set from the answers by intake.clinical.follow_up; the pharmacist's list reads these.
    needs_pharmacist = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)
    advice = models.JSONField(default=list, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True, validators=[validate_free_text])

    class Meta:
        ordering = ("-answered_at",)
        indexes = [
            models.Index(
                fields=["answered_at"],
                condition=Q(needs_pharmacist=True, reviewed_at__isnull=True),
                name="follow_up_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up for {self.prescription_id}"


class TimerKind(models.TextChoices):
    QUESTIONNAIRE_EXPIRY = "questionnaire_expiry", "Questionnaire link expired"
    REFILL_REMINDER = "refill_reminder", "Refill reminder"
    HOLD_NAG = "hold_nag", "Daily reminder of an open question"
    HOLD_ESCALATION = "hold_escalation", "Hold escalated to the lead pharmacist"
    BUD_PASSED = "bud_passed", "Ready fill past its beyond-use date"
    FOLLOW_UP = "follow_up", "Side-effect check-in sent"


class TimerFiring(models.Model):
    """One row per timer that fired for a prescription: the unique key makes every timer idempotent,
    however often beat runs it and however many beat processes overlap."""

    kind = models.CharField(max_length=24, choices=TimerKind.choices)
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="timer_firings")
    # What makes this firing distinct: the fill ("fill-2"), the day of a hold ("hold-…-day-3").
    key = models.CharField(max_length=80)
    fired_at = models.DateTimeField()

    class Meta:
        ordering = ("fired_at",)
        constraints = [models.UniqueConstraint(fields=["kind", "prescription", "key"], name="timer_firing_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"
