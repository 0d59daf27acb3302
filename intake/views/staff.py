"""Pharmacy staff pages: the queue and the review of one prescription, with its workflow buttons.

Every button posts to a view that calls one workflow service; the service's refusals (403, 409,
field errors) come back as messages or form errors on the page, never as a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
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
from intake.forms_staff import ApproveForm, ClarificationForm, ReasonForm, RescreenForm, ShipForm, VerifyFlagForm
from intake.models import DosageFormCode, Prescription, PrescriptionStatus
from intake.models.prescriptions import flags_by_code, overdue, overdue_before, past_beyond_use_date
from intake.queue import WORK_STATUSES, QueueEntry, queue_counts, queue_for_staff
from intake.queue_formats import short_datetime, waiting
from intake.selectors import prescription_for_user
from intake.services.compounding import latest_record
from intake.services.workflow import (
    prescription_approve,
    prescription_cancel,
    prescription_claim,
    prescription_claim_next,
    prescription_reject,
    prescription_release,
    prescription_request_clarification,
    prescription_request_rescreen,
    prescription_verify_flag,
)

S = PrescriptionStatus
View = Callable[..., HttpResponse]


def _denied(request: HttpRequest) -> HttpResponse:
    audit(request, AuditAction.DENIED, object_type="staff_page", description="not pharmacy staff")
    return render(request, "403.html", status=403)


def staff_required(view: View) -> View:
    """Signed in as pharmacy staff; anyone else gets 403 (prescribers) or the login page (anonymous)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_pharmacy_staff:  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def pharmacist_required(view: View) -> View:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_pharmacist:  # type: ignore[union-attr]
            return _denied(request)
        return view(request, *args, **kwargs)

    return wrapped


def staff_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def get_prescription(request: HttpRequest, prescription_id: int) -> Prescription:
    try:
        return prescription_for_user(staff_user(request), prescription_id)
    except WorkflowError:
        raise Http404("No such prescription") from None


def error_text(exc: ValidationError | WorkflowError) -> str:
    if isinstance(exc, WorkflowError):
        return exc.message
    if hasattr(exc, "error_dict"):
        return " ".join(message for problems in exc.message_dict.values() for message in problems)
    return " ".join(exc.messages)


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


# The queue ---------------------------------------------------------------------------------------


# The badge colours of _status_badge.html.
_STATUS_CLASSES: dict[str, str] = {S.REJECTED: "secondary", S.CANCELLED: "secondary", S.ON_HOLD: "warning",
                                   S.READY: "success", S.SHIPPED: "success", S.COMPLETED: "success"}  # fmt: skip
_FORM_LABELS = {code: str(label).lower() for code, label in DosageFormCode.choices}


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue table, as templates/jinja2/staff/queue_rows.html shows it."""

    url: str
    reference: str
    rush: bool
    patient: str
    medication: str
    flags: list[dict[str, str]]
    status_label: str
    status_class: str
    submitted: str
    waiting: str
    claimed_by: str  # "" when unclaimed
    claimed_by_reader: bool
    prescriber: str
    fill_number: int
    overdue_for: str  # "" or how long it has idled in this staff status, past QUEUE_OVERDUE_HOURS
    past_bud: bool  # ready, but its beyond-use date has passed: not to be handed over


def queue_table_rows(rows: list[QueueEntry], *, reader: User) -> list[QueueRow]:
    # One reverse for the page; each row's link is the prefix and its id.
    review_url = reverse("staff:review", args=[0]).removesuffix("0/")
    now = timezone.now()
    zone = timezone.get_current_timezone()  # once: localtime() would look it up for every row
    today = timezone.localdate(now, zone)
    overdue_since = overdue_before()
    return [
        QueueRow(
            url=f"{review_url}{rx.pk}/",
            reference=rx.reference,
            rush=rx.rush,
            patient=f"{rx.patient_last_name}, {rx.patient_first_name}",
            medication=f"{floatformat(rx.strength_mg, -2)} mg {_FORM_LABELS.get(rx.dosage_form, rx.dosage_form)}",
            flags=flags_by_code(rx.flags),
            status_label=S(rx.status).label,
            status_class=_STATUS_CLASSES.get(rx.status, "primary"),
            submitted=short_datetime(rx.submitted_at.astimezone(zone)),
            waiting=waiting(rx.submitted_at, now),
            claimed_by=rx.claimed_by_name if rx.claimed_by_id is not None else "",
            claimed_by_reader=rx.claimed_by_id == reader.pk,
            prescriber=rx.prescriber_name,
            fill_number=rx.fill_number,
            overdue_for=waiting(rx.status_changed_at, now)
            if rx.status_changed_at and overdue(rx.status, rx.status_changed_at, before=overdue_since)
            else "",
            past_bud=past_beyond_use_date(rx.status, rx.beyond_use_date, today),
        )
        for rx in rows
    ]


# The filter's drop-downs, in the order of the filter; the search box and check boxes are laid out apart.
_QUEUE_SELECTS = ("status", "dosage_form", "flag_level", "age", "claimed")


def queue_count_tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(status, label, count) for each working status, in the order of the work."""
    return [(status, S(status).label, counts.get(status, 0)) for status in WORK_STATUSES]


