"""A prescriber's shortcuts: protocol templates they apply on the new-prescription form, and the
documents (prior labs) they attach to a prescription for the pharmacist to read."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from intake.models.formulary import DosageFormCode
from intake.models.people import Prescriber
from intake.models.prescriptions import DoseTiming, Prescription, text_limit
from intake.validators import validate_free_text, validate_single_line

TEMPLATE_NAME_MAX_LENGTH = 120


class ProtocolTemplate(models.Model):
    """The medication part of a prescription, saved by its prescriber under a name.

    Applying it fills the form with exactly these values; the patient, the allergies and the
    signature are never part of it: each prescription is written and signed for one patient.
    """

    owner = models.ForeignKey(Prescriber, on_delete=models.CASCADE, related_name="protocol_templates")
    name = models.CharField(max_length=TEMPLATE_NAME_MAX_LENGTH, validators=[validate_single_line])
    dosage_form = models.CharField(max_length=20, choices=DosageFormCode.choices)
    strength_mg = models.DecimalField(max_digits=7, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    # The lead-in steps before strength_mg, in order: [{"strength_mg": "1.50", "days": 14}, ...].
    titration = models.JSONField(default=list, blank=True)
    repeat_titration = models.BooleanField(default=False)
    dose_timing = models.CharField(max_length=10, choices=DoseTiming.choices, default=DoseTiming.BEDTIME)
    directions = models.TextField(validators=[validate_free_text, text_limit])
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    days_supply = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    refills = models.PositiveSmallIntegerField(validators=[MaxValueValidator(11)])
    indication = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    icd10 = models.CharField("ICD-10 code", max_length=8, blank=True, validators=[validate_single_line])
    prescriber_notes = models.TextField(blank=True, validators=[validate_free_text, text_limit])
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("owner", "name")
        constraints = [
            # Saving under a name the prescriber already uses replaces that template.
            models.UniqueConstraint(fields=["owner", "name"], name="protocol_template_name_unique"),
            models.CheckConstraint(condition=Q(strength_mg__gt=0), name="protocol_strength_positive"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="protocol_quantity_positive"),
            models.CheckConstraint(condition=Q(days_supply__gt=0), name="protocol_days_supply_positive"),
            models.CheckConstraint(condition=Q(refills__gte=0, refills__lte=11), name="protocol_refills_0_11"),
        ]

    def __str__(self) -> str:
        return self.name


class DocumentKind(models.TextChoices):
    LABS = "labs", "Prior labs"
    OTHER = "other", "Other"


class PrescriptionDocument(models.Model):
    """A file the prescriber sent with a prescription, kept outside the web root under a random name.

    Only pharmacy staff read it back, through a view that audits each download.
    """

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=10, choices=DocumentKind.choices, default=DocumentKind.LABS)
    original_filename = models.CharField(max_length=255, validators=[validate_single_line])
    # As sniffed from the bytes, never as the browser declared it.
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Relative to PRIVATE_DOCUMENTS_ROOT: the root can move without rewriting rows.
    stored_name = models.CharField(max_length=100, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("prescription", "uploaded_at", "id")
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DocumentKind.values), name="document_kind_valid"),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_size_positive"),
        ]

    def __str__(self) -> str:
        return self.original_filename
