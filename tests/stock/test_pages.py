"""The stock pages: who may open them, what they show, and a refused form that saves nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from intake.models import AuditRecord, Recall, StockLot
from tests.factories import make_prescription
from tests.stock.conftest import expired_lot, receive
from tests.workflow_helpers import advance

LIST = reverse("staff:stock")
RECEIVE = reverse("staff:stock_receive")
DASHBOARD = reverse("dashboard:index")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="accounts.backends.PharmacyBackend")
    return client


def recalled(lot: str, actor) -> Recall:
    return Recall.objects.create(ingredient="Naltrexone HCl USP", lot=lot, recall_class="II", reason="Impurity",
                                 opened_by=actor, opened_at=timezone.now())  # fmt: skip


def receipt(**changes) -> dict[str, str]:
    values = {
        "stock-ingredient": "Naltrexone HCl USP", "stock-manufacturer": "Medisca", "stock-lot": "NTX-9",
        "stock-expires": (timezone.localdate() + timedelta(days=300)).isoformat(), "stock-unit": "g",
        "stock-quantity": "25", "stock-low_stock_below": "5",
    }  # fmt: skip
    return {**values, **changes}


# The list --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["pharmacist", "technician"])
def test_the_bench_sees_every_lot_and_its_state(request, persona, technician, pharmacist):
    good = receive(technician)
    old = expired_lot(technician)
    held = receive(technician, lot="NTX-HELD")
    recalled("ntx-held", pharmacist)

    response = signed_in(request.getfixturevalue(persona)).get(LIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-stock-lot="{good.pk}"' in page
    assert "Usable" in page
    assert f'data-stock-lot="{old.pk}" class="table-danger"' in page
    assert f'data-stock-lot="{held.pk}" class="table-danger"' in page
    assert "Quarantined: recalled" in page
    assert "Expired" in page


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"ingredient": "cellulose"}, {"filler"}),
        ({"show": "expired"}, {"old"}),
        ({"show": "quarantined"}, {"held"}),
        ({"show": "low"}, {"low"}),
        ({"show": "expiring"}, {"soon"}),
        ({"show": "usable"}, {"good", "low", "soon", "filler"}),
        ({}, {"good", "old", "held", "low", "soon", "filler"}),
        ({"show": "nonsense"}, {"good", "old", "held", "low", "soon", "filler"}),
    ],
)
def test_the_list_filters(technician, pharmacist, query, shown):
    today = timezone.localdate()
    lots = {
        "good": receive(technician),
        "old": expired_lot(technician),
        "held": receive(technician, lot="NTX-HELD"),
        "low": receive(technician, lot="NTX-LOW", quantity="2", low_stock_below="3"),
        "soon": receive(technician, lot="NTX-SOON", expires=today + timedelta(days=10)),
        "filler": receive(technician, ingredient="Microcrystalline cellulose NF", lot="MCC-1"),
    }
    recalled("NTX-HELD", pharmacist)

    page = signed_in(technician).get(LIST, query).content.decode()

    assert {name for name, stock in lots.items() if f'data-stock-lot="{stock.pk}"' in page} == shown


def test_others_may_not_see_stock(prescriber, pharmacy_admin, technician):
    receive(technician)
    for user in (prescriber.user, pharmacy_admin):
        assert signed_in(user).get(LIST).status_code == 403
    assert Client().get(LIST).status_code == 302


# Receiving -------------------------------------------------------------------------------------


def test_a_technician_receives_a_lot(technician):
    response = signed_in(technician).post(RECEIVE, receipt())

    stock = StockLot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:stock_lot", args=[stock.pk])
    assert (stock.lot, stock.quantity_on_hand, stock.low_stock_below) == ("NTX-9", Decimal(25), Decimal(5))
    assert stock.received_by == technician
    assert AuditRecord.objects.filter(object_type="stock_lot", object_id=str(stock.pk), action="create").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stock-expires": "2020-01-01"}, "This lot expired on 2020-01-01: it may not be received."),
        ({"stock-quantity": "0"}, "Ensure this value is greater than or equal to 0.001."),
        ({"stock-quantity": "12,5"}, "Enter a number."),
        ({"stock-lot": ""}, "This field is required."),
        ({"stock-unit": "oz"}, "Select a valid choice."),
    ],
)
def test_a_refused_receipt_names_the_field_and_saves_nothing(technician, changes, message):
    response = signed_in(technician).post(RECEIVE, receipt(**changes))

    assert response.status_code == 400
    field = next(iter(changes)).removeprefix("stock-")
    assert message in " ".join(response.context["form"].errors[field])
    assert not StockLot.objects.exists()


def test_a_lot_received_twice_is_refused_on_the_lot_field(technician):
    client = signed_in(technician)
    client.post(RECEIVE, receipt())

    response = client.post(RECEIVE, receipt(**{"stock-lot": "ntx-9", "stock-quantity": "5"}))

    assert response.status_code == 400
    assert "is already in stock" in response.context["form"].errors["lot"][0]
    assert StockLot.objects.get().quantity_on_hand == Decimal(25)


def test_a_prescriber_or_an_administrator_receives_nothing(prescriber, pharmacy_admin):
    for user in (prescriber.user, pharmacy_admin):
        assert signed_in(user).post(RECEIVE, receipt()).status_code == 403
    assert not StockLot.objects.exists()


# A lot's page ----------------------------------------------------------------------------------


def test_a_lots_page_shows_its_uses_and_history_and_is_audited(prescriber, pharmacist, technician):
    stock = receive(technician)
    prescription = advance(make_prescription(prescriber), "compounding", pharmacist=pharmacist, technician=technician)
    from intake.services.compounding import compounding_record_create
    from intake.services.lots import LotInput

    compounding_record_create(
        prescription_id=prescription.pk, actor=technician, quantity_made=30,
        lots=[LotInput(ingredient=stock.ingredient, lot=stock.lot, expires=stock.expires, quantity_used="1.35 g")],
    )  # fmt: skip

    response = signed_in(pharmacist).get(reverse("staff:stock_lot", args=[stock.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert prescription.reference in page
    assert "8.65 g" in page
    assert "Used: 1.35 g" in page
    assert prescription.patient.last_name not in page
    assert AuditRecord.objects.filter(object_type="stock_lot", object_id=str(stock.pk), action="view").exists()


def test_an_unknown_lot_is_404(technician):
    assert signed_in(technician).get(reverse("staff:stock_lot", args=[987654])).status_code == 404


# Correcting a count ----------------------------------------------------------------------------


def test_a_pharmacist_corrects_a_count(pharmacist, technician):
    stock = receive(technician)
    url = reverse("staff:stock_correct", args=[stock.pk])

    response = signed_in(pharmacist).post(url, {"count-quantity_on_hand": "9.5", "count-reason": "Recounted"})

    assert response.status_code == 302
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal("9.5")
    page = signed_in(pharmacist).get(reverse("staff:stock_lot", args=[stock.pk])).content.decode()
    assert "Recounted" in page


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"count-quantity_on_hand": "9.5", "count-reason": ""}, "reason"),
        ({"count-quantity_on_hand": "-1", "count-reason": "Recounted"}, "quantity_on_hand"),
        ({"count-quantity_on_hand": "9.5", "count-reason": "x" * 101}, "reason"),
    ],
)
def test_a_correction_without_reason_or_count_is_refused(pharmacist, technician, body, field):
    stock = receive(technician)

    response = signed_in(pharmacist).post(reverse("staff:stock_correct", args=[stock.pk]), body)

    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal(10)
    assert stock.history.count() == 1


def test_a_technician_may_not_correct_a_count(technician):
    stock = receive(technician)

    response = signed_in(technician).post(
        reverse("staff:stock_correct", args=[stock.pk]), {"count-quantity_on_hand": "1", "count-reason": "Recounted"}
    )

    assert response.status_code == 403
    assert StockLot.objects.get(pk=stock.pk).quantity_on_hand == Decimal(10)


# The dashboard and the compounding page --------------------------------------------------------


def test_the_dashboard_lists_stock_to_watch(pharmacist, technician, settings):
    settings.STOCK_EXPIRY_WARNING_DAYS = 20
    today = timezone.localdate()
    healthy = receive(technician)
    low = receive(technician, lot="NTX-LOW", quantity="2", low_stock_below="3")
    soon = receive(technician, lot="NTX-SOON", expires=today + timedelta(days=20))
    later = receive(technician, lot="NTX-LATER", expires=today + timedelta(days=21))
    used_up = receive(technician, lot="NTX-GONE", quantity="1", low_stock_below="3")
    StockLot.objects.filter(pk=used_up.pk).update(quantity_on_hand=0)
    old = expired_lot(technician)

    page = signed_in(pharmacist).get(DASHBOARD).content.decode()

    assert "Stock to watch" in page
    assert "within 20 days" in page
    shown = {stock.lot for stock in (healthy, low, soon, later, used_up, old) if f'data-stock-lot="{stock.pk}"' in page}
    assert shown == {"NTX-LOW", "NTX-SOON"}


def test_the_dashboard_says_when_nothing_needs_watching(pharmacy_admin):
    page = signed_in(pharmacy_admin).get(DASHBOARD).content.decode()

    assert "No lot in stock is running low" in page


def test_the_batch_form_offers_usable_received_lots(technician, pharmacist):
    receive(technician)
    expired_lot(technician)
    receive(technician, lot="NTX-HELD")
    recalled("NTX-HELD", pharmacist)

    page = signed_in(technician).get(reverse("staff:batch_new")).content.decode()

    assert '<datalist id="stock-lots">' in page
    assert 'list="stock-lots"' in page
    assert '<option value="NTX-24001"' in page
    for refused in ("NTX-OLD", "NTX-HELD"):
        assert f'<option value="{refused}"' not in page


def test_the_compounding_page_offers_usable_received_lots(prescriber, pharmacist, technician):
    receive(technician)
    expired_lot(technician)
    receive(technician, lot="NTX-HELD")
    recalled("NTX-HELD", pharmacist)
    gone = receive(technician, lot="NTX-GONE")
    StockLot.objects.filter(pk=gone.pk).update(quantity_on_hand=0)
    prescription = advance(make_prescription(prescriber), "compounding", pharmacist=pharmacist, technician=technician)

    page = signed_in(technician).get(reverse("staff:compounding", args=[prescription.pk])).content.decode()

    assert '<datalist id="stock-lots">' in page
    assert 'list="stock-lots"' in page
    assert '<option value="NTX-24001"' in page
    for refused in ("NTX-OLD", "NTX-HELD", "NTX-GONE"):
        assert f'<option value="{refused}"' not in page
