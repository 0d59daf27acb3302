"""Webhooks for prescribers' systems: a delivery row per subscription, written in the transaction of
the status change it reports, POSTed after the commit through Celery, signed with the subscription's secret.

Like the notification outbox, the row is the only source of truth. Publishing is a hint that never
fails the request; webhook_deliveries_requeue (the beat, every minute) publishes what is due again,
so nothing is lost while the broker or the receiver is down. Delivery claims the row with a
conditional update before any network I/O, so a task that runs twice POSTs once.

What travels is the event's id, its name, the prescription's id and reference, its new status and
the time: no patient name, no clinical detail.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from intake.models import DeliveryStatus, Prescription, WebhookDelivery, WebhookEvent, WebhookSubscription
from intake.models.webhooks import URL_MAX_LENGTH
from intake.notifications.delivery import DeliveryResult, Outcome, describe_error, retry_delay
from intake.notifications.outbox import PUBLISH_TOGETHER, stuck_after

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Pharmacy-Signature"
EVENT_HEADER = "X-Pharmacy-Event"
DELIVERY_HEADER = "X-Pharmacy-Delivery"
USER_AGENT = "LDN-Pharmacy-Webhooks/1.0"
# Between tries: 30 s, then doubling, at most an hour (a receiver down overnight still hears).
RETRY_MAX_SECONDS = 60 * 60
# A receiver that answers but refuses (a 4xx other than 408 and 429, a redirect) or an address that
# is refused gets a few tries, not all: a deploy's brief 404 recovers, a wrong URL stops soon.
REFUSED_ATTEMPTS = 3
# HTTP answers that mean "later": timeout and too many requests. Every 5xx is retried too.
RETRIED_CLIENT_ERRORS = frozenset({408, 429})


# --- Which endpoints may be called ------------------------------------------------------------


def address_refused(address: str) -> bool:
    """Loopback, private, link-local, multicast, reserved, unspecified or otherwise not public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope ("%eth0") is not part of the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def host_problem(host: str, port: int) -> str:
    """Why the host may not be called, in words for the prescriber; "" when it may.

    Every address the name resolves to must be public: one private among them is enough to reach
    the pharmacy's own network. With WEBHOOKS_ALLOW_PRIVATE nothing is refused here.
    """
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return ""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return f"The host {host} does not resolve to an address."
    addresses = {str(sockaddr[0]) for _family, _type, _proto, _name, sockaddr in found}
    if not addresses:
        return f"The host {host} does not resolve to an address."
    if any(address_refused(address) for address in addresses):
        return (
            f"The host {host} resolves to a loopback, private, link-local, multicast or reserved address: "
            "the pharmacy calls public addresses only."
        )
    return ""


def webhook_url_problem(url: str) -> str:
    """What is wrong with an endpoint's URL, in words for the prescriber; "" when nothing is."""
    if len(url) > URL_MAX_LENGTH:
        return f"A URL of at most {URL_MAX_LENGTH} characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "This is not a URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "An http(s) URL with a host name, such as https://ehr.example.com/pharmacy-events."
    if parts.scheme != "https" and not settings.WEBHOOKS_ALLOW_PRIVATE:
        return "Use https: what the pharmacy sends must be encrypted on the way."
    if parts.username or parts.password:
        return "Put no user name or password in the URL: the signature shows that the pharmacy sent it."
    return host_problem(parts.hostname, port or _default_port(parts.scheme))


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


# --- Recording, in the event's transaction ----------------------------------------------------


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_status_changed_record(*, prescription: Prescription, status: str, at: datetime) -> list[WebhookDelivery]:
    """One delivery row per active subscription of the prescription's prescriber; must run inside the
    status change's transaction. One event id for all of them: receivers drop repeats by it."""
    if not prescription.prescriber.has_webhooks:
        return []
    subscriptions = WebhookSubscription.objects.filter(prescriber_id=prescription.prescriber_id, ended_at__isnull=True)
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "event": WebhookEvent.STATUS_CHANGED.value,
        "prescription": prescription.pk,
        "reference": prescription.reference,
        "status": str(status),
        "at": _at(at),
    }
    rows = [
        WebhookDelivery(
            subscription_id=subscription_id, event_id=event_id, event=WebhookEvent.STATUS_CHANGED,
            prescription=prescription, payload=payload, next_attempt_at=at,
        )
        for subscription_id in subscriptions.values_list("pk", flat=True)
    ]  # fmt: skip
    return _recorded(rows)


def webhook_ping_record(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """A test event for one subscription; must run inside a transaction (published after it commits)."""
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "event": WebhookEvent.PING.value, "at": _at(now)}
    (row,) = _recorded(
        [WebhookDelivery(subscription=subscription, event_id=event_id, event=WebhookEvent.PING, payload=payload,
                         next_attempt_at=now)]
    )  # fmt: skip
    return row


def _recorded(rows: list[WebhookDelivery]) -> list[WebhookDelivery]:
    WebhookDelivery.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(partial(webhook_deliveries_publish, ids))
    return rows


def webhook_deliveries_publish(delivery_ids: Sequence[int]) -> None:
    """Hand the rows to Celery. Never raises: an unpublished row waits for the periodic re-queue
    (see notifications_publish for the short broker timeouts that keep a request from stalling)."""
    from intake.notifications.tasks import deliver_webhooks_task

    ids = list(delivery_ids)
    for start in range(0, len(ids), PUBLISH_TOGETHER):
        started = time.monotonic()
        chunk = ids[start : start + PUBLISH_TOGETHER]
        try:
            deliver_webhooks_task.apply_async(args=[chunk], argsrepr=repr([chunk]), kwargsrepr="{}", retry=False)
        except Exception as exc:
            logger.warning(
                "Could not queue webhook deliveries %s (%s after %.1f s); the periodic re-queue will send them",
                ids[start:], type(exc).__name__, time.monotonic() - started,
            )  # fmt: skip
            return


