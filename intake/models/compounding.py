"""The batch record of a compounded preparation (USP <795> compounding record), its containers,
and the independent final check of each batch."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from intake.models.formulary import BudRuleName, MasterFormulation
from intake.models.history import history_of
from intake.models.prescriptions import Prescription
from intake.validators import validate_free_text, validate_single_line


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
    storage = models.CharField(max_length=120, validators=[validate_single_line])
    quality_checks = models.TextField(blank=True, validators=[validate_free_text])
    deviations = models.TextField(blank=True, validators=[validate_free_text])
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    # Units taken from an anticipatory batch instead of compounded for this fill alone: the
    # batch's lots and beyond-use date are this record's.
    batch = models.ForeignKey(
        "intake.Batch", null=True, blank=True, on_delete=models.PROTECT, related_name="fill_records"
    )
    history = history_of(
        unindexed=["prescription", "fill", "master_formulation", "compounded_by", "checked_by", "batch"]
    )

    class Meta:
        ordering = ("-compounded_at",)
        constraints = [models.CheckConstraint(condition=Q(quantity_made__gt=0), name="compounding_quantity_positive")]

    def __str__(self) -> str:
        return f"Batch for {self.prescription.reference} on {self.compounded_at:%Y-%m-%d}"


class CompoundedContainer(models.Model):
    """One container of a batch, labelled and scanned on its own: a kit's strength, or the one
    bottle or jar of a liquid, drops or cream. The arithmetic is kept as the worksheet showed it."""

    record = models.ForeignKey(CompoundingRecord, on_delete=models.CASCADE, related_name="containers")
    number = models.PositiveSmallIntegerField()
    # The label's barcode: the prescription's reference, the batch and the container number.
    code = models.CharField(max_length=40, unique=True)
    unit = models.CharField(max_length=10)  # capsule | mL | g
    # A capsule container's strength; a measured form has a concentration (mg per mL or g) instead.
    strength_mg = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    concentration = models.DecimalField(max_digits=8, decimal_places=3, null=True, blank=True)
    first_day = models.PositiveSmallIntegerField()
    last_day = models.PositiveSmallIntegerField()
    # The plan entries it holds, as the prescription's JSON shows them, with their first day.
    entries = models.JSONField(default=list)
    quantity_made = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    naltrexone_needed_mg = models.DecimalField(max_digits=12, decimal_places=3)
    filler_needed_mg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    target_fill_mg = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    salt_factor = models.DecimalField(max_digits=6, decimal_places=4)
    overage_percent = models.DecimalField(max_digits=5, decimal_places=2)
    tolerance_percent = models.DecimalField(max_digits=5, decimal_places=2)
    # What was measured (blank when not recorded); refused outside the tolerance.
    naltrexone_weighed_mg = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    capsule_weights_mg = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("record", "number")
        constraints = [
            models.UniqueConstraint(fields=["record", "number"], name="container_number_unique"),
            models.CheckConstraint(condition=Q(quantity_made__gt=0), name="container_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.code


class IngredientLot(models.Model):
    record = models.ForeignKey(CompoundingRecord, on_delete=models.CASCADE, related_name="lots")
    # A lot used for one container only (a kit's strength made from its own lot); blank: the whole batch.
    container = models.ForeignKey(
        CompoundedContainer, null=True, blank=True, on_delete=models.CASCADE, related_name="lots"
    )
    ingredient = models.CharField(max_length=120, validators=[validate_single_line])
    manufacturer = models.CharField(max_length=120, blank=True, validators=[validate_single_line])
    lot = models.CharField(max_length=60, validators=[validate_single_line])
    expires = models.DateField()
    quantity_used = models.CharField(max_length=40, blank=True, validators=[validate_single_line])
    # The received lot it was taken from, when it was received through stock.
    stock_lot = models.ForeignKey("intake.StockLot", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ("record", "id")
        # A recall's trace finds every use of a lot number, whatever its case.
        indexes = [models.Index(Upper("lot"), name="ingredient_lot_number_idx")]

    def __str__(self) -> str:
        return f"{self.ingredient} lot {self.lot}"


class FinalCheckMethod(models.TextChoices):
    CHECKLIST = "checklist", "Checklist and a scan of each container"
    API = "api", "Through the API, without the checklist (the checker's attestation)"


class FinalCheck(models.Model):
    """A pharmacist's independent check of a batch; never its compounder's."""

    record = models.OneToOneField(CompoundingRecord, on_delete=models.PROTECT, related_name="final_check")
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    checked_at = models.DateTimeField()
    method = models.CharField(max_length=12, choices=FinalCheckMethod.choices)
    history = history_of(unindexed=["record", "checked_by"])

    def __str__(self) -> str:
        return f"Final check of batch {self.record_id}"


class CheckItem(models.TextChoices):
    # The checklist, in the order the page asks it.
    DRUG = "drug", "Drug: naltrexone HCl, in the dosage form prescribed"
    STRENGTH = "strength", "Strength of each container matches the plan"
    QUANTITY = "quantity", "Quantity in each container matches the plan"
    LABEL = "label", "Each label: patient, directions, days covered, warnings"
    BUD = "bud", "Beyond-use date and storage on the labels match the record"
    LOTS = "lots", "Lots on the record match the stock used, none expired"
    APPEARANCE = "appearance", "Appearance: colour, fill, no damage or leaks"
    SCAN = "scan", "Container scanned against the order"


class FinalCheckItem(models.Model):
    """One item of a final check: a confirmation of the checklist, or one container's scan."""

    check_record = models.ForeignKey(FinalCheck, on_delete=models.CASCADE, related_name="items")
    item = models.CharField(max_length=12, choices=CheckItem.choices)
    container = models.ForeignKey(
        CompoundedContainer, null=True, blank=True, on_delete=models.PROTECT, related_name="scans"
    )
    scanned_code = models.CharField(max_length=40, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField()
    history = history_of(unindexed=["check_record", "container", "confirmed_by"])

    class Meta:
        ordering = ("check_record", "id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(item="scan") | Q(container__isnull=False), name="check_item_scan_has_container"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} ({self.check_record_id})"
