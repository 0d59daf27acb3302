"""Address checks: the ZIP code against the state (the `zipcodes` data), and the carrier's delivery
verification (EasyPost's recorded answers) telling the patient and the staff when it cannot deliver."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.urls import reverse

from intake.addresses import postal_code_disagreement, zip_state
from intake.models import Notification, NotificationEvent, Patient, PrescriptionStatus
from intake.services.addresses import address_check, address_warnings, addresses_check_due
from intake.shipping.backends import AddressCheck, CarrierError, ShipTo, shipping_backend
from tests.conftest import api_client_for
from tests.factories import api_payload, make_prescription
from tests.shipping.conftest import SENT, recorded
from tests.workflow_helpers import advance

TO = ShipTo(name="Ana Patient", street1="417 Montgomery St", street2="Fl 5", city="San Francisco", state="CA",
            zip="94104")  # fmt: skip


# --- the ZIP code and the state ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("postal_code", "state"),
    [("78701", "TX"), ("99501", "AK"), ("96813", "HI"), ("00601", "PR"), ("10001", "NY"), ("20500", "DC"),
     ("78701-1234", "TX"), ("787011234", "TX"), (" 94104 ", "CA")],
)  # fmt: skip
def test_a_zip_code_belongs_to_its_state(postal_code, state):
    assert zip_state(postal_code) == state
    assert postal_code_disagreement(state, postal_code) == ""
    assert postal_code_disagreement(state.lower(), postal_code) == ""


@pytest.mark.parametrize("postal_code", ["00000", "99999", "abcde", "787", "", "78701-12"])
def test_a_zip_code_not_in_the_data_is_not_judged(postal_code):
    assert zip_state(postal_code) is None
    assert postal_code_disagreement("TX", postal_code) == ""


def test_a_zip_code_of_another_state_is_named_with_both_states():
    assert (
        postal_code_disagreement("AK", "78701") == "ZIP code 78701 is in TX, not AK: check the state or the ZIP code."
    )


def test_no_state_is_not_judged():
    assert postal_code_disagreement("", "78701") == ""


# --- the carrier's verdict ------------------------------------------------------------------------------


@pytest.fixture
def backend(easypost):
    return shipping_backend()


def test_the_carrier_can_deliver_to_a_known_address(backend):
    with recorded.use_cassette("address_deliverable.yaml") as cassette:
        answer = backend.check_address(TO)

    assert cassette.all_played
    assert answer == AddressCheck(deliverable=True)
    sent = json.loads(SENT[-1].body)
    assert sent["verify"] is True
    assert (sent["address"]["street1"], sent["address"]["zip"], sent["address"]["country"]) == (
        "417 Montgomery St", "94104", "US",
    )  # fmt: skip


def test_the_carrier_says_why_it_cannot_deliver(backend):
    with recorded.use_cassette("address_undeliverable.yaml"):
        answer = backend.check_address(TO)

    assert answer == AddressCheck(deliverable=False, message="Address not found; House number is missing")


def test_the_carrier_down_is_an_error_to_ask_again_later(backend):
    with recorded.use_cassette("address_check_unavailable.yaml"), pytest.raises(CarrierError, match="did not answer"):
        backend.check_address(TO)


def test_the_manual_backend_checks_nothing():
    with pytest.raises(CarrierError, match="not checked"):
        shipping_backend().check_address(TO)


# --- the periodic check ----------------------------------------------------------------------------------


@pytest.fixture
def waiting(prescriber):
    """A prescription still to be sent, its patient's address not yet checked."""
    return make_prescription(prescriber)


def test_an_undeliverable_address_is_kept_and_the_patient_told(easypost, waiting):
    with recorded.use_cassette("address_undeliverable.yaml"):
        assert addresses_check_due() == 1

    patient = Patient.objects.get(pk=waiting.patient_id)
    assert patient.address_checked_at is not None
    assert patient.address_deliverable is False
    assert patient.address_problem == "Address not found; House number is missing"
    told = Notification.objects.filter(prescription=waiting, event=NotificationEvent.ADDRESS_UNDELIVERABLE)
    assert {row.audience for row in told} == {"patient"}
    assert address_warnings(patient) == [
        "The carrier cannot deliver to this address: Address not found; House number is missing."
    ]


