"""Against the real thing: Redis, a Celery worker process, an SMTP server (CI: CELERY_BROKER_URL and PostgreSQL).

The worker runs `celery -A pharmacy worker --pool=solo` on a queue of its own, against the pytest
test database, sending to this module's aiosmtpd server.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from intake.models import DeliveryStatus, Notification, Prescription
from intake.notifications.outbox import notifications_publish, notifications_requeue
from tests.factories import make_prescription
from tests.notifications.brokers import (
    Worker,
    broker_url_or_skip,
    celery_publishing_to,
    celery_worker,
    closed_port_url,
)
from tests.notifications.mail import MailServer

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

DELIVERY_TIMEOUT = 20


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker(django_db_setup, mail_server, tmp_path_factory) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with celery_worker(log=log, env={"EMAIL_HOST": mail_server.host, "EMAIL_PORT": str(mail_server.port)}) as started:
        yield started


def _wait_until_sent(ids: list[int], timeout: float = DELIVERY_TIMEOUT) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        statuses = set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True))
        if statuses == {DeliveryStatus.SENT} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.1)


def _mail_for(server: MailServer, prescription: Prescription, count: int) -> list:  # type: ignore[type-arg]
    return server.wait_until(lambda m: prescription.reference in str(m["Subject"]), count, DELIVERY_TIMEOUT)


def test_a_submission_is_delivered_by_the_worker_and_a_duplicate_message_sends_nothing(worker, prescriber, mail_server):
    # when
    with celery_publishing_to(broker_url=worker.broker_url, queue=worker.queue):
        prescription = make_prescription(prescriber, patient={"first_name": "Bob", "email": "bob@example.com"})
    ids = list(prescription.notifications.values_list("pk", flat=True))

    # then
    assert len(_mail_for(mail_server, prescription, 2)) == 2
    assert _wait_until_sent(ids) == {DeliveryStatus.SENT}

    # when: the same messages are delivered again, then a later submission's
    with celery_publishing_to(broker_url=worker.broker_url, queue=worker.queue):
        notifications_publish(ids)
        notifications_publish(ids)
        sentinel = make_prescription(prescriber, patient={"first_name": "Sid", "email": "sid@example.com"})

    # then: the worker handles its queue in order, so by the later mail the duplicates were skipped
    assert len(_mail_for(mail_server, sentinel, 2)) == 2
    assert len([m for m in mail_server.messages if prescription.reference in str(m["Subject"])]) == 2
    assert set(Notification.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}


def test_an_events_rows_travel_in_one_message_and_a_requeues_many_in_several(prescriber):
    # given: a queue on the real broker that no worker reads
    broker_url = broker_url_or_skip()
    queue = f"publish-test-{uuid.uuid4().hex[:12]}"
    broker = redis.Redis.from_url(broker_url)
    try:
        # when: a submission commits (two rows), then nine rows are re-queued
        with celery_publishing_to(broker_url=broker_url, queue=queue):
            prescription = make_prescription(prescriber, patient={"first_name": "Di", "email": "di@example.com"})
            after_submission = broker.llen(queue)
            notifications_publish(list(range(1, 10)))

        # then: one message with both rows, then three of at most four
        ids = sorted(prescription.notifications.values_list("pk", flat=True))
        messages = [_task_args(raw) for raw in reversed(broker.lrange(queue, 0, -1))]  # LPUSHed: newest first
        assert after_submission == 1
        assert [sorted(ids_in) for (ids_in,) in messages] == [ids, [1, 2, 3, 4], [5, 6, 7, 8], [9]]
    finally:
        broker.delete(queue)


def test_publishing_names_the_ids_only(prescriber):
    # given: a queue on the real broker that no worker reads
    broker_url = broker_url_or_skip()
    queue = f"publish-test-{uuid.uuid4().hex[:12]}"
    broker = redis.Redis.from_url(broker_url)
    try:
        with celery_publishing_to(broker_url=broker_url, queue=queue):
            # when: three events' rows are published one after another
            for ids in ([1, 2], [3], [4, 5]):
                notifications_publish(ids)

        # then: three messages, each showing its ids and nothing else
        raws = list(reversed(broker.lrange(queue, 0, -1)))
        assert [_task_args(raw) for raw in raws] == [[[1, 2]], [[3]], [[4, 5]]]
        assert [json.loads(raw)["headers"]["argsrepr"] for raw in raws] == ["[[1, 2]]", "[[3]]", "[[4, 5]]"]
    finally:
        broker.delete(queue)


def _task_args(raw: bytes) -> list:  # type: ignore[type-arg]
    """The positional arguments of a task message as kombu's Redis transport stores it."""
    envelope = json.loads(raw)
    return json.loads(base64.b64decode(envelope["body"]))[0]  # type: ignore[no-any-return]


def test_a_submission_while_the_broker_is_down_is_accepted_and_delivered_once_it_is_back(
    worker, prescriber, mail_server
):
    # when: the broker is down for the submission
    with celery_publishing_to(broker_url=closed_port_url(), queue=worker.queue):
        started = time.monotonic()
        prescription = make_prescription(prescriber, patient={"first_name": "Cy", "email": "cy@example.com"})
        took = time.monotonic() - started

    # then: accepted at once, the rows wait
    ids = list(prescription.notifications.values_list("pk", flat=True))
    assert took < 3, f"the submission took {took:.1f} s with the broker down"
    assert Prescription.objects.filter(pk=prescription.pk).exists()
    assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {DeliveryStatus.PENDING}

    # when: the broker is back and the periodic job runs
    later = timezone.now() + timedelta(seconds=django_settings.NOTIFICATION_RETRY_AFTER_SECONDS + 1)
    with celery_publishing_to(broker_url=worker.broker_url, queue=worker.queue):
        requeued = notifications_requeue(now=later)

    # then
    assert sorted(requeued) == sorted(ids)
    assert len(_mail_for(mail_server, prescription, 2)) == 2
    assert _wait_until_sent(ids) == {DeliveryStatus.SENT}
