"""Pharmacy staff pages: the queue and the review of one prescription, with its workflow buttons.

Every button posts to a view that calls one workflow service; the service's refusals (403, 409,
field errors) come back as messages or form errors on the page, never as a server error.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
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
from intake.queue import WORK_STATUSES, QueueEntry, QueueFilter, queue_counts, queue_for_staff
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


# Fixed pieces of a queue row (no data in them).
_RUSH = SafeString(' <span class="badge text-bg-danger">Rush</span>')
_PAST_BUD = SafeString(' <span class="badge text-bg-danger">Past BUD: do not hand over</span>')
_NO_FLAGS = SafeString('<span class="text-muted small">none</span>')
_YOU = SafeString("<strong>You</strong>")
_UNCLAIMED = SafeString('<span class="text-muted">—</span>')


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue table, its text ready: the template only places it. Fifty rows of
    lookups, filters and {% url %} tags in the template cost more than the rest of the page."""

    url: str
    reference: str
    rush: bool
    patient: str
    medication: str
    flags: list[dict[str, str]]
    status_label: str
    status_class: str
    waiting: str
    submitted: str
    claimed_by: str  # "" when unclaimed, "You" for the reader
    prescriber: str
    fill_number: int
    overdue: str  # "" or how long it has idled in this staff status (QUEUE_OVERDUE_HOURS)
    past_bud: bool  # ready, but its beyond-use date has passed: not to be handed over

    def html(self) -> SafeString:
        """The table row. Written with str.format and html.escape: the template language, and then
        format_html's lazy-aware escaping, each cost more for fifty rows than the rest of the request."""
        badges = _RUSH if self.rush else ""
        if self.fill_number > 1:
            badges += f' <span class="badge text-bg-info">Fill {self.fill_number:d}</span>'
        if self.overdue:
            badges += (f' <span class="badge text-bg-danger" title="In this status for {self.overdue}">'
                       "Overdue</span>")  # fmt: skip
        if self.past_bud:
            badges += _PAST_BUD
        flags = "".join(
            _FLAG.format(_escape(flag["severity"]), _escape(flag["message"]), _escape(flag["code"]))
            for flag in self.flags
        ) or _NO_FLAGS  # fmt: skip
        claimed = {"You": _YOU, "": _UNCLAIMED}.get(self.claimed_by) or _escape(self.claimed_by)
        # Escaped: everything read from the database. Not: what this module wrote itself from ids,
        # the status choices and dates.
        return SafeString(_ROW.format(
            self.url, _escape(self.reference), badges, _escape(self.patient), _escape(self.medication), flags,
            self.status_class, self.status_label, self.submitted, self.waiting, claimed, _escape(self.prescriber),
        ))  # fmt: skip


def _escape(text: str) -> str:
    # What django.utils.html.escape does, without its lazy-string wrapper (plain str only here).
    return html.escape(text, quote=True)


_OPTION = '<option value="{}"{}>{}</option>'
_FLAG = '<span class="badge flag-{} me-1" title="{}">{}</span>'
_ROW = (
    '<tr><td><a href="{}">{}</a>{}</td><td>{}</td><td>{}</td><td>{}</td>'
    '<td><span class="badge text-bg-{} status-badge">{}</span></td>'
    '<td><span title="{}">{}</span></td><td>{}</td><td class="small">{}</td></tr>\n'
)


# The badge colours of _status_badge.html.
_STATUS_CLASSES: dict[str, str] = {S.REJECTED: "secondary", S.CANCELLED: "secondary", S.ON_HOLD: "warning",
                                   S.READY: "success", S.SHIPPED: "success", S.COMPLETED: "success"}  # fmt: skip
_FORM_LABELS = {code: str(label).lower() for code, label in DosageFormCode.choices}


def _when(moment: datetime) -> str:
    # "Jan 5, 2026 14:03", the date filter's "M j, Y H:i".
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment:%Y %H:%M}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _strength(value: Decimal) -> str:
    # As the floatformat:"-2" filter: "3" for 3.00, "4.50" for 4.5.
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


def _waiting(since: datetime, now: datetime) -> str:
    """'3 days, 4 hours' in the timesince filter's words (months of 30 days), in a tenth of its time."""
    seconds = max(0, int((now - since).total_seconds()))
    parts: list[str] = []
    for unit, size in _WAIT_UNITS:
        count, seconds = divmod(seconds, size)
        if count or parts:
            if count:
                parts.append(f"{count}\xa0{unit}{'' if count == 1 else 's'}")
            if len(parts) == 2 or (parts and not count):
                break
    return ", ".join(parts) or "0\xa0minutes"


