"""Ingredient stock: the lots received, their uses and counts. Pharmacists and technicians read
and receive; a pharmacist corrects a count."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from intake.audit import AuditAction, audit
from intake.errors import WorkflowError
from intake.models import BatchLot, IngredientLot, StockLot
from intake.services.stock import expiry_warning_days, stock_correct, stock_receive, stock_rows
from intake.web.form_errors import service_errors_on_form
from intake.web.staff.access import bench_staff_required, pharmacist_required, staff_user
from intake.web.staff.forms import StockCorrectForm, StockFilterForm, StockReceiveForm

# A pharmacy holds tens of lots, not thousands; past this the page asks for a filter.
LIST_LIMIT = 500


@bench_staff_required
@require_GET
def stock_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    filters = StockFilterForm(request.GET)
    lots = StockLot.objects.all()
    show = ""
    if filters.is_valid():
        if filters.cleaned_data["ingredient"]:
            lots = lots.filter(ingredient__icontains=filters.cleaned_data["ingredient"])
        show = filters.cleaned_data["show"] or ""
    rows = stock_rows(list(lots.order_by("ingredient", "expires", "pk")[: LIST_LIMIT + 1]), today=today)
    kept = {
        "": lambda row: True,
        "usable": lambda row: row.usable,
        "low": lambda row: row.low,
        "expiring": lambda row: row.expiring_soon,
        "expired": lambda row: row.expired,
        "quarantined": lambda row: row.quarantined,
    }[show]
    return render(
        request,
        "staff/stock.html",
        {
            "filters": filters,
            "rows": [row for row in rows[:LIST_LIMIT] if kept(row)],
            "more": len(rows) > LIST_LIMIT,
            "warning_days": expiry_warning_days(),
        },
    )


@bench_staff_required
@require_http_methods(["GET", "POST"])
def stock_receive_lot(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = StockReceiveForm(request.POST, prefix="stock")
        if form.is_valid():
            try:
                received = stock_receive(actor=staff_user(request), **form.cleaned_data)
            except ValidationError as exc:
                service_errors_on_form(form, exc)
            except WorkflowError as exc:
                messages.error(request, exc.message)
            else:
                audit(request, AuditAction.CREATE, object_type="stock_lot", object_id=received.pk,
                      description=f"received {received}")  # fmt: skip
                messages.success(request, f"{received} received: {received.quantity_on_hand.normalize():f} "
                                          f"{received.unit} on hand.")  # fmt: skip
                return redirect("staff:stock_lot", stock_lot_id=received.pk)
        status = 400
    else:
        form = StockReceiveForm(prefix="stock")
    return render(request, "staff/stock_receive.html", {"form": form}, status=status)


def _found(stock_lot_id: int) -> StockLot:
    found = StockLot.objects.select_related("received_by").filter(pk=stock_lot_id).first()
    if found is None:
        raise Http404("No such stock lot")
    return found


@bench_staff_required
@require_GET
def stock_lot(request: HttpRequest, stock_lot_id: int) -> HttpResponse:
    """A lot, what used it (prescriptions' records and batches) and every change of its count."""
    stock = _found(stock_lot_id)
    uses = (
        IngredientLot.objects.filter(stock_lot=stock)
        .select_related("record__prescription", "record__compounded_by")
        .order_by("-record__compounded_at", "-id")
    )
    batch_uses = BatchLot.objects.filter(stock_lot=stock).select_related("batch").order_by("-batch__compounded_at")
    # The uses name prescriptions (their order numbers, not their patients): a read worth recording.
    audit(request, AuditAction.VIEW, object_type="stock_lot", object_id=stock.pk, description=f"{stock} and its uses")
    return render(
        request,
        "staff/stock_lot.html",
        {
            "row": stock_rows([stock])[0],
            "stock": stock,
            "uses": uses,
            "batch_uses": batch_uses,
            "history": stock.history.select_related("history_user").order_by("-history_date", "-history_id"),
        },
    )


@pharmacist_required
@require_http_methods(["GET", "POST"])
def stock_correct_count(request: HttpRequest, stock_lot_id: int) -> HttpResponse:
    stock = _found(stock_lot_id)
    status = 200
    if request.method == "POST":
        form = StockCorrectForm(request.POST, prefix="count")
        if form.is_valid():
            try:
                corrected = stock_correct(actor=staff_user(request), stock_lot_id=stock.pk, **form.cleaned_data)
            except ValidationError as exc:
                service_errors_on_form(form, exc)
            except WorkflowError as exc:
                messages.error(request, exc.message)
            else:
                audit(request, AuditAction.UPDATE, object_type="stock_lot", object_id=stock.pk,
                      description=f"count of {stock} corrected")  # fmt: skip
                messages.success(request, f"{corrected}: {corrected.quantity_on_hand.normalize():f} "
                                          f"{corrected.unit} on hand.")  # fmt: skip
                return redirect("staff:stock_lot", stock_lot_id=stock.pk)
        status = 400
    else:
        form = StockCorrectForm(prefix="count", initial={"quantity_on_hand": stock.quantity_on_hand})
    return render(request, "staff/stock_correct.html", {"form": form, "stock": stock}, status=status)
