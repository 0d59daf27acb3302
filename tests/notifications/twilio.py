"""Twilio for the SMS tests: its recorded answers (tests/notifications/cassettes), replayed with no
network while the SDK runs for real, and status callbacks signed as Twilio signs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import vcr
from django.test import Client
from twilio.request_validator import RequestValidator

CASSETTES = Path(__file__).parent / "cassettes"
ACCOUNT_SID = "AC0f3a5b7c9d1e2f4a6b8c0d2e4f6a8b0c"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"  # noqa: S105 - a test's own token
FROM_NUMBER = "+15125550100"
MESSAGE_SID = "SM5b2c9e1f7a3d4c6e8f0a1b2c3d4e5f6a"
SITE_URL = "https://pharmacy.example.com"
STATUS_URL = f"{SITE_URL}/webhooks/twilio/status/"
PHONE = "+15555550123"

# The requests the code made, as sent (a cassette's own `requests` are the recorded ones).
SENT: list = []


def _seen(live, recorded_request) -> None:
    if not SENT or SENT[-1] is not live:
        SENT.append(live)


recorded = vcr.VCR(
    cassette_library_dir=str(CASSETTES),
    record_mode="none",
    # The body carries the test's own message; the path says which call it is.
    match_on=["method", "scheme", "host", "path", "seen"],
)
recorded.register_matcher("seen", _seen)


def twilio_on(settings):  # type: ignore[no-untyped-def]
    settings.SMS_BACKEND = "intake.notifications.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.SITE_URL = SITE_URL
    SENT.clear()
    return settings


def status_callback(status: str, *, message_sid: str = MESSAGE_SID, error_code: str = "") -> dict[str, str]:
    """The form Twilio posts for a message's status change, with the fields it always sends."""
    params = {
        "SmsSid": message_sid, "SmsStatus": status, "MessageStatus": status, "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID, "From": FROM_NUMBER, "To": PHONE, "ApiVersion": "2010-04-01",
    }  # fmt: skip
    if error_code:
        params["ErrorCode"] = error_code
    return params


def signature(params: dict[str, str], *, url: str = STATUS_URL, token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_status(client: Client, params: dict[str, str], *, signed_as: str | None = None, **headers: Any):  # type: ignore[no-untyped-def]
    """POST the form as Twilio does: urlencoded, signed over the public URL (or `signed_as`)."""
    if "HTTP_X_TWILIO_SIGNATURE" not in headers:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature(params, url=signed_as or STATUS_URL)
    return client.post(
        "/webhooks/twilio/status/", data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )
