"""Compounding through the page and the API draws on received stock, and a refusal keeps nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.models import (
    CompoundingRecord,
    IngredientLot,
    MasterFormulation,
    Prescription,
    PrescriptionStatus,
    StockLot,
)
from tests.api.conftest import action_url
from tests.conftest import api_client_for
from tests.factories import make_prescription
from tests.stock.conftest import receive
from tests.workflow_helpers import advance

S = PrescriptionStatus


def compounding(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)


def page_post(stock: StockLot, used: str) -> dict[str, object]:
    """The compounding page's form for the default kit (1.5, 3 and 4.5 mg capsules) with one lot."""
    data: dict[str, object] = {
        "batch-master_formulation": MasterFormulation.objects.get(dosage_form__code="capsule").pk,
        "batch-quality_checks": "", "batch-deviations": "",
        "lots-TOTAL_FORMS": 1, "lots-INITIAL_FORMS": 1, "lots-MIN_NUM_FORMS": 1, "lots-MAX_NUM_FORMS": 20,
        "lots-0-ingredient": stock.ingredient, "lots-0-manufacturer": stock.manufacturer, "lots-0-lot": stock.lot,
        "lots-0-expires": stock.expires.isoformat(), "lots-0-quantity_used": used,
        "containers-TOTAL_FORMS": 3, "containers-INITIAL_FORMS": 3, "containers-MIN_NUM_FORMS": 1,
        "containers-MAX_NUM_FORMS": 50,
    }  # fmt: skip
    for i, quantity in enumerate((14, 14, 2)):
        data.update({f"containers-{i}-quantity_made": quantity, f"containers-{i}-naltrexone_mg": "",
                     f"containers-{i}-capsule_weights_mg": ""})  # fmt: skip
    return data


def test_the_compounding_page_counts_the_lot_down(prescriber, pharmacist, technician):
    stock = receive(technician)
    prescription = compounding(prescriber, pharmacist, technician)
    client = Client()
    client.force_login(technician, backend="accounts.backends.PharmacyBackend")

    response = client.post(reverse("staff:compounding", args=[prescription.pk]), page_post(stock, "150 mg"))

    assert response.status_code == 302
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal("9.85")
    assert IngredientLot.objects.get(record__prescription=prescription).stock_lot == stock


def test_the_compounding_page_shows_too_little_on_hand_and_keeps_nothing(prescriber, pharmacist, technician):
    stock = receive(technician, quantity="0.1")
    prescription = compounding(prescriber, pharmacist, technician)
    client = Client()
    client.force_login(technician, backend="accounts.backends.PharmacyBackend")

    response = client.post(reverse("staff:compounding", args=[prescription.pk]), page_post(stock, "150 mg"))

    assert response.status_code == 400
    assert "Naltrexone HCl USP lot NTX-24001 has 0.1 g on hand; this uses 0.15 g." in response.content.decode()
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal("0.1")
    assert not CompoundingRecord.objects.filter(prescription=prescription).exists()
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING


def test_the_api_refuses_an_expired_received_lot_on_lots(prescriber, pharmacist, technician):
    stock = receive(technician)
    StockLot.objects.filter(pk=stock.pk).update(expires=timezone.localdate() - timedelta(days=2))
    prescription = compounding(prescriber, pharmacist, technician)
    later = (timezone.localdate() + timedelta(days=200)).isoformat()
    lot = {"ingredient": "Naltrexone HCl USP", "lot": "NTX-24001", "manufacturer": "Medisca", "expires": later,
           "quantity_used": "150 mg"}  # fmt: skip
    body = {"quantity_made": 30, "lots": [lot]}

    response = api_client_for(technician).post(
        action_url(prescription, "record_compounding"), json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 400
    expired_on = (timezone.localdate() - timedelta(days=2)).isoformat()
    assert response.json()["lots"] == [f"Lot NTX-24001 expired on {expired_on}: it may not be used."]
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal(10)
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING


def test_the_api_counts_the_lot_down(prescriber, pharmacist, technician):
    stock = receive(technician)
    prescription = compounding(prescriber, pharmacist, technician)
    lot = {
        "ingredient": "naltrexone hcl usp",
        "lot": "ntx-24001",
        "expires": stock.expires.isoformat(),
        "quantity_used": "0.15 g",
    }
    body = {"quantity_made": 30, "lots": [lot]}

    response = api_client_for(technician).post(
        action_url(prescription, "record_compounding"), json.dumps(body), content_type="application/json"
    )

    assert response.status_code == 200, response.content
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal("9.85")
