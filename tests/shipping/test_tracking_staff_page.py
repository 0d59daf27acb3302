"""The "Shipping problems" page: the carrier's failures and returns, and what the staff did."""

from __future__ import annotations

import pytest
from django.test import Client

from intake.models import AuditRecord, TrackingEvent
from tests.shipping.helpers import SECRET, event, post, shipped

CODE = "9400111899223197428493"
PAGE = "/pharmacy/shipping-problems/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET


@pytest.fixture
def returned(prescriber, pharmacist, technician):
    parcel = shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)
    post(Client(), event("evt_1", CODE, "return_to_sender", message="Insufficient address"))
    return parcel, TrackingEvent.objects.get(event_id="evt_1")


def _signed_in(user, login) -> Client:
    client = Client()
    login(client, user)
    return client


def test_the_page_lists_the_parcels_that_need_staff(returned, technician, login):
    parcel, problem = returned
    post(Client(), event("evt_2", CODE, "in_transit", at="2026-12-01T10:00:00Z"))  # not a problem

    response = _signed_in(technician, login).get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Coming back to the pharmacy" in html and "Insufficient address" in html
    assert parcel.reference in html and parcel.patient.last_name in html
    assert f'id="shipping-problem-{problem.pk}"' in html
    assert html.count('id="shipping-problem-') == 1
    assert AuditRecord.objects.filter(actor=technician, action="list", object_type="tracking event").exists()


def test_recording_what_was_done_takes_it_off_the_list(returned, pharmacist, login):
    _parcel, problem = returned
    client = _signed_in(pharmacist, login)

    response = client.post(f"{PAGE}{problem.pk}/handled/", {"handled_note": "Called the patient; shipped again."})

    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.handled_by, problem.handled_note) == (pharmacist, "Called the patient; shipped again.")
    assert problem.handled_at is not None
    assert f'id="shipping-problem-{problem.pk}"' not in client.get(PAGE).content.decode()
    assert AuditRecord.objects.filter(actor=pharmacist, action="update", object_type="tracking event").exists()


def test_an_empty_note_is_a_field_error_and_nothing_changes(returned, technician, login):
    _parcel, problem = returned

    response = _signed_in(technician, login).post(f"{PAGE}{problem.pk}/handled/", {"handled_note": "  "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    problem.refresh_from_db()
    assert problem.handled_at is None


def test_a_parcel_already_handled_is_not_handled_twice(returned, technician, pharmacist, login):
    _parcel, problem = returned
    _signed_in(technician, login).post(f"{PAGE}{problem.pk}/handled/", {"handled_note": "Called the carrier."})

    response = _signed_in(pharmacist, login).post(f"{PAGE}{problem.pk}/handled/", {"handled_note": "Again."},
                                                  follow=True)  # fmt: skip

    assert "already recorded" in response.content.decode()
    problem.refresh_from_db()
    assert (problem.handled_by, problem.handled_note) == (technician, "Called the carrier.")


def test_the_pharmacys_administrators_and_prescribers_cannot_open_it(returned, pharmacy_admin, prescriber, login):
    _parcel, problem = returned
    for user in (pharmacy_admin, prescriber.user):
        client = _signed_in(user, login)
        assert client.get(PAGE).status_code == 403
        assert client.post(f"{PAGE}{problem.pk}/handled/", {"handled_note": "x"}).status_code == 403
    problem.refresh_from_db()
    assert problem.handled_at is None


def test_the_dashboard_counts_the_parcels_waiting(returned, pharmacist, login):
    response = _signed_in(pharmacist, login).get("/pharmacy/dashboard/")

    html = response.content.decode()
    assert 'data-shipping-problems="1"' in html
    assert "1 parcel the carrier could not deliver" in html