@staff_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    queue_filter, page = queue_for_staff(user=staff_user(request), params=request.GET)
    audit(request, AuditAction.LIST, object_type="prescription", description="pharmacy queue")
    params = request.GET.copy()
    for cursor in ("after", "before", "page"):  # "page": links saved before keyset pages
        params.pop(cursor, None)
    current_status = queue_filter.form.data.get("status", "")
    return render(
        request,
        "staff/queue.html",
        {
            "filter": queue_filter,
            "selects": [queue_filter.form[name] for name in _QUEUE_SELECTS],
            "page": page,
            # The rows by Jinja2: fifty rows of the Django template language cost more than the rest of
            # the page (its loop, lookups and filters, about 2 ms for fifty rows against Jinja2's 0.3).
            "rows": mark_safe(  # noqa: S308 (a template's output, escaped by Jinja2)
                render_to_string(
                    "staff/queue_rows.html", {"rows": queue_table_rows(page.rows, reader=staff_user(request))},
                    using="jinja2",
                )
            ),
            "tabs": queue_count_tabs(queue_counts()),
            "current_status": current_status,
            "querystring": params.urlencode(),
        },
    )


@staff_required
@require_GET
def queue_counts_partial(request: HttpRequest) -> HttpResponse:
    """The counts per status, re-fetched by htmx every 30 seconds (no patient data in it)."""
    return render(
        request,
        "staff/_queue_counts.html",
        {"tabs": queue_count_tabs(queue_counts()), "current_status": request.GET.get("status", "")},
    )


@staff_required
@require_POST
def claim_next(request: HttpRequest) -> HttpResponse:
    try:
        prescription = prescription_claim_next(actor=staff_user(request))
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("staff:queue")
    if prescription is None:
        messages.info(request, "Nothing is waiting for review.")
        return redirect("staff:queue")
    audit(request, AuditAction.ACTION, prescription=prescription, description="claimed next")
    messages.success(request, f"You claimed {prescription.reference}.")
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
        "approve_form": ApproveForm(flags=prescription.flags, prefix="approve"),
        "reject_form": ReasonForm(prefix="reject"),
        "clarify_form": ClarificationForm(prefix="clarify"),
        "cancel_form": ReasonForm(prefix="cancel"),
        "ship_form": ShipForm(prefix="ship"),
        "rescreen_form": RescreenForm(prefix="rescreen"),
        # Hard stops not verified yet: each blocks approval.
        "hard_stops": hard_stops_blocking(prescription.flags),
        "flag_rows": flag_rows(prescription, reader=reader, failed=forms.pop("verify_form", None)),
        "warnings": [f for f in prescription.flags if f.get("severity") == "warning"],
        "reasons_needed": reasons_needed(prescription.flags),
        "confirmations_missing": confirmations_missing(prescription.flags),
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


def render_review_errors(request: HttpRequest, prescription: Prescription, **forms: Any) -> HttpResponse:
    # The review page with its fills lives in staff_fills, which builds on this module's helpers.
    from intake.views.staff_fills import render_review_errors as render_with_fills

    return render_with_fills(request, prescription, **forms)


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
        messages.error(request, exc.message)
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
    audit(request, AuditAction.ACTION, prescription=prescription, description=f"verified {data['code']}")
    messages.success(request, f"The {data['code']} flag is verified.")
    return to_review(prescription.pk)


@pharmacist_required
@require_POST
def request_rescreen(request: HttpRequest, prescription_id: int) -> HttpResponse:
    return _with_reason(request, prescription_id, form_class=RescreenForm, prefix="rescreen", field="message",
                        service=prescription_request_rescreen,
                        done="A new questionnaire link was sent to the patient; the old one no longer works.",
                        what="asked the patient to answer again")  # fmt: skip
