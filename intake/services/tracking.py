"""The carrier's tracking events: what a parcel's news changes at the pharmacy.

One event is kept once per event id. Its effects run in the transaction that stores it, with the
prescription row locked: `delivered` completes a shipped prescription and tells the patient,
`out_for_delivery` tells the patient, a failure or a return waits for the staff. News older than
what is already known (events can arrive out of order) is kept for the record and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Role, User
from intake.audit import AuditAction, AuditEntry
from intake.errors import Conflict, Forbidden, NotFound
from intake.models import (
    NEEDS_STAFF,
    Action,
    CarrierStatus,
    Fill,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    TrackingEvent,
)
from intake.notifications.outbox import notification_record
from intake.services.workflow import transition

CARRIER = "carrier (EasyPost)"
MAX_MESSAGE = 300
MAX_NOTE = 300


@dataclass(frozen=True)
class CarrierNews:
    """One tracker update as the carrier sent it, read from the webhook's body."""

    event_id: str
    tracking_code: str
    status: str
    message: str
    occurred_at: datetime


def _single_line(value: Any, limit: int) -> str:
    """One printable line: NUL and other control characters are never stored (PostgreSQL refuses NUL)."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value or ""))
    return " ".join(text.split())[:limit]


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _event_id(body: Mapping[str, Any]) -> str:
    """EasyPost's event id ("evt_…"); for an event sent without one, a digest of its content, so
    that the same event delivered twice is still recognised as one."""
    given = _single_line(body.get("id"), 80)
    if given:
        return given
    content = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()


def carrier_news_read(body: Mapping[str, Any]) -> CarrierNews | None:
    """The tracker update in an EasyPost event; None for any other kind of event.

    ValidationError when a tracker update lacks its result or tracking code.
    """
    if body.get("description") != "tracker.updated":
        return None
    result = body.get("result")
    if not isinstance(result, Mapping):
        raise ValidationError({"result": ["A tracker update needs its result (the tracker)."]})
    code = _single_line(result.get("tracking_code"), 60)
    if not code:
        raise ValidationError({"tracking_code": ["A tracker update needs its tracking code."]})
    event_id = _event_id(body)
    status = str(result.get("status") or "")
    if status not in CarrierStatus.values:
        status = CarrierStatus.UNKNOWN
    given_details = result.get("tracking_details")
    details = [d for d in given_details if isinstance(d, Mapping)] if isinstance(given_details, list) else []
    latest = details[-1] if details else {}
    message = _single_line(latest.get("message") or result.get("status_detail"), MAX_MESSAGE)
    occurred_at = _when(latest.get("datetime")) or _when(result.get("updated_at")) or timezone.now()
    return CarrierNews(event_id=event_id, tracking_code=code, status=status, message=message, occurred_at=occurred_at)


def _shipped_fill(code: str) -> tuple[Prescription | None, Fill | None]:
    """The prescription (locked) and fill shipped under this tracking code.

    Carriers recycle tracking codes after a while, and a pharmacy's own slips repeat one: the parcel
    the carrier speaks of is the one still on its way, so a fill in transit under the code comes
    before the newest fill already delivered or picked up."""
    fills = Fill.objects.filter(tracking_number=code)
    in_transit = fills.filter(prescription__status=PrescriptionStatus.SHIPPED, number=F("prescription__fill_number"))
    fill = in_transit.order_by("-pk").first() or fills.order_by("-pk").first()
    prescription_id = fill.prescription_id if fill is not None else None
    if prescription_id is None:
        prescriptions = Prescription.objects.filter(tracking_number=code).order_by("-pk").values_list("pk", flat=True)
        prescription_id = prescriptions.filter(status=PrescriptionStatus.SHIPPED).first() or prescriptions.first()
    if prescription_id is None:
        return None, None
    # Locked first, so that two deliveries of one event wait for each other before either looks.
    prescription = Prescription.objects.select_for_update(of=("self",)).get(pk=prescription_id)
    if fill is None:
        fill = Fill.objects.filter(prescription=prescription, number=prescription.fill_number).first()
    return prescription, fill


@transaction.atomic(durable=True)
def tracking_event_receive(*, news: CarrierNews, entry: AuditEntry) -> TrackingEvent | None:
    """Keep one carrier event and apply it; None when this event id was already kept."""
    prescription, fill = _shipped_fill(news.tracking_code)
    if TrackingEvent.objects.filter(event_id=news.event_id).exists():
        return None
    # This parcel's earlier news only: a recycled code's events about an earlier parcel do not count.
    known = TrackingEvent.objects.filter(tracking_code=news.tracking_code)
    known = known.filter(fill=fill) if fill is not None else known.filter(prescription=prescription)
    delivered = known.filter(status=CarrierStatus.DELIVERED).exists()
    newer = known.filter(occurred_at__gt=news.occurred_at).exists()
    # A problem reported after the parcel was delivered still deserves a look; one from before does not.
    delivered_before = known.filter(status=CarrierStatus.DELIVERED, occurred_at__gte=news.occurred_at).exists()
    event = TrackingEvent(
        event_id=news.event_id, tracking_code=news.tracking_code, prescription=prescription, fill=fill,
        status=news.status, message=news.message, occurred_at=news.occurred_at, received_at=timezone.now(),
        needs_staff=news.status in NEEDS_STAFF and not delivered_before,
    )  # fmt: skip
    try:
        # A savepoint: the same event delivered twice at once, the unique event id keeps one.
        with transaction.atomic():
            event.save()
    except IntegrityError:
        return None
    if prescription is None:
        return event
    current = fill is None or fill.number == prescription.fill_number
    said = f"The carrier: {CarrierStatus(news.status).label}" + (f" ({news.message})" if news.message else "")
    if news.status == CarrierStatus.DELIVERED:
        if current and prescription.status == PrescriptionStatus.SHIPPED:
            transition(
                prescription_id=prescription.pk, action=Action.DELIVERED, actor=None, actor_label=CARRIER,
                message=said[:1000], details={"tracking_event": event.pk},
            )  # fmt: skip
    elif (
        news.status == CarrierStatus.OUT_FOR_DELIVERY
        and current
        and not (delivered or newer)
        and prescription.status == PrescriptionStatus.SHIPPED
    ):
        notification_record(prescription=prescription, event=NotificationEvent.OUT_FOR_DELIVERY)
    entry.record(AuditAction.UPDATE, prescription=prescription, object_type="tracking event", object_id=event.pk)
    return event


def tracking_problems() -> Any:
    """The carrier's news waiting for someone at the pharmacy, the oldest first."""
    return (
        TrackingEvent.objects.filter(needs_staff=True, handled_at__isnull=True)
        .select_related("prescription__patient")
        .order_by("received_at", "pk")
    )


