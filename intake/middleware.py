"""Send staff who owe a second factor to enrol or verify before any other page; push an active
session's idle limit back without writing the session on every request; keep answers out of caches;
answer "busy, try again" when the database's write lock could not be had in time; give each request
an id that its log lines (and the tasks it queues) carry."""

from __future__ import annotations

import functools
import logging
import sqlite3
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.cache import add_never_cache_headers

from intake.logging import REQUEST_ID_HEADER, current_request_id, request_id_accept
from intake.security import SecondFactorStep, second_factor_step

logger = logging.getLogger(__name__)

_STEP_URLS = {SecondFactorStep.ENROL: "security:totp_enrol", SecondFactorStep.VERIFY: "security:totp_verify"}


class SecondFactorRequiredMiddleware:
    """After django_otp's OTPMiddleware: `request.user.is_verified()` must be there.

    Covers the web session only. API calls with `Authorization: Token` authenticate inside DRF,
    after all middleware, and are not asked for a code (a token is issued to a password and is
    itself the credential); API calls riding on a web session are refused with a 403 until the
    session is verified, so the session cannot go round the pages' check through the API.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._exempt(request.path_info):
            step = second_factor_step(request)
            if step is not None:
                return self._refuse(request, step)
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path.startswith(_exempt_prefixes())

    @staticmethod
    def _refuse(request: HttpRequest, step: SecondFactorStep) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse({"detail": "Verify your second factor on the web before using the API."}, status=403)
        url = resolve_url(_STEP_URLS[step])
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)


@functools.cache
def _exempt_prefixes() -> tuple[str, ...]:
    # Signing in and out, and the second-factor pages themselves, must stay reachable. Worked out
    # once: reversing four URLs on every request cost more than the rest of this middleware.
    return (
        resolve_url("login"),
        resolve_url("logout"),
        resolve_url("security:totp_enrol"),
        resolve_url("security:totp_verify"),
        "/" + settings.STATIC_URL.lstrip("/"),
    )


class SessionIdleRefreshMiddleware:
    """Push the session's idle limit (SESSION_COOKIE_AGE) back at most once a minute.

    SESSION_SAVE_EVERY_REQUEST would write the session row on every request; marking the session
    modified when its last refresh is a minute old gives the same 15-minute idle sign-out, to within
    a minute, for one write a minute. Must sit below SessionMiddleware, which saves on the way out.
    """

    KEY = "_idle_refreshed_at"
    EVERY_SECONDS = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and not session.is_empty():
            now = int(time.time())
            # A session saved for any other reason gets a new expiry too: note when, so that
            # session_seconds_left stays exact.
            if session.modified or _due_for_refresh(session, now):
                session[self.KEY] = now  # modified: SessionMiddleware saves it with a new expiry
        return response


def _due_for_refresh(session: SessionBase, now: int) -> bool:
    refreshed = session.get(SessionIdleRefreshMiddleware.KEY)
    return not isinstance(refreshed, int) or now - refreshed >= SessionIdleRefreshMiddleware.EVERY_SECONDS


def session_seconds_left(session: SessionBase) -> int:
    """Seconds before this session ends if no other request comes, counted as the server counts
    them: from its last save (SessionIdleRefreshMiddleware notes it), or a full idle limit when the
    request being answered saves it."""
    now = time.time()
    if session.modified or _due_for_refresh(session, int(now)):
        return settings.SESSION_COOKIE_AGE
    # Rounded down, as the refresh time was: the page never promises more than the server keeps.
    return max(0, int(session[SessionIdleRefreshMiddleware.KEY] + settings.SESSION_COOKIE_AGE - now))


def session_extend(session: SessionBase) -> int:
    """Push the idle limit back now, whatever the minute's rhythm; the seconds left after it."""
    session[SessionIdleRefreshMiddleware.KEY] = int(time.time())
    return settings.SESSION_COOKIE_AGE


class NoStoreMiddleware:
    """Nothing the application answers is kept by a browser or a proxy cache: pages and API answers
    carry patient data, and a shared computer's back button must not show them. Static files are
    served before this (WhiteNoise) and keep their own long cache headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class DatabaseBusyMiddleware:
    """A request that waited too long for a lock answers 503 with Retry-After instead of a 500: on
    SQLite the one write lock (settings: timeout), on PostgreSQL a row another request holds
    (lock_timeout). Its transaction was rolled back whole, so nothing happened and the same
    request can simply be sent again."""

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not _database_busy(exception):
            return None
        logger.warning("Database busy: %s %s answered 503", request.method, request.path_info)
        if request.path_info.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"detail": "The pharmacy's system is busy. Nothing was changed; try again in a moment."}, status=503
            )
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = str(self.RETRY_AFTER_SECONDS)
        return response


# PostgreSQL's lock_not_available: lock_timeout passed while waiting for a row.
LOCK_NOT_AVAILABLE = "55P03"


def _database_busy(exception: Exception) -> bool:
    # Django wraps the driver's error; SQLITE_BUSY (extended codes included) is "database is locked".
    if not isinstance(exception, OperationalError):
        return False
    cause = exception.__cause__
    if isinstance(cause, sqlite3.OperationalError):
        return getattr(cause, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
    return getattr(cause, "sqlstate", None) == LOCK_NOT_AVAILABLE


class RequestIdMiddleware:
    """First in the list, so that every line written for the request carries its id: the proxy's
    X-Request-ID when it sent a well-formed one, else a new one; the answer names it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_accept(request.headers.get(REQUEST_ID_HEADER))
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response
