"""The carrier's webhook: signatures, repeats, each status's effect, out-of-order news."""

from __future__ import annotations

import pytest
from django.test import Client

from intake.models import (
    AuditRecord,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionEvent,
    PrescriptionStatus,
    TrackingEvent,
)
from tests.shipping.helpers import SECRET, URL, event, post, shipped, signed

S = PrescriptionStatus
CODE = "9400111899223197428490"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.EASYPOST_WEBHOOK_SECRET = SECRET


@pytest.fixture
def parcel(prescriber, pharmacist, technician):
    return shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)


def _patient_notes(prescription, kind):
    return Notification.objects.filter(prescription=prescription, event=kind)


def test_delivered_completes_the_prescription_and_tells_the_patient(client, parcel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, event("evt_1", CODE, "delivered", message="Delivered, Front Door/Porch"))

    assert response.status_code == 200
    parcel.refresh_from_db()
    assert parcel.status == S.COMPLETED
    kept = TrackingEvent.objects.get(event_id="evt_1")
    assert kept.prescription == parcel and kept.fill.number == 1 and not kept.needs_staff
    assert kept.message == "Delivered, Front Door/Porch"
    history = PrescriptionEvent.objects.get(prescription=parcel, action="delivered")
    assert (history.from_status, history.to_status, history.actor_id) == (S.SHIPPED, S.COMPLETED, None)
    assert parcel.fills.get(number=1).status == S.COMPLETED
    told = _patient_notes(parcel, NotificationEvent.DELIVERED)
    assert told.exists() and {n.audience for n in told} == {"patient"}
    assert AuditRecord.objects.filter(object_type="tracking event", prescription_reference=parcel.reference).exists()


def test_the_same_event_twice_changes_nothing_the_second_time(client, parcel):
    body = event("evt_1", CODE, "delivered")
    post(client, body)
    notes = Notification.objects.count()
    history = PrescriptionEvent.objects.count()

    response = post(client, body)

    assert response.status_code == 200
    assert response.json()["detail"] == "Already recorded."
    assert TrackingEvent.objects.filter(event_id="evt_1").count() == 1
    assert (Notification.objects.count(), PrescriptionEvent.objects.count()) == (notes, history)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_HMAC_SIGNATURE": "hmac-sha256-hex=00"},
        {"HTTP_X_HMAC_SIGNATURE": "sha256=whatever"},
    ],
)
def test_a_missing_or_bad_signature_is_refused_and_nothing_is_kept(client, parcel, headers):
    raw, _ = signed(event("evt_1", CODE, "delivered"))

    response = client.post(URL, data=raw, content_type="application/json", **headers)

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()
    parcel.refresh_from_db()
    assert parcel.status == S.SHIPPED
    assert AuditRecord.objects.filter(action="denied", object_type="tracking event").exists()


def test_a_body_signed_with_another_secret_is_refused(client, parcel):
    response = post(client, event("evt_1", CODE, "delivered"), secret="not-the-secret")

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, parcel):
    raw, headers = signed(event("evt_1", CODE, "in_transit"))
    tampered = raw.replace(b"in_transit", b"delivered")

    response = client.post(URL, data=tampered, content_type="application/json", **headers)

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


def test_without_a_secret_every_call_is_refused(client, parcel, settings):
    settings.EASYPOST_WEBHOOK_SECRET = ""

    response = post(client, event("evt_1", CODE, "delivered"), secret="")

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


def test_only_post(client):
    assert client.get(URL).status_code == 405


def test_other_kinds_of_event_are_ignored(client, parcel):
    response = post(client, event("evt_9", CODE, "delivered", kind="batch.created"))

    assert response.status_code == 200
    assert not TrackingEvent.objects.exists()


def test_a_signed_tracker_update_without_its_tracking_code_is_a_400(db, client):
    body = event("evt_1", "", "delivered")

    response = post(client, body)

    assert response.status_code == 400
    assert "tracking_code" in response.json()
    assert not TrackingEvent.objects.exists()


