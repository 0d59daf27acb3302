"""The cash price of a fill: quoted when a pharmacist approves it, from the dispense plan and the
price list (intake/clinical/pricing.py), and the gate that keeps compounding waiting for the
patient's consent where the pharmacy asks for it (PRICE_CONSENT_REQUIRED).

The patient's answer (agree or decline) is intake/services/price_consent.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.conf import settings

from intake.clinical.pricing import PricedContainer, Quote, price_quote
from intake.errors import Conflict
from intake.models import Prescription, PriceConsent
from intake.services.dispensing import fill_plan, measured


def fill_quote(prescription: Prescription) -> Quote:
    """The price of the current fill, made as its dispense plan says: one container per strength of
    a capsule kit; a liquid, drops or cream priced at its prescribed strength."""
    plan = fill_plan(prescription)
    strength = Decimal(prescription.strength_mg)
    by_strength = not measured(prescription.dosage_form)
    containers = [
        PricedContainer(
            strength_mg=container.strength_mg if by_strength and container.strength_mg else strength,
            quantity=Decimal(container.quantity),
        )
        for container in plan.containers
    ] or [PricedContainer(strength_mg=strength, quantity=Decimal(prescription.quantity))]
    return price_quote(dosage_form=prescription.dosage_form, containers=containers)


def price_quote_set(prescription: Prescription, *, now: datetime) -> dict[str, Any]:
    """Quote the fill being approved, on the locked prescription (the caller saves it); asks the
    patient's consent when the pharmacy's setting wants it. Returns what the approval's event keeps."""
    quoted = fill_quote(prescription)
    prescription.price_amount = quoted.amount
    prescription.price_currency = quoted.currency
    prescription.price_quoted_at = now
    prescription.price_consent = PriceConsent.PENDING if settings.PRICE_CONSENT_REQUIRED else PriceConsent.NOT_ASKED
    prescription.price_consent_at = None
    return {
        "price": {
            "amount": str(quoted.amount),
            "currency": quoted.currency,
            "lines": [{"label": line.label, "amount": str(line.amount)} for line in quoted.lines],
            "consent_asked": prescription.price_consent == PriceConsent.PENDING,
        }
    }


def waits_for_price_consent(prescription: Prescription) -> bool:
    """Compounding waits: the pharmacy asks for consent and the patient has not given it yet. A fill
    approved before the setting was turned on was never asked and does not wait."""
    return settings.PRICE_CONSENT_REQUIRED and prescription.price_consent in (
        PriceConsent.PENDING,
        PriceConsent.DECLINED,
    )


def refuse_without_price_consent(prescription: Prescription) -> None:
    """Before anything is made for a fill: the patient agreed to its price, where that is asked."""
    if not waits_for_price_consent(prescription):
        return
    if prescription.price_consent == PriceConsent.DECLINED:
        raise Conflict("The patient declined the price of this fill; it cannot be compounded.")
    raise Conflict(
        "The patient has not agreed to the price of this fill yet; compounding starts once they agree "
        "on their status page (or call them)."
    )


def payment_url(prescription: Prescription) -> str | None:
    """The pharmacy's payment page for an agreed price, when PAYMENT_LINK_URL is set."""
    if not settings.PAYMENT_LINK_URL or prescription.price_consent != PriceConsent.CONSENTED:
        return None
    return settings.PAYMENT_LINK_URL.replace("{reference}", quote(prescription.reference, safe=""))
