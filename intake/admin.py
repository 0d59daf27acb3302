"""Django admin for pharmacy administrators: verify prescribers, read history and the audit trail.

Patient data read or changed here leaves an audit record, as on every other path. What records
the pharmacy's work (prescriptions, compounding, the workflow's events, the audit trail) is
read-only here and never deleted: a pharmacy keeps its records, and a change made beside the
workflow would falsify them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from intake.audit import AuditAction, Shown, audit, audit_list
from intake.models import (
    AuditRecord,
    CompoundingRecord,
    DosageForm,
    MasterFormulation,
    Patient,
    Prescriber,
    PrescriberLicence,
    Prescription,
    PrescriptionEvent,
    StateLicence,
    WebhookDelivery,
    WebhookSubscription,
)


class HistoryAdmin(SimpleHistoryAdmin):
    """A record's past versions, to read. Restoring one is refused: simple-history saves the old
    version over the record whole, its read-only fields included (a prescriber's verification, say)."""

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class AuditedAdmin(admin.ModelAdmin):
    """Every list, record and history page shown leaves an audit record: who, from where, what."""

    audit_object_type = ""  # the model's name unless set

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if response.status_code < 400:
            # The page's rows, as the template will show them (the same queryset: read once).
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            rows = changelist.result_list if changelist is not None else ()
            shown = [subject for subject in map(self.shown_in_list, rows) if subject is not None]
            audit_list(request, shown, object_type=self.object_type(), description="Django admin")
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        # A saved change redirects; a form sent back with errors has only shown the record again.
        saved = request.method == "POST" and response.status_code == 302
        self.audit_object(request, object_id, AuditAction.UPDATE if saved else AuditAction.VIEW, response)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        self.audit_object(request, object_id, AuditAction.VIEW, response, "Django admin: history")
        return response

    def object_type(self) -> str:
        return self.audit_object_type or self.model._meta.model_name or ""

    def prescription_of(self, obj: Any) -> Prescription | None:
        """The prescription the record belongs to, so the prescription's access log lists the read."""
        return None

    def shown_in_list(self, obj: Any) -> Shown | None:
        """What a list row discloses of a patient: its prescription, or None for a row that holds no patient data."""
        prescription = self.prescription_of(obj)
        if prescription is None:
            return None
        return Shown(self.object_type(), obj.pk, prescription.reference)

    def audit_object(
        self, request: HttpRequest, object_id: str, action: str, response: HttpResponse,
        description: str = "Django admin",
    ) -> None:  # fmt: skip
        if response.status_code >= 400:
            return
        found = self.get_object(request, object_id)
        if found is None:
            return
        audit(request, action, prescription=self.prescription_of(found), object_type=self.object_type(),
              object_id=found.pk, description=description)  # fmt: skip


class AuditedHistoryAdmin(AuditedAdmin, HistoryAdmin):
    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_form_view(request, object_id, version_id, extra_context)
        self.audit_object(request, object_id, AuditAction.VIEW, response, f"Django admin: past version {version_id}")
        return response


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added, changed nor deleted here (the bulk delete action goes with the permission)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PrescriberLicenceInline(admin.TabularInline):
    """The prescriber's licences in other states, recorded once checked with each state's board."""

    model = PrescriberLicence
    extra = 0
    fields = ("state", "licence_number", "expires_on")


@admin.register(Prescriber)
class PrescriberAdmin(HistoryAdmin):
    inlines = (PrescriberLicenceInline,)
    list_display = ("__str__", "license_state", "license_expires", "verified_at")
    list_filter = ("credential", "license_state")
    search_fields = ("user__email", "user__last_name", "npi", "license_number")
    readonly_fields = ("verified_at", "verified_by")
    actions = ("verify",)

    @admin.action(description="Verify the selected prescribers (NPI and licence checked)")
    def verify(self, request: HttpRequest, queryset: QuerySet[Prescriber]) -> None:
        count = queryset.filter(verified_at__isnull=True).update(verified_at=timezone.now(), verified_by=request.user)
        self.message_user(request, f"{count} prescriber(s) verified.", messages.SUCCESS)


@admin.register(Patient)
class PatientAdmin(AuditedHistoryAdmin):
    # Details can be corrected here (history keeps the old); patients arrive with their first
    # prescription and their record is kept as long as the pharmacy keeps prescriptions.
    list_display = ("last_name", "first_name", "date_of_birth", "state")
    search_fields = ("last_name", "first_name")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def shown_in_list(self, obj: Patient) -> Shown:
        return Shown.patient(obj.pk)


@admin.register(Prescription)
class PrescriptionAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    # Prescriptions arrive signed and change status through the workflow service only.
    list_display = ("reference", "status", "prescriber", "submitted_at", "flag_level")
    list_filter = ("status", "dosage_form", "flag_level")
    list_select_related = ("prescriber__user",)
    search_fields = ("reference", "patient__last_name")

    def prescription_of(self, obj: Prescription) -> Prescription:
        return obj


@admin.register(CompoundingRecord)
class CompoundingRecordAdmin(ReadOnlyAdmin, AuditedHistoryAdmin):
    # The batch record of what was made, from which lots, by whom: written by the compounding service.
    list_display = ("prescription", "compounded_at", "compounded_by", "beyond_use_date", "checked_by")
    list_select_related = ("prescription", "compounded_by", "checked_by")

    def prescription_of(self, obj: CompoundingRecord) -> Prescription:
        return obj.prescription


@admin.register(PrescriptionEvent)
class PrescriptionEventAdmin(ReadOnlyAdmin, AuditedAdmin):
    # Each status change as it happened, written by the workflow service in the change's transaction.
    list_display = ("created_at", "prescription", "action", "from_status", "to_status", "actor")
    list_filter = ("action",)
    list_select_related = ("prescription", "actor")
    search_fields = ("prescription__reference",)

    def prescription_of(self, obj: PrescriptionEvent) -> Prescription:
        return obj.prescription


@admin.register(StateLicence)
class StateLicenceAdmin(HistoryAdmin):
    list_display = ("state", "licence_number", "expires_on", "active")
    list_filter = ("active",)
    search_fields = ("state", "licence_number")


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin, AuditedAdmin):
    # Made and ended by the prescriber (page or API); the secret itself is never shown, a hint only.
    list_display = ("url", "prescriber", "secret_hint", "created_at", "ended_at")
    list_select_related = ("prescriber__user",)
    search_fields = ("url", "prescriber__user__email")
    fields = ("prescriber", "url", "secret_hint", "created_at", "ended_at")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin, AuditedAdmin):
    # What was POSTed to a prescriber's system and how it went, written by the webhook delivery.
    list_display = ("created_at", "event", "subscription", "status", "attempts", "last_response_status")
    list_filter = ("status", "event")
    list_select_related = ("subscription",)
    search_fields = ("event_id",)

    def prescription_of(self, obj: WebhookDelivery) -> Prescription | None:
        return obj.prescription

    def shown_in_list(self, obj: WebhookDelivery) -> None:
        # The list names events and subscriptions, nothing of a patient.
        return None


admin.site.register(DosageForm)
admin.site.register(MasterFormulation, HistoryAdmin)


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin, AuditedAdmin):
    # Reading the trail is itself recorded, as on the pharmacy's own audit page.
    audit_object_type = "audit_trail"
    list_display = (
        "created_at", "actor", "actor_label", "action", "object_type", "prescription_reference", "ip_address",
    )  # fmt: skip
    list_filter = ("action", "object_type")
    list_select_related = ("actor",)
    search_fields = ("prescription_reference", "actor__email", "path")
    date_hierarchy = "created_at"
