"""Texts through Twilio against its recorded answers: the message as sent, its id kept on the row,
Twilio's refusals as final or retried failures, a network outage retried, the settings checked."""

from __future__ import annotations

import socket
import subprocess
import sys
from base64 import b64encode
from urllib.parse import parse_qs

import pytest
from django.conf import settings as django_settings
from twilio.base.exceptions import TwilioRestException

from intake.models import Channel, DeliveryStatus, NotificationEvent
from intake.notifications.delivery import Outcome, notification_deliver
from intake.notifications.sms import LogSmsBackend, SmsSendError, TwilioSmsBackend, sms_backend, twilio_error
from tests.factories import make_prescription
from tests.notifications.twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, MESSAGE_SID, PHONE, SENT, recorded

TEXTED = {"email": "ada@example.com", "first_name": "Ada", "phone": PHONE, "contact_preference": "sms"}


def _sent_form() -> dict[str, list[str]]:
    return parse_qs(SENT[-1].body.decode())


def _invitation(prescriber):  # type: ignore[no-untyped-def]
    prescription = make_prescription(prescriber, patient=TEXTED)
    row = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    assert row.channel == Channel.SMS
    return prescription, row


def test_the_log_backend_is_the_default_and_gives_no_message_id(settings):
    assert settings.SMS_BACKEND == "intake.notifications.sms.LogSmsBackend"
    backend = sms_backend()
    assert isinstance(backend, LogSmsBackend)
    assert backend.send(PHONE, "Hello") is None


def test_a_text_goes_to_twilio_from_the_pharmacys_number_with_the_status_callback(twilio):
    # when
    with recorded.use_cassette("twilio_accepted.yaml") as cassette:
        message_id = TwilioSmsBackend().send(PHONE, "Demo Compounding Pharmacy: your prescription is ready.")

    # then
    assert cassette.all_played
    assert message_id == MESSAGE_SID
    sent = SENT[-1]
    assert sent.method == "POST"
    assert sent.uri == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sent.headers["Authorization"] == "Basic " + b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert _sent_form() == {
        "To": [PHONE],
        "From": [FROM_NUMBER],
        "Body": ["Demo Compounding Pharmacy: your prescription is ready."],
        "StatusCallback": ["https://pharmacy.example.com/webhooks/twilio/status/"],
    }


def test_a_messaging_service_sends_in_place_of_the_one_number(twilio):
    twilio.TWILIO_MESSAGING_SERVICE_SID = "MG9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"

    with recorded.use_cassette("twilio_accepted.yaml"):
        TwilioSmsBackend().send(PHONE, "Hello")

    form = _sent_form()
    assert form["MessagingServiceSid"] == ["MG9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"]
    assert "From" not in form


def test_the_outbox_texts_through_twilio_and_keeps_the_message_id(
    prescriber, twilio, smtp_server, django_capture_on_commit_callbacks
):
    # when: the submission commits, its rows are published and delivered (in-process tasks)
    with recorded.use_cassette("twilio_accepted.yaml") as cassette, django_capture_on_commit_callbacks(execute=True):
        prescription = make_prescription(prescriber, patient=TEXTED)

    # then
    assert cassette.all_played
    text = prescription.notifications.get(event=NotificationEvent.QUESTIONNAIRE_INVITATION)
    assert (text.channel, text.status, text.attempts, text.last_error) == (Channel.SMS, DeliveryStatus.SENT, 1, "")
    assert text.provider_message_id == MESSAGE_SID
    assert (text.provider_status, text.provider_status_at) == ("", None)  # no delivery news yet
    body = _sent_form()["Body"][0]
    assert prescription.reference in body and prescription.questionnaire_token in body
    # The prescriber's email went its own way.
    assert len(smtp_server.to(prescriber.user.email)) == 1


