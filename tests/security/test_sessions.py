"""Idle sessions end after 15 minutes; session cookies are HttpOnly."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from intake.middleware import SessionIdleRefreshMiddleware

STAFF_PAGE = "/pharmacy/audit/"


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def test_the_idle_limit_is_fifteen_minutes_pushed_back_at_least_every_minute():
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert "intake.middleware.SessionIdleRefreshMiddleware" in settings.MIDDLEWARE
    assert SessionIdleRefreshMiddleware.EVERY_SECONDS <= 60


def test_a_session_idle_past_the_limit_is_signed_out(client, login, pharmacy_admin):
    # given: signed in, then nothing for longer than the idle limit
    login(client, pharmacy_admin)
    assert client.get(STAFF_PAGE).status_code == 200
    Session.objects.filter(pk=_session_row(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    # when
    response = client.get(STAFF_PAGE)

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_each_request_pushes_the_idle_limit_back(client, login, pharmacy_admin, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, pharmacy_admin)
    client.get(STAFF_PAGE)

    # 14 minutes later: one minute left, and a request comes in.
    time_machine.shift(timedelta(minutes=14))
    assert client.get(STAFF_PAGE).status_code == 200

    remaining = _session_row(client).expire_date - timezone.now()
    assert remaining > timedelta(minutes=14)
    assert remaining <= timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_requests_within_a_minute_do_not_rewrite_the_session(client, login, pharmacy_admin, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, pharmacy_admin)
    client.get(STAFF_PAGE)
    expiry = _session_row(client).expire_date

    time_machine.shift(timedelta(seconds=30))
    client.get(STAFF_PAGE)
    unchanged = _session_row(client).expire_date
    time_machine.shift(timedelta(seconds=31))
    client.get(STAFF_PAGE)

    assert unchanged == expiry
    assert _session_row(client).expire_date == expiry + timedelta(seconds=61)


def test_session_and_csrf_cookies_are_http_only(client, pharmacist):
    from tests.factories import PASSWORD

    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {"username": pharmacist.email, "password": PASSWORD})

    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["httponly"]
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.CSRF_COOKIE_HTTPONLY
    assert response.cookies[settings.SESSION_COOKIE_NAME]["samesite"] == "Lax"
