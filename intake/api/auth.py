"""API sign-in: an email and password (and the second factor's code, for an account that enrolled
one) for a token that expires, through the same lockout as the web login."""

from __future__ import annotations

from datetime import datetime, timedelta

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from accounts.models import User, normalise_email

WRONG_CREDENTIALS = "That email address and password do not match an account."


class AccountLocked(exceptions.Throttled):
    default_detail = "Too many wrong passwords for this account or from this address: sign-in is locked for a while."
    default_code = "account_locked"


def token_lifetime(user: User) -> timedelta:
    """Staff tokens last a working day at most; a prescriber's EHR signs in less often."""
    hours = settings.API_TOKEN_HOURS_STAFF if user.is_pharmacy_staff else settings.API_TOKEN_HOURS_PRESCRIBER
    return timedelta(hours=hours)


def token_expires_at(token: Token, user: User) -> datetime:
    return token.created + token_lifetime(user)


def token_obtain(*, request: HttpRequest, email: str, password: str, otp: str = "") -> Token:
    """The user's API token, or ValidationError (wrong credentials, a missing or wrong second-factor
    code) / AccountLocked (429). An expired token is replaced by a new one.

    `request` is Django's request: django-axes counts the failures on it (accounts/lockout.py), so
    wrong passwords lock the account here exactly as on the web login page.
    """
    # Accounts are stored with lower-case emails; one spelling also means one lockout counter.
    username = normalise_email(email)
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # The API answers the lockout itself, in JSON; the flag would make AxesMiddleware swap
        # the answer for the web's HTML lockout page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        cool_off = get_cool_off(request)
        raise AccountLocked(wait=cool_off.total_seconds() if cool_off else None)
    if not isinstance(user, User):
        raise exceptions.ValidationError({"non_field_errors": [WRONG_CREDENTIALS]}, code="authorization")
    if user.has_second_factor:
        second_factor_check(user, otp)
    # As django.contrib.auth.login does (without a session): updates last_login and lets
    # django-axes clear the account's failures.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    with transaction.atomic():
        token, _created = Token.objects.select_for_update().get_or_create(user=user)
        if token_expires_at(token, user) <= timezone.now():
            token.delete()
            token = Token.objects.create(user=user)
    return token


def second_factor_check(user: User, otp: str) -> None:
    """A password alone is not enough for an account that enrolled a second factor."""
    from intake.security import totp_device_for

    code = "".join((otp or "").split())
    if not code:
        raise exceptions.ValidationError(
            {"otp": ["This account uses two-step sign-in: send the current code from the authenticator app."]}
        )
    device = totp_device_for(user)
    if device is None or not code.isdigit() or not device.verify_token(code):
        raise exceptions.ValidationError({"otp": ["That code is not right, or was used already."]})


def token_revoke(*, token: Token) -> None:
    Token.objects.filter(key=token.key).delete()


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check, with `Authorization: Token …` or `Bearer …`, refusing an expired token;
    the user is read as a signed-in web request reads them (User.objects.signed_in())."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        words = authentication.get_authorization_header(request).split()
        if not words or words[0].decode("latin-1").lower() not in self.keywords:
            return None
        if len(words) != 2:
            raise exceptions.AuthenticationFailed("Send the token as `Authorization: Token <token>`.")
        try:
            key = words[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        user = User.objects.signed_in(token=key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token = user.auth_token
        if token_expires_at(token, user) <= timezone.now():
            raise exceptions.AuthenticationFailed("This token has expired: sign in again for a new one.")
        return user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
