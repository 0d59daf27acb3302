"""What operators read: /health/ (each check named, 503 when one fails), /health/live/, /metrics."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connections
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from intake.models import DeliveryStatus, Notification, PrescriptionStatus
from intake.services import workflow
from tests.factories import make_prescription
from tests.workflow_helpers import advance

pytestmark = pytest.mark.django_db

S = PrescriptionStatus
TOKEN = "scrape-3f1c9a"
DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana-dashboard.json"


# --- /health/ -----------------------------------------------------------------------------------


def test_health_names_each_check_and_passes(client):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "pass"
    assert set(body["checks"]) == {"database", "cache", "broker", "outbox"}
    assert all(check["status"] == "pass" for check in body["checks"].values())
    assert "no-cache" in response["Cache-Control"]


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


def test_health_passes_while_the_oldest_waiting_notification_is_younger_than_the_limit(client, prescriber, settings):
    make_prescription(prescriber)
    Notification.objects.update(status=DeliveryStatus.SENDING)
    later = timezone.now() + timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS - 60)

    with time_machine.travel(later, tick=False):
        response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"]["outbox"]["status"] == "pass"


def test_health_fails_with_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"] == {"status": "fail", "detail": "Unavailable: no connection to the broker"}
    assert checks["database"]["status"] == "pass"


def test_health_fails_with_503_when_the_database_refuses_new_connections(client, monkeypatch, tmp_path):
    # given: new connections cannot open (the test's own stays open): on PostgreSQL they go to a port
    # where nothing listens, on SQLite to a file in a folder that does not exist
    if connections["default"].vendor == "sqlite":
        where = str(tmp_path / "gone" / "pharmacy.sqlite3")
        monkeypatch.setitem(connections.settings["default"], "NAME", where)
    else:
        where = "127.0.0.1"
        monkeypatch.setitem(connections.settings["default"], "HOST", where)
        monkeypatch.setitem(connections.settings["default"], "PORT", "1")

    response = client.get("/health/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "fail"
    assert where not in checks["database"]["detail"]  # the failure's kind, not the address
    assert checks["cache"]["status"] == "pass"


def test_live_answers_while_the_process_runs_without_reading_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live/")

    assert response.json() == {"status": "pass"}


def test_ready_leaves_the_shared_outbox_to_health(client, prescriber, settings):
    # given: a stuck outbox, which every web process shares: the load balancer must not drop them all
    make_prescription(prescriber)
    Notification.objects.update(status=DeliveryStatus.PENDING)
    later = timezone.now() + timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS + 60)

    with time_machine.travel(later, tick=False):
        ready, health = client.get("/health/ready/"), client.get("/health/")

    assert (ready.status_code, health.status_code) == (200, 503)
    assert set(ready.json()["checks"]) == {"database", "cache", "broker"}


def test_ready_fails_with_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/health/ready/")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "fail"


@pytest.mark.parametrize("path", ["/health/", "/health/ready/", "/health/live/"])
def test_probes_answer_head_as_load_balancers_send_it(client, path):
    response = client.head(path)

    assert response.status_code == 200
    assert client.post(path).status_code == 405


def test_the_dashboard_does_not_add_up_what_every_process_reads_from_the_database():
    # pharmacy_* gauges are the same database count in every scraped process: summing them multiplies
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]

    assert [q for q in queries if "pharmacy_" in q and "sum" in q and "_seconds" not in q] == []


# --- /metrics -----------------------------------------------------------------------------------


@pytest.fixture
def scrape(client, settings):
    """GET /metrics with the scrape token; the samples by (name, labels)."""
    settings.METRICS_BEARER_TOKEN = TOKEN

    def read() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 200
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return read


def test_metrics_count_prescriptions_by_status_and_the_outbox(scrape, prescriber, pharmacist, technician):
    # given: one prescription waiting for its questionnaire, one in review
    make_prescription(prescriber)
    advance(make_prescription(prescriber), S.IN_REVIEW, pharmacist=pharmacist, technician=technician)
    sent, failed = Notification.objects.order_by("id")[:2]
    Notification.objects.filter(pk=sent.pk).update(status=DeliveryStatus.SENT)
    Notification.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED)
    undelivered = Notification.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]).count()

    samples = scrape()

    assert samples["pharmacy_prescriptions", (("status", "awaiting_questionnaire"),)] == 1
    assert samples["pharmacy_prescriptions", (("status", "in_review"),)] == 1
    assert samples["pharmacy_prescriptions", (("status", "completed"),)] == 0
    assert samples["pharmacy_outbox_pending", ()] == undelivered
    assert samples["pharmacy_outbox_failed", ()] == 1
    assert any(name == "django_http_requests_total_by_method_total" for name, _labels in samples)


def test_metrics_count_the_flags_on_open_prescriptions_by_code(scrape, prescriber, pharmacist):
    # given: two open orders for the same patient, each flagged as the other's duplicate
    first = make_prescription(prescriber)
    make_prescription(prescriber)
    duplicates = ("pharmacy_open_flags", (("code", "duplicate_order"),))

    assert scrape()[duplicates] == 2

    # when: one is cancelled, the other is no longer a duplicate
    workflow.prescription_cancel(prescription_id=first.pk, actor=pharmacist, reason="Patient asked to cancel.")

    assert scrape().get(duplicates, 0) == 0


def test_metrics_time_from_submission_to_ready_once_the_final_check_commits(
    scrape, prescriber, pharmacist, technician, django_capture_on_commit_callbacks
):
    at_final_check = advance(make_prescription(prescriber), S.FINAL_CHECK, pharmacist=pharmacist, technician=technician)
    count = ("pharmacy_submission_to_ready_seconds_count", ())
    total = ("pharmacy_submission_to_ready_seconds_sum", ())
    within_a_day = ("pharmacy_submission_to_ready_seconds_bucket", (("le", "86400.0"),))
    before = scrape()
    two_hours_later = timezone.now() + timedelta(hours=2)

    with (
        time_machine.travel(two_hours_later, tick=False),
        django_capture_on_commit_callbacks() as callbacks,
    ):
        workflow.prescription_final_check(prescription_id=at_final_check.pk, actor=pharmacist)

    # then: nothing counted before the commit; once it commits, one fill took about two hours
    assert scrape()[count] == before[count]
    for callback in callbacks:
        callback()
    after = scrape()
    assert after[count] == before[count] + 1
    assert after[within_a_day] == before[within_a_day] + 1
    assert 2 * 3600 <= after[total] - before[total] < 2 * 3600 + 60


def test_metrics_refuse_a_scrape_without_the_token(client, settings):
    settings.METRICS_BEARER_TOKEN = TOKEN

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_metrics_answer_only_addresses_in_the_allow_list(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.7"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.8").status_code == 403
    # Without a trusted proxy, a forwarded address proves nothing.
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.8", HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 403


def test_metrics_read_the_client_address_the_trusted_proxy_added(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.TRUST_X_FORWARDED_FOR = True

    allowed = client.get("/metrics", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.1.1.1")
    refused = client.get("/metrics", REMOTE_ADDR="172.16.0.2", HTTP_X_FORWARDED_FOR="10.1.1.1, 203.0.113.9")

    assert (allowed.status_code, refused.status_code) == (200, 403)


def test_metrics_need_both_the_token_and_the_address_when_both_are_set(client, settings):
    settings.METRICS_BEARER_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    assert client.get("/metrics", headers=bearer, REMOTE_ADDR="10.0.0.5").status_code == 200
    assert client.get("/metrics", headers=bearer, REMOTE_ADDR="192.0.2.8").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 403


def test_metrics_are_open_with_nothing_set_only_while_debug_is_on(client, settings):
    settings.DEBUG = False
    refused = client.get("/metrics")
    settings.DEBUG = True
    open_for_the_demo = client.get("/metrics")

    assert refused.status_code == 403
    assert b"pharmacy_" not in refused.content
    assert open_for_the_demo.status_code == 200


def test_metrics_add_up_gunicorn_workers_and_still_read_the_database(scrape, monkeypatch, tmp_path, prescriber):
    make_prescription(prescriber)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = scrape()

    assert samples["pharmacy_prescriptions", (("status", "awaiting_questionnaire"),)] == 1


def test_the_grafana_dashboard_queries_only_metrics_that_are_served(scrape, client, prescriber):
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    queried = {name for query in queries for name in re.findall(r"\b(?:django|pharmacy)_\w+", query)}
    # given: a request behind us and two flagged orders, so that every series has a sample
    client.get("/health/live/")
    make_prescription(prescriber)
    make_prescription(prescriber)

    served = {name for name, _labels in scrape()}

    assert queried
    assert queried <= served, queried - served
