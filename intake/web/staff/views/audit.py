"""The audit trail viewer for pharmacy administrators. Reading it is itself recorded."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from intake.audit import AuditAction, audit
from intake.logging import redact
from intake.models import AuditRecord
from intake.web.staff.filters import AuditRecordFilter

PAGE_SIZE = 50
# Deep offsets get slow on a table that only grows; past this, narrow the dates instead.
MAX_PAGE = 200


@dataclass(frozen=True)
class AuditPage:
    """One page of records, found by fetching one row more than shown: no COUNT over the whole trail."""

    records: list[AuditRecord]
    number: int
    has_previous: bool
    has_next: bool


def _page_number(raw: str | None) -> int:
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


def _audit_page(records: list[AuditRecord], number: int) -> AuditPage:
    return AuditPage(
        records=records[:PAGE_SIZE],
        number=number,
        has_previous=number > 1,
        has_next=len(records) > PAGE_SIZE and number < MAX_PAGE,
    )


@login_required
def audit_trail(request: HttpRequest) -> HttpResponse:
    if not request.user.is_pharmacy_admin:  # type: ignore[union-attr]
        audit(request, AuditAction.DENIED, object_type="audit_trail", description="Audit trail refused: not an admin")
        raise PermissionDenied
    queryset = AuditRecord.objects.select_related("actor").order_by("-created_at", "-id")
    filterset = AuditRecordFilter(request.GET or None, queryset=queryset)
    number = _page_number(request.GET.get("page"))
    if filterset.is_bound and not filterset.is_valid():
        # A filter that could not be read must not show the unfiltered trail as if it applied.
        rows: list[AuditRecord] = []
    else:
        start = (number - 1) * PAGE_SIZE
        rows = list(filterset.qs[start : start + PAGE_SIZE + 1])
    page = _audit_page(rows, number)
    used = {name: value for name, value in request.GET.items() if name != "page" and value}
    audit(
        request,
        AuditAction.LIST,
        object_type="audit_trail",
        description=f"Audit trail page {number}" + (f", filters {used}" if used else ""),
    )
    # Paths can hold a patient's private link; the administrator needs the page, not the key.
    for record in page.records:
        record.path = redact(record.path)
    return render(request, "staff/audit.html", {"filter": filterset, "page": page})
