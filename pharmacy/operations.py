"""What the people who run the pharmacy's servers read: health checks for the load balancer and the
orchestrator, and Prometheus metrics. Nothing here names a patient or a medication."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import ipaddress
import os
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from health_check import Cache, Database, HealthCheck
from health_check.base import HealthCheckResult
from health_check.exceptions import ServiceUnavailable
from kombu.exceptions import OperationalError as KombuOperationalError
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from intake.audit import client_ip
from intake.models import OPEN_STATUSES, DeliveryStatus, FlagLevel, Notification, Prescription, PrescriptionStatus

_UNDELIVERED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


# --- Readiness: /health/ ------------------------------------------------------------------------


@dataclasses.dataclass
class Broker(HealthCheck):
    """A new connection to the Celery broker: it answers, whether or not a worker listens."""

    timeout = timedelta(seconds=2)

    def run(self) -> None:
        if not settings.CELERY_BROKER_URL:
            return
        from pharmacy.celery import app

        # A connection of its own to the configured URL, not one from the pool the producer keeps.
        try:
            with app.connection_for_write(url=settings.CELERY_BROKER_URL) as broker:
                broker.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except (OSError, KombuOperationalError) as error:
            raise ServiceUnavailable("no connection to the broker") from error

    def pretty_status(self) -> str:
        return "OK" if settings.CELERY_BROKER_URL else "none: tasks run in-process"


@dataclasses.dataclass
class OutboxAge(HealthCheck):
    """The oldest notification not yet delivered is younger than HEALTH_OUTBOX_MAX_AGE_SECONDS: a
    stopped worker or a refusing mail server shows here before patients notice."""

    async def run(self) -> None:
        waiting = Notification.objects.filter(status__in=_UNDELIVERED)
        oldest = (await waiting.aaggregate(oldest=Min("created_at")))["oldest"]
        if oldest is None:
            return
        age = timezone.now() - oldest
        if age > timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS):
            raise ServiceUnavailable(f"a notification has waited {int(age.total_seconds())} s")


# django-health-check's checks and ours, answered in the probes' JSON under these names (the
# library's own view answers HTML unless asked for JSON, and 500 where the probes expect 503). The
# database check opens a connection of its own and closes it: a database refusing new connections
# shows even while this process's connection still works.
READY: dict[str, HealthCheck] = {
    "database": Database(),
    "cache": Cache(),
    "broker": Broker(),
}
# The outbox is shared by every process: a stopped worker fails it everywhere at once. It belongs in
# /health/ (monitoring, alerts) but not in /health/ready/, or a load balancer would empty the pool.
READINESS: dict[str, HealthCheck] = {**READY, "outbox": OutboxAge()}


def _answer(result: HealthCheckResult) -> dict[str, str]:
    # The library's error texts name the failure's kind only (an unexpected one: "unknown error").
    if result.error is not None:
        return {"status": "fail", "detail": str(result.error)}
    return {"status": "pass", "detail": result.check.pretty_status()}


async def _checked(checks: dict[str, HealthCheck]) -> JsonResponse:
    """200 when every check passes, 503 when one fails; each check named, run side by side."""
    results = await asyncio.gather(*(check.get_result() for check in checks.values()))
    healthy = all(result.error is None for result in results)
    return JsonResponse(
        {
            "status": "pass" if healthy else "fail",
            "checks": {name: _answer(result) for name, result in zip(checks, results, strict=True)},
        },
        status=200 if healthy else 503,
    )


@never_cache
@require_safe
async def health(request: HttpRequest) -> JsonResponse:
    """Everything, the outbox's age included: for monitoring and alerts."""
    return await _checked(READINESS)


@never_cache
@require_safe
async def ready(request: HttpRequest) -> JsonResponse:
    """What this process needs to serve requests (database, cache, broker): the load balancer's probe."""
    return await _checked(READY)


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """The process answers: nothing else is checked (a database outage must not restart every web process)."""
    return JsonResponse({"status": "pass"})


# --- Metrics: /metrics --------------------------------------------------------------------------


class PharmacyCollector(Collector):
    """Read from the database at each scrape, so every web process answers the same: prescriptions
    per status, the outbox, and the screening flags on open prescriptions by code."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # The names alone, so that registering reads nothing from the database.
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        prescriptions, pending, failed, flags = self._families()
        counted = dict(Prescription.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in PrescriptionStatus.values:
            prescriptions.add_metric([status], counted.get(status, 0))
        pending.add_metric([], Notification.objects.filter(status__in=_UNDELIVERED).count())
        failed.add_metric([], Notification.objects.filter(status=DeliveryStatus.FAILED).count())
        for code, n in sorted(open_flags_by_code().items()):
            flags.add_metric([code], n)
        yield from (prescriptions, pending, failed, flags)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("pharmacy_prescriptions", "Prescriptions by status.", labels=["status"]),
            GaugeMetricFamily("pharmacy_outbox_pending", "Notifications waiting to be delivered."),
            GaugeMetricFamily("pharmacy_outbox_failed", "Notifications given up on after the last attempt."),
            GaugeMetricFamily(
                "pharmacy_open_flags", "Screening flags on open prescriptions, by flag code.", labels=["code"]
            ),
        )


def open_flags_by_code() -> Counter[str]:
    """A gauge read from the stored flags rather than a counter bumped where flags are saved: flags
    are saved again at each re-screening and dropped when a duplicate order closes, so only the rows
    say which stand; and the figure is the same from every process and survives a restart."""
    flagged = Prescription.objects.filter(status__in=OPEN_STATUSES).exclude(flag_level=FlagLevel.NONE)
    stored = flagged.values_list("flags", flat=True).iterator(chunk_size=2000)
    return Counter(flag["code"] for flags in stored for flag in flags)


# Registered when the URLs first load this module, once per process.
REGISTRY.register(PharmacyCollector())


def scrape_registry() -> CollectorRegistry:
    """This process's metrics; or, with PROMETHEUS_MULTIPROC_DIR (several gunicorn workers), every
    worker's request metrics added up from that folder, and the database's gauges read once."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(PharmacyCollector())
    return registry


def scrape_allowed(request: HttpRequest) -> bool:
    """Each of METRICS_BEARER_TOKEN and METRICS_ALLOWED_IPS that is set must be met. With neither set
    the metrics are open only while DEBUG is on (the demo)."""
    token: str = settings.METRICS_BEARER_TOKEN
    networks: list[str] = settings.METRICS_ALLOWED_IPS
    if not token and not networks:
        return settings.DEBUG
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            return False
    if networks:
        address = client_ip(request)
        if address is None:
            return False
        client = ipaddress.ip_address(address)
        if not any(client in ipaddress.ip_network(network, strict=False) for network in networks):
            return False
    return True


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not scrape_allowed(request):
        return HttpResponseForbidden()
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)
