"""Lots and recalls for the pharmacy staff: a lot's trace (and its export for a board of pharmacy),
the recalls, opening one (a pharmacist), a recall's page with each patient reached, closing it.

Each view parses, calls one selector or service and renders; every read of the fills a lot
reached is audited like a read of the prescriptions themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intake.audit import AuditAction, AuditEntry, Shown, audit, audit_list
from intake.errors import NotFound, WorkflowError
from intake.models import Recall
from intake.selectors_lots import (
    MAX_LOT,
    TraceRow,
    lot_as_recorded,
    lot_trace_all,
    lot_trace_count,
    lot_trace_page,
    recall_read,
    recalls_listed,
)
from intake.services.recalls import OBJECT_TYPE, open_recalls_of, recall_affected_resolve, recall_close, recall_open
from intake.web.form_errors import service_errors_on_form
from intake.web.staff.access import error_text, pharmacist_required, staff_required, staff_user
from intake.web.staff.csv_export import csv_lines
from intake.web.staff.recall_forms import LotSearchForm, RecallCloseForm, RecallOpenForm

CSV_COLUMNS = ("reference", "patient", "fill", "status", "handed_over_at", "compounded_at", "batch", "record")


def _after(request: HttpRequest) -> int:
    raw = request.GET.get("after", "0")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else 0


@staff_required
@require_GET
def lot_trace(request: HttpRequest) -> HttpResponse:
    form = LotSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        lot = form.cleaned_data["lot"]
        after = _after(request)
        page = lot_trace_page(lot, after=after)
        # Each fill shown names its patient: a read of that prescription, in its patient's access report.
        audit_list(request, [Shown("lot_trace", lot[:40], row.reference) for row in page.rows],
                   object_type="lot_trace", description=f"lot {lot}: {len(page.rows)} shown")  # fmt: skip
        context.update(lot=lot, page=page, after=after, count=lot_trace_count(lot) if not after else None,
                       recall=open_recalls_of([lot]).get(lot.upper()))  # fmt: skip
    return render(request, "staff/lot_trace.html", context, status=400 if form.is_bound and form.errors else 200)


def _csv_rows(rows: Iterator[TraceRow]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield (
            row.reference, row.patient, row.fill, row.status,
            row.handed_over_at.isoformat() if row.handed_over_at else "", row.compounded_at.isoformat(), row.batch,
            row.record,
        )  # fmt: skip


@staff_required
@require_GET
def lot_trace_csv(request: HttpRequest) -> HttpResponse:
    form = LotSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "staff/lot_trace.html", {"form": form}, status=400)
    lot = form.cleaned_data["lot"]
    audit(request, AuditAction.DOWNLOAD, object_type="lot_trace", object_id=lot[:40],
          description=f"lot {lot}: export")  # fmt: skip
    # Streamed a page at a time: a lot used by thousands of fills is never held in memory at once.
    lines = csv_lines(CSV_COLUMNS, _csv_rows(lot_trace_all(lot)))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in lot)[:60]
    response["Content-Disposition"] = f'attachment; filename="lot-{safe}-trace.csv"'
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # the staff decorators are typed for HttpResponse


@staff_required
@require_GET
def recalls(request: HttpRequest) -> HttpResponse:
    listed = recalls_listed()
    return render(request, "staff/recalls.html", {"recalls": listed})


@pharmacist_required
@require_http_methods(["GET", "POST"])
def recall_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        typed = request.GET.get("lot", "")[:MAX_LOT]
        # The lot as recorded and its ingredient, whatever the case it was searched in.
        known = lot_as_recorded(typed)
        initial = {"lot": known.lot, "ingredient": known.ingredient} if known else {"lot": typed.strip()}
        return render(request, "staff/recall_form.html", {"form": RecallOpenForm(initial=initial, prefix="recall")})
    form = RecallOpenForm(request.POST, prefix="recall")
    if form.is_valid():
        entry = AuditEntry.of(request, description="recall opened")
        try:
            recall = recall_open(actor=staff_user(request), entry=entry, **form.cleaned_data)
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except WorkflowError as exc:
            messages.error(request, exc.message)
        else:
            reached = recall.affected.count()
            messages.success(request, f"Lot {recall.lot} is quarantined; the recall reached {reached} fill(s).")
            return redirect("staff:recall", recall.pk)
    return render(request, "staff/recall_form.html", {"form": form}, status=400)


def _recall_or_404(recall_id: int) -> Recall:
    try:
        return recall_read(recall_id)
    except NotFound:
        raise Http404("No such recall") from None


@staff_required
@require_GET
def recall_detail(request: HttpRequest, recall_id: int) -> HttpResponse:
    return _detail(request, _recall_or_404(recall_id), RecallCloseForm(prefix="close"))


def _detail(request: HttpRequest, recall: Recall, close_form: RecallCloseForm, status: int = 200) -> HttpResponse:
    # The fills reached, each with its patient's name: one record each, for the patients' access reports.
    shown = [Shown(OBJECT_TYPE, recall.pk, affected.prescription.reference) for affected in recall.affected.all()]
    audit_list(request, shown, object_type=OBJECT_TYPE, object_id=recall.pk, description=f"{len(shown)} fills shown")
    return render(request, "staff/recall.html", {"recall": recall, "close_form": close_form}, status=status)


@pharmacist_required
@require_POST
def recall_close_view(request: HttpRequest, recall_id: int) -> HttpResponse:
    recall = _recall_or_404(recall_id)
    form = RecallCloseForm(request.POST, prefix="close")
    if form.is_valid():
        entry = AuditEntry.of(request, description="recall closed")
        try:
            recall_close(actor=staff_user(request), recall_id=recall.pk, note=form.cleaned_data["note"], entry=entry)
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("staff:recall", recall.pk)
        else:
            messages.success(request, f"The recall of lot {recall.lot} is closed; the lot may be used again.")
            return redirect("staff:recall", recall.pk)
    return _detail(request, recall, form, status=400)


@staff_required
@require_POST
def recall_resolve(request: HttpRequest, recall_id: int, affected_id: int) -> HttpResponse:
    recall = _recall_or_404(recall_id)
    entry = AuditEntry.of(request)
    try:
        affected = recall_affected_resolve(actor=staff_user(request), recall_id=recall.pk, affected_id=affected_id,
                                           entry=entry)  # fmt: skip
    except NotFound:
        raise Http404("No such patient on this recall") from None
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"{affected.prescription.reference}: marked as called back.")
    return redirect("staff:recall", recall.pk)
