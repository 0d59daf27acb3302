"""Forms of the batch pages: make a batch, release it, fill a prescription from one."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from intake.models import MasterFormulation
from intake.services.compounding import MAX_QUANTITY_MADE
from intake.validators import validate_free_text, validate_single_line


def _no_form_tag() -> FormHelper:
    # The page's template holds the <form>: the lots' rows go inside it too.
    helper = FormHelper()
    helper.form_tag = False
    return helper


class BatchForm(forms.Form):
    master_formulation = forms.ModelChoiceField(
        queryset=MasterFormulation.objects.none(), empty_label=None,
        help_text="Capsules only: a liquid, drops or cream is made for each prescription.",
    )  # fmt: skip
    strength_mg = forms.DecimalField(
        label="Strength (mg per capsule)", min_value=Decimal("0.01"), max_value=Decimal(50), max_digits=7,
        decimal_places=2, required=False, help_text="Blank: the formulation's own strength.",
    )  # fmt: skip
    quantity_made = forms.IntegerField(label="Capsules made", min_value=1, max_value=MAX_QUANTITY_MADE)
    number = forms.CharField(
        label="Batch number", max_length=40, required=False, validators=[validate_single_line],
        help_text="Blank: the next number (B, the date and a serial).",
    )  # fmt: skip
    quality_checks = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    deviations = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text],
        help_text="Anything that differed from the master formulation; leave blank if none.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["master_formulation"].queryset = (  # type: ignore[attr-defined]
            MasterFormulation.objects.select_related("dosage_form")
            .filter(active=True, dosage_form__code="capsule")
            .order_by("name", "id")
        )
        self.helper = _no_form_tag()
        self.helper.layout = Layout(
            Row(Column("master_formulation"), Column("strength_mg")),
            Row(Column("quantity_made"), Column("number")),
            "quality_checks",
            "deviations",
        )


class BatchReleaseForm(forms.Form):
    note = forms.CharField(
        label="Release note", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_free_text],
        help_text="What you checked on the record: lots, weights, appearance, the beyond-use date.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()


class FillFromBatchForm(forms.Form):
    batch = forms.IntegerField(min_value=1, max_value=2**31 - 1)
