"""Anticipatory batches for pharmacy staff: the list, making one, a batch's page with its release,
and filling a prescription from a released batch (offered on the compounding page)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intake.audit import AuditAction, audit
from intake.errors import WorkflowError
from intake.models import BatchStatus
from intake.services.batches import (
    batch_detail,
    batch_make,
    batch_release,
    batches_listed,
    prescription_fill_from_batch,
)
from intake.services.stock import stock_lots_usable
from intake.web.staff.access import error_text, get_prescription, staff_required, staff_user
from intake.web.staff.batch_forms import BatchForm, BatchReleaseForm, FillFromBatchForm
from intake.web.staff.forms import LotFormSet, lot_inputs
from intake.web.staff.review_page import to_review

OBJECT_TYPE = "batch"
LISTED = 100


@staff_required
@require_GET
def batches(request: HttpRequest) -> HttpResponse:
    wanted = request.GET.get("status", "")
    if wanted not in BatchStatus.values:
        wanted = ""
    shown = list(batches_listed(status=wanted)[:LISTED])
    return render(
        request,
        "staff/batches.html",
        {"batches": shown, "statuses": BatchStatus.choices, "wanted": wanted, "today": timezone.localdate()},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def batch_create(request: HttpRequest) -> HttpResponse:
    status = 200
    lot_problems: list[str] = []
    if request.method == "POST":
        form = BatchForm(request.POST, prefix="batch")
        formset = LotFormSet(request.POST, prefix="lots")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                made = batch_make(
                    actor=staff_user(request), master_formulation_id=data["master_formulation"].pk,
                    strength_mg=data["strength_mg"], quantity_made=data["quantity_made"], lots=lot_inputs(formset),
                    number=data["number"], quality_checks=data["quality_checks"], deviations=data["deviations"],
                )  # fmt: skip
            except ValidationError as exc:
                for key, problems in exc.message_dict.items():
                    for problem in problems:
                        if key in form.fields:
                            form.add_error(key, problem)
                        else:
                            lot_problems.append(problem)
            except WorkflowError as exc:
                messages.error(request, exc.message)
            else:
                audit(request, AuditAction.CREATE, object_type=OBJECT_TYPE, object_id=made.pk, description=made.number)
                messages.success(request, f"Batch {made.number} recorded: another pharmacist checks and releases it.")
                return redirect("staff:batch", batch_id=made.pk)
        status = 400
    else:
        form = BatchForm(prefix="batch")
        formset = LotFormSet(
            prefix="lots",
            initial=[{"ingredient": "Naltrexone HCl USP"}, {"ingredient": "Microcrystalline cellulose NF"}],
        )
    # The received lots offered as a lot number is typed, as on the compounding page.
    context = {"form": form, "formset": formset, "lot_problems": lot_problems, "stock_lots": stock_lots_usable()}
    return render(request, "staff/batch_form.html", context, status=status)


def _page(request: HttpRequest, batch_id: int, *, release_form: BatchReleaseForm, status: int = 200) -> HttpResponse:
    try:
        batch = batch_detail(batch_id)
    except WorkflowError:
        raise Http404("No such batch") from None
    # The fills drawn from it name prescriptions: the read is audited.
    audit(request, AuditAction.VIEW, object_type=OBJECT_TYPE, object_id=batch.pk, description="batch page")
    user = staff_user(request)
    may_release = batch.status == BatchStatus.MADE and user.is_pharmacist and batch.compounded_by_id != user.pk
    return render(
        request,
        "staff/batch_detail.html",
        {"batch": batch, "release_form": release_form, "may_release": may_release, "today": timezone.localdate()},
        status=status,
    )


@staff_required
@require_GET
def batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    return _page(request, batch_id, release_form=BatchReleaseForm(prefix="release"))


@staff_required
@require_POST
def batch_release_view(request: HttpRequest, batch_id: int) -> HttpResponse:
    form = BatchReleaseForm(request.POST, prefix="release")
    if not form.is_valid():
        return _page(request, batch_id, release_form=form, status=400)
    try:
        released = batch_release(batch_id=batch_id, actor=staff_user(request), note=form.cleaned_data["note"])
    except ValidationError as exc:
        form.add_error("note", error_text(exc))
        return _page(request, batch_id, release_form=form, status=400)
    except WorkflowError as exc:
        if exc.status_code == 404:
            raise Http404("No such batch") from None
        messages.error(request, exc.message)
        return redirect("staff:batch", batch_id=batch_id)
    audit(request, AuditAction.ACTION, object_type=OBJECT_TYPE, object_id=released.pk, description="released")
    messages.success(request, f"Batch {released.number} released: fills may take from it.")
    return redirect("staff:batch", batch_id=released.pk)


@staff_required
@require_POST
def fill_from_batch(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    form = FillFromBatchForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a released batch.")
        return redirect("staff:compounding", prescription_id=prescription.pk)
    try:
        prescription_fill_from_batch(
            prescription_id=prescription.pk, actor=staff_user(request), batch_id=form.cleaned_data["batch"]
        )
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
        return redirect("staff:compounding", prescription_id=prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description="filled from a batch")
    messages.success(request, "Filled from the batch; the fill now waits for the pharmacist's final check.")
    return to_review(prescription.pk)
