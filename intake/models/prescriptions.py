"""The prescription, its statuses and the one table of allowed transitions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from intake.clinical.refills import prescription_expires_on
from intake.models.formulary import DosageFormCode
from intake.models.history import history_of
from intake.models.people import Patient, Prescriber
from intake.validators import validate_free_text, validate_single_line


class PrescriptionStatus(models.TextChoices):
    AWAITING_QUESTIONNAIRE = "awaiting_questionnaire", "Waiting for the patient's questionnaire"
    PENDING_REVIEW = "pending_review", "Waiting for pharmacist review"
    IN_REVIEW = "in_review", "In review"
    ON_HOLD = "on_hold", "On hold: question for the prescriber"
    APPROVED = "approved", "Approved"
    COMPOUNDING = "compounding", "Being compounded"
    FINAL_CHECK = "final_check", "Final check"
    READY = "ready", "Ready for pickup"
    SHIPPED = "shipped", "Shipped"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


S = PrescriptionStatus
OPEN_STATUSES = frozenset(
    {S.AWAITING_QUESTIONNAIRE, S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.APPROVED, S.COMPOUNDING,
     S.FINAL_CHECK, S.READY, S.SHIPPED}
)  # fmt: skip
CLOSED_STATUSES = frozenset({S.COMPLETED, S.REJECTED, S.CANCELLED})
# Where the next step is the pharmacy's own: idling here too long shows as overdue in the queue.
STAFF_STATUSES = frozenset({S.PENDING_REVIEW, S.IN_REVIEW, S.APPROVED, S.COMPOUNDING, S.FINAL_CHECK})


def overdue_before() -> datetime:
    """A prescription in a staff status since before this moment is overdue (QUEUE_OVERDUE_HOURS)."""
    return timezone.now() - timedelta(hours=settings.QUEUE_OVERDUE_HOURS)


def overdue(status: str, status_changed_at: datetime | None, *, before: datetime) -> bool:
    """Idle in a staff status since before `before` (overdue_before()): the queue's red mark.
    (The queue reads rows as values, not models, so the rules of a prescription's state are
    functions of its fields, which the model's properties call.)"""
    return status in STAFF_STATUSES and status_changed_at is not None and status_changed_at < before


def past_beyond_use_date(status: str, beyond_use_date: date | None, today: date) -> bool:
    """A ready fill whose beyond-use date has passed: it must not be handed over."""
    return status == S.READY and beyond_use_date is not None and beyond_use_date < today


_SEVERITY_RANK = {"hard_stop": 3, "warning": 2, "info": 1}


def flag_level_of(flags: Iterable[Mapping[str, Any]]) -> str:
    """The most severe flag's level, kept on the prescription for the queue's filter."""
    worst = max((_SEVERITY_RANK.get(str(flag.get("severity")), 0) for flag in flags), default=0)
    return {3: FlagLevel.HARD_STOP, 2: FlagLevel.WARNING, 1: FlagLevel.INFO}.get(worst, FlagLevel.NONE)


def flags_by_code(flags: list[dict[str, str]]) -> list[dict[str, str]]:
    """One flag per code (the first, which the engine orders worst first), for badges."""
    by_code: dict[str, dict[str, str]] = {}
    for flag in flags:
        by_code.setdefault(flag["code"], flag)
    return list(by_code.values())


class Action(models.TextChoices):
    SUBMIT = "submit", "Submitted"
    QUESTIONNAIRE = "questionnaire", "Questionnaire answered"
    CLAIM = "claim", "Claimed for review"
    REQUEST_CLARIFICATION = "request_clarification", "Clarification asked"
    RESPOND = "respond", "Prescriber answered"
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    START_COMPOUNDING = "start_compounding", "Compounding started"
    RECORD_COMPOUNDING = "record_compounding", "Compounding recorded"
    FINAL_CHECK = "final_check", "Final check passed"
    SHIP = "ship", "Shipped"
    COMPLETE = "complete", "Completed"
    CANCEL = "cancel", "Cancelled"
    RELEASE = "release", "Claim released"
    REFILL = "refill", "Refill started"
    REFILL_RESCREEN = "refill_rescreen", "Refill started; re-screening questions sent"
    REFILL_LAPSE = "refill_lapse", "Refill lapsed: questionnaire not answered"
    EXPIRE = "expire", "Cancelled: questionnaire not answered"
    RECOMPOUND = "recompound", "Past its beyond-use date; to be compounded again"
    TIMER = "timer", "Reminder sent"
    RENEWAL_REQUEST = "renewal_request", "Renewal asked of the prescriber"
    RENEWAL_APPROVE = "renewal_approve", "Renewed by the prescriber"
    RENEWAL_DENY = "renewal_deny", "Renewal denied by the prescriber"
    FOLLOW_UP = "follow_up", "Side-effect check-in"
    VERIFY_FLAG = "verify_flag", "Flag verified"
    REQUEST_RESCREEN = "request_rescreen", "New questionnaire asked of the patient"
    RECALL_REMAKE = "recall_remake", "A lot in it was recalled; to be compounded again"
    FILL_FROM_BATCH = "fill_from_batch", "Filled from a released batch"
    RECALL_CONTACT = "recall_contact", "A lot in it was recalled; the patient asked to contact the pharmacy"
    DELIVERED = "delivered", "Delivered (the carrier's tracking)"
    PRICE_CONSENT = "price_consent", "Price agreed by the patient"
    PRICE_DECLINE = "price_decline", "Cancelled: the patient declined the price"
    PRICE_DECLINE_REFILL = "price_decline_refill", "Refill lapsed: the patient declined the price"


# Who may act: pharmacy roles, OWNER for the prescriber who wrote the prescription, PATIENT through
# their private link or reference and birth date, SYSTEM for the timers (both without an account).
OWNER = "owner"
PATIENT = "patient"
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    actors: frozenset[str]


_STAFF = frozenset({Role.PHARMACIST, Role.TECHNICIAN})
_PHARMACIST = frozenset({Role.PHARMACIST})
_BEFORE_COMPOUNDING = frozenset({S.AWAITING_QUESTIONNAIRE, S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.APPROVED})
_DISPENSED = frozenset({S.SHIPPED, S.COMPLETED})
_REFILL_ASKERS = frozenset({PATIENT, OWNER, Role.PHARMACIST, Role.TECHNICIAN})

# The pharmacy's workflow actions. Nothing else sets a status.
TRANSITIONS: dict[str, Transition] = {
    Action.QUESTIONNAIRE: Transition(frozenset({S.AWAITING_QUESTIONNAIRE}), S.PENDING_REVIEW, frozenset({PATIENT})),
    Action.CLAIM: Transition(frozenset({S.PENDING_REVIEW}), S.IN_REVIEW, _STAFF),
    Action.RELEASE: Transition(frozenset({S.IN_REVIEW}), S.PENDING_REVIEW, _STAFF),
    Action.REQUEST_CLARIFICATION: Transition(frozenset({S.PENDING_REVIEW, S.IN_REVIEW}), S.ON_HOLD, _PHARMACIST),
    Action.RESPOND: Transition(frozenset({S.ON_HOLD}), S.PENDING_REVIEW, frozenset({OWNER})),
    Action.APPROVE: Transition(frozenset({S.IN_REVIEW}), S.APPROVED, _PHARMACIST),
    Action.REJECT: Transition(
        frozenset({S.AWAITING_QUESTIONNAIRE, S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD}), S.REJECTED, _PHARMACIST
    ),
    Action.START_COMPOUNDING: Transition(frozenset({S.APPROVED}), S.COMPOUNDING, _STAFF),
    Action.RECORD_COMPOUNDING: Transition(frozenset({S.COMPOUNDING}), S.FINAL_CHECK, _STAFF),
    Action.FINAL_CHECK: Transition(frozenset({S.FINAL_CHECK}), S.READY, _PHARMACIST),
    Action.SHIP: Transition(frozenset({S.READY}), S.SHIPPED, _STAFF),
    Action.COMPLETE: Transition(frozenset({S.READY, S.SHIPPED}), S.COMPLETED, _STAFF),
    Action.CANCEL: Transition(_BEFORE_COMPOUNDING, S.CANCELLED, frozenset({OWNER, Role.PHARMACIST})),
    # A refill opens the next fill of a dispensed prescription (services/refills.py checks the
    # refills left, the 75% rule and the expiry). Opioid use can start at any time, so every refill
    # waits for the patient's short re-screen first; the answers then go to a pharmacist's review.
    Action.REFILL_RESCREEN: Transition(_DISPENSED, S.AWAITING_QUESTIONNAIRE, _REFILL_ASKERS),
    # A pharmacist records how a flag was checked; the prescription stays in review.
    Action.VERIFY_FLAG: Transition(frozenset({S.IN_REVIEW}), S.IN_REVIEW, _PHARMACIST),
    # Answers that only the patient can change (an opioid answered yes by mistake): a new link.
    Action.REQUEST_RESCREEN: Transition(
        frozenset({S.PENDING_REVIEW, S.IN_REVIEW}), S.AWAITING_QUESTIONNAIRE, _PHARMACIST
    ),
    # The timers: an unanswered questionnaire ends the first fill (cancelled) or the refill asked for
    # (back to completed: the refills stay for later).
    Action.EXPIRE: Transition(frozenset({S.AWAITING_QUESTIONNAIRE}), S.CANCELLED, frozenset({SYSTEM})),
    Action.REFILL_LAPSE: Transition(frozenset({S.AWAITING_QUESTIONNAIRE}), S.COMPLETED, frozenset({SYSTEM})),
    # A ready fill past its beyond-use date is destroyed and made again; it is never handed over.
    Action.RECOMPOUND: Transition(frozenset({S.READY}), S.COMPOUNDING, _PHARMACIST),
    # Capsules taken from a released batch instead of compounded alone: checked like any fill.
    Action.FILL_FROM_BATCH: Transition(frozenset({S.APPROVED, S.COMPOUNDING}), S.FINAL_CHECK, _STAFF),
    # A lot in the fill was recalled before it was handed over: its record is void, it is made again.
    Action.RECALL_REMAKE: Transition(frozenset({S.FINAL_CHECK, S.READY}), S.COMPOUNDING, _PHARMACIST),
    # The carrier's signed word that the parcel reached the patient closes the fill; nobody types it.
    Action.DELIVERED: Transition(frozenset({S.SHIPPED}), S.COMPLETED, frozenset({SYSTEM})),
    # The patient answers the price of an approved fill (services/pricing.py): agreeing keeps it
    # approved; declining ends the first fill (cancelled) or the refill asked for (back to completed,
    # the refill given back), as an unanswered questionnaire does.
    Action.PRICE_CONSENT: Transition(frozenset({S.APPROVED}), S.APPROVED, frozenset({PATIENT})),
    Action.PRICE_DECLINE: Transition(frozenset({S.APPROVED}), S.CANCELLED, frozenset({PATIENT})),
    Action.PRICE_DECLINE_REFILL: Transition(frozenset({S.APPROVED}), S.COMPLETED, frozenset({PATIENT})),
}

# Actions with a public API endpoint, /api/v1/prescriptions/{id}/actions/{action}/.
API_ACTIONS = (
    Action.CLAIM, Action.REQUEST_CLARIFICATION, Action.RESPOND, Action.APPROVE, Action.REJECT,
    Action.START_COMPOUNDING, Action.RECORD_COMPOUNDING, Action.FINAL_CHECK, Action.SHIP,
    Action.COMPLETE, Action.CANCEL, Action.VERIFY_FLAG, Action.REQUEST_RESCREEN, Action.FILL_FROM_BATCH,
)  # fmt: skip


class DoseTiming(models.TextChoices):
    BEDTIME = "bedtime", "At bedtime"
    MORNING = "morning", "In the morning"


class PriceConsent(models.TextChoices):
    """The patient's answer to the price of the current fill; blank until a price is asked of them."""

    NOT_ASKED = "", "Not asked"
    PENDING = "pending", "Waiting for the patient"
    CONSENTED = "consented", "Agreed by the patient"
    DECLINED = "declined", "Declined by the patient"


class FlagLevel(models.TextChoices):
    """The most severe screening flag on a prescription, kept for the queue's filter."""

    NONE = "", "No flags"
    INFO = "info", "Information"
    WARNING = "warning", "Warning"
    HARD_STOP = "hard_stop", "Hard stop"


text_limit = MaxLengthValidator(1000)


class Prescription(models.Model):
    reference = models.CharField(max_length=12, unique=True, editable=False)
    # No index of their own: rx_prescriber_idx and rx_patient_idx (Meta) lead with them.
    prescriber = models.ForeignKey(Prescriber, on_delete=models.PROTECT, related_name="prescriptions", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions", db_index=False)
    status = models.CharField(max_length=24, choices=PrescriptionStatus.choices, editable=False)

    # Prescribed content: covered by the signature's digest.
    dosage_form = models.CharField(max_length=20, choices=DosageFormCode.choices)
    strength_mg = models.DecimalField(max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    directions = models.TextField(validators=[validate_free_text, text_limit])
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    days_supply = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    refills = models.PositiveSmallIntegerField(validators=[MaxValueValidator(11)])
    indication = models.CharField(max_length=200, validators=[validate_single_line])
    icd10 = models.CharField("ICD-10 code", max_length=8, blank=True, validators=[validate_single_line])
    dose_timing = models.CharField(max_length=10, choices=DoseTiming.choices, default=DoseTiming.BEDTIME)
    prescriber_notes = models.TextField(blank=True, validators=[validate_free_text, text_limit])
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    rush = models.BooleanField(default=False)
    # A refill of a titration dispenses the prescribed strength only, unless this asks for the
    # titration again on every fill.
    repeat_titration = models.BooleanField(default=False)
    # The patient's allergies as the prescriber wrote them, one line each; screened like the
    # patient's own list.
    prescriber_allergies = models.JSONField(default=list, blank=True)

    # Signature: typed name and attestation, when and from where, and the digest of the content.
    signature_name = models.CharField(max_length=200, validators=[validate_single_line])
    signed_at = models.DateTimeField()
    signed_from_ip = models.GenericIPAddressField(null=True, blank=True)
    content_digest = models.CharField(max_length=64)

    # Screening: the flags as the clinical engine returned them, and the worst level for filtering.
    flags = models.JSONField(default=list, blank=True)
    flag_level = models.CharField(max_length=10, choices=FlagLevel.choices, default=FlagLevel.NONE, blank=True)

    questionnaire_token = models.CharField(max_length=64, unique=True, editable=False)
    questionnaire_expires_at = models.DateTimeField()

    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="claimed_prescriptions"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The current fill (1 = the first); its details mirror the fill's row (intake/models/fills.py).
    fill_number = models.PositiveSmallIntegerField(default=1, editable=False)
    # Refills started and not lapsed; a refill whose questionnaire lapsed gives its refill back.
    refills_used = models.PositiveSmallIntegerField(default=0, editable=False)
    # When the status last changed: the queue's "overdue" and the hold's daily reminders count from it.
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    renewed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals", editable=False
    )
    beyond_use_date = models.DateField(null=True, blank=True)
    # The cash price of the current fill, quoted when it is approved, and the patient's answer to it
    # (pending only where PRICE_CONSENT_REQUIRED). No card data: payment is the pharmacy's link.
    price_amount = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True, editable=False)
    price_currency = models.CharField(max_length=3, blank=True, editable=False)
    price_quoted_at = models.DateTimeField(null=True, blank=True, editable=False)
    price_consent = models.CharField(
        max_length=10, choices=PriceConsent.choices, default=PriceConsent.NOT_ASKED, blank=True, editable=False
    )
    price_consent_at = models.DateTimeField(null=True, blank=True, editable=False)
    carrier = models.CharField(max_length=40, blank=True, validators=[validate_single_line])
    tracking_number = models.CharField(max_length=60, blank=True, validators=[validate_single_line])

    submitted_at = models.DateTimeField(db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_of(
        unindexed=[
            "reference",
            "prescriber",
            "patient",
            "questionnaire_token",
            "claimed_by",
            "renewed_from",
            "submitted_at",
        ],
        excluded=["updated_at"],
    )

    class Meta:
        ordering = ("-submitted_at",)
        permissions = [
            ("review_prescription", "Can claim and review prescriptions"),
            ("approve_prescription", "Can approve or reject prescriptions"),
            ("compound_prescription", "Can record compounding and hand over"),
            ("submit_prescription", "Can submit prescriptions"),
            ("view_audit", "Can read the audit trail"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PrescriptionStatus.values), name="rx_status_valid"),
            models.CheckConstraint(condition=Q(strength_mg__gt=0), name="rx_strength_positive"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="rx_quantity_positive"),
            models.CheckConstraint(condition=Q(days_supply__gt=0), name="rx_days_supply_positive"),
            models.CheckConstraint(condition=Q(refills__gte=0, refills__lte=11), name="rx_refills_0_11"),
            models.CheckConstraint(condition=Q(refills_used__lte=models.F("refills")), name="rx_refills_used_le"),
            models.CheckConstraint(
                condition=Q(price_amount__isnull=True) | Q(price_amount__gte=0), name="rx_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(price_consent="") | Q(price_amount__isnull=False), name="rx_price_consent_quoted"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[S.IN_REVIEW]) | Q(claimed_by__isnull=False), name="rx_in_review_claimed"
            ),
        ]
        indexes = [
            # The queue: one status, oldest first, (submitted_at, id) being the keyset pages' order.
            # Led by the status and not partial: the status is a bound parameter, from which a plan made
            # for any value (a prepared statement's, SQLite's) cannot prove a partial index's status list.
            # The closed tabs and the claim of the next unclaimed prescription read the first one too.
            models.Index(fields=["status", "submitted_at", "id"], name="rx_queue_idx"),
            models.Index(fields=["status", "flag_level", "submitted_at", "id"], name="rx_queue_flag_idx"),
            models.Index(fields=["status", "dosage_form", "submitted_at", "id"], name="rx_queue_form_idx"),
            # Rush orders are few: partial on `rush`, a condition the ORM writes into the SQL as is.
            models.Index(fields=["status", "submitted_at", "id"], condition=Q(rush=True), name="rx_queue_rush_idx"),
            models.Index(fields=["prescriber", "-submitted_at"], name="rx_prescriber_idx"),
            models.Index(fields=["patient", "-submitted_at"], name="rx_patient_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return overdue(self.status, self.status_changed_at, before=overdue_before())

    def is_past_beyond_use_date(self, today: date | None = None) -> bool:
        return past_beyond_use_date(self.status, self.beyond_use_date, today or timezone.localdate())

    @property
    def written_on(self) -> date:
        return timezone.localdate(self.signed_at)

    @property
    def expires_on(self) -> date:
        """The first day the prescription is no longer valid (one year from writing)."""
        return prescription_expires_on(self.written_on)

    @property
    def valid_until(self) -> date:
        """The last day the prescription is valid: the day before it expires."""
        return self.expires_on - timedelta(days=1)

    @property
    def refills_left(self) -> int:
        return max(self.refills - self.refills_used, 0)

    @property
    def has_hard_stop(self) -> bool:
        return any(f.get("severity") == "hard_stop" for f in self.flags)

    @property
    def flag_summary(self) -> list[dict[str, str]]:
        return flags_by_code(self.flags)

    def signed_content(self, steps: Iterable[TitrationStep] | None = None) -> dict[str, Any]:
        """What the prescriber signed, in a canonical form; its SHA-256 is `content_digest`.
        `steps`: the titration steps when they are not stored yet (a prescription being signed)."""
        steps = sorted(self.titration_steps.all() if steps is None else steps, key=lambda s: s.position)
        return {
            "patient": {
                "first_name": self.patient.first_name,
                "last_name": self.patient.last_name,
                "date_of_birth": self.patient.date_of_birth.isoformat(),
            },
            "prescriber_npi": self.prescriber.npi,
            "dosage_form": self.dosage_form,
            "strength_mg": f"{Decimal(self.strength_mg):.2f}",
            "directions": self.directions,
            "quantity": self.quantity,
            "days_supply": self.days_supply,
            "refills": self.refills,
            "indication": self.indication,
            "icd10": self.icd10,
            "dose_timing": self.dose_timing,
            "prescriber_notes": self.prescriber_notes,
            "weight_kg": None if self.weight_kg is None else f"{Decimal(self.weight_kg):.1f}",
            "titration": [{"strength_mg": f"{Decimal(s.strength_mg):.2f}", "days": s.days} for s in steps],
            "signature_name": self.signature_name,
            "signed_at": self.signed_at.isoformat(),
            # Present only when asked for: a prescription without it keeps the digest it was signed with.
            **({"repeat_titration": True} if self.repeat_titration else {}),
            **({"allergies": list(self.prescriber_allergies)} if self.prescriber_allergies else {}),
        }

    def compute_digest(self, steps: Iterable[TitrationStep] | None = None) -> str:
        canonical = json.dumps(self.signed_content(steps), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def is_altered(self) -> bool:
        """True when the prescribed content no longer matches what was signed."""
        return self.compute_digest() != self.content_digest


class TitrationStep(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="titration_steps")
    position = models.PositiveSmallIntegerField()
    strength_mg = models.DecimalField(max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    days = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ("prescription", "position")
        constraints = [
            models.UniqueConstraint(fields=["prescription", "position"], name="titration_step_position_unique"),
            models.CheckConstraint(condition=Q(strength_mg__gt=0), name="titration_strength_positive"),
            models.CheckConstraint(condition=Q(days__gt=0), name="titration_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.strength_mg} mg for {self.days} days"


class LiverCondition(models.TextChoices):
    NONE = "none", _("No liver problems")
    ACUTE_HEPATITIS = "acute_hepatitis", _("Hepatitis right now (acute hepatitis)")
    LIVER_FAILURE = "liver_failure", _("Liver failure")
    OTHER = "other", _("Another liver condition")


class Pregnancy(models.TextChoices):
    NO = "no", _("No")
    PREGNANT = "pregnant", _("I am pregnant")
    PLANNING = "planning", _("I am planning a pregnancy")
    BREASTFEEDING = "breastfeeding", _("I am breastfeeding")


class Questionnaire(models.Model):
    """The patient's own answers about contraindications, read by screening."""

    prescription = models.OneToOneField(Prescription, on_delete=models.CASCADE, related_name="questionnaire")
    takes_opioids = models.BooleanField()
    opioid_treatment_program = models.BooleanField()
    liver_condition = models.CharField(max_length=20, choices=LiverCondition.choices)
    pregnancy = models.CharField(max_length=20, choices=Pregnancy.choices)
    alcohol_drinks_per_week = models.PositiveSmallIntegerField()
    naltrexone_allergy = models.BooleanField()
    thyroid_medication = models.BooleanField()
    immunosuppressants = models.BooleanField()
    surgery_within_14_days = models.BooleanField()
    current_medications = models.JSONField(default=list, blank=True)
    allergies = models.JSONField(default=list, blank=True)
    attested_at = models.DateTimeField()
    submitted_from_ip = models.GenericIPAddressField(null=True, blank=True)
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    history = history_of(unindexed=["prescription"], excluded=["updated_at"])

    def __str__(self) -> str:
        return f"Questionnaire for {self.prescription.reference}"

    def answers(self) -> dict[str, Any]:
        return {
            "takes_opioids": self.takes_opioids,
            "opioid_treatment_program": self.opioid_treatment_program,
            "liver_condition": self.liver_condition,
            "pregnancy": self.pregnancy,
            "alcohol_drinks_per_week": self.alcohol_drinks_per_week,
            "naltrexone_allergy": self.naltrexone_allergy,
            "thyroid_medication": self.thyroid_medication,
            "immunosuppressants": self.immunosuppressants,
            "surgery_within_14_days": self.surgery_within_14_days,
            "current_medications": list(self.current_medications),
            "allergies": list(self.allergies),
        }


class PrescriptionEvent(models.Model):
    """One row per status change or workflow message: who, from, to, why, when."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=30, choices=Action.choices)
    from_status = models.CharField(max_length=24, choices=PrescriptionStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=PrescriptionStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted when nobody signed in: "patient (private link)", "system".
    actor_label = models.CharField(max_length=60, blank=True)
    message = models.TextField(blank=True, validators=[validate_free_text])
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["prescription", "created_at"], name="rx_event_idx")]

    def __str__(self) -> str:
        return f"{self.prescription_id}: {self.from_status} -> {self.to_status}"

    @property
    def actor_display(self) -> str:
        return str(self.actor) if self.actor else self.actor_label or "system"


class Clarification(models.Model):
    """A pharmacist's question to the prescriber and the prescriber's answer."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="clarifications")
    question = models.TextField(validators=[validate_free_text, text_limit])
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField()
    response = models.TextField(blank=True, validators=[validate_free_text, text_limit])
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("asked_at",)
        indexes = [
            models.Index(fields=["prescription"], condition=Q(responded_at__isnull=True), name="clarification_open_idx")
        ]

    def __str__(self) -> str:
        return f"Question on {self.prescription_id}"


class IdempotencyKey(models.Model):
    """A prescriber's Idempotency-Key: a repeated request returns the first prescription."""

    prescriber = models.ForeignKey(Prescriber, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prescriber", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return self.key
