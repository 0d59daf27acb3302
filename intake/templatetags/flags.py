"""Words for a screening flag's source and a verification's method, for the pages that show flags."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime

from intake.clinical.verification import METHODS

register = template.Library()

_SOURCES = {
    "prescription": "the prescription",
    "answers": "the patient's answers",
    "medications": "the medication list",
    "allergies": "the allergies",
    "history": "the patient's earlier answers",
    "orders": "the patient's other orders",
}


@register.filter
def flag_source(source: str) -> str:
    return _SOURCES.get(source or "", source or "")


@register.filter
def verification_method(method: str) -> str:
    return METHODS.get(method or "", method or "")


@register.filter
def as_datetime(value: str) -> datetime | None:
    """A verification's time, stored as ISO 8601 text in the flag, as a datetime for |date."""
    return parse_datetime(value) if isinstance(value, str) else None
