"""Delivery against a real SMTP server: sent once, retried on outages, failed when out of tries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.db import transaction
from django.utils import timezone

from intake.models import Channel, DeliveryStatus, Notification, NotificationEvent, Prescription
from intake.notifications import outbox, tasks
from intake.notifications.delivery import Outcome, notification_deliver, retry_delay
from intake.notifications.outbox import notifications_record, notifications_requeue
from intake.notifications.tasks import deliver_notification_task, deliver_notifications_task
from tests.factories import make_prescription
from tests.notifications.mail import text_body

PATIENT = {"email": "ada@example.com", "first_name": "Ada"}


def _later(seconds: int = 3600):  # type: ignore[no-untyped-def]
    return timezone.now() + timedelta(seconds=seconds)


def test_submission_sends_its_emails_after_the_commit(prescriber, smtp_server, django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        prescription = make_prescription(prescriber, patient=PATIENT)

    # then
    rows = list(prescription.notifications.all())
    assert {(r.event, r.recipient) for r in rows} == {
        (NotificationEvent.PRESCRIPTION_RECEIVED, prescriber.user.email),
        (NotificationEvent.QUESTIONNAIRE_INVITATION, "ada@example.com"),
    }
    assert all(r.status == DeliveryStatus.SENT and r.attempts == 1 and r.sent_at for r in rows)
    assert len(smtp_server.messages) == 2
    invitation = smtp_server.to("ada@example.com")[0]
    assert prescription.reference in invitation["Subject"]
    assert prescription.questionnaire_token in text_body(invitation)
    assert invitation.get_body(preferencelist=("html",)) is not None


def test_nothing_is_sent_before_the_commit(prescriber, smtp_server):
    # given: the test's transaction never commits, so on_commit never fires
    prescription = make_prescription(prescriber, patient=PATIENT)

    # then
    assert smtp_server.messages == []
    assert set(prescription.notifications.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_submission_sends_nothing(prescriber, smtp_server, monkeypatch):
    # given: the submission fails after its notification rows were written
    real_record = notifications_record

    def record_then_fail(*, prescription, events):  # type: ignore[no-untyped-def]
        created = real_record(prescription=prescription, events=events)
        assert NotificationEvent.QUESTIONNAIRE_INVITATION in events and created
        raise RuntimeError("something after the notifications failed")

    monkeypatch.setattr("intake.services.prescriptions.notifications_record", record_then_fail)

    # when
    with pytest.raises(RuntimeError):
        make_prescription(prescriber, patient=PATIENT)
    notifications_requeue(now=_later())

    # then
    assert not transaction.get_connection().in_atomic_block
    assert Prescription.objects.count() == 0
    assert Notification.objects.count() == 0
    assert smtp_server.messages == []


def test_a_task_delivered_twice_sends_once(prescriber, smtp_server):
    # given
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)

    # when: the same message twice, as a redelivery or a re-queue racing the first would
    deliver_notification_task.apply(args=[row.pk])
    deliver_notification_task.apply(args=[row.pk])

    # then
    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 1


def test_a_row_claimed_by_another_worker_is_left_alone(prescriber, smtp_server):
    # given: another delivery claimed the row a moment ago
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.first()
    Notification.objects.filter(pk=row.pk).update(status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=1)

    # when
    result = notification_deliver(notification_id=row.pk)
    requeued = notifications_requeue(now=_later(300))

    # then
    assert result.outcome == Outcome.SKIPPED
    assert row.pk not in requeued
    assert smtp_server.to(row.recipient) == []


def test_an_smtp_outage_is_retried_and_the_row_sent_once_the_server_is_back(prescriber, smtp_server):
    # given
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    smtp_server.stop()

    # when: the server is down
    first = notification_deliver(notification_id=row.pk)

    # then: the row waits, with the error and no patient data
    row.refresh_from_db()
    assert first.outcome == Outcome.RETRY
    assert first.retry_in == retry_delay(attempts=1)
    assert row.status == DeliveryStatus.PENDING
    assert row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert "ada" not in row.last_error.lower()

    # when: the server is back and the periodic job runs after the back-off
    smtp_server.start()
    requeued = notifications_requeue(now=_later())

    # then
    assert row.pk in requeued
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 2
    assert row.last_error == ""
    assert len(smtp_server.to("ada@example.com")) == 1


def test_the_periodic_job_waits_for_the_back_off(prescriber, smtp_server, settings):
    # given: a try failed just now
    settings.NOTIFICATION_RETRY_AFTER_SECONDS = 0
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    smtp_server.stop()
    notification_deliver(notification_id=row.pk)
    smtp_server.start()

    # when / then: not before its back-off, yes after it
    assert row.pk not in notifications_requeue(now=timezone.now() + timedelta(seconds=retry_delay(attempts=1) - 5))
    assert row.pk in notifications_requeue(now=timezone.now() + timedelta(seconds=retry_delay(attempts=1) + 5))


def test_the_task_asks_celery_to_retry_with_back_off(prescriber, smtp_server, monkeypatch):
    # given: a worker (not in-process) running the task while the server is down
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.first()
    smtp_server.stop()
    asked = {}

    def fake_retry(countdown=None, **kwargs):  # type: ignore[no-untyped-def]
        asked["countdown"] = countdown
        return Retry(when=countdown)

    monkeypatch.setattr(deliver_notification_task, "retry", fake_retry)
    deliver_notification_task.push_request(id="a-task", retries=0, is_eager=False, called_directly=False)
    try:
        # when / then
        with pytest.raises(Retry):
            deliver_notification_task.run(row.pk)
    finally:
        deliver_notification_task.pop_request()
    assert asked["countdown"] == retry_delay(attempts=1)


def test_rows_published_together_are_each_delivered_and_one_error_stops_none(prescriber, smtp_server, monkeypatch,
                                                                            caplog):  # fmt: skip
    # given: a submission's two rows, and a first one whose delivery breaks unexpectedly
    prescription = make_prescription(prescriber, patient=PATIENT)
    broken, fine = prescription.notifications.order_by("pk").values_list("pk", flat=True)
    real = tasks.notification_deliver

    def deliver(*, notification_id: int):  # type: ignore[no-untyped-def]
        if notification_id == broken:
            raise RuntimeError("ada@example.com")
        return real(notification_id=notification_id)

    monkeypatch.setattr(tasks, "notification_deliver", deliver)

    # when
    deliver_notifications_task.apply(args=[[broken, fine]])

    # then: the other row went out; the broken one waits for the re-queue, and the log names no one
    assert Notification.objects.get(pk=fine).status == DeliveryStatus.SENT
    assert Notification.objects.get(pk=broken).status == DeliveryStatus.PENDING
    assert len(smtp_server.messages) == 1
    assert f"Notification {broken} not delivered (RuntimeError)" in caplog.text
    assert "ada@" not in caplog.text


def test_a_row_published_with_others_is_retried_alone_with_back_off(prescriber, smtp_server, monkeypatch):
    # given: a worker (not in-process) running the task while the server is down
    prescription = make_prescription(prescriber, patient=PATIENT)
    ids = list(prescription.notifications.order_by("pk").values_list("pk", flat=True))
    smtp_server.stop()
    queued: list[tuple[list[int], int]] = []
    monkeypatch.setattr(deliver_notification_task, "apply_async",
                        lambda args, countdown: queued.append((args, countdown)))  # fmt: skip
    deliver_notifications_task.push_request(id="a-task", retries=0, is_eager=False, called_directly=False)
    try:
        # when
        deliver_notifications_task.run(ids)
    finally:
        deliver_notifications_task.pop_request()

    # then: each row on its own schedule, as if it had been published alone
    assert queued == [([ids[0]], retry_delay(attempts=1)), ([ids[1]], retry_delay(attempts=1))]


def test_after_the_last_try_the_row_is_failed(prescriber, smtp_server, settings):
    # given
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    smtp_server.stop()

    # when
    outcomes = [notification_deliver(notification_id=row.pk).outcome for _ in range(3)]

    # then
    assert outcomes == [Outcome.RETRY, Outcome.FAILED, Outcome.SKIPPED]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == 2
    assert "ConnectionRefusedError" in row.last_error
    assert row.pk not in notifications_requeue(now=_later())


def test_a_refused_recipient_fails_at_once_without_the_address_in_the_error(prescriber, smtp_server):
    # given: the server says the mailbox does not exist (a permanent 5xx)
    smtp_server.refuse.add("ada@example.com")
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)

    # when
    result = notification_deliver(notification_id=row.pk)

    # then
    row.refresh_from_db()
    assert result.outcome == Outcome.FAILED
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error
    assert "ada@example.com" not in row.last_error


def test_a_row_left_sending_by_a_dead_worker_is_sent_later(prescriber, smtp_server):
    # given: a worker claimed the row long ago and died
    prescription = make_prescription(prescriber, patient=PATIENT)
    row = prescription.notifications.first()
    Notification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now() - timedelta(hours=2), attempts=1
    )

    # when
    requeued = notifications_requeue()

    # then
    assert row.pk in requeued
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT
    assert row.attempts == 2
    assert len(smtp_server.messages) == 1


def test_the_periodic_job_leaves_fresh_rows_to_their_own_task(prescriber, smtp_server):
    make_prescription(prescriber, patient=PATIENT)

    assert notifications_requeue() == []
    assert smtp_server.messages == []


def test_a_publish_to_a_broker_that_is_down_neither_raises_nor_stalls(prescriber, smtp_server, caplog):
    # given: a real Redis transport pointed at a port where nothing listens
    from tests.notifications.brokers import celery_publishing_to, closed_port_url

    prescription = make_prescription(prescriber, patient=PATIENT)
    ids = list(prescription.notifications.values_list("pk", flat=True))

    # when
    with celery_publishing_to(broker_url=closed_port_url()):
        started = timezone.now()
        outbox.notifications_publish(ids)
        took = (timezone.now() - started).total_seconds()

    # then
    assert took < 3
    assert smtp_server.messages == []
    assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert "periodic re-queue" in caplog.text
    assert "ada" not in caplog.text.lower()


def test_sms_rows_go_through_the_sms_backend(prescriber, sms_outbox, smtp_server):
    # given
    prescription = make_prescription(prescriber, patient={**PATIENT, "contact_preference": "sms"})
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)

    # when
    result = notification_deliver(notification_id=row.pk)

    # then
    assert row.channel == Channel.SMS
    assert result.outcome == Outcome.SENT
    assert len(sms_outbox) == 1
    to, body = sms_outbox[0]
    assert to == "+15555550123"
    assert prescription.reference in body
    assert prescription.questionnaire_token in body
    assert smtp_server.to("ada@example.com") == []
