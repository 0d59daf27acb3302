"""API sign-in: an email and password for a token, through the same lockout as the web login."""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate, user_logged_in
from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from accounts.models import User

WRONG_CREDENTIALS = "That email address and password do not match an account."


class AccountLocked(exceptions.Throttled):
    default_detail = "Too many wrong passwords for this account: sign-in is locked for a while."
    default_code = "account_locked"


def token_obtain(*, request: HttpRequest, email: str, password: str) -> Token:
    """The user's API token, or ValidationError (wrong credentials) / AccountLocked (429).

    `request` is Django's request: django-axes counts the failures per account on it, so ten
    wrong passwords lock the account here exactly as on the web login page.
    """
    # Accounts are stored with lower-case emails; one spelling also means one lockout counter.
    username = email.strip().lower()
    user = authenticate(request=request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # The API answers the lockout itself, in JSON; the flag would make AxesMiddleware swap
        # the answer for the web's HTML lockout page.
        request.axes_locked_out = False  # type: ignore[attr-defined]
        cool_off = get_cool_off(request)
        raise AccountLocked(wait=cool_off.total_seconds() if cool_off else None)
    if not isinstance(user, User):
        raise exceptions.ValidationError({"non_field_errors": [WRONG_CREDENTIALS]}, code="authorization")
    # As django.contrib.auth.login does (without a session): updates last_login and lets
    # django-axes clear the account's failures.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    token, _created = Token.objects.get_or_create(user=user)
    return token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token check, loading the user as a signed-in web request does (User.objects.signed_in():
    their roles in the same query) instead of one query for the token and user and one for the roles."""

    def authenticate_credentials(self, key: str) -> tuple[User, Token]:
        user = User.objects.signed_in(token=key)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return user, Token(key=key, user=user)