def test_a_deliverable_address_is_kept_and_nobody_is_told(easypost, waiting):
    with recorded.use_cassette("address_deliverable.yaml"):
        assert addresses_check_due() == 1

    patient = Patient.objects.get(pk=waiting.patient_id)
    assert (patient.address_deliverable, patient.address_problem) == (True, "")
    assert not Notification.objects.filter(event=NotificationEvent.ADDRESS_UNDELIVERABLE).exists()


def test_an_address_is_asked_about_once(easypost, waiting):
    with recorded.use_cassette("address_deliverable.yaml") as cassette:
        assert addresses_check_due() == 1
        # The cassette holds one answer: a second request would fail the test.
        assert addresses_check_due() == 0
        assert address_check(waiting.patient_id) is None

    assert cassette.play_count == 1


def test_a_changed_address_is_asked_about_again(easypost, waiting):
    with recorded.use_cassette("address_undeliverable.yaml"):
        addresses_check_due()
    patient = Patient.objects.get(pk=waiting.patient_id)

    patient.address_line1 = "417 Montgomery St"
    patient.save()

    patient.refresh_from_db()
    assert (patient.address_checked_at, patient.address_deliverable, patient.address_problem) == (None, None, "")
    assert address_warnings(patient) == []
    with recorded.use_cassette("address_deliverable.yaml"):
        assert addresses_check_due() == 1


def test_an_unchanged_save_keeps_the_carriers_answer(easypost, waiting):
    with recorded.use_cassette("address_deliverable.yaml"):
        addresses_check_due()
    patient = Patient.objects.get(pk=waiting.patient_id)

    patient.phone = "+15555550199"
    patient.save()

    patient.refresh_from_db()
    assert patient.address_deliverable is True


def test_the_carrier_down_leaves_the_address_for_the_next_run(easypost, waiting):
    with recorded.use_cassette("address_check_unavailable.yaml"):
        assert addresses_check_due() == 0

    assert Patient.objects.get(pk=waiting.patient_id).address_checked_at is None


def test_without_a_carrier_service_nothing_is_asked(settings, waiting):
    assert settings.SHIPPING_BACKEND == "manual"
    # No cassette: any request would try the network and fail.
    assert addresses_check_due() == 0
    assert Patient.objects.get(pk=waiting.patient_id).address_checked_at is None


def test_only_patients_with_something_still_to_send_are_asked(easypost, prescriber, pharmacist, technician):
    shipped = advance(make_prescription(prescriber), PrescriptionStatus.SHIPPED, pharmacist=pharmacist,
                      technician=technician)  # fmt: skip

    assert addresses_check_due() == 0
    assert Patient.objects.get(pk=shipped.patient_id).address_checked_at is None


def test_the_beat_runs_the_check():
    entry = settings.CELERY_BEAT_SCHEDULE["addresses-check"]
    assert entry["task"] == "intake.addresses_check"


# --- what the patient and the staff see -----------------------------------------------------------------


def test_the_patients_status_says_to_call_while_the_medicine_has_not_left(easypost, waiting, client):
    with recorded.use_cassette("address_undeliverable.yaml"):
        addresses_check_due()

    body = client.post(
        "/api/v1/status/",
        {"reference": waiting.reference, "date_of_birth": waiting.patient.date_of_birth.isoformat()},
        content_type="application/json",
    ).json()
    assert "cannot deliver to the address" in body["address_notice"]
    assert settings.PHARMACY_PHONE in body["address_notice"]
    # The carrier's own words stay with the staff.
    assert "House number" not in body["address_notice"]


def test_the_review_page_shows_the_carriers_refusal_and_a_zip_of_another_state(prescriber, pharmacist, client, login):
    body = api_payload()
    body["patient"]["address"]["state"] = "AK"  # an EHR's slip: 78701 is in Austin, TX
    created = api_client_for(prescriber.user).post("/api/v1/prescriptions/", body, format="json")
    assert created.status_code == 201
    prescription_id = created.json()["id"]
    Patient.objects.filter(prescriptions=prescription_id).update(
        address_deliverable=False, address_problem="Address not found"
    )

    assert created.json()["address_warnings"] == ["ZIP code 78701 is in TX, not AK: check the state or the ZIP code."]

    login(client, pharmacist)
    html = client.get(reverse("staff:review", args=[prescription_id])).content.decode()

    assert "ZIP code 78701 is in TX, not AK" in html
    assert "The carrier cannot deliver to this address: Address not found." in html
    read = api_client_for(pharmacist).get(f"/api/v1/prescriptions/{prescription_id}/").json()
    assert read["address_warnings"][1] == "The carrier cannot deliver to this address: Address not found."
