"""Against the real thing: Redis, a Celery worker process (CI: CELERY_BROKER_URL and PostgreSQL) and
the HTTP receiver on 127.0.0.1, which the worker may call with WEBHOOKS_ALLOW_PRIVATE."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import pytest

from intake.models import DeliveryStatus, WebhookDelivery
from intake.notifications.webhooks import webhook_deliveries_publish
from tests.factories import make_prescription
from tests.notifications.brokers import Worker, celery_publishing_to, celery_worker
from tests.webhooks.conftest import SECRET

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

DELIVERY_TIMEOUT = 20


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with celery_worker(log=log, env={"WEBHOOKS_ALLOW_PRIVATE": "1"}) as started:
        yield started


def _wait_for(condition, timeout: float = DELIVERY_TIMEOUT) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_worker_posts_a_status_change_once_even_when_its_message_comes_twice(worker, prescriber, subscribe,
                                                                                 receiver):  # fmt: skip
    subscribe(prescriber, receiver.url())

    # when: a submission commits
    with celery_publishing_to(broker_url=worker.broker_url, queue=worker.queue):
        prescription = make_prescription(prescriber)
    delivery = WebhookDelivery.objects.get(prescription=prescription)

    # then: the worker POSTed it, signed
    assert _wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SENT), \
        worker.log.read_text(errors="replace")[-3000:]  # fmt: skip
    (request,) = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Pharmacy-Signature"] == expected

    # when: the same message is published twice more, then a later submission's
    with celery_publishing_to(broker_url=worker.broker_url, queue=worker.queue):
        webhook_deliveries_publish([delivery.pk])
        webhook_deliveries_publish([delivery.pk])
        sentinel = make_prescription(prescriber, patient={"first_name": "Sid"})

    # then: the worker handles its queue in order, so by the later POST the duplicates were skipped
    assert _wait_for(lambda: len(receiver.requests) >= 2)
    assert [r.headers["X-Pharmacy-Delivery"] for r in receiver.requests] == [
        str(delivery.event_id), str(WebhookDelivery.objects.get(prescription=sentinel).event_id),
    ]  # fmt: skip
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1
