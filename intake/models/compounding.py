"""The batch record of a compounded preparation (USP <795> compounding record)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from intake.models.formulary import BudRuleName, MasterFormulation
from intake.models.history import HistoricalRecords
from intake.models.prescriptions import Prescription


class CompoundingRecord(models.Model):
    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="compounding_records")
    # The fill this batch was made for (each refill is compounded anew).
    fill = models.ForeignKey(
        "intake.Fill", null=True, blank=True, on_delete=models.PROTECT, related_name="compounding_records"
    )
    master_formulation = models.ForeignKey(MasterFormulation, on_delete=models.PROTECT, related_name="+")
    compounded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    compounded_at = models.DateTimeField()
    quantity_made = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    bud_rule = models.CharField(max_length=30, choices=BudRuleName.choices)
    beyond_use_date = models.DateField()
    storage = models.CharField(max_length=120)
    quality_checks = models.TextField(blank=True)
    deviations = models.TextField(blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ("-compounded_at",)
        constraints = [models.CheckConstraint(condition=Q(quantity_made__gt=0), name="compounding_quantity_positive")]

    def __str__(self) -> str:
        return f"Batch for {self.prescription.reference} on {self.compounded_at:%Y-%m-%d}"


class IngredientLot(models.Model):
    record = models.ForeignKey(CompoundingRecord, on_delete=models.CASCADE, related_name="lots")
    ingredient = models.CharField(max_length=120)
    manufacturer = models.CharField(max_length=120, blank=True)
    lot = models.CharField(max_length=60)
    expires = models.DateField()
    quantity_used = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ("record", "id")

    def __str__(self) -> str:
        return f"{self.ingredient} lot {self.lot}"
