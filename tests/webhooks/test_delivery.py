"""Delivery against a real HTTP server on 127.0.0.1: the signature, retries with backoff, a receiver
that is down, a task that runs twice, the periodic re-queue, and addresses refused at delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import DeliveryStatus, WebhookDelivery
from intake.notifications.delivery import Outcome
from intake.notifications.webhooks import (
    REFUSED_ATTEMPTS,
    USER_AGENT,
    webhook_deliver,
    webhook_deliveries_requeue,
    webhook_delivery_claim,
)
from intake.services.webhooks import webhook_ping, webhook_unsubscribe
from tests.factories import make_prescription
from tests.notifications.mail import free_port
from tests.webhooks.conftest import SECRET


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does, as the README shows it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


@pytest.fixture
def pending(prescriber, subscribe, receiver) -> WebhookDelivery:
    """A new prescription's delivery to the receiver, not tried yet (the test's transaction never commits)."""
    subscribe(prescriber, receiver.url())
    prescription = make_prescription(prescriber)
    return WebhookDelivery.objects.get(prescription=prescription)


def test_the_receiver_gets_the_raw_json_signed_with_the_secret(pending, receiver):
    result = webhook_deliver(delivery_id=pending.pk)

    assert result.outcome == Outcome.SENT
    (request,) = receiver.requests
    assert request.path == "/hook"
    assert verify(SECRET, request.body, request.headers["X-Pharmacy-Signature"])
    assert not verify("another-secret-0123456789", request.body, request.headers["X-Pharmacy-Signature"])
    assert json.loads(request.body) == pending.payload
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Pharmacy-Event"] == "prescription.status_changed"
    assert request.headers["X-Pharmacy-Delivery"] == str(pending.event_id) == pending.payload["id"]
    assert request.headers["User-Agent"] == USER_AGENT
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_status) == (DeliveryStatus.SENT, 1, 200)
    assert pending.sent_at is not None and pending.last_error == ""


def test_a_500_is_retried_with_backoff_then_sent(pending, receiver):
    receiver.answers = [500]

    before = timezone.now()
    first = webhook_deliver(delivery_id=pending.pk)

    assert first.outcome == Outcome.RETRY and first.retry_in == 30
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_status) == (DeliveryStatus.PENDING, 1, 500)
    assert "500" in pending.last_error
    assert before + timedelta(seconds=29) <= pending.next_attempt_at <= timezone.now() + timedelta(seconds=31)

    second = webhook_deliver(delivery_id=pending.pk)

    assert second.outcome == Outcome.SENT
    pending.refresh_from_db()
    assert (pending.status, pending.attempts, pending.last_response_status) == (DeliveryStatus.SENT, 2, 200)
    assert len(receiver.requests) == 2
    # The same event, the same bytes: a receiver that dropped the first can tell it is a repeat.
    assert receiver.requests[0].body == receiver.requests[1].body


def test_the_wait_doubles_with_each_try(pending, receiver, settings):
    receiver.answers = [503, 429, 408, 502]
    waits = [webhook_deliver(delivery_id=pending.pk).retry_in for _ in range(4)]

    assert waits == [30, 60, 120, 240]


def test_transient_failures_stop_at_the_maximum_tries(pending, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers = [500, 500, 500]

    outcomes = [webhook_deliver(delivery_id=pending.pk).outcome for _ in range(3)]

    assert outcomes == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (DeliveryStatus.FAILED, 3)


def test_a_refusing_receiver_gets_a_few_tries_only(pending, receiver):
    receiver.answers = [404] * 10

    outcomes = [webhook_deliver(delivery_id=pending.pk).outcome for _ in range(REFUSED_ATTEMPTS)]

    assert outcomes == [Outcome.RETRY] * (REFUSED_ATTEMPTS - 1) + [Outcome.FAILED]
    pending.refresh_from_db()
    assert (pending.status, pending.last_response_status) == (DeliveryStatus.FAILED, 404)


def test_a_redirect_is_not_followed(pending, receiver):
    receiver.answers = [302]

    result = webhook_deliver(delivery_id=pending.pk)

    assert result.outcome == Outcome.RETRY
    assert [request.path for request in receiver.requests] == ["/hook"]
    pending.refresh_from_db()
    assert pending.last_response_status == 302


def test_a_receiver_that_is_down_leaves_the_row_pending_with_its_next_try(prescriber, subscribe):
    subscribe(prescriber, f"http://127.0.0.1:{free_port()}/hook")  # nothing listens there
    delivery = WebhookDelivery.objects.get(prescription=make_prescription(prescriber))

    result = webhook_deliver(delivery_id=delivery.pk)

    assert result.outcome == Outcome.RETRY
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_response_status is None
    assert "ConnectionError" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_a_task_that_runs_twice_sends_once(pending, receiver):
    first = webhook_deliver(delivery_id=pending.pk)
    second = webhook_deliver(delivery_id=pending.pk)

    assert (first.outcome, second.outcome) == (Outcome.SENT, Outcome.SKIPPED)
    assert len(receiver.requests) == 1


def test_a_claimed_row_cannot_be_claimed_again(pending, receiver):
    assert webhook_delivery_claim(delivery_id=pending.pk) is True
    assert webhook_delivery_claim(delivery_id=pending.pk) is False

    assert webhook_deliver(delivery_id=pending.pk).outcome == Outcome.SKIPPED
    assert receiver.requests == []


def test_the_requeue_sends_due_rows_and_leaves_the_others(pending, receiver, django_capture_on_commit_callbacks):
    # given: one row whose next try is long past, one tried a moment ago and waiting
    receiver.answers = [500]
    webhook_deliver(delivery_id=pending.pk)
    waiting = WebhookDelivery.objects.get(pk=pending.pk)
    due = WebhookDelivery.objects.create(
        subscription=waiting.subscription, event=waiting.event, prescription=waiting.prescription,
        payload={**waiting.payload, "id": "due"}, next_attempt_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip

    # when
    with django_capture_on_commit_callbacks(execute=True):
        requeued = webhook_deliveries_requeue()

    # then: the due row went (tasks run in-process here), the waiting one waits
    assert requeued == [due.pk]
    due.refresh_from_db()
    assert due.status == DeliveryStatus.SENT
    assert WebhookDelivery.objects.get(pk=pending.pk).status == DeliveryStatus.PENDING

    # when: its time comes
    later = waiting.next_attempt_at + timedelta(minutes=5)
    assert webhook_deliveries_requeue(now=later) == [pending.pk]
    assert WebhookDelivery.objects.get(pk=pending.pk).status == DeliveryStatus.SENT


def test_the_requeue_puts_back_a_row_left_sending_by_a_dead_worker(pending, receiver):
    # given: a worker claimed it an hour ago, when it was due, then died
    webhook_delivery_claim(delivery_id=pending.pk)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WebhookDelivery.objects.filter(pk=pending.pk).update(claimed_at=an_hour_ago, next_attempt_at=an_hour_ago)

    requeued = webhook_deliveries_requeue()

    assert requeued == [pending.pk]
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == (DeliveryStatus.SENT, 2)
    assert len(receiver.requests) == 1


def test_the_requeue_fails_a_dead_workers_row_with_no_tries_left(pending, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    webhook_delivery_claim(delivery_id=pending.pk)
    WebhookDelivery.objects.filter(pk=pending.pk).update(claimed_at=timezone.now() - timedelta(hours=1))

    assert webhook_deliveries_requeue() == []
    pending.refresh_from_db()
    assert pending.status == DeliveryStatus.FAILED
    assert receiver.requests == []


def test_a_refused_address_at_delivery_fails_the_try_without_connecting(pending, receiver, settings):
    # given: the subscription was taken while private addresses were allowed; now they are not
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    result = webhook_deliver(delivery_id=pending.pk)

    assert result.outcome == Outcome.RETRY
    assert receiver.requests == []
    pending.refresh_from_db()
    assert pending.attempts == 1 and pending.status == DeliveryStatus.PENDING
    assert "loopback" in pending.last_error


def test_an_ended_subscription_is_not_called(pending, prescriber, receiver):
    webhook_unsubscribe(actor=prescriber.user, subscription_id=pending.subscription_id)

    result = webhook_deliver(delivery_id=pending.pk)

    assert result.outcome == Outcome.FAILED
    assert receiver.requests == []


def test_a_ping_is_signed_like_every_event(prescriber, subscribe, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(prescriber, receiver.url())

    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhook_ping(actor=prescriber.user, subscription_id=subscription.pk)

    (request,) = receiver.requests
    expected = {"id": str(delivery.event_id), "event": "webhook.ping", "at": delivery.payload["at"]}
    assert json.loads(request.body) == expected
    assert request.headers["X-Pharmacy-Event"] == "webhook.ping"
    assert verify(SECRET, request.body, request.headers["X-Pharmacy-Signature"])
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_after_the_commit_the_status_change_is_delivered_in_process(
    prescriber, subscribe, receiver, django_capture_on_commit_callbacks
):
    subscribe(prescriber, receiver.url())

    with django_capture_on_commit_callbacks(execute=True):
        prescription = make_prescription(prescriber)

    (request,) = receiver.requests
    assert json.loads(request.body)["reference"] == prescription.reference
    assert WebhookDelivery.objects.get(prescription=prescription).status == DeliveryStatus.SENT
