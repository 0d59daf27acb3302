"""Append-only audit trail of every read and change of patient data."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DOWNLOAD = "download", "Downloaded"
    ACTION = "action", "Workflow action"
    DENIED = "denied", "Access denied"


class AppendOnlyQuerySet(models.QuerySet["AuditRecord"]):
    """Bulk changes would bypass the model's own refusal; refuse them here too."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("Audit records are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit records are append-only.")


class AuditRecord(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(  # indexed by audit_actor_idx (Meta), which leads with it
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Who, when nobody signed in: "patient (private link)", "patient (status lookup)", "anonymous".
    actor_label = models.CharField(max_length=80, blank=True)
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    prescription_reference = models.CharField(max_length=12, blank=True, db_index=True)
    description = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=8, blank=True)
    path = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [
            models.Index(fields=["actor", "-created_at"], name="audit_actor_idx"),
            # A patient's own record (read in the admin, say), for the prescription's access log.
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor or self.actor_label} {self.action} {self.object_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Audit records are append-only.")
