"""Forms of the lot and recall pages: they validate input and hand typed values to the services."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from intake.models import RecallClass
from intake.selectors_lots import MAX_LOT
from intake.validators import validate_free_text, validate_single_line

TEXT_LIMIT = 1000


def _helper(layout: Layout | None = None) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    if layout is not None:
        helper.layout = layout
    return helper


class LotSearchForm(forms.Form):
    lot = forms.CharField(label="Lot number", max_length=MAX_LOT, validators=[validate_single_line],
                          help_text="As the supplier prints it; upper or lower case alike.")  # fmt: skip

    def clean_lot(self) -> str:
        lot = self.cleaned_data["lot"].strip()
        if not lot:
            raise forms.ValidationError("Write the lot number.")
        return lot


class RecallOpenForm(forms.Form):
    ingredient = forms.CharField(max_length=120, validators=[validate_single_line],
                                 help_text="As on the supplier's notice, e.g. Naltrexone HCl USP.")  # fmt: skip
    lot = forms.CharField(label="Lot number", max_length=MAX_LOT, validators=[validate_single_line])
    recall_class = forms.ChoiceField(label="Class", choices=RecallClass.choices, initial=RecallClass.CLASS_II)
    reason = forms.CharField(
        max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3}), validators=[validate_free_text],
        help_text="The supplier's notice in a sentence: what is wrong with the lot.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(Layout(Row(Column("ingredient"), Column("lot"), Column("recall_class")), "reason"))


class RecallCloseForm(forms.Form):
    note = forms.CharField(
        label="Closing note", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_free_text], help_text="Why the recall ends; the lot may be used again.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper()
