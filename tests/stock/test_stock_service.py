"""Receiving, correcting and using stock lots: the rules, and what is left when one is refused."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from intake.errors import Forbidden
from intake.models import CompoundingRecord, IngredientLot, Prescription, PrescriptionStatus, StockLot
from intake.services.compounding import compounding_record_create
from intake.services.lots import LotInput
from intake.services.stock import stock_correct, stock_use
from tests.factories import make_prescription
from tests.stock.conftest import expired_lot, receive
from tests.workflow_helpers import advance

S = PrescriptionStatus
YEAR = timedelta(days=365)


def compounding(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)


def lots(stock: StockLot, used: str = "135 mg", **changes) -> list[LotInput]:
    values = {"ingredient": stock.ingredient, "lot": stock.lot, "expires": stock.expires,
              "manufacturer": stock.manufacturer, "quantity_used": used}  # fmt: skip
    return [
        LotInput(**{**values, **changes}),
        LotInput(ingredient="Microcrystalline cellulose NF", lot="MCC-7781", expires=timezone.localdate() + YEAR),
    ]


def on_hand(stock: StockLot) -> Decimal:
    return StockLot.objects.get(pk=stock.pk).quantity_on_hand


# Receiving ------------------------------------------------------------------------------------


def test_a_received_lot_is_counted_from_what_arrived(technician):
    stock = receive(technician, quantity="25.5", low_stock_below="5")

    assert stock.quantity_received == stock.quantity_on_hand == Decimal("25.5")
    assert stock.low_stock_below == Decimal(5)
    assert stock.received_by == technician
    assert stock.history.count() == 1


def test_a_pharmacist_receives_too_but_not_a_prescriber(pharmacist, prescriber):
    assert receive(pharmacist).received_by == pharmacist
    with pytest.raises(Forbidden):
        receive(prescriber.user, lot="OTHER")
    assert StockLot.objects.count() == 1


def test_an_expired_lot_is_refused_on_receipt(technician):
    yesterday = timezone.localdate() - timedelta(days=1)

    with pytest.raises(ValidationError) as caught:
        receive(technician, expires=yesterday)

    assert caught.value.message_dict == {
        "expires": [f"This lot expired on {yesterday.isoformat()}: it may not be received."]
    }
    assert not StockLot.objects.exists()


def test_a_lot_expiring_today_may_be_received(technician):
    assert receive(technician, expires=timezone.localdate()).pk


@pytest.mark.parametrize(
    ("changes", "same"),
    [
        ({}, True),
        ({"lot": "ntx-24001"}, True),
        ({"ingredient": "NALTREXONE HCL USP", "manufacturer": "medisca"}, True),
        ({"lot": "  NTX-24001 "}, True),
        ({"manufacturer": "Spectrum"}, False),  # the same number from another maker is another lot
        ({"ingredient": "Microcrystalline cellulose NF"}, False),
    ],
)
def test_a_lot_already_received_is_refused_as_a_duplicate(technician, changes, same):
    receive(technician)

    if same:
        with pytest.raises(ValidationError) as caught:
            receive(technician, **changes)
        assert "is already in stock" in caught.value.message_dict["lot"][0]
        assert StockLot.objects.count() == 1
    else:
        receive(technician, **changes)
        assert StockLot.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ingredient": " "}, "ingredient"),
        ({"lot": ""}, "lot"),
        ({"lot": "A\nB"}, "lot"),
        ({"lot": "L" * 61}, "lot"),
        ({"unit": "oz"}, "unit"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-3"}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"quantity": "NaN"}, "quantity"),
        ({"quantity": ""}, "quantity"),
        ({"quantity": "1.2345"}, "quantity"),
        ({"quantity": "1000000000"}, "quantity"),
        ({"low_stock_below": "-1"}, "low_stock_below"),
        ({"expires": None}, "expires"),
    ],
)
def test_what_is_missing_or_wrong_is_named_on_its_field(technician, changes, field):
    with pytest.raises(ValidationError) as caught:
        receive(technician, **changes)

    assert field in caught.value.message_dict
    assert not StockLot.objects.exists()


# Correcting -----------------------------------------------------------------------------------


def test_a_pharmacist_corrects_a_count_with_the_reason_kept_in_history(pharmacist, naltrexone_lot):
    corrected = stock_correct(actor=pharmacist, stock_lot_id=naltrexone_lot.pk, quantity_on_hand="9.25",
                              reason="Counted on the shelf; spill on 3 May")  # fmt: skip

    assert corrected.quantity_on_hand == Decimal("9.25")
    latest = naltrexone_lot.history.order_by("-history_date", "-history_id").first()
    assert latest.quantity_on_hand == Decimal("9.25")
    assert "spill on 3 May" in latest.history_change_reason
    assert pharmacist.email in latest.history_change_reason
    assert StockLot.objects.get(pk=naltrexone_lot.pk).quantity_received == Decimal(10)


def test_a_technician_may_not_correct_a_count(technician, naltrexone_lot):
    with pytest.raises(Forbidden):
        stock_correct(actor=technician, stock_lot_id=naltrexone_lot.pk, quantity_on_hand="1", reason="Counted")
    assert on_hand(naltrexone_lot) == Decimal(10)


@pytest.mark.parametrize(
    ("quantity", "reason", "field"),
    [("5", "", "reason"), ("5", "  ", "reason"), ("5", "x" * 101, "reason"), ("-1", "Counted", "quantity_on_hand"),
     ("lots", "Counted", "quantity_on_hand")],
)  # fmt: skip
def test_a_correction_needs_a_count_and_a_reason(pharmacist, naltrexone_lot, quantity, reason, field):
    with pytest.raises(ValidationError) as caught:
        stock_correct(actor=pharmacist, stock_lot_id=naltrexone_lot.pk, quantity_on_hand=quantity, reason=reason)

    assert field in caught.value.message_dict
    assert on_hand(naltrexone_lot) == Decimal(10)
    assert naltrexone_lot.history.count() == 1


def test_a_count_of_zero_is_a_correction_like_any_other(pharmacist, naltrexone_lot):
    assert stock_correct(actor=pharmacist, stock_lot_id=naltrexone_lot.pk, quantity_on_hand="0",
                         reason="Container broken").quantity_on_hand == 0  # fmt: skip


# Using, through compounding -------------------------------------------------------------------


def test_compounding_counts_the_lot_down_and_links_it(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)

    compounding_record_create(prescription_id=prescription.pk, actor=technician, quantity_made=30,
                              lots=lots(naltrexone_lot, "1.35 g"))  # fmt: skip

    assert on_hand(naltrexone_lot) == Decimal("8.65")
    record = CompoundingRecord.objects.get(prescription=prescription)
    used = IngredientLot.objects.filter(record=record).order_by("id")
    assert [lot.stock_lot_id for lot in used] == [naltrexone_lot.pk, None]  # the filler was never received
    assert naltrexone_lot.history.count() == 2


@pytest.mark.parametrize(
    ("changes", "left"),
    [
        ({"lot": "ntx-24001", "ingredient": "naltrexone hcl usp"}, "9.865"),  # case does not matter
        ({"manufacturer": ""}, "9.865"),  # without a manufacturer, the only lot of that number
        ({"manufacturer": "Other maker"}, "10"),  # another maker's lot of that number was never received
    ],
)
def test_a_lot_is_matched_by_ingredient_and_number(prescriber, pharmacist, technician, naltrexone_lot, changes, left):
    prescription = compounding(prescriber, pharmacist, technician)

    compounding_record_create(prescription_id=prescription.pk, actor=technician, quantity_made=30,
                              lots=lots(naltrexone_lot, "135 mg", **changes))  # fmt: skip

    assert on_hand(naltrexone_lot) == Decimal(left)


def refused(prescription, technician, given, *, stock):
    """Record, expect a refusal on the lots field; nothing was recorded or taken."""
    with pytest.raises(ValidationError) as caught:
        compounding_record_create(prescription_id=prescription.pk, actor=technician, quantity_made=30, lots=given)
    assert not CompoundingRecord.objects.filter(prescription=prescription).exists()
    assert not IngredientLot.objects.exists()
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING
    assert on_hand(stock) == stock.quantity_on_hand
    return caught.value.message_dict["lots"]


def test_an_expired_received_lot_is_refused(prescriber, pharmacist, technician):
    prescription = compounding(prescriber, pharmacist, technician)
    stock = expired_lot(technician)
    # The record says a later date than the lot was received with; stock knows better.
    given = lots(stock, expires=timezone.localdate() + YEAR)

    problems = refused(prescription, technician, given, stock=stock)

    assert problems == [f"Lot NTX-OLD expired on {stock.expires.isoformat()}: it may not be used."]


def test_more_than_on_hand_is_refused(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)

    problems = refused(prescription, technician, lots(naltrexone_lot, "10.5 g"), stock=naltrexone_lot)

    assert problems == ["Naltrexone HCl USP lot NTX-24001 has 10 g on hand; this uses 10.5 g."]


def test_all_of_it_may_be_used(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)

    compounding_record_create(prescription_id=prescription.pk, actor=technician, quantity_made=30,
                              lots=lots(naltrexone_lot, "10000 mg"))  # fmt: skip

    assert on_hand(naltrexone_lot) == 0


def test_a_lot_named_twice_is_counted_twice(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)
    given = [*lots(naltrexone_lot, "6 g"), lots(naltrexone_lot, "5 g")[0]]

    problems = refused(prescription, technician, given, stock=naltrexone_lot)

    assert problems == ["Naltrexone HCl USP lot NTX-24001 has 10 g on hand; this uses 11 g."]


@pytest.mark.parametrize(
    ("used", "message"),
    [
        ("", "Naltrexone HCl USP lot NTX-24001 is counted in stock: give the quantity used (1.35 g, 500 mg, 30 each)."),
        ("5 mL", "Naltrexone HCl USP lot NTX-24001: “5 mL” is a volume; this lot is counted in g, a mass."),
        ("12,5 g", "Naltrexone HCl USP lot NTX-24001: “12,5 g”: write decimals with a point and no thousands "
                   "separator (12.5 g, 1000 mg)."),
    ],
)  # fmt: skip
def test_an_unreadable_quantity_of_a_received_lot_is_refused(
    prescriber, pharmacist, technician, naltrexone_lot, used, message
):
    prescription = compounding(prescriber, pharmacist, technician)

    assert refused(prescription, technician, lots(naltrexone_lot, used), stock=naltrexone_lot) == [message]


def test_a_received_lot_recorded_with_another_expiry_is_refused(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)
    given = lots(naltrexone_lot, expires=naltrexone_lot.expires + timedelta(days=30))

    problems = refused(prescription, technician, given, stock=naltrexone_lot)

    assert problems == [
        f"Naltrexone HCl USP lot NTX-24001 was received expiring on {naltrexone_lot.expires.isoformat()}: "
        "record that date."
    ]


def test_one_number_from_two_makers_needs_the_maker(prescriber, pharmacist, technician, naltrexone_lot):
    receive(technician, manufacturer="Spectrum")
    prescription = compounding(prescriber, pharmacist, technician)

    problems = refused(prescription, technician, lots(naltrexone_lot, manufacturer=""), stock=naltrexone_lot)

    assert "name the one used" in problems[0]


def test_a_refused_actor_takes_nothing(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(Forbidden):
        compounding_record_create(prescription_id=prescription.pk, actor=prescriber.user, quantity_made=30,
                                  lots=lots(naltrexone_lot))  # fmt: skip

    assert on_hand(naltrexone_lot) == Decimal(10)


def test_a_record_refused_for_another_reason_takes_nothing(prescriber, pharmacist, technician, naltrexone_lot):
    prescription = compounding(prescriber, pharmacist, technician)

    with pytest.raises(ValidationError):
        compounding_record_create(prescription_id=prescription.pk, actor=technician, quantity_made=31,
                                  lots=lots(naltrexone_lot))  # fmt: skip

    assert on_hand(naltrexone_lot) == Decimal(10)


def test_stock_use_without_lots_takes_nothing():
    assert stock_use([], on=timezone.localdate(), field="lots") == []


@pytest.mark.django_db(transaction=True)
def test_stock_use_keeps_the_callers_order_and_field(technician):
    from django.db import transaction

    stock = receive(technician)
    filler = LotInput(ingredient="Filler", lot="F-1", expires=stock.expires)
    with transaction.atomic():
        taken = stock_use([filler, *lots(stock, "1 g")[:1]], on=timezone.localdate(), field="batch_lots")
    assert taken == [None, stock]
    with pytest.raises(ValidationError) as caught, transaction.atomic():
        stock_use(lots(stock, "1 mL")[:1], on=timezone.localdate(), field="batch_lots")
    assert list(caught.value.message_dict) == ["batch_lots"]
    assert on_hand(stock) == Decimal(9)
