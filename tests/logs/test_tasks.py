"""A task queued during a request writes its lines with that request's id, and its own name and id:
in-process, through the real broker's message headers, and in a real worker process."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis

from intake.logging import TASK_REQUEST_ID_HEADER
from tests.factories import api_payload
from tests.logs.urls import log_from_task
from tests.notifications.brokers import Worker, broker_url_or_skip, celery_publishing_to, celery_worker
from tests.notifications.mail import MailServer

WORKER_TIMEOUT = 20


@pytest.mark.urls("tests.logs.urls")
def test_an_in_process_task_writes_the_requests_id_and_its_own_name(client, written):
    response = client.get("/test-logs/task/")

    request_id = response["X-Request-ID"]
    task_line, after_line = written.json("tests.logs.views")
    assert task_line["message"] == "a line from the task"
    assert task_line["request_id"] == request_id
    assert task_line["task_name"] == "tests.logs.log_from_task"
    assert len(task_line["task_id"]) == 36
    # back in the request once the task has run
    assert after_line["message"] == "the task is queued"
    assert after_line["request_id"] == request_id
    assert "task_name" not in after_line


def test_a_task_outside_a_request_writes_no_request_id(written):
    log_from_task.delay()

    [line] = written.json("tests.logs.views")
    assert line["request_id"] is None
    assert line["task_name"] == "tests.logs.log_from_task"


@pytest.fixture
def private_queue() -> Iterator[tuple[redis.Redis, str]]:
    broker_url = broker_url_or_skip()
    broker = redis.Redis.from_url(broker_url)
    queue = f"request-id-test-{time.monotonic_ns()}"
    with celery_publishing_to(broker_url=broker_url, queue=queue):
        yield broker, queue
    broker.delete(queue)


@pytest.mark.broker
@pytest.mark.urls("tests.logs.urls")
def test_a_task_published_during_a_request_carries_its_id_in_the_message(client, private_queue):
    broker, queue = private_queue

    response = client.get("/test-logs/task/")
    log_from_task.delay()  # and one published outside any request

    during, outside = (json.loads(raw)["headers"] for raw in reversed(broker.lrange(queue, 0, -1)))
    assert during["task"] == "tests.logs.log_from_task"
    assert during[TASK_REQUEST_ID_HEADER] == response["X-Request-ID"]
    assert TASK_REQUEST_ID_HEADER not in outside


@pytest.fixture(scope="module")
def mail_server() -> Iterator[MailServer]:
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def json_worker(django_db_setup, mail_server, tmp_path_factory) -> Iterator[Worker]:  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {"EMAIL_HOST": mail_server.host, "EMAIL_PORT": str(mail_server.port), "LOG_FORMAT": "json"}
    with celery_worker(log=log, env=env) as started:
        yield started


def _worker_lines(worker: Worker, task_name: str) -> list[dict]:  # type: ignore[type-arg]
    lines = (line for line in worker.log.read_text(errors="replace").splitlines() if line.startswith("{"))
    return [parsed for parsed in map(json.loads, lines) if parsed.get("task_name") == task_name]


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_the_submissions_request_id_on_the_delivery_tasks_lines(json_worker, prescriber):
    from tests.conftest import api_client_for

    # when: a prescriber's submission queues its notifications
    with celery_publishing_to(broker_url=json_worker.broker_url, queue=json_worker.queue):
        response = api_client_for(prescriber.user).post("/api/v1/prescriptions/", api_payload(), format="json")
    assert response.status_code == 201

    # then: the worker's lines for the delivery task are JSON and name the request
    deadline = time.monotonic() + WORKER_TIMEOUT
    lines = _worker_lines(json_worker, "intake.deliver_notifications")
    while not any("succeeded" in line["message"] for line in lines):
        assert time.monotonic() < deadline, json_worker.log.read_text(errors="replace")[-3000:]
        time.sleep(0.1)
        lines = _worker_lines(json_worker, "intake.deliver_notifications")
    assert {line["request_id"] for line in lines} == {response["X-Request-ID"]}
    assert all(line["task_id"] for line in lines)
    assert any("succeeded" in line["message"] for line in lines)
