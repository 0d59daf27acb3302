"""Write the audit trail: who read or changed which patient data, when and from where."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from intake.logging import redact
from intake.models import AuditAction, AuditRecord, Prescription


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, as the throttles, the audit trail and the sign-in lockout all count it.

    With TRUST_X_FORWARDED_FOR (one trusted reverse proxy in front), the last X-Forwarded-For
    entry: the one that proxy appended. Earlier entries come from the client and prove nothing.
    Without it, the header is ignored: anyone can send it.
    """
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        last_hop = forwarded.rsplit(",", 1)[-1].strip()
        if _is_ip_address(last_hop):
            return last_hop
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _is_ip_address(remote) else None


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class AuditEntry:
    """Who acts and from where, taken from the request, for a service that writes the audit row in
    the transaction of the change itself (a submission), so the change and its record commit together."""

    actor: Any  # the signed-in User, or None
    actor_label: str
    method: str
    path: str
    ip_address: str | None
    user_agent: str
    description: str = ""

    @classmethod
    def of(cls, request: HttpRequest, *, description: str = "", actor_label: str = "") -> AuditEntry:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        return cls(
            actor=actor,
            actor_label=actor_label or ("" if actor else "anonymous"),
            method=request.method or "",
            # The questionnaire token in a path is a key to patient data: it is not kept in the trail.
            path=redact(request.path)[:300],
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            description=description,
        )

    def record(
        self,
        action: str,
        *,
        prescription: Prescription | None = None,
        object_type: str = "",
        object_id: str | int = "",
    ) -> AuditRecord:
        if prescription is not None:
            object_type = object_type or "prescription"
            object_id = object_id or prescription.pk
        reference = prescription.reference if prescription is not None else ""
        record = self.unsaved(action, object_type=object_type, object_id=object_id, prescription_reference=reference)
        record.save()
        return record

    def unsaved(
        self, action: str, *, object_type: str, object_id: str | int = "", prescription_reference: str = ""
    ) -> AuditRecord:
        return AuditRecord(
            actor=self.actor,
            actor_label=self.actor_label,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            prescription_reference=prescription_reference,
            description=self.description[:200],
            method=self.method,
            path=self.path,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
        )


@dataclass(frozen=True)
class Shown:
    """One record a list page showed: a prescription (its reference puts the read in its access log)
    or a patient's own record."""

    object_type: str
    object_id: str | int
    prescription_reference: str = ""

    @classmethod
    def prescription(cls, pk: int, reference: str) -> Shown:
        return cls("prescription", pk, reference)

    @classmethod
    def patient(cls, pk: int) -> Shown:
        return cls("patient", pk)


def audit_list(
    request: HttpRequest, shown: Iterable[Shown], *, object_type: str, object_id: str | int = "", description: str = ""
) -> None:
    """A list page's reads: one record per prescription or patient it showed, so each appears in
    that patient's accounting of disclosures; one record for the list itself when it showed none.
    One INSERT whatever the page's length."""
    entry = AuditEntry.of(request, description=description)
    records = [entry.unsaved(AuditAction.LIST, object_type=row.object_type, object_id=row.object_id,
                             prescription_reference=row.prescription_reference) for row in shown]  # fmt: skip
    if not records:
        records = [entry.unsaved(AuditAction.LIST, object_type=object_type, object_id=object_id)]
    # Only new rows: AuditRecord.save() refuses a second save, which bulk_create never does.
    AuditRecord.objects.bulk_create(records)


class Channel(models.TextChoices):
    """Where a read or change came in."""

    WEB = "web", "Web pages"
    API = "api", "JSON API"
    FHIR = "fhir", "FHIR"
    ADMIN = "admin", "Django admin"
    SYSTEM = "system", "The pharmacy's system"


# By the request's path (pharmacy/urls.py); a record without a path was written by the pharmacy's
# own scheduled work, with no request.
CHANNELS = (("/api/", Channel.API), ("/fhir/", Channel.FHIR), ("/admin/", Channel.ADMIN), ("/webhooks/", Channel.API))


def channel_of(path: str) -> Channel:
    if not path:
        return Channel.SYSTEM
    for prefix, channel in CHANNELS:
        if path.startswith(prefix):
            return channel
    return Channel.WEB


def audit(
    request: HttpRequest,
    action: str,
    *,
    prescription: Prescription | None = None,
    object_type: str = "",
    object_id: str | int = "",
    description: str = "",
    actor_label: str = "",
) -> AuditRecord:
    entry = AuditEntry.of(request, description=description, actor_label=actor_label)
    return entry.record(action, prescription=prescription, object_type=object_type, object_id=object_id)


__all__ = ["AuditAction", "AuditEntry", "Channel", "Shown", "audit", "audit_list", "channel_of", "client_ip"]
