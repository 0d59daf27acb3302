"""Write the audit trail: who read or changed which patient data, when and from where."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
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
