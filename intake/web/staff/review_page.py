"""The review page of one prescription, as every staff view that comes back to it renders it: the
prescription, its flags with their verification, its fills with their batches, refills and renewals.
Buttons on the page post to the views in views/review.py, views/compounding.py and views/fills.py;
a refused form comes back here with its errors (render_review_errors).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import Role, User
from intake.audit import AuditAction, audit
from intake.clinical.verification import (
    METHODS,
    confirmations_missing,
    hard_stops_blocking,
    is_verifiable,
    is_verified,
    reasons_needed,
)
from intake.errors import WorkflowError
from intake.models import (
    CompoundingRecord,
    Fill,
    Notification,
    Prescription,
    PrescriptionStatus,
)
from intake.notifications.selectors import masked_recipient
from intake.selectors import documents_of
from intake.services.addresses import address_warnings
from intake.services.compounding import latest_record
from intake.services.dispensing import fill_plan, plan_note
from intake.services.final_check import compounder_refusal
from intake.services.pricing import waits_for_price_consent
from intake.services.refills import refill_state
from intake.services.workflow import ship_offer
from intake.shipping.backends import shipping_buys_labels
from intake.web.staff.access import error_text, get_prescription, staff_user
from intake.web.staff.forms import (
    ApproveForm,
    ClarificationForm,
    ReasonForm,
    RescreenForm,
    ShipForm,
    VerifyFlagForm,
)

S = PrescriptionStatus
DISPENSED = (S.SHIPPED, S.COMPLETED)


def to_review(prescription_id: int) -> HttpResponse:
    return redirect("staff:review", prescription_id=prescription_id)


def run_action(
    request: HttpRequest, prescription: Prescription, call: Callable[[], Prescription], *, done: str, what: str
) -> HttpResponse:
    """Call one workflow service; on success audit it and say so, on refusal show why. Back to the review."""
    try:
        call()
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
    else:
        audit(request, AuditAction.ACTION, prescription=prescription, description=what)
        messages.success(request, done)
    return to_review(prescription.pk)


# The review page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlagRow:
    """A flag on the review page: its verification (who, how, when) or the form to verify it."""

    flag: dict[str, Any]
    verified: bool
    verifiable: bool
    method_label: str  # the verification's method in words, "" while not verified
    form: VerifyFlagForm | None  # None where the reader cannot verify it now


def flag_rows(
    prescription: Prescription, *, reader: User | None, failed: VerifyFlagForm | None = None
) -> list[FlagRow]:
    """Every flag with a verify form for a pharmacist while in review; the form that just failed
    (matched by code and field) comes back with its errors."""
    can_verify = reader is not None and reader.is_pharmacist and prescription.status == S.IN_REVIEW
    failed_key = (failed.data.get("verify-code"), failed.data.get("verify-field", "")) if failed else None
    rows = []
    for position, flag in enumerate(prescription.flags):
        verification = flag.get("verification") or {}
        form = None
        if can_verify and is_verifiable(flag):
            key = (flag.get("code"), flag.get("field", ""))
            form = failed if failed is not None and key == failed_key else VerifyFlagForm(
                prefix="verify", auto_id=f"id_verify{position}_%s",
                initial={"code": flag.get("code"), "field": flag.get("field", "")},
            )  # fmt: skip
        rows.append(
            FlagRow(
                flag=flag,
                verified=is_verified(flag),
                verifiable=is_verifiable(flag),
                method_label=METHODS.get(str(verification.get("method", "")), ""),
                form=form,
            )
        )
    return rows


@dataclass(frozen=True)
class NotificationRow:
    notification: Notification
    recipient: str  # masked: enough to recognise, not to read off the screen


NOTIFICATIONS_SHOWN = 20


def notification_rows(prescription: Prescription) -> list[NotificationRow]:
    """The prescription's latest notifications, newest first, with the SMS provider's delivery news."""
    latest = prescription.notifications.order_by("-created_at", "-pk")[:NOTIFICATIONS_SHOWN]
    return [
        NotificationRow(notification=n, recipient=masked_recipient(channel=n.channel, recipient=n.recipient))
        for n in latest
    ]


def review_context(prescription: Prescription, *, reader: User | None = None, **forms: Any) -> dict[str, Any]:
    questionnaire = getattr(prescription, "questionnaire", None)
    record = latest_record(prescription)
    context = {
        "prescription": prescription,
        "steps": list(prescription.titration_steps.all()),
        "questionnaire": questionnaire,
        "events": prescription.events.select_related("actor"),
        "clarifications": prescription.clarifications.select_related("asked_by", "responded_by"),
        "record": record,
        "documents": documents_of(prescription),
        # What the pharmacy told whom, and whether it arrived: "did the patient get the text?"
        "notification_rows": notification_rows(prescription),
        # Shown to the one who recorded the fill, in place of the final check.
        "compounder_refusal": compounder_refusal(record) if record is not None else "",
        "approve_form": ApproveForm(flags=prescription.flags, prefix="approve"),
        "reject_form": ReasonForm(prefix="reject"),
        "clarify_form": ClarificationForm(prefix="clarify"),
        "cancel_form": ReasonForm(prefix="cancel"),
        "ship_form": ShipForm(prefix="ship", buys_labels=shipping_buys_labels()),
        # With a carrier service: its rates for the patient's address (an HTTP call, only when ready).
        "ship_offer": ship_offer(prescription),
        "address_warnings": address_warnings(prescription.patient),
        "rescreen_form": RescreenForm(prefix="rescreen"),
        # Hard stops not verified yet: each blocks approval.
        "hard_stops": hard_stops_blocking(prescription.flags),
        "flag_rows": flag_rows(prescription, reader=reader, failed=forms.pop("verify_form", None)),
        "warnings": [f for f in prescription.flags if f.get("severity") == "warning"],
        "reasons_needed": reasons_needed(prescription.flags),
        "confirmations_missing": confirmations_missing(prescription.flags),
        # The pharmacy asks the patient to agree to the price first (PRICE_CONSENT_REQUIRED).
        "waits_for_price_consent": waits_for_price_consent(prescription),
        "before_compounding": prescription.status
        in (S.AWAITING_QUESTIONNAIRE, S.PENDING_REVIEW, S.IN_REVIEW, S.ON_HOLD, S.APPROVED),  # fmt: skip
    }
    context.update(forms)
    return context


def fetch_for_review(request: HttpRequest, prescription_id: int) -> Prescription:
    prescription = get_prescription(request, prescription_id)
    # One query for the questionnaire and the titration steps (is_altered reads them too).
    return (
        Prescription.objects.select_related("patient", "prescriber__user", "claimed_by", "questionnaire")
        .prefetch_related("titration_steps")
        .get(pk=prescription.pk)
    )


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
    """What review.html needs beyond review_context: fills, refill and renewal state, the BUD alert.

    `latest` is the prescription's latest batch (review_context's, with its lots); it is the current
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
    """review_context and the fills; `full` comes from fetch_for_review."""
    context = review_context(full, reader=staff_user(request), **forms)
    context.update(fills_context(full, staff_user(request), latest=context["record"]))
    plan = fill_plan(full)
    context.update(dispense_plan=plan, plan_note=plan_note(full, plan))
    context.update(forms)
    return render(request, "staff/review.html", context, status=status)


def render_review_errors(request: HttpRequest, prescription: Prescription, **forms: Any) -> HttpResponse:
    full = fetch_for_review(request, prescription.pk)
    audit(request, AuditAction.VIEW, prescription=full, description="pharmacy review (form errors)")
    return render_review(request, full, status=400, **forms)
