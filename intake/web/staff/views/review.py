"""The review of one prescription by pharmacy staff: the page and its workflow buttons.

Every button posts to a view that calls one workflow service; the service's refusals (403, 409,
field errors) come back as messages or form errors on the page, never as a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from intake.audit import AuditAction, audit
from intake.clinical.verification import hard_stops_blocking
from intake.clinical.words import flag_title, flag_titles
from intake.errors import WorkflowError
from intake.models import (
    Prescription,
    PrescriptionStatus,
)
from intake.services.workflow import (
    prescription_approve,
    prescription_cancel,
    prescription_claim,
    prescription_reject,
    prescription_release,
    prescription_request_clarification,
    prescription_request_rescreen,
    prescription_verify_flag,
)
from intake.web.staff.access import error_text, get_prescription, pharmacist_required, staff_required, staff_user
from intake.web.staff.forms import (
    ApproveForm,
    ClarificationForm,
    ReasonForm,
    RescreenForm,
    VerifyFlagForm,
)
from intake.web.staff.review_page import (
    fetch_for_review,
    render_review,
    render_review_errors,
    run_action,
    to_review,
)

S = PrescriptionStatus


@staff_required
@require_GET
def review(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The review page: the prescription, its flags, its fills, refills and renewals, and the buttons."""
    full = fetch_for_review(request, prescription_id)
    audit(request, AuditAction.VIEW, prescription=full, description="pharmacy review")
    return render_review(request, full)


@staff_required
@require_POST
def claim(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    call = partial(prescription_claim, prescription_id=prescription.pk, actor=staff_user(request))
    return run_action(request, prescription, call, done="You claimed this prescription.", what="claimed")


@staff_required
@require_POST
def release(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    call = partial(prescription_release, prescription_id=prescription.pk, actor=staff_user(request))
    return run_action(request, prescription, call, done="Released back to the queue.", what="released")


def approval_blocked_text(codes: list[str]) -> str:
    return (
        f"A hard stop not verified blocks approval: {flag_titles(codes)}. Verify it where it can be verified; "
        "otherwise reject, ask the prescriber, or ask the patient to answer again."
    )


@staff_required
@require_POST
def approve(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    form = ApproveForm(request.POST, flags=prescription.flags, prefix="approve")
    if not form.is_valid():
        return render_review_errors(request, prescription, approve_form=form)
    try:
        prescription_approve(
            prescription_id=prescription.pk, actor=staff_user(request), override_reasons=form.override_reasons()
        )
    except ValidationError as exc:
        form.missing_reason_errors()
        if not form.errors:
            form.add_error(None, error_text(exc))
        return render_review_errors(request, prescription, approve_form=form)
    except WorkflowError as exc:
        # The service names the codes for API callers; the page names the flags.
        blocking = hard_stops_blocking(prescription.flags)
        messages.error(request, approval_blocked_text(blocking) if blocking else exc.message)
        return to_review(prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description="approved")
    messages.success(request, f"{prescription.reference} approved.")
    return to_review(prescription.pk)


def _with_reason(
    request: HttpRequest,
    prescription_id: int,
    *,
    form_class: type[ReasonForm] | type[ClarificationForm] | type[RescreenForm],
    prefix: str,
    field: str,
    service: Callable[..., Prescription],
    done: str,
    what: str,
) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    form = form_class(request.POST, prefix=prefix)
    if not form.is_valid():
        return render_review_errors(request, prescription, **{f"{prefix}_form": form})
    try:
        service(prescription_id=prescription.pk, actor=staff_user(request), **{field: form.cleaned_data[field]})
    except ValidationError as exc:
        form.add_error(None, error_text(exc))
        return render_review_errors(request, prescription, **{f"{prefix}_form": form})
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return to_review(prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description=what)
    messages.success(request, done)
    return to_review(prescription.pk)


@staff_required
@require_POST
def reject(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _with_reason(request, prescription_id, form_class=ReasonForm, prefix="reject", field="reason",
                        service=prescription_reject, done="Prescription rejected.", what="rejected")  # fmt: skip


@staff_required
@require_POST
def request_clarification(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _with_reason(request, prescription_id, form_class=ClarificationForm, prefix="clarify", field="message",
                        service=prescription_request_clarification,
                        done="Question sent; the prescription is on hold until the prescriber answers.",
                        what="asked the prescriber")  # fmt: skip


@staff_required
@require_POST
def cancel(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _with_reason(request, prescription_id, form_class=ReasonForm, prefix="cancel", field="reason",
                        service=prescription_cancel, done="Prescription cancelled.", what="cancelled")  # fmt: skip


@pharmacist_required
@require_POST
def verify_flag(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = get_prescription(request, prescription_id)
    form = VerifyFlagForm(request.POST, prefix="verify")
    if not form.is_valid():
        return render_review_errors(request, prescription, verify_form=form)
    data = form.cleaned_data
    try:
        prescription_verify_flag(
            prescription_id=prescription.pk, actor=staff_user(request), code=data["code"], method=data["method"],
            note=data["note"], field=data["field"],
        )  # fmt: skip
    except ValidationError as exc:
        for key, problems in exc.message_dict.items():
            for problem in problems:
                form.add_error(key if key in ("method", "note") else None, problem)
        return render_review_errors(request, prescription, verify_form=form)
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return to_review(prescription.pk)
    title = flag_title(data["code"])
    audit(request, AuditAction.ACTION, prescription=prescription, description=f"verified the flag “{title}”")
    messages.success(request, f"The flag “{title}” is verified.")
    return to_review(prescription.pk)


@pharmacist_required
@require_POST
def request_rescreen(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _with_reason(request, prescription_id, form_class=RescreenForm, prefix="rescreen", field="message",
                        service=prescription_request_rescreen,
                        done="A new questionnaire link was sent to the patient; the old one no longer works.",
                        what="asked the patient to answer again")  # fmt: skip
