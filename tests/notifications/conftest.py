"""Fixtures for the notification tests: in-process tasks, a real SMTP server, a recording SMS backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from pharmacy.celery import app as celery_app
from tests.notifications.mail import MailServer
from tests.notifications.twilio import twilio_on


@pytest.fixture(autouse=True)
def _tasks_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in-process after the commit, even where CI sets CELERY_BROKER_URL; not for broker tests."""
    if request.node.get_closest_marker("broker"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def smtp_server(settings) -> Iterator[MailServer]:  # type: ignore[no-untyped-def]
    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()


class RecordingSmsBackend:
    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, to: str, body: str) -> None:
        self.sent.append((to, body))


@pytest.fixture
def sms_outbox(settings) -> Iterator[list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "tests.notifications.conftest.RecordingSmsBackend"
    RecordingSmsBackend.sent = []
    yield RecordingSmsBackend.sent
    RecordingSmsBackend.sent = []


@pytest.fixture
def twilio(settings):  # type: ignore[no-untyped-def]
    """SMS_BACKEND=Twilio with a test account; its answers come from `recorded.use_cassette(...)`."""
    return twilio_on(settings)
