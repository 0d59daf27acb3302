"""What the pharmacy compounds: dosage forms with their units, and master formulation records."""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models, transaction

from intake.models.history import history_of
from intake.validators import validate_free_text, validate_single_line


class DosageFormCode(models.TextChoices):
    CAPSULE = "capsule", "Capsule"
    ORAL_LIQUID = "oral_liquid", "Oral liquid"
    SUBLINGUAL_DROPS = "sublingual_drops", "Sublingual drops"
    TOPICAL_CREAM = "topical_cream", "Topical cream"


class BudRuleName(models.TextChoices):
    # Names of the USP <795> rules kept in intake/clinical/data/usp795.json.
    AQUEOUS_UNPRESERVED = "aqueous_unpreserved", "Aqueous, no preservative (14 days, refrigerated)"
    AQUEOUS_PRESERVED = "aqueous_preserved", "Aqueous, preserved (35 days)"
    NONAQUEOUS_ORAL_LIQUID = "nonaqueous_oral_liquid", "Non-aqueous oral liquid (90 days)"
    NONAQUEOUS_SOLID = "nonaqueous_solid", "Non-aqueous solid: capsules, powders (180 days)"


# The offered dosage forms as this process last read them: (read at, code -> unit dose).
_offered: tuple[float, dict[str, bool]] | None = None


class DosageFormManager(models.Manager["DosageForm"]):
    def offered(self) -> Mapping[str, bool]:
        """The dosage forms compounded at the moment, code -> whether one unit is one dose.

        Every submission checks its form against this. The formulary changes a few times a year, so
        each process reads it again only after FORMULARY_CACHE_SECONDS (at once after a change it
        saved itself): a form withdrawn in another process may still be taken for that long, and
        the pharmacist's review and the compounding record's active formulation still stand after it.
        """
        global _offered
        if _offered is None or time.monotonic() - _offered[0] > settings.FORMULARY_CACHE_SECONDS:
            _offered = (time.monotonic(), dict(self.filter(active=True).values_list("code", "unit_dose")))
        return _offered[1]


def dosage_forms_offered_forget() -> None:
    """Read the offered dosage forms again on next use (after a change to the formulary)."""
    global _offered
    _offered = None


class DosageForm(models.Model):
    """One line of the formulary: a dosage form the pharmacy makes, and how it is measured."""

    code = models.CharField(max_length=20, choices=DosageFormCode.choices, unique=True)
    name = models.CharField(max_length=60, validators=[validate_single_line])
    strength_unit = models.CharField(
        max_length=30, help_text='How a dose is written, e.g. "mg per capsule".', validators=[validate_single_line]
    )
    quantity_unit = models.CharField(
        max_length=20, help_text='What quantity counts, e.g. "capsules", "mL".', validators=[validate_single_line]
    )
    # One unit is one dose (capsules): the quantity must then cover the days supply.
    unit_dose = models.BooleanField(default=False)
    concentration_mg_per_ml = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    standard_strengths_mg = models.JSONField(default=list, help_text="Strengths usually made, in mg.")
    active = models.BooleanField(default=True)

    objects = DosageFormManager()

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        transaction.on_commit(dosage_forms_offered_forget)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        deleted = super().delete(*args, **kwargs)
        transaction.on_commit(dosage_forms_offered_forget)
        return deleted

    def is_standard_strength(self, strength_mg: Decimal) -> bool:
        return any(Decimal(str(s)) == strength_mg for s in self.standard_strengths_mg)


class MasterFormulation(models.Model):
    """USP <795> master formulation record: how one preparation is made, stored and dated."""

    dosage_form = models.ForeignKey(DosageForm, on_delete=models.PROTECT, related_name="formulations")
    name = models.CharField(max_length=120, validators=[validate_single_line])
    # Blank strength: the formula covers every strength of its dosage form (made to order).
    strength_mg = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    ingredients = models.JSONField(
        default=list, help_text='[{"name": "Naltrexone HCl", "quantity": "4.5", "unit": "mg"}, ...]'
    )
    filler = models.CharField(
        max_length=120,
        blank=True,
        help_text="Recorded because patients may be allergic.",
        validators=[validate_single_line],
    )
    # The numbers of the worksheet's calculation, which a pharmacist may correct.
    salt_factor = models.DecimalField(
        max_digits=6, decimal_places=4, default=Decimal(1),
        help_text="mg of naltrexone HCl weighed per mg of labelled strength: 1 when strengths are written as the "
        "HCl salt (as here); 1.107 (377.9 / 341.4) when they are written as naltrexone base.",
    )  # fmt: skip
    overage_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0),
        help_text="Extra powder or liquid made for losses in filling and transfer, in percent.",
    )  # fmt: skip
    capsule_fill_mg = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True,
        help_text="Capsules: the net fill weight of one capsule (capsule size and filler), in mg.",
    )  # fmt: skip
    concentration = models.DecimalField(
        max_digits=8, decimal_places=3, null=True, blank=True,
        help_text="Liquids and drops: mg per mL; creams: mg per g. Blank: the dosage form's concentration.",
    )  # fmt: skip
    aqueous = models.BooleanField()
    preserved = models.BooleanField(default=False)
    storage = models.CharField(max_length=120, validators=[validate_single_line])
    equipment = models.TextField(blank=True, validators=[validate_free_text])
    steps = models.TextField(help_text="Mixing steps, one per line.", validators=[validate_free_text])
    quality_checks = models.TextField(blank=True, validators=[validate_free_text])
    container = models.CharField(max_length=120, blank=True, validators=[validate_single_line])
    bud_rule = models.CharField(max_length=30, choices=BudRuleName.choices)
    bud_reference = models.CharField(
        max_length=200, default="USP <795> (2023), Table 4", validators=[validate_single_line]
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = history_of(unindexed=["dosage_form"])

    class Meta:
        ordering = ("dosage_form__code", "strength_mg")

    def __str__(self) -> str:
        return self.name
