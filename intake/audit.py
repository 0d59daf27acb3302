"""Write the audit trail: who read or changed which patient data, when and from where."""

from __future__ import annotations

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
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    if prescription is not None:
        object_type = object_type or "prescription"
        object_id = object_id or prescription.pk
    return AuditRecord.objects.create(
        actor=actor,
        actor_label=actor_label or ("" if actor else "anonymous"),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        prescription_reference=prescription.reference if prescription is not None else "",
        description=description[:200],
        method=request.method or "",
        # The questionnaire token in a path is a key to patient data: it is not kept in the trail.
        path=redact(request.path)[:300],
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


__all__ = ["AuditAction", "audit", "client_ip"]
