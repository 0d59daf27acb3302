"""The prescriber's decision on a renewal request: sign a new prescription, or deny with a reason."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms

from intake.forms import SignatureForm


class RenewalApproveForm(SignatureForm):
    """The typed signature and attestation of a new prescription, and its refills."""

    refills = forms.IntegerField(
        min_value=0, max_value=11, initial=0, help_text="Refills on the new prescription, 0 to 11."
    )

    field_order = ("refills", "signature_name", "signature_attestation")


class RenewalDenyForm(forms.Form):
    reason = forms.CharField(
        label="Why you do not renew it",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write why the prescription is not renewed."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
