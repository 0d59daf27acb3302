"""Compounding, final check, documents and hand-over pages for pharmacy staff.

Each fill is compounded anew: the documents are per fill (its own batch, BUD and label), and a
ready fill that can no longer be handed over (past its beyond-use date) is compounded again.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from intake.audit import AuditAction, audit
from intake.documents import compounding_worksheet_pdf, prescription_label_pdf
from intake.errors import WorkflowError
from intake.models import MasterFormulation, Prescription, PrescriptionStatus
from intake.services.batches import batches_for
from intake.services.compounding import compounding_record_create, formulation_for, latest_record
from intake.services.dispensing import fill_plan, plan_note, planned_containers, recorded_containers
from intake.services.final_check import compounder_refusal
from intake.services.stock import stock_lots_usable
from intake.services.workflow import (
    prescription_complete,
    prescription_final_check,
    prescription_recompound,
    prescription_ship,
    prescription_start_compounding,
)
from intake.shipping.backends import shipping_buys_labels
from intake.web.drafts import RESTORED_RECORD_MESSAGE, form_restore, keep_form_when_signed_out
from intake.web.staff.access import error_text, get_prescription, staff_required, staff_user
from intake.web.staff.forms import (
    CompoundingForm,
    ContainerFormSet,
    FinalCheckForm,
    LotFormSet,
    ReasonForm,
    ShipForm,
    lot_inputs,
)
from intake.web.staff.review_page import FillRow, fill_row, render_review_errors, run_action, to_review

S = PrescriptionStatus


@staff_required
@require_POST
def start_compounding(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    call = partial(prescription_start_compounding, prescription_id=prescription.pk, actor=staff_user(request))
    return run_action(request, prescription, call, done="Compounding started.", what="started compounding")


def _formulations(prescription: Prescription) -> Any:
    return MasterFormulation.objects.select_related("dosage_form").filter(
        active=True, dosage_form__code=prescription.dosage_form
    )


def _initial_lots(formulation: MasterFormulation | None) -> list[dict[str, str]]:
    if formulation is None:
        return [{"ingredient": "Naltrexone HCl USP"}]
    return [{"ingredient": str(item.get("name", ""))} for item in formulation.ingredients if item.get("name")]


# Lots and weights are typed at the bench, often for longer than the session's idle limit: a
# record posted after the session ended is kept and given back once signed in again.
@keep_form_when_signed_out("staff:compounding")
@staff_required
@require_http_methods(["GET", "POST"])
def compounding_record(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The batch record: formulation, the plan's containers as made, lots, quality checks; then the final check."""
    prescription = get_prescription(request, prescription_id)
    kept = form_restore(request, notice=RESTORED_RECORD_MESSAGE) if request.method == "GET" else None
    formulations = _formulations(prescription)
    try:
        default = formulation_for(prescription)
    except ValidationError:
        default = None
    plan = fill_plan(prescription, formulation=default)
    planned = planned_containers(prescription, plan, default)
    status = 200
    lot_problems: list[str] = []
    if kept is not None:
        # Shown bound, so the kept values are in the fields; recorded only when posted again.
        form = CompoundingForm(kept, formulations=formulations, prefix="batch")
        formset = LotFormSet(kept, prefix="lots")
        containers = ContainerFormSet(kept, prefix="containers")
    elif request.method == "POST":
        form = CompoundingForm(request.POST, formulations=formulations, prefix="batch")
        formset = LotFormSet(request.POST, prefix="lots")
        containers = ContainerFormSet(request.POST, prefix="containers")
        if form.is_valid() and formset.is_valid() and containers.is_valid():
            made = [container_form.container_input() for container_form in containers.forms]
            try:
                compounding_record_create(
                    prescription_id=prescription.pk,
                    actor=staff_user(request),
                    lots=lot_inputs(formset),
                    quantity_made=sum(item.quantity_made or 0 for item in made),
                    containers=made,
                    master_formulation_id=form.cleaned_data["master_formulation"].pk,
                    quality_checks=form.cleaned_data["quality_checks"],
                    deviations=form.cleaned_data["deviations"],
                )
            except ValidationError as exc:
                lot_problems = _place_errors(exc, form, containers)
            except WorkflowError as exc:
                messages.error(request, exc.message)
                return to_review(prescription.pk)
            else:
                audit(request, AuditAction.CREATE, prescription=prescription, description="compounding recorded")
                messages.success(request, "Compounding recorded; the batch now waits for the pharmacist's final check.")
                return to_review(prescription.pk)
        status = 400
    else:
        form = CompoundingForm(
            formulations=formulations,
            prefix="batch",
            initial={
                "master_formulation": default.pk if default else None,
                "quality_checks": default.quality_checks if default else "",
            },
        )
        formset = LotFormSet(prefix="lots", initial=_initial_lots(default))
        containers = ContainerFormSet(
            prefix="containers", initial=[{"quantity_made": details.container.quantity} for details in planned]
        )
    may_fill_from_batch = prescription.status in (S.APPROVED, S.COMPOUNDING)
    # A fill of one strength of capsules may take from a released batch instead.
    batch_choices = batches_for(prescription) if may_fill_from_batch else []
    usable = [batch.pk for batch, problem in batch_choices if not problem]
    audit(request, AuditAction.VIEW, prescription=prescription, description="compounding record page")
    return render(
        request,
        "staff/compounding.html",
        {
            "prescription": prescription,
            "form": form,
            "formset": formset,
            "containers_formset": containers,
            "container_rows": list(zip(planned, containers.forms, strict=False)),
            "plan": plan,
            "plan_note": plan_note(prescription, plan),
            "lot_problems": lot_problems,
            "formulation": default,
            "record": _current_record(prescription),
            "can_record": prescription.status == S.COMPOUNDING,
            "stock_lots": stock_lots_usable() if prescription.status == S.COMPOUNDING else [],
            "batch_choices": batch_choices,
            # The only batch that can fill it is chosen already.
            "batch_preselected": usable[0] if len(usable) == 1 else None,
            "may_fill_from_batch": may_fill_from_batch,
        },
        status=status,
    )


