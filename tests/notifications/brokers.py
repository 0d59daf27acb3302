"""Point the test process's Celery publisher somewhere else for a while (a dead port, a private queue)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pharmacy.celery import app as celery_app
from tests.notifications.mail import free_port


def closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def _forget_connections() -> None:
    # Celery caches its connection pool and queue declarations; drop them so new settings apply.
    # Not force_close_all(): kombu keeps the pool in a global registry and would hand it back closed.
    celery_app._pool = None
    amqp = celery_app.amqp
    amqp._producer_pool = None
    for cached in ("queues", "default_queue", "router"):
        amqp.__dict__.pop(cached, None)


@contextmanager
def celery_publishing_to(*, broker_url: str, queue: str | None = None) -> Iterator[None]:
    conf = celery_app.conf
    saved = {
        "broker_write_url": conf.get("broker_write_url"),
        "task_default_queue": conf.task_default_queue,
        "task_always_eager": conf.task_always_eager,
    }
    conf.broker_write_url = broker_url
    conf.task_always_eager = False
    if queue:
        conf.task_default_queue = queue
    _forget_connections()
    try:
        yield
    finally:
        for name, value in saved.items():
            conf[name] = value
        _forget_connections()