_WAIT_UNITS = (("year", 365 * 86_400), ("month", 30 * 86_400), ("week", 7 * 86_400), ("day", 86_400),
               ("hour", 3_600), ("minute", 60))  # fmt: skip


def queue_table_rows(rows: list[QueueEntry], *, reader: User) -> list[QueueRow]:
    review_url = reverse("staff:review", args=[0]).removesuffix("0/")
    now = timezone.now()
    zone = timezone.get_current_timezone()  # once: localtime() would look it up for every row
    today = timezone.localdate(now, zone)
    overdue_since = overdue_before()
    table = []
    for rx in rows:
        claimed = ""
        if rx.claimed_by_id is not None:
            claimed = "You" if rx.claimed_by_id == reader.pk else rx.claimed_by_name
        table.append(
            QueueRow(
                url=f"{review_url}{rx.pk}/",
                reference=rx.reference,
                rush=rx.rush,
                patient=f"{rx.patient_last_name}, {rx.patient_first_name}",
                medication=f"{_strength(rx.strength_mg)} mg {_FORM_LABELS.get(rx.dosage_form, rx.dosage_form)}",
                flags=flags_by_code(rx.flags),
                status_label=S(rx.status).label,
                status_class=_STATUS_CLASSES.get(rx.status, "primary"),
                waiting=_waiting(rx.submitted_at, now),
                submitted=_when(rx.submitted_at.astimezone(zone)),
                claimed_by=claimed,
                prescriber=rx.prescriber_name,
                fill_number=rx.fill_number,
                overdue=_waiting(rx.status_changed_at, now)
                if rx.status_changed_at and overdue(rx.status, rx.status_changed_at, before=overdue_since)
                else "",
                past_bud=past_beyond_use_date(rx.status, rx.beyond_use_date, today),
            )
        )
    return table


def _filter_selects(queue_filter: QueueFilter) -> SafeString:
    """The filter's drop-downs with their labels, options and errors, written here (escaped) rather
    than by template loops over every field and option."""
    selects = []
    for field in queue_filter.form:
        if field.name in ("q", "rush", "overdue"):
            continue
        current = "" if field.value() is None else str(field.value())
        options = "".join(
            _OPTION.format(_escape(str(value)), " selected" if str(value) == current else "", _escape(str(label)))
            for value, label in field.field.choices  # type: ignore[attr-defined]
        )
        errors = "".join(_ERROR.format(_escape(str(error))) for error in field.errors)
        selects.append(_SELECT.format(id=_escape(field.id_for_label), label=_escape(str(field.label)),
                                      name=_escape(field.html_name), invalid=" is-invalid" if errors else "",
                                      options=options, errors=errors))  # fmt: skip
    return SafeString("".join(selects))


_SELECT = (
    '<div class="col-6 col-md-auto">\n'
    '  <label class="form-label small mb-0" for="{id}">{label}</label>\n'
    '  <select class="form-select{invalid}" name="{name}" id="{id}">{options}</select>\n'
    "  {errors}\n</div>\n"
)
_ERROR = '<div class="invalid-feedback">{}</div>'


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
            "selects": _filter_selects(queue_filter),
            "page": page,
            # The table's rows as one piece of text: a template loop over fifty rows costs more than writing them.
            "rows": SafeString("".join(row.html() for row in queue_table_rows(page.rows, reader=staff_user(request)))),
            "counts": _counts_pills(queue_counts(), current_status),
            "current_status": current_status,
            "querystring": params.urlencode(),
        },
    )


def _counts_pills(counts: dict[str, int], current_status: str) -> SafeString:
    """The queue's status pills with their counts (no patient data), written here rather than by a
    template loop over thirteen statuses. Every piece is the pharmacy's own text or a number."""
    queue_url = reverse("staff:queue")
    pills = []
    for status in WORK_STATUSES:
        current = ' active" aria-current="page' if status == current_status else ""
        pills.append(_PILL.format(current=current, url=queue_url, status=status, label=S(status).label,
                                  count=counts.get(status, 0)))  # fmt: skip
    return SafeString("".join(pills))


_PILL = (
    '<li class="nav-item"><a class="nav-link py-1 px-2{current}" href="{url}?status={status}">{label} '
    '<span class="badge text-bg-light border" data-status-count="{status}">{count:d}</span></a></li>\n'
)


@staff_required
@require_GET
def queue_counts_partial(request: HttpRequest) -> HttpResponse:
    """The counts per status, re-fetched by htmx every 30 seconds (no patient data in it)."""
    current_status = request.GET.get("status", "")
    return render(
        request,
        "staff/_queue_counts.html",
        {"counts": _counts_pills(queue_counts(), current_status), "current_status": current_status},
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
