"""The EasyPost backend against EasyPost's recorded answers: rates, a bought label, the carrier's
refusals as messages for staff, a refund."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from intake.shipping.backends import CarrierError, EasyPostBackend, ManualBackend, ShipTo, shipping_backend
from tests.shipping.conftest import SENT, recorded

SHIPMENT = "shp_5f2e8a9c1b7d4e3fa6c0d9b8e7f6a5c4"
TO = ShipTo(name="Ana Patient", street1="417 Montgomery St", street2="Fl 5", city="San Francisco", state="CA",
            zip="94104")  # fmt: skip


@pytest.fixture
def backend(easypost) -> EasyPostBackend:
    chosen = shipping_backend()
    assert isinstance(chosen, EasyPostBackend)
    return chosen


def test_manual_is_the_default_and_buys_nothing(settings):
    assert settings.SHIPPING_BACKEND == "manual"
    chosen = shipping_backend()
    assert isinstance(chosen, ManualBackend)
    assert chosen.buys_labels is False
    with pytest.raises(CarrierError, match="type the carrier"):
        chosen.quote(TO)


def test_rates_for_the_patients_address_are_the_allowed_carriers_cheapest_first(backend):
    with recorded.use_cassette("rates.yaml") as cassette:
        quote = backend.quote(TO)

    assert cassette.all_played
    assert quote.shipment_id == SHIPMENT
    # FedEx is offered but not among SHIPPING_CARRIERS.
    assert [(r.carrier, r.service, r.price, r.days) for r in quote.rates] == [
        ("USPS", "GroundAdvantage", Decimal("5.61"), 4),
        ("USPS", "Priority", Decimal("8.25"), 2),
        ("UPS", "Ground", Decimal("11.84"), 3),
    ]
    sent = SENT[-1]
    assert sent.headers["Authorization"] == "Bearer EZTK_test_key_for_recorded_answers"
    body = json.loads(sent.body)["shipment"]
    assert body["to_address"]["zip"] == "94104"
    assert body["from_address"]["zip"] == "78701"
    assert body["parcel"]["weight"] == 4.0


def test_a_label_is_bought_at_the_cheapest_allowed_rate(backend):
    with recorded.use_cassette("label.yaml") as cassette:
        quote = backend.quote(TO)
        label = backend.buy(quote.shipment_id)

    assert cassette.all_played
    assert (label.carrier, label.service, label.tracking_code, label.shipment_id) == (
        "USPS", "GroundAdvantage", "9405500106025001234567", SHIPMENT,
    )  # fmt: skip
    assert label.label_url.startswith("https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/")


def test_a_shipment_already_bought_answers_its_label_without_buying_again(backend):
    # The cassette holds no /buy: a purchase would fail the test.
    with recorded.use_cassette("label_already_bought.yaml") as cassette:
        label = backend.buy(SHIPMENT)

    assert cassette.all_played
    assert label.tracking_code == "9405500106025001234567"


def test_two_buyers_at_once_get_the_one_label_the_carrier_sold(backend):
    with recorded.use_cassette("label_bought_at_once.yaml") as cassette:
        label = backend.buy(SHIPMENT)

    assert cassette.all_played
    assert label.tracking_code == "9405500106025001234567"


def test_a_rate_the_shipment_does_not_offer_is_a_message(backend):
    with (
        recorded.use_cassette("label_bought_at_once.yaml", allow_playback_repeats=True),
        pytest.raises(CarrierError, match="no DHL Express rate"),
    ):
        backend.buy(SHIPMENT, carrier="DHL", service="Express")


def test_an_address_the_carrier_cannot_verify_is_a_message_about_the_address(backend):
    with recorded.use_cassette("bad_address.yaml"), pytest.raises(CarrierError) as refused:
        backend.quote(TO)

    assert "Unable to verify address" in refused.value.message
    assert "Check the patient's address" in refused.value.message


def test_no_rate_for_the_address_says_what_the_carriers_said(backend):
    with recorded.use_cassette("no_rates.yaml"), pytest.raises(CarrierError) as refused:
        backend.quote(TO)

    assert "no rate" in refused.value.message
    assert "Destination ZIP code does not match the state" in refused.value.message


def test_an_invalid_api_key_is_a_message_for_the_administrator(backend):
    with recorded.use_cassette("invalid_key.yaml"), pytest.raises(CarrierError) as refused:
        backend.quote(TO)

    assert "API key" in refused.value.message
    assert "EZTK" not in refused.value.message


def test_no_api_key_is_refused_before_any_call(easypost):
    easypost.EASYPOST_API_KEY = ""
    with pytest.raises(CarrierError, match="EASYPOST_API_KEY"):
        shipping_backend()


def test_a_bought_label_is_refunded(backend):
    with recorded.use_cassette("refund.yaml") as cassette:
        backend.refund(SHIPMENT)

    assert cassette.all_played
    assert cassette.requests[0].path.endswith(f"/shipments/{SHIPMENT}/refund")
