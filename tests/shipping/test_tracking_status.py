"""The patient's status page and status JSON show the carrier's latest news, in words."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from intake.models import AuditRecord
from tests.patient.conftest import assert_nothing_clinical
from tests.shipping.helpers import SECRET, event, post, shipped

CODE = "9400111899223197428492"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET


@pytest.fixture
def parcel(prescriber, pharmacist, technician):
    return shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)


def _lookup(reference: str):
    return APIClient().get("/api/v1/status/", {"reference": reference, "date_of_birth": "1980-02-29"})


def test_no_news_from_the_carrier_yet(parcel):
    body = _lookup(parcel.reference).json()

    assert body["carrier_status"] is None and body["carrier_status_text"] is None and body["carrier_status_at"] is None


def test_the_status_json_shows_the_latest_news(parcel):
    post(Client(), event("evt_1", CODE, "in_transit", at="2026-12-02T10:00:00Z"))
    post(Client(), event("evt_2", CODE, "out_for_delivery", at="2026-12-03T08:00:00Z"))

    body = _lookup(parcel.reference).json()

    assert body["carrier_status"] == "out_for_delivery"
    assert body["carrier_status_text"] == "Out for delivery"
    assert body["carrier_status_at"].startswith("2026-12-03T")


def test_a_late_event_does_not_move_a_delivered_parcel_back_on_the_page(parcel):
    post(Client(), event("evt_2", CODE, "delivered", at="2026-12-03T15:00:00Z"))
    post(Client(), event("evt_3", CODE, "in_transit", at="2026-12-04T09:00:00Z"))  # a carrier's late echo

    body = _lookup(parcel.reference).json()

    assert body["status"] == "completed"
    assert body["carrier_status"] == "delivered"


def test_the_status_page_shows_the_news_in_words(parcel):
    post(Client(), event("evt_1", CODE, "return_to_sender", message="Insufficient address"))

    page = Client().post("/status/", {"reference": parcel.reference, "date_of_birth": "1980-02-29"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "Coming back to the pharmacy" in html
    assert 'data-carrier-status="return_to_sender"' in html
    assert "Insufficient address" not in html  # the carrier's own words are for the staff
    assert_nothing_clinical(html)
    assert AuditRecord.objects.filter(prescription_reference=parcel.reference, action="view").exists()
