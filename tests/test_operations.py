"""What operators read: /health/ (each check named, 503 when one fails), /health/live/, /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from intake.models import DeliveryStatus, Notification
from tests.factories import make_prescription

pytestmark = pytest.mark.django_db


def test_health_names_each_check_and_passes(client):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    assert set(body["checks"]) == {"database", "cache", "broker", "outbox"}
    assert all(check["status"] == "pass" for check in body["checks"].values())


def test_health_fails_with_503_when_a_notification_waits_too_long(client, prescriber, settings):
    # given: a notification that no worker has delivered for longer than the limit
    make_prescription(prescriber)
    Notification.objects.update(status=DeliveryStatus.PENDING)
    later = timezone.now() + timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS + 60)

    with time_machine.travel(later, tick=False):
        response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["outbox"]["status"] == "fail"
    assert response.json()["checks"]["database"]["status"] == "pass"


def test_health_fails_with_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "fail"


def test_live_answers_while_the_process_runs(client):
    assert client.get("/health/live/").json() == {"status": "pass"}


def test_metrics_count_prescriptions_by_status_and_the_outbox(client, prescriber):
    make_prescription(prescriber)

    text = client.get("/metrics").content.decode()

    assert 'pharmacy_prescriptions{status="awaiting_questionnaire"} 1.0' in text
    assert 'pharmacy_prescriptions{status="completed"} 0.0' in text
    assert "pharmacy_outbox_pending" in text
    assert "django_http_requests_total_by_method_total" in text  # the Django request metrics
