"""`{{ amount|money:currency }}`: a price as ``intake.money`` writes it ("$1,237.45"); nothing for None."""

from __future__ import annotations

from decimal import Decimal

from django import template

from intake.money import money_words

register = template.Library()


@register.filter
def money(amount: object, currency: str) -> str:
    if amount is None or amount == "":
        return ""
    return money_words(Decimal(str(amount)), currency)
