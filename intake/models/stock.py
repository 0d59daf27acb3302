"""Ingredient lots received into stock, anticipatory batches, and recalls of a lot.

A lot is named by its number as the supplier prints it; the pharmacy's records (a compounding
record's lots, a batch's lots) keep the number as written, so that a recall finds every use of it
whether or not the lot was received through the stock pages.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from intake.models.compounding import CompoundingRecord
from intake.models.formulary import BudRuleName, MasterFormulation
from intake.models.history import history_of
from intake.models.prescriptions import Prescription
from intake.validators import validate_free_text, validate_single_line


class StockUnit(models.TextChoices):
    GRAM = "g", "g"
    MILLIGRAM = "mg", "mg"
    MILLILITRE = "mL", "mL"
    EACH = "each", "each (capsule shells, bottles)"


class StockLot(models.Model):
    """A lot of an ingredient as received: counted down as compounding uses it."""

    ingredient = models.CharField(max_length=120, validators=[validate_single_line])
    manufacturer = models.CharField(max_length=120, blank=True, validators=[validate_single_line])
    lot = models.CharField(max_length=60, validators=[validate_single_line])
    expires = models.DateField()
    unit = models.CharField(max_length=4, choices=StockUnit.choices)
    quantity_received = models.DecimalField(max_digits=12, decimal_places=3, validators=[MinValueValidator(0)])
    quantity_on_hand = models.DecimalField(max_digits=12, decimal_places=3)
    # Below this the dashboard lists the lot as low; blank: never.
    low_stock_below = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = history_of(unindexed=["received_by"])

    class Meta:
        ordering = ("ingredient", "expires", "id")
        constraints = [
            # Lot numbers are the manufacturer's: the same number from two makers is two lots.
            models.UniqueConstraint(Upper("ingredient"), Upper("manufacturer"), Upper("lot"), name="stock_lot_unique"),
            models.CheckConstraint(condition=Q(quantity_received__gte=0), name="stock_received_not_negative"),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="stock_on_hand_not_negative"),
        ]
        indexes = [models.Index(Upper("lot"), name="stock_lot_number_idx")]

    def __str__(self) -> str:
        return f"{self.ingredient} lot {self.lot}"


class BatchStatus(models.TextChoices):
    MADE = "made", "Made, waiting for its release check"
    RELEASED = "released", "Released: fills may take from it"
    QUARANTINED = "quarantined", "Quarantined (a lot in it was recalled)"
    USED_UP = "used_up", "Used up"


class Batch(models.Model):
    """An anticipatory batch of a master formulation (500 × 4.5 mg capsules, say), made before any
    prescription names it; released by a pharmacist other than its compounder, then drawn on by fills."""

    number = models.CharField(max_length=40, unique=True, validators=[validate_single_line])
    master_formulation = models.ForeignKey(MasterFormulation, on_delete=models.PROTECT, related_name="batches")
    strength_mg = models.DecimalField(max_digits=7, decimal_places=2, validators=[MinValueValidator(0)])
    # For a measured form (liquid, drops, cream): mg per mL or g; blank for capsules.
    concentration = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=10)  # capsule | mL | g
    quantity_made = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    units_left = models.PositiveIntegerField()
    compounded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    compounded_at = models.DateTimeField()
    bud_rule = models.CharField(max_length=30, choices=BudRuleName.choices)
    beyond_use_date = models.DateField()
    storage = models.CharField(max_length=120, validators=[validate_single_line])
    quality_checks = models.TextField(blank=True, validators=[validate_free_text])
    deviations = models.TextField(blank=True, validators=[validate_free_text])
    status = models.CharField(max_length=12, choices=BatchStatus.choices, default=BatchStatus.MADE)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_note = models.TextField(blank=True, validators=[validate_free_text])
    history = history_of(unindexed=["master_formulation", "compounded_by", "released_by"])

    class Meta:
        ordering = ("-compounded_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(quantity_made__gt=0), name="batch_quantity_positive"),
            models.CheckConstraint(condition=Q(units_left__lte=models.F("quantity_made")), name="batch_units_left"),
            models.CheckConstraint(condition=Q(status__in=BatchStatus.values), name="batch_status_valid"),
            # Released means checked, and never by the one who made it.
            models.CheckConstraint(
                condition=Q(released_by__isnull=True) | ~Q(released_by=models.F("compounded_by")),
                name="batch_released_by_another",
            ),
        ]
        indexes = [
            models.Index(
                fields=["master_formulation", "strength_mg"], condition=Q(status="released"), name="batch_released_idx"
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return f"Batch {self.number}"


class BatchLot(models.Model):
    """An ingredient lot used in a batch, as written on its record."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="lots")
    ingredient = models.CharField(max_length=120, validators=[validate_single_line])
    manufacturer = models.CharField(max_length=120, blank=True, validators=[validate_single_line])
    lot = models.CharField(max_length=60, validators=[validate_single_line])
    expires = models.DateField()
    quantity_used = models.CharField(max_length=40, blank=True, validators=[validate_single_line])
    stock_lot = models.ForeignKey(StockLot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("batch", "id")
        indexes = [models.Index(Upper("lot"), name="batch_lot_number_idx")]

    def __str__(self) -> str:
        return f"{self.ingredient} lot {self.lot} in {self.batch_id}"


class RecallClass(models.TextChoices):
    # FDA's recall classes (21 CFR 7.3(m)).
    CLASS_I = "I", "Class I: may cause serious harm or death"
    CLASS_II = "II", "Class II: may cause temporary or reversible harm"
    CLASS_III = "III", "Class III: unlikely to cause harm"


class Recall(models.Model):
    """A supplier's (or the pharmacy's own) recall of an ingredient lot: while open, the lot is
    quarantined (refused in compounding and in batches)."""

    ingredient = models.CharField(max_length=120, validators=[validate_single_line])
    lot = models.CharField(max_length=60, validators=[validate_single_line])
    recall_class = models.CharField(max_length=3, choices=RecallClass.choices)
    reason = models.TextField(validators=[validate_free_text])
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True, validators=[validate_free_text])
    history = history_of(unindexed=["opened_by", "closed_by"])

    class Meta:
        ordering = ("-opened_at", "-id")
        constraints = [
            # One open recall per lot number: a second would quarantine what is already quarantined.
            models.UniqueConstraint(Upper("lot"), condition=Q(closed_at__isnull=True), name="recall_open_once"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_by__isnull=False), name="recall_closed_by_someone"
            ),
        ]

    def __str__(self) -> str:
        return f"Recall of {self.ingredient} lot {self.lot}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class RecallOutcome(models.TextChoices):
    REMADE = "remade", "Not handed over: sent back to compounding"
    PATIENT_TOLD = "patient_told", "Handed over: the patient was told to contact the pharmacy"
    CLOSED = "closed", "No action: the prescription was already closed without being handed over"


class RecallAffected(models.Model):
    """One prescription's fill that a recall reached, and what was done about it."""

    recall = models.ForeignKey(Recall, on_delete=models.CASCADE, related_name="affected")
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="recalls_affecting")
    fill = models.ForeignKey("intake.Fill", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey(CompoundingRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    handed_over_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=14, choices=RecallOutcome.choices)
    # The patient has called the pharmacy back about it.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("recall", "id")
        constraints = [
            models.UniqueConstraint(fields=["recall", "prescription", "fill"], name="recall_affected_once"),
        ]

    def __str__(self) -> str:
        return f"{self.recall_id}: {self.prescription_id}"
