"""The dashboard pages: who may see them, what they show, how many queries they cost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from intake.models import Prescriber, Prescription, PrescriptionStatus
from tests.dashboard.svg import parse_svg, svgs
from tests.factories import make_prescription

S = PrescriptionStatus
PAGE = reverse("dashboard:index")
PARTIAL = reverse("dashboard:status")
HOSTILE = "<script>alert(1)</script>"


def rx(prescriber: Prescriber, **values: Any) -> Prescription:
    prescription = make_prescription(prescriber)
    Prescription.objects.filter(pk=prescription.pk).update(**values)
    return prescription


@pytest.fixture
def history(prescriber: Prescriber) -> None:
    now = timezone.now()
    for days_ago, hours in ((1, 20), (9, 30), (16, 50), (23, 70)):
        ready = now - timedelta(days=days_ago)
        rx(prescriber, status=S.COMPLETED, submitted_at=ready - timedelta(hours=hours), ready_at=ready,
           flags=[{"code": "thyroid", "severity": "warning", "message": "m"}])  # fmt: skip
    rx(prescriber, status=S.PENDING_REVIEW, submitted_at=now - timedelta(hours=3),
       flags=[{"code": HOSTILE, "severity": "info", "message": "m"}])  # fmt: skip


@pytest.mark.parametrize("persona", ["pharmacist", "technician", "pharmacy_admin"])
@pytest.mark.parametrize("url", [PAGE, PARTIAL])
def test_pharmacy_staff_see_it(client: Client, login, request: pytest.FixtureRequest, persona: str, url: str) -> None:
    login(client, request.getfixturevalue(persona))

    response = client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("url", [PAGE, PARTIAL])
def test_prescriber_is_refused(client: Client, login, prescriber: Prescriber, history: None, url: str) -> None:
    login(client, prescriber.user)

    response = client.get(url)

    assert response.status_code == 403
    assert b"<svg" not in response.content
    assert b"data-status-count" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("url", [PAGE, PARTIAL])
def test_anonymous_goes_to_login(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={PAGE}"  # the page, never the bare fragment


@pytest.mark.django_db
def test_expired_session_on_refresh_reloads_to_login(client: Client) -> None:
    # htmx would swap a login page into the fragment's place; a client redirect sends the whole page there.
    response = client.get(PARTIAL, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next={PAGE}"
    assert response.content == b""


def test_page_shows_charts_and_numbers(client: Client, login, pharmacist, history: None) -> None:
    login(client, pharmacist)

    html = client.get(PAGE).content.decode()

    assert "Nothing to show yet" not in html
    drawn = svgs(html)
    assert len(drawn) == 4  # status, turnaround, flags, throughput
    for svg in drawn:
        root = parse_svg(svg)
        assert root.get("role") == "img"
    assert 'data-status-count="completed">4<' in html
    assert 'data-status-count="pending_review">1<' in html
    assert 'data-median-hours="20.0"' in html
    assert 'data-flag-code="thyroid"' in html
    assert "<caption>" in html  # the numbers, as tables


def test_flag_code_is_escaped_on_the_page(client: Client, login, pharmacist, history: None) -> None:
    login(client, pharmacist)

    html = client.get(PAGE).content.decode()

    assert HOSTILE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for svg in svgs(html):
        parse_svg(svg)


def test_status_counts_refresh_every_minute(client: Client, login, technician, history: None) -> None:
    login(client, technician)

    html = client.get(PAGE).content.decode()

    assert f'hx-get="{PARTIAL}"' in html
    assert 'hx-trigger="every 60s"' in html


def test_partial_is_only_the_fragment(client: Client, login, technician, history: None) -> None:
    login(client, technician)

    response = client.get(PARTIAL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<nav" not in html
    assert 'data-status-count="completed">4<' in html
    assert len(svgs(html)) == 1
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_empty_state(client: Client, login, pharmacist) -> None:
    login(client, pharmacist)

    html = client.get(PAGE).content.decode()

    assert "Nothing to show yet" in html
    assert "No prescriptions yet" in html
    assert "<svg" not in html


def test_queries_are_bounded(client: Client, login, pharmacist, prescriber: Prescriber, history: None,
                             django_assert_max_num_queries) -> None:  # fmt: skip
    login(client, pharmacist)
    client.get(PAGE)  # the first request also records the session's idle refresh (once a minute)
    with CaptureQueriesContext(connection) as few_rows:
        client.get(PAGE)
    now = timezone.now()
    for days_ago in range(20):
        rx(prescriber, status=S.SHIPPED, submitted_at=now - timedelta(days=days_ago, hours=30),
           ready_at=now - timedelta(days=days_ago), flags=[{"code": "alcohol", "severity": "warning"}])  # fmt: skip

    # Session, user, roles and OTP device come with every page; the figures are three.
    with django_assert_max_num_queries(10) as many_rows:
        assert client.get(PAGE).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(PARTIAL).status_code == 200
    assert len(many_rows.captured_queries) == len(few_rows.captured_queries)
