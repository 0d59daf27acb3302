"""Text messages through a small backend interface, chosen by settings.SMS_BACKEND.

The default, LogSmsBackend, sends nothing: it logs that a message would go to a masked number.
TwilioSmsBackend sends through Twilio's API; another provider (Amazon SNS, Vonage...) goes in a
class of its own beside it, with its credentials read from the environment in pharmacy/settings.py.
A backend's ``send`` returns the provider's id for the message (None when it has none) and raises
SmsSendError(transient=True) for what a later try may fix (timeouts, 5xx, rate limits) and
transient=False for what it will not (an invalid number). A signed business associate agreement
with the provider is needed (HIPAA).
"""

from __future__ import annotations

import logging
from typing import Protocol
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.urls import reverse
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)


class SmsSendError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> str | None:
        """Send one text message and return the provider's id for it (None when there is none);
        raise SmsSendError (or OSError) when it could not be sent."""


def masked_number(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"***{digits[-4:]}" if digits else "***"


class LogSmsBackend:
    """Logs the masked number and the length, never the text (it names the patient)."""

    def send(self, to: str, body: str) -> None:
        logger.info("SMS to %s (%d characters, log backend: not sent)", masked_number(to), len(body))


def twilio_status_callback_url() -> str:
    """Where Twilio posts a message's delivery status: the site's public origin, never the Host
    of a request (a proxy or a forged header could change that)."""
    origin = urlsplit(settings.SITE_URL)
    return f"{origin.scheme}://{origin.netloc}{reverse('twilio-status')}"


# Twilio's own words for these can quote the number; last_error gets ours. Any other 4xx keeps its code.
TWILIO_REFUSALS = {
    21211: "the phone number is not valid",
    21408: "texts to this country are not enabled on the Twilio account",
    21610: "the patient has replied STOP to this number (unsubscribed)",
    21612: "this number cannot receive texts from the pharmacy's number",
    21614: "the number is not a mobile number",
}


class TwilioSmsBackend:
    """Twilio's Messages API. The message's status comes later, posted to /webhooks/twilio/status/."""

    def __init__(self) -> None:
        # The SDK waits forever by default; a worker must not.
        http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS)
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client, environment={}
        )

    def send(self, to: str, body: str) -> str:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            message = self.client.messages.create(
                to=to, body=body, status_callback=twilio_status_callback_url(), **sender
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise twilio_error(exc) from None
        except requests.RequestException as exc:
            # Connection refused or reset, DNS, timeouts: the class alone, the text can hold the URL.
            raise SmsSendError(f"Twilio could not be reached ({type(exc).__name__})", transient=True) from None
        logger.info("SMS to %s accepted by Twilio as %s (%s)", masked_number(to), message.sid, message.status)
        return str(message.sid)


def twilio_error(exc: TwilioRestException | TwilioServiceException) -> SmsSendError:
    """Twilio's refusal as an SmsSendError: 429 and 5xx are tried again, any other 4xx is final."""
    said = f"HTTP {exc.status}" + (f", error {exc.code}" if exc.code else "")
    if exc.status == 429 or exc.status >= 500:
        return SmsSendError(f"Twilio is busy or failing ({said})", transient=True)
    reason = TWILIO_REFUSALS.get(exc.code or 0, "see Twilio's error code")
    return SmsSendError(f"Twilio refused the text ({said}): {reason}", transient=False)


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
