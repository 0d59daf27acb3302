"""Pharmacy staff pages for the repeat business: the fills of a prescription on its review page,
refills and renewals asked by the pharmacy, and the list of side-effect check-ins for a pharmacist.

Like the other staff pages, each button calls one service; its refusals (403, 409, field errors)
come back as page messages or form errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, User
from intake.audit import AuditAction, audit
from intake.clinical.follow_up import symptom_labels
from intake.errors import Forbidden, NotFound, WorkflowError
from intake.forms_staff import TEXT_LIMIT, ReasonForm
from intake.models import (
    CompoundingRecord,
    Fill,
    FollowUp,
    Prescription,
    PrescriptionStatus,
    Requester,
)
from intake.services.dispensing import fill_plan, plan_note
from intake.services.follow_up import follow_up_review, follow_ups_for_pharmacist
from intake.services.refills import long_date, refill_request, refill_state, renewal_request
from intake.views.staff import (
    error_text,
    fetch_for_review,
    get_prescription,
    review_context,
    staff_required,
    staff_user,
    to_review,
)

S = PrescriptionStatus
DISPENSED = (S.SHIPPED, S.COMPLETED)


# What the page shows about each fill ----------------------------------------------------------------


@dataclass(frozen=True)
class FillRow:
    fill: Fill
    label: str  # "First fill", "Refill 1 of 3", "Refill (lapsed)"
    refills_left: int  # refills left once this fill was opened
    records: list[CompoundingRecord]  # its batches, latest first (more than one after a recompound)

    @property
    def record(self) -> CompoundingRecord | None:
        return self.records[0] if self.records else None


def lapsed(fill: Fill, prescription: Prescription) -> bool:
    """A refill whose questionnaire was never answered: cancelled, and no longer the current fill
    (a cancelled current fill is the prescription's own cancellation). Its refill was given back."""
    return fill.number > 1 and fill.status == S.CANCELLED and fill.number != prescription.fill_number


def fill_rows(prescription: Prescription) -> list[FillRow]:
    """Every fill of the prescription with its batches (their lots not fetched), oldest first; two queries."""
    fills = list(Fill.objects.filter(prescription=prescription).select_related("requested_by_user").order_by("number"))
    by_id = {fill.pk: fill for fill in fills}
    records: dict[int, list[CompoundingRecord]] = {}
    batches = (
        CompoundingRecord.objects.filter(prescription=prescription)
        .select_related("master_formulation__dosage_form", "compounded_by", "checked_by")
        .order_by("-compounded_at", "-id")
    )
    for record in batches:
        fill = by_id.get(record.fill_id) if record.fill_id else None
        if fill is not None:
            record.fill = fill  # the row already fetched: no query per batch
        # Batches made before fills existed belong to the first fill.
        records.setdefault(fill.number if fill else 1, []).append(record)
    rows: list[FillRow] = []
    refill_count = 0
    for fill in fills:
        if fill.number == 1:
            label = "First fill"
        elif lapsed(fill, prescription):
            label = "Refill (lapsed, given back)"
        else:
            refill_count += 1
            label = f"Refill {refill_count} of {prescription.refills}"
        rows.append(
            FillRow(
                fill=fill,
                label=label,
                refills_left=max(prescription.refills - refill_count, 0),
                records=records.get(fill.number, []),
            )
        )
    return rows


def fill_row(prescription: Prescription, number: int) -> FillRow | None:
    return next((row for row in fill_rows(prescription) if row.fill.number == number), None)


def fills_context(prescription: Prescription, user: User, *, latest: CompoundingRecord | None) -> dict[str, Any]:
    """What review.html needs beyond staff.review_context: fills, refill and renewal state, the BUD alert.

    `latest` is the prescription's latest batch (staff.review_context's, with its lots); it is the current
    fill's only when it was made for it: a refill not compounded yet has no batch of its own.
    """
    rows = fill_rows(prescription)
    labels = {row.fill.number: row.label for row in rows}
    current = next((row for row in rows if row.fill.number == prescription.fill_number), None)
    record = latest if latest is not None and current is not None and current.record == latest else None
    if record is not None and current is not None and record.fill_id:
        record.fill = current.fill
    # Refills and renewals only matter once the current fill is handed over.
    state = refill_state(prescription) if prescription.status in DISPENSED else None
    events = list(prescription.events.select_related("actor"))
    for event in events:
        # The history shows which fill each event belongs to once there is more than one.
        event.fill_label = labels.get(event.details.get("fill")) if len(rows) > 1 else ""  # type: ignore[attr-defined]
    return {
        "fills_shown": True,
        "fill_rows": rows,
        "current_fill": current,
        "record": record,
        "events": events,
        "refill": state,
        "refill_explanation": state.explanation() if state is not None and not state.can_refill else "",
        "valid_until": prescription.valid_until,
        "past_bud": prescription.is_past_beyond_use_date(),
        "recompound_form": ReasonForm(prefix="recompound"),
        # The workflow lets pharmacists and technicians ask for a refill (not the administrator).
        "can_start_refill": state is not None and state.can_refill and user.has_role(Role.PHARMACIST, Role.TECHNICIAN),
    }


def render_review(request: HttpRequest, full: Prescription, *, status: int = 200, **forms: Any) -> HttpResponse:
    """staff.review_context and the fills; `full` comes from staff.fetch_for_review."""
    context = review_context(full, reader=staff_user(request), **forms)
    context.update(fills_context(full, staff_user(request), latest=context["record"]))
    plan = fill_plan(full)
    context.update(dispense_plan=plan, plan_note=plan_note(full, plan))
    context.update(forms)
    return render(request, "staff/review.html", context, status=status)


@staff_required
@require_GET
def review(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The review page (staff.review) with the fills, refills and renewals of the prescription."""
    full = fetch_for_review(request, prescription_id)
    audit(request, AuditAction.VIEW, prescription=full, description="pharmacy review")
    return render_review(request, full)


def render_review_errors(request: HttpRequest, prescription: Prescription, **forms: Any) -> HttpResponse:
    full = fetch_for_review(request, prescription.pk)
    audit(request, AuditAction.VIEW, prescription=full, description="pharmacy review (form errors)")
    return render_review(request, full, status=400, **forms)


# Refills and renewals asked by the pharmacy -----------------------------------------------------


@staff_required
@require_POST
def refill_start(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    try:
        started = refill_request(prescription_id=prescription.pk, actor=staff_user(request),
                                 requester=Requester.PHARMACY)  # fmt: skip
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
        return to_review(prescription.pk)
    audit(
        request,
        AuditAction.ACTION,
        prescription=prescription,
        description=f"refill started (fill {started.fill_number})",
    )
    messages.success(request, f"Fill {started.fill_number} started: the patient was sent the re-screening "
                              "questions; their answers come to the queue for review.")  # fmt: skip
    return to_review(prescription.pk)


@staff_required
@require_POST
def renewal_ask(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    try:
        renewal = renewal_request(prescription_id=prescription.pk, actor=staff_user(request),
                                  requester=Requester.PHARMACY)  # fmt: skip
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
        return to_review(prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description="renewal asked of the prescriber")
    asked_on = long_date(timezone.localdate(renewal.requested_at))
    messages.success(request, f"The prescriber was asked to renew it on {asked_on}.")
    return to_review(prescription.pk)


# The follow-up list -------------------------------------------------------------------------------


class FollowUpReviewForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who was called and what was agreed; it goes into the prescription's history.",
    )


def review_form(follow_up_id: int, data: Any = None) -> FollowUpReviewForm:
    # One form per row: the ids (for the labels) differ, the field's name does not.
    return FollowUpReviewForm(data, auto_id=f"id_review_{follow_up_id}_%s")


@dataclass(frozen=True)
class FollowUpRow:
    follow_up: FollowUp
    answers: list[tuple[str, str]]  # (symptom, the patient's level in plain words)
    form: FollowUpReviewForm


def follow_up_rows(found: QuerySet[FollowUp], forms_by_id: dict[int, FollowUpReviewForm]) -> list[FollowUpRow]:
    labels = symptom_labels()
    return [
        FollowUpRow(
            follow_up=item,
            answers=[(label, _level(item, code)) for code, label in labels.items()],
            form=forms_by_id.get(item.pk) or review_form(item.pk),
        )
        for item in found
    ]


def _level(follow_up: FollowUp, code: str) -> str:
    display = getattr(follow_up, f"get_{code}_display", None)
    return str(display()) if display is not None else str(getattr(follow_up, code, ""))


def render_follow_ups(
    request: HttpRequest, *, forms_by_id: dict[int, FollowUpReviewForm] | None = None, status: int = 200
) -> HttpResponse:
    rows = follow_up_rows(follow_ups_for_pharmacist(), forms_by_id or {})
    audit(request, AuditAction.LIST, object_type="follow_up", description="follow-ups for a pharmacist")
    return render(request, "staff/follow_ups.html", {"rows": rows}, status=status)


@staff_required
@require_GET
def follow_ups(request: HttpRequest) -> HttpResponse:
    return render_follow_ups(request)


@staff_required
@require_POST
def follow_up_reviewed(request: HttpRequest, follow_up_id: int) -> HttpResponse:
    form = review_form(follow_up_id, request.POST)
    if not staff_user(request).is_pharmacist:
        # Before the form: a technician's note is not kept, whatever it says.
        messages.error(request, "Only a pharmacist can mark a check-in as reviewed.")
        return redirect("staff:follow_ups")
    if not form.is_valid():
        return render_follow_ups(request, forms_by_id={follow_up_id: form}, status=400)
    try:
        reviewed = follow_up_review(
            follow_up_id=follow_up_id, actor=staff_user(request), note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        return render_follow_ups(request, forms_by_id={follow_up_id: form}, status=400)
    except Forbidden:
        messages.error(request, "Only a pharmacist can mark a check-in as reviewed.")
        return redirect("staff:follow_ups")
    except NotFound:
        messages.error(request, "This check-in is not waiting for a pharmacist.")
        return redirect("staff:follow_ups")
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("staff:follow_ups")
    audit(request, AuditAction.ACTION, prescription=reviewed.prescription, description="check-in reviewed")
    messages.success(request, f"Check-in for {reviewed.prescription.reference} marked as reviewed.")
    return redirect("staff:follow_ups")
