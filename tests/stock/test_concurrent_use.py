"""Two records drawing on one lot at the same moment: counted down one after the other, never below 0."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from intake.models import IngredientLot, Prescription, PrescriptionStatus, StockLot
from intake.services.compounding import compounding_record_create
from tests.factories import make_prescription
from tests.simultaneous import at_once
from tests.stock.conftest import receive
from tests.stock.test_stock_service import lots
from tests.workflow_helpers import advance

S = PrescriptionStatus

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_two_records_wanting_more_than_is_left_one_is_refused(prescriber, pharmacist, technician, second_pharmacist):
    # given: 10 g on hand, two prescriptions in compounding each wanting 6 g
    stock = receive(technician)
    prescriptions = [
        advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
        for _ in range(2)
    ]

    # when
    results = at_once(
        *(lambda p=p: compounding_record_create(prescription_id=p.pk, actor=technician, quantity_made=30,
                                                lots=lots(stock, "6 g")) for p in prescriptions)
    )  # fmt: skip

    # then
    refused = [r for r in results if isinstance(r, ValidationError)]
    made = [r for r in results if isinstance(r, Prescription)]
    assert len(made) == 1, results
    assert len(refused) == 1, results
    assert "has 4 g on hand" in refused[0].message_dict["lots"][0]
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal(4)
    assert IngredientLot.objects.filter(stock_lot=stock).count() == 1


def test_two_records_with_enough_for_both_are_both_counted(prescriber, pharmacist, technician):
    stock = receive(technician)
    prescriptions = [
        advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
        for _ in range(2)
    ]
    # Opposite orders of the same lots: locked by id, so neither waits on the other for ever.
    second = receive(technician, ingredient="Microcrystalline cellulose NF", lot="MCC-7781", unit="g",
                     expires=stock.expires)  # fmt: skip
    one = [*lots(stock, "3 g")[:1], *lots(second, "2 g")[:1]]

    results = at_once(
        lambda: compounding_record_create(prescription_id=prescriptions[0].pk, actor=technician, quantity_made=30,
                                          lots=one),
        lambda: compounding_record_create(prescription_id=prescriptions[1].pk, actor=technician, quantity_made=30,
                                          lots=list(reversed(one))),
    )  # fmt: skip

    assert all(isinstance(r, Prescription) for r in results), results
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal(4)
    assert StockLot.objects.get(pk=second.pk).quantity_on_hand == Decimal(6)


def test_one_lot_received_twice_at_once_is_kept_once(technician, pharmacist):
    results = at_once(lambda: receive(technician), lambda: receive(pharmacist))

    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(refused) == 1, results
    assert "is already in stock" in refused[0].message_dict["lot"][0]
    assert StockLot.objects.count() == 1
