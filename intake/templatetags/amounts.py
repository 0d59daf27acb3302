"""`{{ value|amount }}`: a dose, weight or volume as the pharmacy writes it (4.5, 21.42, 0.75), without
the trailing zeros of the stored decimal and without rounding it."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from intake.clinical.dosing import format_mg

register = template.Library()


@register.filter
def amount(value: object) -> str:
    if value is None or value == "":
        return ""
    try:
        return format_mg(Decimal(str(value)))
    except InvalidOperation:
        return str(value)
