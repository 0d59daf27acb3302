from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from intake.models import StockLot
from intake.services.stock import stock_receive


def receive(actor, **values) -> StockLot:
    """A lot received through the service: naltrexone HCl, 10 g, good for a year, unless told."""
    defaults = {
        "ingredient": "Naltrexone HCl USP", "manufacturer": "Medisca", "lot": "NTX-24001",
        "expires": timezone.localdate() + timedelta(days=365), "unit": "g", "quantity": Decimal(10),
    }  # fmt: skip
    return stock_receive(actor=actor, **{**defaults, **values})


def expired_lot(actor, **values) -> StockLot:
    """A lot that was received in time and has since expired (receiving it now would be refused)."""
    defaults = {
        "ingredient": "Naltrexone HCl USP", "manufacturer": "Medisca", "lot": "NTX-OLD",
        "expires": timezone.localdate() - timedelta(days=1), "unit": "g", "quantity_received": Decimal(10),
        "quantity_on_hand": Decimal(10), "received_at": timezone.now() - timedelta(days=300), "received_by": actor,
    }  # fmt: skip
    return StockLot.objects.create(**{**defaults, **values})


@pytest.fixture
def naltrexone_lot(technician) -> StockLot:
    return receive(technician)
