"""The carrier's news that needs a person: failed deliveries, returns and carrier errors.

The people at the bench see the carrier's own words, the prescription and the patient, call or
ship again, and record what was done, which takes the parcel off the list.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from intake.audit import AuditEntry, Shown, audit_list
from intake.errors import NotFound, WorkflowError
from intake.services.tracking import tracking_problem_handle, tracking_problems
from intake.web.staff.access import bench_staff_required, error_text, staff_user
from intake.web.staff.forms import ShippingProblemForm

PROBLEMS_SHOWN = 200


def handled_form(event_id: int, data: Any = None) -> ShippingProblemForm:
    # One form per row: the ids (for the labels) differ, the field's name does not.
    return ShippingProblemForm(data, auto_id=f"id_problem_{event_id}_%s")


def render_problems(
    request: HttpRequest, *, forms_by_id: dict[int, ShippingProblemForm] | None = None, status: int = 200
) -> HttpResponse:
    events = list(tracking_problems()[:PROBLEMS_SHOWN])
    rows = [(event, (forms_by_id or {}).get(event.pk) or handled_form(event.pk)) for event in events]
    shown = [Shown("tracking event", event.pk, event.prescription.reference) for event in events]
    audit_list(request, shown, object_type="tracking event", description="shipping problems")
    return render(request, "staff/shipping_problems.html", {"rows": rows}, status=status)


@bench_staff_required
@require_GET
def shipping_problems(request: HttpRequest) -> HttpResponse:
    return render_problems(request)


@bench_staff_required
@require_POST
def shipping_problem_handled(request: HttpRequest, event_id: int) -> HttpResponse:
    form = handled_form(event_id, request.POST)
    if not form.is_valid():
        return render_problems(request, forms_by_id={event_id: form}, status=400)
    entry = AuditEntry.of(request, description="shipping problem handled")
    try:
        event = tracking_problem_handle(
            event_id=event_id, actor=staff_user(request), note=form.cleaned_data["handled_note"], entry=entry
        )
    except ValidationError as exc:
        form.add_error("handled_note", error_text(exc))
        return render_problems(request, forms_by_id={event_id: form}, status=400)
    except NotFound:
        messages.error(request, "This parcel is not on the list of shipping problems.")
        return redirect("staff:shipping_problems")
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("staff:shipping_problems")
    reference = event.prescription.reference if event.prescription else event.tracking_code
    messages.success(request, f"Recorded what was done about {reference}; it is off the list.")
    return redirect("staff:shipping_problems")