def webhook_deliveries_requeue(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Publish again every pending row whose next try is due, and put back rows left "sending" by a
    worker that died. Returns the ids published.

    A row is due NOTIFICATION_RETRY_AFTER_SECONDS after its next_attempt_at, so that the task's own
    retry (or the publish after the commit) goes first; the claim makes a duplicate harmless anyway.
    """
    now = now or timezone.now()
    stuck = WebhookDelivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - stuck_after())
    stuck.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED, last_error="The worker stopped while sending and no tries are left."
    )
    # Its next_attempt_at is in the past (it was claimed after it), so it is due at once.
    stuck.update(status=DeliveryStatus.PENDING, last_error="The worker stopped while sending; queued again.")
    grace = timedelta(seconds=settings.NOTIFICATION_RETRY_AFTER_SECONDS)
    due = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        logger.info("Re-queueing %d undelivered webhook deliveries", len(due))
        webhook_deliveries_publish(due)
    return due


# --- Delivery ---------------------------------------------------------------------------------


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The bytes POSTed and signed: the same for every try (keys sorted, no spaces)."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def webhook_signature(*, secret: str, body: bytes) -> str:
    """X-Pharmacy-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Answer:
    """How one try went: the receiver's status (None without an answer), whether trying again may
    help, and the error in words."""

    status: int | None
    transient: bool
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _post(delivery: WebhookDelivery, body: bytes) -> Answer:
    subscription = delivery.subscription
    parts = urlsplit(subscription.url)
    host = parts.hostname or ""
    # Checked again at every try (DNS can change since the subscription was made): a refused address
    # fails the try without a connection. The HTTP client resolves the name once more; an egress
    # proxy that refuses private addresses closes that last gap where DNS rebinding matters.
    problem = host_problem(host, parts.port or _default_port(parts.scheme))
    if problem:
        return Answer(status=None, transient=False, error=f"Not called: {problem}")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: webhook_signature(secret=subscription.secret, body=body),
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.event_id),
    }
    try:
        with requests.Session() as session:
            # No proxy nor .netrc from the environment: nothing of the machine's travels to an endpoint.
            session.trust_env = False
            # stream: only the status is read, never a body the receiver might make endless.
            response = session.post(
                subscription.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
                allow_redirects=False, stream=True,
            )  # fmt: skip
            response.close()
    except (requests.ConnectionError, requests.Timeout, OSError, SoftTimeLimitExceeded) as exc:
        return Answer(status=None, transient=True, error=describe_error(exc))
    except requests.RequestException as exc:
        return Answer(status=None, transient=False, error=describe_error(exc))
    code = response.status_code
    if 200 <= code < 300:
        return Answer(status=code, transient=False)
    transient = code >= 500 or code in RETRIED_CLIENT_ERRORS
    return Answer(status=code, transient=transient, error=f"The receiver answered HTTP {code}.")


def webhook_delivery_claim(*, delivery_id: int) -> bool:
    """Take a pending row for this try; False when another try has it or it is done."""
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    return claimed == 1


def _finish(delivery_id: int, **values: Any) -> None:
    updated = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(**values)
    if not updated:
        logger.warning("Webhook delivery %s was no longer being sent when its try ended", delivery_id)


def webhook_deliver(*, delivery_id: int) -> DeliveryResult:
    """POST one row if it is pending. Never raises for a delivery error: the outcome says what happened."""
    if not webhook_delivery_claim(delivery_id=delivery_id):
        return DeliveryResult(outcome=Outcome.SKIPPED)
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    if not delivery.subscription.active:
        _finish(delivery_id, status=DeliveryStatus.FAILED, last_error="The subscription was ended before delivery.")
        return DeliveryResult(outcome=Outcome.FAILED, attempts=delivery.attempts)
    answer = _post(delivery, webhook_body(delivery.payload))
    now = timezone.now()
    if answer.delivered:
        _finish(delivery_id, status=DeliveryStatus.SENT, sent_at=now, last_error="",
                last_response_status=answer.status)  # fmt: skip
        return DeliveryResult(outcome=Outcome.SENT, attempts=delivery.attempts)
    tries = settings.WEBHOOK_MAX_ATTEMPTS if answer.transient else min(REFUSED_ATTEMPTS, settings.WEBHOOK_MAX_ATTEMPTS)
    error = answer.error[:500]
    if delivery.attempts < tries:
        delay = retry_delay(attempts=delivery.attempts, max_seconds=RETRY_MAX_SECONDS)
        _finish(delivery_id, status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay),
                last_error=error, last_response_status=answer.status)  # fmt: skip
        logger.info("Webhook delivery %s try %d failed (%s); next try in %d s",
                    delivery_id, delivery.attempts, error, delay)  # fmt: skip
        return DeliveryResult(outcome=Outcome.RETRY, attempts=delivery.attempts, retry_in=delay)
    _finish(delivery_id, status=DeliveryStatus.FAILED, last_error=error, last_response_status=answer.status)
    logger.warning("Webhook delivery %s failed after %d tries: %s", delivery_id, delivery.attempts, error)
    return DeliveryResult(outcome=Outcome.FAILED, attempts=delivery.attempts)
