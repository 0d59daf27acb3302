"""Text messages through a small backend interface, chosen by settings.SMS_BACKEND.

The default, LogSmsBackend, sends nothing: it logs that a message would go to a masked number.
A real provider (Twilio, Amazon SNS, Vonage...) goes in a class of its own beside it, for example
``intake.notifications.sms.TwilioSmsBackend``, with its credentials read from the environment in
pharmacy/settings.py; point SMS_BACKEND at it. Its ``send`` raises SmsSendError(transient=True) for
what a later try may fix (timeouts, 5xx, rate limits) and transient=False for what it will not (an
invalid number). A signed business associate agreement with the provider is needed (HIPAA).
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsSendError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None:
        """Send one text message; raise SmsSendError (or OSError) when it could not be sent."""


def masked_number(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"***{digits[-4:]}" if digits else "***"


class LogSmsBackend:
    """Logs the masked number and the length, never the text (it names the patient)."""

    def send(self, to: str, body: str) -> None:
        logger.info("SMS to %s (%d characters, log backend: not sent)", masked_number(to), len(body))


def sms_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
