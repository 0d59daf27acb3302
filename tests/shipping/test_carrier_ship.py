"""`ship` through the carrier service: the label bought for the patient's address and recorded on
the fill, once; every refusal that needs no carrier (status, beyond-use date, licence) before any
purchase; a label whose ship fails refunded; the manual backend as it always was."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Fill, Prescription, PrescriptionStatus, StateLicence, licences_forget
from intake.shipping.backends import EasyPostBackend
from tests.api.conftest import action_url
from tests.factories import make_prescription
from tests.shipping.conftest import recorded
from tests.workflow_helpers import advance

S = PrescriptionStatus
SHIPMENT = "shp_5f2e8a9c1b7d4e3fa6c0d9b8e7f6a5c4"
TRACKING = "9405500106025001234567"
LABEL = "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/20261204/e8c5f1a2b3d44e6f8a9b0c1d2e3f4a5b.png"


@pytest.fixture
def ready(prescriber, pharmacist, technician) -> Prescription:
    return advance(make_prescription(prescriber), S.READY, pharmacist=pharmacist, technician=technician)


def current_fill(prescription: Prescription) -> Fill:
    prescription.refresh_from_db()
    return Fill.objects.get(prescription=prescription, number=prescription.fill_number)


def ship(api, prescription: Prescription, **body: str):
    return api.post(action_url(prescription, "ship"), json.dumps(body), content_type="application/json")


def test_ship_without_a_tracking_number_buys_the_label_and_records_it(easypost, ready, technician_api):
    with recorded.use_cassette("label.yaml") as cassette:
        response = ship(technician_api, ready)

    assert response.status_code == 200, response.content
    assert cassette.all_played
    assert (response.json()["status"], response.json()["tracking_number"]) == (S.SHIPPED, TRACKING)
    fill = current_fill(ready)
    assert (ready.carrier, ready.tracking_number) == ("USPS", TRACKING)
    assert (fill.carrier, fill.tracking_number, fill.carrier_shipment_id, fill.label_url) == (
        "USPS", TRACKING, SHIPMENT, LABEL,
    )  # fmt: skip
    event = ready.events.get(action="ship")
    assert event.details["carrier_shipment_id"] == SHIPMENT
    assert event.details["service"] == "GroundAdvantage"
    # The label's link travels in the fill's JSON, for the EHR or a print station.
    [shown] = response.json()["fills"]
    assert (shown["tracking_number"], shown["label_url"]) == (TRACKING, LABEL)


def test_a_second_ship_buys_nothing(easypost, ready, technician_api):
    with recorded.use_cassette("label.yaml"):
        assert ship(technician_api, ready).status_code == 200

    # No cassette answers a second purchase: one would fail here before the 409.
    with recorded.use_cassette("label.yaml") as cassette:
        again = ship(technician_api, ready)

    assert again.status_code == 409
    assert cassette.play_count == 0
    assert current_fill(ready).tracking_number == TRACKING


def test_a_label_already_bought_for_the_fill_is_reused(easypost, ready, technician_api):
    # An earlier attempt bought the label and then failed (its refund refused): the fill kept it.
    Fill.objects.filter(prescription=ready, number=ready.fill_number).update(carrier_shipment_id=SHIPMENT)

    with recorded.use_cassette("label_already_bought.yaml") as cassette:  # no /buy in it
        response = ship(technician_api, ready)

    assert response.status_code == 200
    assert cassette.all_played
    assert current_fill(ready).label_url == LABEL


def test_an_unlicensed_state_is_refused_before_any_purchase(easypost, prescriber, pharmacist, technician,
                                                            technician_api):  # fmt: skip
    alaska = make_prescription(prescriber, patient={"state": "AK", "postal_code": "99501"})
    alaska = advance(alaska, S.READY, pharmacist=pharmacist, technician=technician)

    with recorded.use_cassette("label.yaml") as cassette:
        response = ship(technician_api, alaska)

    assert response.status_code == 409
    assert "licence" in response.json()["detail"]
    assert cassette.play_count == 0
    fill = current_fill(alaska)
    assert (alaska.status, fill.carrier_shipment_id, fill.label_url) == (S.READY, "", "")


def test_a_fill_past_its_beyond_use_date_is_refused_before_any_purchase(easypost, ready, technician_api):
    Prescription.objects.filter(pk=ready.pk).update(beyond_use_date=timezone.localdate() - timedelta(days=1))

    with recorded.use_cassette("label.yaml") as cassette:
        response = ship(technician_api, ready)

    assert response.status_code == 409
    assert "beyond-use date" in response.json()["detail"]
    assert cassette.play_count == 0


def test_a_label_whose_ship_then_fails_is_refunded(easypost, ready, technician_api, monkeypatch):
    real_buy = EasyPostBackend.buy

    def buy_while_the_licence_lapses(self, shipment_id, **kwargs):
        label = real_buy(self, shipment_id, **kwargs)
        StateLicence.objects.filter(state=ready.patient.state).delete()
        licences_forget()
        return label

    monkeypatch.setattr(EasyPostBackend, "buy", buy_while_the_licence_lapses)
    with recorded.use_cassette("label_refunded.yaml") as cassette:
        response = ship(technician_api, ready)

    assert response.status_code == 409
    assert cassette.all_played  # the last answer is the refund
    fill = current_fill(ready)
    assert (ready.status, ready.tracking_number) == (S.READY, "")
    assert (fill.carrier_shipment_id, fill.label_url, fill.tracking_number) == ("", "", "")


@pytest.mark.parametrize(
    ("cassette_name", "words"),
    [
        ("invalid_key.yaml", "API key"),
        ("bad_address.yaml", "Unable to verify address"),
        ("no_rates.yaml", "no rate"),
    ],
)
def test_the_carriers_refusal_is_a_409_with_its_reason_and_changes_nothing(
    easypost, ready, technician_api, cassette_name, words
):
    with recorded.use_cassette(cassette_name):
        response = ship(technician_api, ready)

    assert response.status_code == 409
    assert words in response.json()["detail"]
    fill = current_fill(ready)
    assert (ready.status, fill.carrier_shipment_id, fill.label_url) == (S.READY, "", "")


def test_a_typed_tracking_number_ships_as_before_with_the_carrier_service_on(easypost, ready, technician_api):
    with recorded.use_cassette("label.yaml") as cassette:
        response = ship(technician_api, ready, carrier="UPS", tracking_number="1Z999AA10123456784")

    assert response.status_code == 200
    assert cassette.play_count == 0
    assert current_fill(ready).carrier_shipment_id == ""


def test_the_manual_backend_still_needs_the_tracking_number(ready, technician_api, settings):
    assert settings.SHIPPING_BACKEND == "manual"

    response = ship(technician_api, ready, carrier="UPS")

    assert response.status_code == 400
    assert response.json()["tracking_number"]
    ready.refresh_from_db()
    assert ready.status == S.READY


def test_the_carrier_backend_without_an_api_key_asks_for_the_tracking_number(ready, technician_api, settings):
    # The contract: a tracking number may be left out only with the backend *and* its key configured.
    settings.SHIPPING_BACKEND, settings.EASYPOST_API_KEY = "easypost", ""

    response = ship(technician_api, ready, carrier="UPS")

    assert response.status_code == 400
    assert "EASYPOST_API_KEY" in response.json()["tracking_number"][0]
    ready.refresh_from_db()
    assert ready.status == S.READY


def test_the_ship_page_shows_the_rates_and_buys_the_label(easypost, ready, client, login, technician):
    login(client, technician)
    with recorded.use_cassette("rates.yaml"):
        page = client.get(reverse("staff:review", args=[ready.pk]))

    text = page.content.decode()
    assert "Buy label and ship" in text
    assert "GroundAdvantage" in text and "$5.61" in text and "4 days" in text

    with recorded.use_cassette("label.yaml") as cassette:
        done = client.post(reverse("staff:ship", args=[ready.pk]), {"ship-rate": "USPS:GroundAdvantage"})
    assert done.status_code == 302
    assert cassette.all_played
    assert current_fill(ready).label_url == LABEL

    shipped = client.get(reverse("staff:review", args=[ready.pk])).content.decode()
    assert f'href="{LABEL}"' in shipped
    assert "Print the shipping label" in shipped


def test_a_double_click_buys_the_shipment_the_first_click_named(easypost, ready, technician_api):
    # The first click named the fill's shipment and is buying it; the carrier sells it to that click.
    Fill.objects.filter(prescription=ready, number=ready.fill_number).update(carrier_shipment_id=SHIPMENT)

    with recorded.use_cassette("label_bought_at_once.yaml") as cassette:  # no new shipment in it
        response = ship(technician_api, ready)

    assert response.status_code == 200
    assert cassette.all_played
    assert current_fill(ready).tracking_number == TRACKING


def test_the_ship_page_says_why_the_carrier_offers_nothing_and_keeps_the_typed_way(
    easypost, ready, client, login, technician
):
    login(client, technician)
    with recorded.use_cassette("invalid_key.yaml"):
        page = client.get(reverse("staff:review", args=[ready.pk]))

    assert page.status_code == 200
    text = page.content.decode()
    assert "refused the pharmacy&#x27;s API key" in text
    assert "Buy label and ship" not in text
    assert "Mark as shipped" in text

    with recorded.use_cassette("invalid_key.yaml", allow_playback_repeats=True):  # the page asks again
        refused = client.post(reverse("staff:ship", args=[ready.pk]), {"ship-rate": "USPS:Priority"}, follow=True)
    assert "refused the pharmacy&#x27;s API key" in refused.content.decode()
    ready.refresh_from_db()
    assert ready.status == S.READY


def test_the_ship_page_viewed_again_shows_the_same_rates_without_a_new_shipment(easypost, ready, client, login,
                                                                                 technician):  # fmt: skip
    login(client, technician)
    with recorded.use_cassette("rates.yaml", allow_playback_repeats=True) as cassette:
        client.get(reverse("staff:review", args=[ready.pk]))
        asked = cassette.play_count
        again = client.get(reverse("staff:review", args=[ready.pk])).content.decode()

    assert asked > 0 and cassette.play_count == asked
    assert "GroundAdvantage" in again and "$5.61" in again


def test_a_changed_address_or_a_carrier_refusal_is_asked_again(easypost, ready, client, login, technician):
    login(client, technician)
    with recorded.use_cassette("invalid_key.yaml"):
        refused = client.get(reverse("staff:review", args=[ready.pk])).content.decode()
    assert "Buy label and ship" not in refused

    with recorded.use_cassette("rates.yaml", allow_playback_repeats=True) as cassette:
        client.get(reverse("staff:review", args=[ready.pk]))  # the refusal was not kept
        asked = cassette.play_count
        ready.patient.address_line1 = "2 Congress Ave"
        ready.patient.save()
        client.get(reverse("staff:review", args=[ready.pk]))

    assert asked > 0 and cassette.play_count == 2 * asked
