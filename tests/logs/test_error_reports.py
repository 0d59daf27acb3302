"""Error reports (Sentry) keep the class, the stack and the route of a failure and nothing of the
patient: sent through sentry_sdk's own machinery to a transport that keeps the envelopes in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from pharmacy.error_reports import WITHHELD, error_report_scrub, error_reports_start
from tests.logs.urls import PATIENT_BORN, PATIENT_EMAIL, PATIENT_NAME

LINK_TOKEN = "Zr4m8K-x_7QpLr2Wq9sT1uVbN3cD5eF6gH7iJ8kL9mA"
SESSION_KEY = "k3y5e55i0nk3y5e55i0nk3y5e55i0n99"


class KeptEnvelopes(Transport):
    """sentry_sdk's documented extension point: the envelopes that would have been sent."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [event for envelope in self.envelopes if (event := envelope.get_event()) is not None]


@pytest.fixture
def reports() -> Iterator[KeptEnvelopes]:
    transport = KeptEnvelopes()
    error_reports_start(dsn="https://public@errors.example.test/1", environment="test", transport=transport)
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


@pytest.mark.urls("tests.logs.urls")
def test_a_failed_request_is_reported_without_the_patients_data(reports, db):
    # given: a request as gunicorn hands it over (the WSGI handler, which the Django integration wraps)
    request = RequestFactory(HTTP_COOKIE=f"sessionid={SESSION_KEY}").post(
        f"/questionnaire/{LINK_TOKEN}/fail/?token={LINK_TOKEN}&date_of_birth={PATIENT_BORN}",
        {"answers": f"{PATIENT_NAME} takes Synthroid 50 mcg", "email": PATIENT_EMAIL},
    )
    answered: list[tuple[str, list[tuple[str, str]]]] = []

    # when (without closing the test's database connection at the request's start and end, as the test client)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(request.environ, lambda status, headers, *_: answered.append((status, headers))))
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)

    # then: one report, and nothing of the patient, the link or the session in it
    [(status, headers)] = answered
    assert status.startswith("500")
    [event] = reports.events()
    sent = json.dumps(event)
    for secret in (PATIENT_NAME, "Quenby", PATIENT_BORN, PATIENT_EMAIL, "Synthroid", LINK_TOKEN, SESSION_KEY):
        assert secret not in sent
    # what finds the bug stays
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == WITHHELD
    frames = exception["stacktrace"]["frames"]
    assert frames[-1]["function"] == "fails_on_a_patient"
    assert all("vars" not in frame for frame in frames)
    assert event["request"] == {"method": "POST", "url": "http://testserver/questionnaire/[token]/fail/"}
    assert event["transaction"] == "/questionnaire/[token]/fail/"
    assert event["tags"]["request_id"] == dict(headers)["X-Request-ID"]
    assert len(event["event_id"]) == 32
    assert "user" not in event


def test_a_machinery_errors_message_is_kept_redacted():
    try:
        raise ConnectionRefusedError(111, f"Connection refused for {PATIENT_EMAIL}")
    except OSError as exc:
        event = {"exception": {"values": [{"type": "ConnectionRefusedError", "value": str(exc)}]},
                 "logentry": {"message": "broker down for %s", "params": [PATIENT_NAME]},
                 "breadcrumbs": {"values": [{"message": f"sent to {PATIENT_EMAIL}"}]}}  # fmt: skip
        scrubbed = error_report_scrub(event, {"exc_info": (type(exc), exc, exc.__traceback__)})

    assert scrubbed["exception"]["values"][0]["value"] == "[Errno 111] Connection refused for [email]"
    assert scrubbed["logentry"] == {"message": "broker down for %s"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "sent to [email]"


def test_sentry_is_off_without_a_dsn(settings):
    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()
