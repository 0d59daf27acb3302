"""A patient's accounting of disclosures, for the privacy officer: every read and change of one
patient's record and of each of their prescriptions, from the pages, the JSON API, FHIR and the
Django admin, on a page and as a CSV file. Finding the patient, reading the report and exporting
it leave their own records, which the report then lists too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from intake.audit import AuditAction, Shown, audit, audit_list, channel_of
from intake.models import AuditRecord, Patient
from intake.selectors import (
    AccessCursor,
    access_page,
    actor_roles,
    patient_access_log,
    patients_named,
    prescriptions_of_patient,
)
from intake.templatetags.audit_words import audit_object
from intake.web.staff.access import privacy_officer_required
from intake.web.staff.csv_export import csv_lines
from intake.web.staff.filters import PatientAccessFilter
from intake.web.staff.forms import PatientSearchForm

PAGE_SIZE = 50
# A search shows a handful: a name and a birth date rarely match more than one person.
SEARCH_LIMIT = 20
CSV_COLUMNS = ("at", "who", "role", "action", "record", "prescription", "description", "channel", "ip")
# Who acted when nobody signed in and the record names no one: the pharmacy's own work.
SYSTEM = "system"


@dataclass(frozen=True)
class Disclosure:
    """One read or change, in the words the report shows."""

    at: datetime
    who: str
    role: str
    action: str
    record: str
    prescription: str
    description: str
    channel: str
    channel_label: str
    ip: str

    @classmethod
    def of(cls, record: AuditRecord) -> Disclosure:
        channel = channel_of(record.path)
        if record.actor is not None:
            who = record.actor.get_full_name() or record.actor.email
        else:
            who = record.actor_label or SYSTEM
        what = audit_object(record.object_type)
        return cls(
            at=record.created_at,
            who=who,
            role=", ".join(actor_roles(record)),
            action=record.get_action_display(),
            record=f"{what} #{record.object_id}" if record.object_id else what,
            prescription=record.prescription_reference,
            description=record.description,
            channel=channel.value,
            channel_label=channel.label,
            ip=record.ip_address or "",
        )

    @property
    def at_iso(self) -> str:
        return self.at.isoformat()

    def as_csv_row(self) -> tuple[str, ...]:
        return (self.at_iso, self.who, self.role, self.action, self.record, self.prescription,
                self.description, self.channel, self.ip)  # fmt: skip


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise Http404("No such patient")
    return patient


@privacy_officer_required
@require_GET
def patient_search(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET or None)
    found: list[Patient] = []
    if form.is_valid():
        found = list(patients_named(**form.cleaned_data)[:SEARCH_LIMIT])
        # The names and birth dates listed are the patients' data: each is a read of their record.
        audit_list(request, [Shown.patient(patient.pk) for patient in found], object_type="patient",
                   description="patient search for an access report")  # fmt: skip
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "staff/patient_search.html", {"form": form, "found": found}, status=status)


@privacy_officer_required
@require_GET
def patient_access(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(patient_id)
    filterset = PatientAccessFilter(request.GET or None, queryset=patient_access_log(patient))
    before = AccessCursor.parse(request.GET.get("before", ""))
    if filterset.is_bound and not filterset.is_valid():
        # A filter that could not be read must not show the whole report as if it applied.
        page = None
    else:
        page = access_page(filterset.qs, before=before, page_size=PAGE_SIZE)
    # Written after the page is read: the report lists its own viewing from the next viewing on.
    audit(request, AuditAction.VIEW, object_type="patient", object_id=patient.pk, description="access report")
    params = request.GET.copy()
    params.pop("before", None)
    return render(
        request,
        "staff/patient_access.html",
        {
            "patient": patient,
            "prescriptions": list(prescriptions_of_patient(patient)),
            "filter": filterset,
            "rows": [Disclosure.of(record) for record in page.records] if page else [],
            "older": page.older if page else "",
            "paged": before is not None,
            "filters": params.urlencode(),
        },
        status=400 if page is None else 200,
    )


def _csv_rows(records: Iterator[AuditRecord]) -> Iterator[tuple[str, ...]]:
    for record in records:
        yield Disclosure.of(record).as_csv_row()


@privacy_officer_required
@require_GET
def patient_access_csv(request: HttpRequest, patient_id: int) -> Any:
    patient = _patient(patient_id)
    filterset = PatientAccessFilter(request.GET or None, queryset=patient_access_log(patient))
    if filterset.is_bound and not filterset.is_valid():
        return render(
            request,
            "staff/patient_access.html",
            {"patient": patient, "filter": filterset, "rows": [], "older": "", "paged": False, "filters": ""},
            status=400,
        )
    audit(request, AuditAction.DOWNLOAD, object_type="patient", object_id=patient.pk,
          description="access report export")  # fmt: skip
    # Streamed in chunks, each with its actors' roles read in one query: a long report never sits in memory.
    records = filterset.qs.iterator(chunk_size=500)
    response = StreamingHttpResponse(csv_lines(CSV_COLUMNS, _csv_rows(records)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}-access-report.csv"'
    response["Cache-Control"] = "no-store"
    return response