def _place_errors(exc: ValidationError, form: Any, containers: Any) -> list[str]:
    """The service's refusals on the fields they name: a container's ("containers.2.naltrexone_mg"),
    the batch form's, or the lots' (returned, shown above the lot rows)."""
    problems: list[str] = []
    for key, messages_for_key in exc.message_dict.items():
        parts = key.split(".")
        if parts[0] == "containers" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1]) - 1
            target = containers.forms[index] if 0 <= index < len(containers.forms) else None
            field = parts[2] if target is not None and parts[2] in target.fields else None
            for problem in messages_for_key:
                if target is not None and field is not None:
                    target.add_error(field, problem)
                else:
                    problems.append(problem)
        elif key == "lots" or key.startswith("containers"):
            problems.extend(messages_for_key)
        else:
            for problem in messages_for_key:
                form.add_error(key if key in form.fields else None, problem)
    return problems


@staff_required
@require_http_methods(["GET", "POST"])
def final_check(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The independent final check: a checklist and a scan of each container, by a pharmacist who
    did not record the batch."""
    prescription = get_prescription(request, prescription_id)
    if prescription.status != S.FINAL_CHECK:
        messages.error(request, "This prescription is not waiting for its final check.")
        return to_review(prescription.pk)
    user = staff_user(request)
    record = latest_record(prescription)
    containers = recorded_containers(prescription, record) if record is not None else []
    refusal = ""
    if not user.is_pharmacist:
        refusal = "Only a pharmacist does the final check."
    elif record is not None and record.compounded_by_id == user.pk:
        refusal = compounder_refusal(record)
    status = 403 if refusal else 200
    form = FinalCheckForm(request.POST or None, containers=containers, prefix="check")
    if request.method == "POST" and not refusal:
        if form.is_valid():
            try:
                prescription_final_check(
                    prescription_id=prescription.pk, actor=user, confirmed=form.confirmed(), scans=form.scans()
                )
            except ValidationError as exc:
                form.add_service_errors(exc.message_dict)
            except WorkflowError as exc:
                messages.error(request, exc.message)
                return to_review(prescription.pk)
            else:
                audit(request, AuditAction.ACTION, prescription=prescription, description="final check")
                messages.success(request, "Final check passed: ready.")
                return to_review(prescription.pk)
        status = 400
    audit(request, AuditAction.VIEW, prescription=prescription, description="final check page")
    return render(
        request,
        "staff/final_check.html",
        {
            "prescription": prescription,
            "record": record,
            "containers": containers,
            "form": form,
            "refusal": refusal,
            "plan_note": plan_note(prescription, fill_plan(prescription)),
        },
        status=status,
    )


@staff_required
@require_POST
def ship(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    form = ShipForm(request.POST, prefix="ship", buys_labels=shipping_buys_labels())
    if not form.is_valid():
        return render_review_errors(request, prescription, ship_form=form)
    carrier, service = form.chosen()
    try:
        prescription_ship(
            prescription_id=prescription.pk,
            actor=staff_user(request),
            carrier=carrier,
            tracking_number=form.cleaned_data["tracking_number"],
            service=service,
        )
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        return render_review_errors(request, prescription, ship_form=form)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return to_review(prescription.pk)
    bought = not form.cleaned_data["tracking_number"]
    audit(request, AuditAction.ACTION, prescription=prescription,
          description="shipped with a bought label" if bought else "shipped")  # fmt: skip
    messages.success(request, "Label bought and marked as shipped: print it below." if bought else "Marked as shipped.")
    return to_review(prescription.pk)


@staff_required
@require_POST
def complete(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    how = "picked up" if prescription.status == S.READY else "delivered"
    call = partial(prescription_complete, prescription_id=prescription.pk, actor=staff_user(request))
    return run_action(request, prescription, call, done=f"Completed: {how}.", what=f"completed ({how})")


def _current_record(prescription: Prescription) -> Any:
    """The batch of the current fill (a refill not compounded yet has none, whatever earlier fills had)."""
    row = fill_row(prescription, prescription.fill_number)
    return row.record if row else None


def _pdf(request: HttpRequest, prescription_id: int, *, kind: str, number: int | None = None) -> HttpResponse:
    """The label or worksheet of one fill's latest batch: the current fill's unless `number` says which."""
    prescription = get_prescription(request, prescription_id)
    row: FillRow | None = fill_row(prescription, prescription.fill_number if number is None else number)
    if row is None or row.record is None:
        raise Http404("No compounding record for this fill")
    record = row.record
    if kind == "label":
        content = prescription_label_pdf(
            prescription=prescription, record=record, fill_number=row.fill.number, refills_left=row.refills_left
        )
    else:
        content = compounding_worksheet_pdf(prescription=prescription, record=record, fill_label=row.label)
    which = "" if number is None else f" (fill {number})"
    audit(request, AuditAction.DOWNLOAD, prescription=prescription, description=f"{kind} PDF{which}")
    response = HttpResponse(content, content_type="application/pdf")
    stamp = timezone.localdate(record.compounded_at).isoformat()
    response["Content-Disposition"] = (
        f'inline; filename="{prescription.reference}-fill{row.fill.number}-{kind}-{stamp}.pdf"'
    )
    # Patient data: never kept by a browser or proxy cache.
    response["Cache-Control"] = "no-store, private"
    return response


@staff_required
@require_GET
def label_pdf(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _pdf(request, prescription_id, kind="label")


@staff_required
@require_GET
def worksheet_pdf(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _pdf(request, prescription_id, kind="worksheet")


@staff_required
@require_GET
def fill_label_pdf(request: HttpRequest, prescription_id: int, number: int) -> HttpResponse:
    return _pdf(request, prescription_id, kind="label", number=number)


@staff_required
@require_GET
def fill_worksheet_pdf(request: HttpRequest, prescription_id: int, number: int) -> HttpResponse:
    return _pdf(request, prescription_id, kind="worksheet", number=number)


@staff_required
@require_POST
def recompound(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """A ready fill past its beyond-use date (or damaged) goes back to compounding for a new batch."""
    prescription = get_prescription(request, prescription_id)
    form = ReasonForm(request.POST, prefix="recompound")
    if not form.is_valid():
        return render_review_errors(request, prescription, recompound_form=form)
    try:
        prescription_recompound(prescription_id=prescription.pk, actor=staff_user(request),
                                reason=form.cleaned_data["reason"])  # fmt: skip
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        return render_review_errors(request, prescription, recompound_form=form)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return to_review(prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description="compounding again")
    messages.success(request, "Back to compounding: destroy the old batch and record a new one.")
    return to_review(prescription.pk)