def test_an_event_as_the_contract_writes_it_without_an_id_is_kept_once(client, parcel):
    body = event("", CODE, "delivered")
    del body["id"]

    first, again = post(client, body), post(client, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["detail"] == "Already recorded."
    [kept] = TrackingEvent.objects.all()
    assert kept.event_id.startswith("sha256:")
    parcel.refresh_from_db()
    assert parcel.status == S.COMPLETED


def test_a_signature_outside_ascii_is_refused_not_a_500(client, parcel):
    raw, _ = signed(event("evt_1", CODE, "delivered"))

    response = client.post(URL, data=raw, content_type="application/json", HTTP_X_HMAC_SIGNATURE="hmac-sha256-hex=é")

    assert response.status_code == 403
    assert not TrackingEvent.objects.exists()


@pytest.mark.parametrize("details", [5, "delivered", {"message": "x"}, None])
def test_tracking_details_that_are_not_a_list_are_read_as_none(client, parcel, details):
    body = event("evt_1", CODE, "delivered")
    body["result"]["tracking_details"] = details

    response = post(client, body)

    assert response.status_code == 200
    parcel.refresh_from_db()
    assert parcel.status == S.COMPLETED


def test_control_characters_from_the_carrier_are_never_stored(client, parcel):
    response = post(client, event("evt_\u00001", CODE, "failure", message="Address\u0000 unknown\u0007"))

    assert response.status_code == 200
    kept = TrackingEvent.objects.get()
    assert (kept.event_id, kept.message) == ("evt_ 1", "Address unknown")


def test_an_unknown_tracking_code_is_kept_without_a_prescription(client, parcel):
    response = post(client, event("evt_1", "UNKNOWN123", "delivered"))

    assert response.status_code == 200
    kept = TrackingEvent.objects.get(event_id="evt_1")
    assert kept.prescription is None and kept.fill is None
    parcel.refresh_from_db()
    assert parcel.status == S.SHIPPED


def test_out_for_delivery_tells_the_patient(client, parcel):
    response = post(client, event("evt_1", CODE, "out_for_delivery"))

    assert response.status_code == 200
    assert _patient_notes(parcel, NotificationEvent.OUT_FOR_DELIVERY).exists()
    parcel.refresh_from_db()
    assert parcel.status == S.SHIPPED


def test_in_transit_is_kept_and_changes_nothing(client, parcel):
    notes = Notification.objects.count()

    post(client, event("evt_1", CODE, "in_transit"))

    assert TrackingEvent.objects.get(event_id="evt_1").status == "in_transit"
    assert Notification.objects.count() == notes


@pytest.mark.parametrize("status", ["failure", "return_to_sender", "error"])
def test_a_failure_or_a_return_waits_for_the_staff(client, parcel, status):
    notes = Notification.objects.count()

    post(client, event("evt_1", CODE, status, message="Addressee not available"))

    kept = TrackingEvent.objects.get(event_id="evt_1")
    assert kept.needs_staff and kept.handled_at is None
    assert kept.message == "Addressee not available"
    parcel.refresh_from_db()
    assert parcel.status == S.SHIPPED
    assert Notification.objects.count() == notes


def test_delivered_for_a_prescription_already_completed_changes_no_status(client, parcel, technician):
    from intake.services import workflow

    workflow.prescription_complete(prescription_id=parcel.pk, actor=technician)
    history = PrescriptionEvent.objects.count()

    response = post(client, event("evt_1", CODE, "delivered"))

    assert response.status_code == 200
    assert Prescription.objects.get(pk=parcel.pk).status == S.COMPLETED
    assert PrescriptionEvent.objects.count() == history
    assert not _patient_notes(parcel, NotificationEvent.DELIVERED).exists()


def test_news_arriving_after_delivery_does_not_move_the_parcel_back(client, parcel):
    post(client, event("evt_2", CODE, "delivered", at="2026-12-03T15:00:00Z"))

    post(client, event("evt_1", CODE, "out_for_delivery", at="2026-12-03T08:00:00Z"))
    post(client, event("evt_0", CODE, "failure", at="2026-12-02T18:00:00Z"))

    parcel.refresh_from_db()
    assert parcel.status == S.COMPLETED
    assert not _patient_notes(parcel, NotificationEvent.OUT_FOR_DELIVERY).exists()
    assert not TrackingEvent.objects.get(event_id="evt_0").needs_staff
    assert TrackingEvent.objects.filter(tracking_code=CODE).count() == 3


def test_a_late_out_for_delivery_after_newer_news_tells_nobody(client, parcel):
    post(client, event("evt_2", CODE, "available_for_pickup", at="2026-12-03T15:00:00Z"))

    post(client, event("evt_1", CODE, "out_for_delivery", at="2026-12-03T08:00:00Z"))

    assert not _patient_notes(parcel, NotificationEvent.OUT_FOR_DELIVERY).exists()


def test_the_patients_messages_hold_nothing_clinical(client, parcel, django_capture_on_commit_callbacks):
    from intake.notifications.rendering import notification_render

    post(client, event("evt_1", CODE, "out_for_delivery"))
    post(client, event("evt_2", CODE, "delivered", at="2026-12-03T18:00:00Z"))

    for kind in (NotificationEvent.OUT_FOR_DELIVERY, NotificationEvent.DELIVERED):
        for note in _patient_notes(parcel, kind):
            message = notification_render(notification=note)
            words = f"{message.subject} {message.text} {message.html} {message.sms}".lower()
            assert parcel.reference.lower() in words
            for clinical in ("naltrexone", "ldn", " mg", "capsule", "dose", "opioid"):
                assert clinical not in words, (kind, clinical)


def test_calls_are_throttled_per_client(db, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "carrier_webhook": "2/min"}}  # fmt: skip
    answers = [post(Client(), event(f"evt_{i}", "NOPE", "in_transit")).status_code for i in range(3)]

    assert answers == [200, 200, 429]