def tracking_problems_count() -> int:
    """How many parcels wait for the staff (a count on the partial index of open problems)."""
    return TrackingEvent.objects.filter(needs_staff=True, handled_at__isnull=True).count()


@transaction.atomic(durable=True)
def tracking_problem_handle(*, event_id: int, actor: User, note: str, entry: AuditEntry) -> TrackingEvent:
    """Record what the staff did about a failed or returned parcel; it leaves the list."""
    if not actor.has_role(Role.PHARMACIST, Role.TECHNICIAN):
        raise Forbidden()
    text = _single_line(note, MAX_NOTE + 1)
    if not text:
        raise ValidationError({"handled_note": ["Write what was done (called the patient, shipped again…)."]})
    if len(text) > MAX_NOTE:
        raise ValidationError({"handled_note": [f"Keep it to {MAX_NOTE} characters."]})
    event = TrackingEvent.objects.select_for_update().filter(pk=event_id, needs_staff=True).first()
    if event is None:
        raise NotFound()
    if event.handled_at is not None:
        raise Conflict("Someone already recorded what was done about this parcel; reload the list.")
    event.handled_by = actor
    event.handled_at = timezone.now()
    event.handled_note = text
    event.save(update_fields=["handled_by", "handled_at", "handled_note"])
    entry.record(AuditAction.UPDATE, prescription=event.prescription, object_type="tracking event", object_id=event.pk)
    return event
