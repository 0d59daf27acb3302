"""What the people who run the pharmacy's servers read: health checks for the load balancer and the
orchestrator, and Prometheus metrics. Nothing here names a patient or a medication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from intake.models import DeliveryStatus, Notification, Prescription, PrescriptionStatus

_UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


def _database() -> str:
    connection.ensure_connection()
    return "ok"


def _cache() -> str:
    cache.set("health:probe", "ok", 10)
    if cache.get("health:probe") != "ok":
        raise RuntimeError("the cache did not keep a value")
    return "ok"


def _broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "none: tasks run in-process"
    from pharmacy.celery import app

    # A new connection to the configured URL, not one from the pool the workers' producer keeps.
    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as broker:
        broker.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def _outbox() -> str:
    oldest = Notification.objects.filter(status__in=_UNDELIVERED).aggregate(oldest=Min("created_at"))["oldest"]
    if oldest is None:
        return "ok: nothing waiting"
    age = timezone.now() - oldest
    if age > timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS):
        raise RuntimeError(f"a notification has waited {int(age.total_seconds())} s")
    return f"ok: oldest waiting {int(age.total_seconds())} s"


CHECKS: dict[str, Callable[[], str]] = {"database": _database, "cache": _cache, "broker": _broker, "outbox": _outbox}


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, 503 naming the one that failed (its error's kind only)."""
    results: dict[str, dict[str, str]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = {"status": "pass", "detail": check()}
        except Exception as exc:  # noqa: BLE001 (any failure of a dependency is a failed check)
            results[name] = {"status": "fail", "detail": type(exc).__name__}
    healthy = all(result["status"] == "pass" for result in results.values())
    return JsonResponse({"status": "pass" if healthy else "fail", "checks": results}, status=200 if healthy else 503)


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked (a database outage must not restart every web process)."""
    return JsonResponse({"status": "pass"})


class PharmacyCollector(Collector):
    """Read at each scrape: prescriptions per status and notifications not yet delivered."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # The names alone, so that registering reads nothing from the database.
        yield GaugeMetricFamily("pharmacy_prescriptions", "Prescriptions by status.", labels=["status"])
        yield GaugeMetricFamily("pharmacy_outbox_pending", "Notifications waiting to be delivered.")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        prescriptions = GaugeMetricFamily("pharmacy_prescriptions", "Prescriptions by status.", labels=["status"])
        counted = dict(Prescription.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in PrescriptionStatus.values:
            prescriptions.add_metric([status], counted.get(status, 0))
        yield prescriptions
        yield GaugeMetricFamily(
            "pharmacy_outbox_pending",
            "Notifications waiting to be delivered.",
            value=Notification.objects.filter(status__in=_UNDELIVERED).count(),
        )


# Registered when the URLs first load this module, once per process.
REGISTRY.register(PharmacyCollector())
