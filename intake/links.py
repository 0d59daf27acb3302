"""The patient's private links, as emails, text messages, the API and the prescriber's page give them.

Below services and notifications, which both need them; the patient's URLs in intake/web/patient/urls.py
answer these paths.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from intake.models import Prescription


def new_questionnaire_token() -> str:
    # 32 random bytes: 256 bits, far beyond guessing.
    return secrets.token_urlsafe(32)


def questionnaire_url(prescription: Prescription) -> str:
    return f"{settings.SITE_URL}/questionnaire/{prescription.questionnaire_token}"


def follow_up_url(prescription: Prescription) -> str:
    """The patient's private check-in link; the status page when no check-in was sent."""
    follow_up = getattr(prescription, "follow_up", None)
    return f"{settings.SITE_URL}/check-in/{follow_up.token}" if follow_up is not None else status_url()


def status_url() -> str:
    return f"{settings.SITE_URL}/status/"