# --- a tracking code used again ---------------------------------------------------------------------------


def test_a_code_used_again_speaks_of_the_parcel_still_on_its_way(client, prescriber, pharmacist, technician):
    # the newer prescription was shipped and delivered first; the older one is still on its way
    on_its_way = shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)
    delivered = shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)
    post(client, event("evt_1", CODE, "delivered", at="2026-12-02T15:00:00Z"))
    assert Prescription.objects.get(pk=delivered.pk).status == S.COMPLETED

    post(client, event("evt_2", CODE, "out_for_delivery", at="2026-12-03T08:00:00Z"))
    post(client, event("evt_3", CODE, "delivered", at="2026-12-03T15:00:00Z"))

    assert _patient_notes(on_its_way, NotificationEvent.OUT_FOR_DELIVERY).exists()
    assert not _patient_notes(delivered, NotificationEvent.OUT_FOR_DELIVERY).exists()
    assert Prescription.objects.get(pk=on_its_way.pk).status == S.COMPLETED
    assert TrackingEvent.objects.get(event_id="evt_3").prescription_id == on_its_way.pk


def test_an_earlier_parcels_news_does_not_silence_a_new_one(client, parcel, prescriber, pharmacist, technician):
    post(client, event("evt_1", CODE, "delivered", at="2026-12-02T15:00:00Z"))
    again = shipped(prescriber, pharmacist=pharmacist, technician=technician, code=CODE)

    post(client, event("evt_2", CODE, "failure", at="2026-12-01T09:00:00Z", message="Addressee unknown"))
    post(client, event("evt_3", CODE, "out_for_delivery", at="2026-12-01T10:00:00Z"))

    # older timestamps than the first parcel's delivery, but news of the new parcel all the same
    assert TrackingEvent.objects.get(event_id="evt_2").needs_staff
    assert TrackingEvent.objects.get(event_id="evt_2").prescription_id == again.pk
    assert _patient_notes(again, NotificationEvent.OUT_FOR_DELIVERY).exists()
    assert Prescription.objects.get(pk=parcel.pk).status == S.COMPLETED
