"""Write the audit trail: who read or changed which patient data, when and from where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from intake.logging import redact
from intake.models import AuditAction, AuditRecord, Prescription


def client_ip(request: HttpRequest) -> str | None:
    # Behind a reverse proxy the client address is the last hop the proxy appended.
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


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
        record = AuditRecord(
            actor=self.actor,
            actor_label=self.actor_label,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            prescription_reference=prescription.reference if prescription is not None else "",
            description=self.description[:200],
            method=self.method,
            path=self.path,
            ip_address=self.ip_address,
            user_agent=self.user_agent,
        )
        record.save()
        return record


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


__all__ = ["AuditAction", "AuditEntry", "audit", "client_ip"]
