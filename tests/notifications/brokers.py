"""Point the test process's Celery publisher somewhere else for a while (a dead port, a private queue),
and run a real Celery worker process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from pharmacy.celery import app as celery_app
from tests.notifications.mail import free_port

WORKER_START_TIMEOUT = 30


@dataclass(frozen=True)
class Worker:
    broker_url: str
    queue: str
    log: Path


def broker_url_or_skip() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url:
        pytest.skip("broker tests need CELERY_BROKER_URL=redis://127.0.0.1:6379/0 (CI sets it)")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"the Redis at CELERY_BROKER_URL is unreachable ({type(exc).__name__})")
    return url


def _database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


@contextmanager
def celery_worker(*, log: Path, env: dict[str, str]) -> Iterator[Worker]:
    """`celery -A pharmacy worker --pool=solo` on a queue of its own, against the pytest test database
    (which django_db_setup has created by then), with `env` added to its environment."""
    broker_url = broker_url_or_skip()
    if connection.vendor != "postgresql":
        pytest.skip("the worker process shares the test database: run with DATABASE_URL=postgres://…")
    queue = f"worker-test-{uuid.uuid4().hex[:12]}"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pharmacy.settings",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "CELERY_BROKER_URL": broker_url,
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",  # the fixture waits for the worker's "ready." line
        **env,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "pharmacy", "worker", "--pool=solo", "--loglevel=INFO",
        "-Q", queue, "-n", f"{queue}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=django_settings.BASE_DIR, env=full_env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while "ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        yield Worker(broker_url=broker_url, queue=queue, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        redis.Redis.from_url(broker_url).delete(queue)


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
