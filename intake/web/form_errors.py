"""A service's refusal shown on the form that sent it."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def service_errors_on_form(form: forms.BaseForm, exc: ValidationError) -> None:
    """Each message on the field it names; one naming no field of this form goes above the form."""
    for key, problems in exc.message_dict.items():
        for problem in problems:
            form.add_error(key if key in form.fields else None, problem)
