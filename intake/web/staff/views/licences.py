"""The pharmacy's state licences: read by all staff, recorded and changed by pharmacists."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from intake.audit import AuditAction, audit
from intake.errors import WorkflowError
from intake.models import StateLicence
from intake.services.licences import state_licence_save
from intake.web.form_errors import service_errors_on_form
from intake.web.staff.access import pharmacist_required, staff_required, staff_user
from intake.web.staff.forms import StateLicenceForm


@staff_required
@require_GET
def licences(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "staff/licences.html",
        {"licences": StateLicence.objects.order_by("state"), "today": timezone.localdate()},
    )


def _edit(request: HttpRequest, licence: StateLicence | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = StateLicenceForm(request.POST, prefix="licence")
        if form.is_valid():
            try:
                saved = state_licence_save(
                    actor=staff_user(request), values=form.values(), licence_id=licence.pk if licence else None
                )
            except ValidationError as exc:
                service_errors_on_form(form, exc)
            except WorkflowError as exc:
                messages.error(request, exc.message)
            else:
                audit(request, AuditAction.UPDATE if licence else AuditAction.CREATE,
                      object_type="state_licence", object_id=saved.pk, description=str(saved))  # fmt: skip
                messages.success(request, f"Licence {saved} saved.")
                return redirect("staff:licences")
        status = 400
    elif licence is not None:
        form = StateLicenceForm(initial=StateLicenceForm.initial_for(licence), prefix="licence")
    else:
        form = StateLicenceForm(prefix="licence")
    return render(request, "staff/licence_form.html", {"form": form, "licence": licence}, status=status)


@pharmacist_required
@require_http_methods(["GET", "POST"])
def licence_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@pharmacist_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, licence_id: int) -> HttpResponse:
    found = StateLicence.objects.filter(pk=licence_id).first()
    if found is None:
        raise Http404("No such licence")
    return _edit(request, found)
