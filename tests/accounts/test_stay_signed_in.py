"""A long form shows the time its session has left, as the server counts it, and "Stay signed in"
pushes the end back; nobody signed out gets a session from it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

STAY = reverse("session_extend")
NEW = reverse("prescriber:new")


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def _seconds_left_on_page(html: str) -> int:
    found = re.search(r'data-seconds-left="(\d+)"', html)
    assert found, "no session timer on the page"
    return int(found.group(1))


def test_the_form_shows_the_time_the_server_will_keep_the_session(client, login, prescriber, time_machine):
    # given: signed in, then 30 seconds later the form is opened (too soon for the idle refresh)
    time_machine.move_to(timezone.now(), tick=False)
    login(client, prescriber.user)
    client.get(reverse("prescriber:home"))
    time_machine.shift(timedelta(seconds=30))

    # when
    html = client.get(NEW).content.decode()

    # then: the page's count is the session row's, not a fresh 15 minutes, and never more than it
    seconds_left = _seconds_left_on_page(html)
    kept_for = _session_row(client).expire_date - timezone.now()
    assert settings.SESSION_COOKIE_AGE - 31 <= seconds_left <= settings.SESSION_COOKIE_AGE - 30
    assert timedelta(0) <= kept_for - timedelta(seconds=seconds_left) <= timedelta(seconds=1)
    assert f'data-warn-seconds="{settings.SESSION_WARNING_SECONDS}"' in html
    assert f'data-extend-url="{STAY}"' in html


def test_stay_signed_in_pushes_the_end_back(client, login, prescriber, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    login(client, prescriber.user)
    client.get(NEW)
    time_machine.shift(timedelta(seconds=40))
    before = _session_row(client).expire_date

    response = client.post(STAY)

    assert response.status_code == 200
    assert response.json() == {"seconds_left": settings.SESSION_COOKIE_AGE}
    assert _session_row(client).expire_date == before + timedelta(seconds=40)
    assert _session_row(client).expire_date == timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]


def test_staff_may_stay_signed_in_too(client, login, pharmacist):
    login(client, pharmacist)

    assert client.post(STAY).json() == {"seconds_left": settings.SESSION_COOKIE_AGE}


def test_signed_out_nobody_stays_signed_in(client):
    # when: the session had already ended (or never began)
    response = client.post(STAY)

    # then: refused, and no session was made for the browser
    assert response.status_code == 403
    assert response.json()["seconds_left"] == 0
    assert Session.objects.count() == 0


def test_an_ended_session_is_not_brought_back(client, login, prescriber):
    login(client, prescriber.user)
    row = _session_row(client)
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))

    response = client.post(STAY)

    assert response.status_code == 403
    assert Session.objects.get(pk=row.pk).expire_date < timezone.now()
    assert client.get(NEW).status_code == 302


def test_staying_signed_in_is_a_post_with_the_csrf_token(login, prescriber):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    login(client, prescriber.user)

    assert client.get(STAY).status_code == 405
    assert client.post(STAY).status_code == 403