@pytest.mark.parametrize(
    ("cassette", "said"),
    [
        ("twilio_invalid_number.yaml", "Twilio refused the text (HTTP 400, error 21211): the phone number is not"),
        ("twilio_unsubscribed.yaml", "Twilio refused the text (HTTP 400, error 21610): the patient has replied"),
    ],
)
def test_a_number_twilio_refuses_fails_at_once_with_a_reason_and_no_number(prescriber, twilio, cassette, said):
    # given
    _prescription, row = _invitation(prescriber)

    # when
    with recorded.use_cassette(cassette):
        result = notification_deliver(notification_id=row.pk)

    # then: no retry, the reason for the staff, never the number
    row.refresh_from_db()
    assert result.outcome == Outcome.FAILED
    assert (row.status, row.attempts, row.provider_message_id) == (DeliveryStatus.FAILED, 1, "")
    assert row.last_error.startswith(f"SmsSendError: {said}")
    assert "5555550123" not in row.last_error


def test_a_twilio_outage_is_retried_and_the_text_sent_once_twilio_is_back(prescriber, twilio):
    # given
    _prescription, row = _invitation(prescriber)

    with recorded.use_cassette("twilio_failing_then_accepted.yaml") as cassette:
        # when: Twilio answers 500
        first = notification_deliver(notification_id=row.pk)
        row.refresh_from_db()

        # then: pending again with the reason, for the retry
        assert (first.outcome, first.retry_in) == (Outcome.RETRY, 30)
        assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
        assert row.last_error == "SmsSendError: Twilio is busy or failing (HTTP 500, error 20500)"

        # when: the retry finds Twilio back
        second = notification_deliver(notification_id=row.pk)

    # then
    assert cassette.all_played
    row.refresh_from_db()
    assert second.outcome == Outcome.SENT
    assert (row.status, row.attempts, row.last_error, row.provider_message_id) == (
        DeliveryStatus.SENT, 2, "", MESSAGE_SID,
    )  # fmt: skip


def test_twilios_rate_limit_is_retried(prescriber, twilio):
    _prescription, row = _invitation(prescriber)

    with recorded.use_cassette("twilio_rate_limited.yaml"):
        result = notification_deliver(notification_id=row.pk)

    row.refresh_from_db()
    assert result.outcome == Outcome.RETRY
    assert row.status == DeliveryStatus.PENDING
    assert row.last_error == "SmsSendError: Twilio is busy or failing (HTTP 429, error 20429)"


def test_twilio_out_of_reach_is_retried_then_failed_after_the_last_try(prescriber, twilio, settings, monkeypatch):
    # given: every connection goes through a proxy port that nothing listens on (loopback only)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    _prescription, row = _invitation(prescriber)

    # when
    first = notification_deliver(notification_id=row.pk)
    second = notification_deliver(notification_id=row.pk)

    # then
    row.refresh_from_db()
    assert (first.outcome, second.outcome) == (Outcome.RETRY, Outcome.FAILED)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 2)
    assert row.last_error == "SmsSendError: Twilio could not be reached (ProxyError)"


def test_twilio_errors_are_transient_only_for_rate_limits_and_server_errors():
    def transient(status: int, code: int | None) -> bool:
        return twilio_error(TwilioRestException(status, "https://api.twilio.com/x", "", code)).transient

    assert transient(429, 20429) and transient(500, 20500) and transient(503, None)
    assert not transient(400, 21211) and not transient(400, 21610) and not transient(401, 20003)
    assert isinstance(twilio_error(TwilioRestException(404, "u", "", 20404)), SmsSendError)


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_FROM_NUMBER": ""}, "TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"),
    ],
)
def test_the_twilio_backend_does_not_start_without_what_it_needs(missing, named):
    env = {
        "PATH": "/usr/bin:/bin",
        "SMS_BACKEND": "intake.notifications.sms.TwilioSmsBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        **missing,
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "manage.py", "check"], cwd=django_settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode != 0
    assert f"SMS_BACKEND is Twilio but these are not set: {named}" in result.stderr


def test_the_twilio_backend_starts_with_a_messaging_service_in_place_of_a_number():
    env = {
        "PATH": "/usr/bin:/bin",
        "SMS_BACKEND": "intake.notifications.sms.TwilioSmsBackend",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "manage.py", "check"], cwd=django_settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
