"""The second factor for staff: TOTP enrolment and verification (django-otp), and who must use it.

Enrolment keeps the new key in the session until the person proves, with a code from their app,
that the app holds it; only then is a confirmed device written. Someone who already has a
confirmed device must verify with it before they can enrol another (which replaces the first):
otherwise a stolen password alone would be enough to enrol an attacker's app.
"""

from __future__ import annotations

import base64
import io
import time
from binascii import unhexlify
from enum import Enum
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from accounts.models import User

ENROL_KEY_SESSION_KEY = "security_totp_enrol_key"
ENROLLED_SESSION_KEY = "security_second_factor_enrolled"
DEVICE_NAME = "Authenticator app"


class SecondFactorStep(Enum):
    """What a signed-in person must do before they may use staff pages."""

    ENROL = "enrol"
    VERIFY = "verify"


def totp_device_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_step(request: HttpRequest) -> SecondFactorStep | None:
    """None when the signed-in person may go on; otherwise the step that stands in the way.

    Anyone who enrolled must verify (a second factor that can be skipped protects nothing);
    pharmacists must enrol when PHARMACIST_TOTP_REQUIRED is on. Only staff use a second factor.
    """
    user: Any = request.user
    if not user.is_authenticated or not user.is_pharmacy_staff:
        return None
    if user.is_verified():
        return None
    if second_factor_enrolled(request):
        return SecondFactorStep.VERIFY
    if settings.PHARMACIST_TOTP_REQUIRED and user.is_pharmacist:
        return SecondFactorStep.ENROL
    return None


def second_factor_enrolled(request: HttpRequest) -> bool:
    """Whether the signed-in person enrolled a second factor, read once per session: every staff
    page asks. Enrolment records the change (second_factor_enrol); a device an administrator
    removed is noticed when verification finds none (second_factor_forgotten)."""
    known = request.session.get(ENROLLED_SESSION_KEY)
    if not isinstance(known, bool):
        known = request.session[ENROLLED_SESSION_KEY] = request.user.has_second_factor  # type: ignore[union-attr]
    return known


def second_factor_forgotten(request: HttpRequest) -> None:
    """The person has no device any more: ask the database again on the next page."""
    request.session.pop(ENROLLED_SESSION_KEY, None)


def pending_enrol_key(request: HttpRequest) -> str:
    """The hex key offered to this session for enrolment, made on first use."""
    key = request.session.get(ENROL_KEY_SESSION_KEY)
    if not key:
        key = default_key()
        request.session[ENROL_KEY_SESSION_KEY] = key
    return key


def otpauth_uri(*, user: User, hex_key: str) -> str:
    # The unsaved device builds the URI exactly as django-otp would for a saved one.
    return TOTPDevice(user=user, key=hex_key, name=DEVICE_NAME).config_url


def qr_svg_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG data: URI for an <img>, which the CSP's img-src allows."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _normalise_code(code: str) -> str:
    return "".join(code.split())


def second_factor_enrol(*, request: HttpRequest, user: User, code: str) -> TOTPDevice | None:
    """Save the pending key as the person's device if `code` matches it; None when it does not."""
    hex_key = request.session.get(ENROL_KEY_SESSION_KEY)
    code = _normalise_code(code)
    if not hex_key or not code.isdigit():
        return None
    totp = TOTP(unhexlify(hex_key.encode()), step=30, t0=0, digits=6)
    totp.time = time.time()
    # One step either side: a phone clock a few seconds off must still enrol.
    if not totp.verify(int(code), tolerance=1):
        return None
    with transaction.atomic():
        # A new device replaces the old one: one authenticator per person keeps recovery simple.
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(
            user=user, name=DEVICE_NAME, key=hex_key, confirmed=True, tolerance=1, last_t=totp.t()
        )
    del request.session[ENROL_KEY_SESSION_KEY]
    request.session[ENROLLED_SESSION_KEY] = True
    otp_login(request, device)
    return device


def second_factor_verify(*, request: HttpRequest, user: User, code: str) -> bool:
    """Mark this session as verified if `code` is the current one of the person's device.

    django-otp throttles wrong codes per device (growing delays) and refuses a code already used.
    """
    device = totp_device_for(user)
    code = _normalise_code(code)
    if device is None or not code.isdigit() or len(code) != device.digits:
        return False
    if not device.verify_token(code):
        return False
    otp_login(request, device)
    return True
