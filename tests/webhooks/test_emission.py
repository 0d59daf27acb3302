"""Every status change of a prescriber's prescriptions writes one delivery per active subscription, in
the change's own transaction, with a payload that names no patient and nothing clinical."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import transaction

from intake.models import Action, PrescriptionEvent, WebhookDelivery
from intake.notifications.webhooks import webhook_body
from intake.services.events import prescription_event_record
from intake.services.prescriptions import Signature, prescription_submit
from intake.services.webhooks import webhook_unsubscribe
from intake.services.workflow import prescription_verify_flag
from tests.factories import make_prescription, patient_details, prescribed_content
from tests.workflow_helpers import advance

PAYLOAD_KEYS = {"id", "event", "prescription", "reference", "status", "at"}


def status_changes(prescription) -> list[PrescriptionEvent]:
    events = PrescriptionEvent.objects.filter(prescription=prescription).order_by("created_at", "id")
    return [event for event in events if event.from_status != event.to_status]


def test_a_new_prescription_is_reported_with_its_first_status(prescriber, subscribe, receiver):
    subscription = subscribe(prescriber, receiver.url())

    prescription = make_prescription(prescriber)

    (delivery,) = WebhookDelivery.objects.filter(prescription=prescription)
    assert delivery.subscription == subscription
    assert delivery.payload == {
        "id": str(delivery.event_id),
        "event": "prescription.status_changed",
        "prescription": prescription.pk,
        "reference": prescription.reference,
        "status": "awaiting_questionnaire",
        "at": delivery.payload["at"],
    }
    assert datetime.fromisoformat(delivery.payload["at"]).tzinfo is not None


def test_one_delivery_per_subscription_per_status_change(
    prescriber, other_prescriber, pharmacist, technician, subscribe, receiver
):
    # given: two endpoints of the prescriber, one of another prescriber
    first = subscribe(prescriber, receiver.url("/one"))
    second = subscribe(prescriber, receiver.url("/two"))
    theirs = subscribe(other_prescriber, receiver.url("/theirs"))

    # when: a prescription goes all the way, and a flag is verified on the way (no status change)
    prescription = make_prescription(prescriber, strength_mg=Decimal("6"))
    advance(prescription, "in_review", pharmacist=pharmacist, technician=technician)
    prescription_verify_flag(
        prescription_id=prescription.pk,
        actor=pharmacist,
        code="dose_range",
        method="prescriber_confirmed",
        note="Called the prescriber, who confirmed 6 mg.",
    )
    advance(prescription, "completed", pharmacist=pharmacist, technician=technician)

    # then: each status change once per subscription, in order, one event id shared by both
    changes = status_changes(prescription)
    assert [event.to_status for event in changes] == [
        "awaiting_questionnaire", "pending_review", "in_review", "approved", "compounding", "final_check",
        "ready", "shipped", "completed",
    ]  # fmt: skip
    for subscription in (first, second):
        rows = WebhookDelivery.objects.filter(subscription=subscription).order_by("created_at", "id")
        assert [row.payload["status"] for row in rows] == [event.to_status for event in changes]
    assert not WebhookDelivery.objects.filter(subscription=theirs).exists()
    by_event = {}
    for row in WebhookDelivery.objects.filter(prescription=prescription):
        by_event.setdefault(row.event_id, set()).add(row.subscription_id)
    assert list(by_event.values()) == [{first.pk, second.pk}] * len(changes)


def test_an_ended_subscription_hears_nothing_more(prescriber, pharmacist, technician, subscribe, receiver):
    kept = subscribe(prescriber, receiver.url("/kept"))
    ended = subscribe(prescriber, receiver.url("/ended"))
    prescription = make_prescription(prescriber)
    webhook_unsubscribe(actor=prescriber.user, subscription_id=ended.pk)

    advance(prescription, "pending_review", pharmacist=pharmacist, technician=technician)

    assert WebhookDelivery.objects.filter(subscription=kept).count() == 2
    assert WebhookDelivery.objects.filter(subscription=ended).count() == 1


def test_a_prescriber_without_subscriptions_costs_no_read(prescriber, django_assert_num_queries):
    prescription = make_prescription(prescriber)
    prescription.prescriber = prescriber  # in memory, as a submission has it

    with django_assert_num_queries(1):  # the event's INSERT, nothing about webhooks
        prescription_event_record(prescription=prescription, action=Action.CANCEL, from_status="pending_review",
                                  to_status="cancelled")  # fmt: skip


def test_the_payload_names_no_patient_and_nothing_clinical(prescriber, pharmacist, technician, subscribe, receiver):
    subscribe(prescriber, receiver.url())
    prescription = make_prescription(
        prescriber, patient={"first_name": "Zephyrine", "last_name": "Quillfeather", "email": "zq@example.com"}
    )
    advance(prescription, "approved", pharmacist=pharmacist, technician=technician)

    for delivery in WebhookDelivery.objects.filter(prescription=prescription):
        body = webhook_body(delivery.payload).decode()
        assert set(json.loads(body)) == PAYLOAD_KEYS
        for secret in ("Zephyrine", "Quillfeather", "zq@example.com", "1980-02-29", "1980", "naltrexone",
                       "Naltrexone", "4.5", "capsule", "fibromyalgia", "M79.7", "bedtime"):  # fmt: skip
            assert secret not in body, (secret, body)


def test_a_rolled_back_event_writes_no_delivery(prescriber, subscribe, receiver, django_capture_on_commit_callbacks):
    subscribe(prescriber, receiver.url())
    prescription = make_prescription(prescriber)
    before = WebhookDelivery.objects.count()

    written: list[int] = []

    @transaction.atomic
    def an_action_that_fails_after_its_event() -> None:
        prescription_event_record(prescription=prescription, action=Action.CANCEL,
                                  from_status="awaiting_questionnaire", to_status="cancelled")  # fmt: skip
        written.append(WebhookDelivery.objects.count())
        raise RuntimeError("the action fails after its event")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        an_action_that_fails_after_its_event()

    assert written == [before + 1]  # written with the event...
    assert WebhookDelivery.objects.count() == before  # ...and gone with it
    assert callbacks == []
    assert receiver.requests == []


def test_a_submission_rolled_back_at_its_idempotency_key_reports_nothing(
    prescriber, subscribe, receiver, django_capture_on_commit_callbacks
):
    subscribe(prescriber, receiver.url())
    signature = Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1")

    def submit():
        return prescription_submit(prescriber=prescriber, patient=patient_details(), content=prescribed_content(),
                                   signature=signature, idempotency_key="the-same-key")  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        first, created = submit()
    with django_capture_on_commit_callbacks(execute=True):
        again, created_again = submit()

    assert created and not created_again and again.pk == first.pk
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1


def test_the_event_time_is_the_history_events(prescriber, subscribe, receiver):
    subscribe(prescriber, receiver.url())

    prescription = make_prescription(prescriber)

    event = PrescriptionEvent.objects.get(prescription=prescription)
    delivery = WebhookDelivery.objects.get(prescription=prescription)
    assert datetime.fromisoformat(delivery.payload["at"]) == event.created_at.astimezone(UTC)
