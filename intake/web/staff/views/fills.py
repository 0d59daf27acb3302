"""Pharmacy staff pages for the repeat business: refills and renewals asked by the pharmacy, and the
list of side-effect check-ins for a pharmacist.

Like the other staff pages, each button calls one service; its refusals (403, 409, field errors)
come back as page messages or form errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from intake.audit import AuditAction, Shown, audit, audit_list
from intake.clinical.follow_up import symptom_labels
from intake.errors import Forbidden, NotFound, WorkflowError
from intake.models import (
    FollowUp,
    Requester,
)
from intake.services.follow_up import follow_up_review, follow_ups_for_pharmacist
from intake.services.refills import refill_request, renewal_request
from intake.web.staff.access import error_text, get_prescription, staff_required, staff_user
from intake.web.staff.forms import FollowUpReviewForm
from intake.web.staff.review_page import to_review
from intake.when import date_words

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
    asked_on = date_words(timezone.localdate(renewal.requested_at))
    messages.success(request, f"The prescriber was asked to renew it on {asked_on}.")
    return to_review(prescription.pk)


# The follow-up list -------------------------------------------------------------------------------


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
    shown = [Shown("follow_up", row.follow_up.pk, row.follow_up.prescription.reference) for row in rows]
    audit_list(request, shown, object_type="follow_up", description="follow-ups for a pharmacist")
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
