"""Money as the pharmacy writes it to a patient: "$1,237.45" in the active language, written by babel
from the CLDR's American English and US Spanish (the locales intake.when writes dates in)."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from intake.when import babel_locale


def money_words(amount: Decimal, currency: str) -> str:
    """'$1,237.45': the amount with its currency's sign and digits, grouped as the language groups."""
    return format_currency(amount, currency, locale=babel_locale())
