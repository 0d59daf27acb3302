"""The pharmacy's work queue: the filtered, keyset-paged list, its counts per status, and "claim next"."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.forms import BoundField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from intake.audit import AuditAction, Shown, audit, audit_list
from intake.clinical.words import flag_title, severity_label
from intake.errors import WorkflowError
from intake.models import DosageFormCode, PrescriptionStatus
from intake.models.prescriptions import flags_by_code, overdue, overdue_before, past_beyond_use_date
from intake.queue import WORK_STATUSES, QueueEntry, queue_counts, queue_for_staff
from intake.services.workflow import (
    prescription_claim_next,
)
from intake.web.staff.access import staff_required, staff_user
from intake.web.staff.queue_formats import milligrams
from intake.web.staff.review_page import to_review
from intake.when import datetime_words, duration_from_now

S = PrescriptionStatus


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
    price_consent: str  # "" (not asked), pending, consented or declined


def flag_badge(flag: dict[str, str]) -> dict[str, str]:
    """A queue badge's words: the flag's title, and its severity for those who cannot see the colour."""
    return {**flag, "title": flag_title(flag["code"]), "severity_label": severity_label(flag["severity"])}


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
            medication=f"{milligrams(rx.strength_mg)} mg {_FORM_LABELS.get(rx.dosage_form, rx.dosage_form)}",
            flags=[flag_badge(flag) for flag in flags_by_code(rx.flags)],
            status_label=S(rx.status).label,
            status_class=_STATUS_CLASSES.get(rx.status, "primary"),
            submitted=datetime_words(rx.submitted_at.astimezone(zone)),
            waiting=duration_from_now(rx.submitted_at, now),
            claimed_by=rx.claimed_by_name if rx.claimed_by_id is not None else "",
            claimed_by_reader=rx.claimed_by_id == reader.pk,
            prescriber=rx.prescriber_name,
            fill_number=rx.fill_number,
            overdue_for=duration_from_now(rx.status_changed_at, now)
            if rx.status_changed_at and overdue(rx.status, rx.status_changed_at, before=overdue_since)
            else "",
            past_bud=past_beyond_use_date(rx.status, rx.beyond_use_date, today),
            price_consent=rx.price_consent,
        )
        for rx in rows
    ]


# The filter's drop-downs, in the order of the filter; the search box and check boxes are laid out apart.
_QUEUE_SELECTS = ("status", "dosage_form", "flag_level", "age", "claimed")


@dataclass(frozen=True)
class FilterSelect:
    """A drop-down of the queue's filter with its options, the chosen one marked."""

    field: BoundField
    options: list[tuple[str, str, bool]]  # (value, label, selected)


def filter_select(field: BoundField) -> FilterSelect:
    current = "" if field.value() is None else str(field.value())
    return FilterSelect(
        field=field,
        options=[(str(value), str(label), str(value) == current) for value, label in field.field.choices],  # type: ignore[attr-defined]
    )


def queue_count_tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(status, label, count) for each working status, in the order of the work."""
    return [(status, S(status).label, counts.get(status, 0)) for status in WORK_STATUSES]


@staff_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    queue_filter, page = queue_for_staff(user=staff_user(request), params=request.GET)
    audit_list(request, [Shown.prescription(row.pk, row.reference) for row in page.rows], object_type="prescription",
               description="pharmacy queue")  # fmt: skip
    params = request.GET.copy()
    for cursor in ("after", "before", "page"):  # "page": links saved before keyset pages
        params.pop(cursor, None)
    current_status = queue_filter.form.data.get("status", "")
    return render(
        request,
        "staff/queue.html",
        {
            "filter": queue_filter,
            "selects": [filter_select(queue_filter.form[name]) for name in _QUEUE_SELECTS],
            "page": page,
            # The rows by Jinja2: fifty rows of the Django template language cost more than the rest of the page.
            "rows": mark_safe(  # noqa: S308 (a template's output, escaped by Jinja2)
                render_to_string(
                    "staff/queue_rows.html",
                    {"rows": queue_table_rows(page.rows, reader=staff_user(request))},
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
