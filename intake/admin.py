"""Django admin for pharmacy administrators: verify prescribers, read history and the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from intake.audit import AuditAction, audit
from intake.models import (
    AuditRecord,
    CompoundingRecord,
    DosageForm,
    MasterFormulation,
    Patient,
    Prescriber,
    Prescription,
    StateLicence,
)


@admin.register(Prescriber)
class PrescriberAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "license_state", "license_expires", "verified_at")
    list_filter = ("credential", "license_state")
    search_fields = ("user__email", "user__last_name", "npi", "license_number")
    readonly_fields = ("verified_at", "verified_by")
    actions = ("verify",)

    @admin.action(description="Verify the selected prescribers (NPI and licence checked)")
    def verify(self, request: HttpRequest, queryset: QuerySet[Prescriber]) -> None:
        count = queryset.filter(verified_at__isnull=True).update(verified_at=timezone.now(), verified_by=request.user)
        self.message_user(request, f"{count} prescriber(s) verified.", messages.SUCCESS)


class AuditedAdmin(SimpleHistoryAdmin):
    """Patient data read or changed in the admin leaves an audit record, as everywhere else."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        audit(request, AuditAction.LIST, object_type=self.model._meta.model_name or "", description="Django admin")
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        self.audit_object(request, object_id, AuditAction.UPDATE if request.method == "POST" else AuditAction.VIEW)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        self.audit_object(request, object_id, AuditAction.VIEW, "Django admin: history")
        return response

    def audit_object(
        self, request: HttpRequest, object_id: str, action: str, description: str = "Django admin"
    ) -> None:
        found = self.model._default_manager.filter(pk=object_id).first()
        if found is None:
            return
        if isinstance(found, Prescription):
            audit(request, action, prescription=found, description=description)
        else:
            audit(request, action, object_type=self.model._meta.model_name or "", object_id=found.pk,
                  description=description)  # fmt: skip


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    list_display = ("last_name", "first_name", "date_of_birth", "state")
    search_fields = ("last_name", "first_name")


@admin.register(Prescription)
class PrescriptionAdmin(AuditedAdmin):
    # Status changes go through the workflow service only: nothing here is editable.
    list_display = ("reference", "status", "prescriber", "submitted_at", "flag_level")
    list_filter = ("status", "dosage_form", "flag_level")
    search_fields = ("reference", "patient__last_name")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CompoundingRecord)
class CompoundingRecordAdmin(SimpleHistoryAdmin):
    list_display = ("prescription", "compounded_at", "compounded_by", "beyond_use_date", "checked_by")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StateLicence)
class StateLicenceAdmin(SimpleHistoryAdmin):
    list_display = ("state", "licence_number", "expires_on", "active")
    list_filter = ("active",)
    search_fields = ("state", "licence_number")


admin.site.register(DosageForm)
admin.site.register(MasterFormulation, SimpleHistoryAdmin)


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    list_display = (
        "created_at", "actor", "actor_label", "action", "object_type", "prescription_reference", "ip_address",
    )  # fmt: skip
    list_filter = ("action", "object_type")
    search_fields = ("prescription_reference", "actor__email", "path")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
