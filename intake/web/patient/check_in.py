"""The patient's side-effect check-in at its private link (sent 14 days after a first fill).

The same gate as the questionnaire (intake/web/patient/views.py): the token finds the check-in, the
birth date opens it, guesses are throttled. The answers are kept once; opening the link again
shows the thanks and the advice, never a second form.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language

from intake.audit import AuditAction, audit
from intake.clinical.follow_up import advice_in
from intake.errors import Conflict
from intake.models import FollowUp, Prescription
from intake.services.follow_up import PATIENT_CHECK_IN, follow_up_by_token, follow_up_submit
from intake.web.form_errors import service_errors_on_form
from intake.web.patient.forms import CheckInForm
from intake.web.patient.views import birth_date_gate


def _prescription_of(follow_up: FollowUp) -> Prescription:
    return follow_up.prescription


check_in_link = birth_date_gate(
    follow_up_by_token,
    prescription_of=_prescription_of,
    actor_label=PATIENT_CHECK_IN,
    expired_template="patient/check_in_expired.html",
    link_kwarg="check_in_token",
)


@check_in_link
def check_in(request: HttpRequest, follow_up: FollowUp, token: str) -> HttpResponse:
    prescription = follow_up.prescription
    if follow_up.answered_at is not None:
        # Answered already: the thanks again, and nothing posted is kept.
        return redirect("patient:check_in_thanks", check_in_token=token)
    form = CheckInForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            # The session proved the birth date for this prescription; the service checks it again.
            follow_up_submit(
                token=token,
                date_of_birth=prescription.patient.date_of_birth,
                symptoms=form.symptoms(),
                other_effects=form.cleaned_data["other_effects"],
                wants_call=form.cleaned_data["wants_call"],
            )
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except Conflict:
            return redirect("patient:check_in_thanks", check_in_token=token)
        else:
            audit(request, AuditAction.UPDATE, prescription=prescription, actor_label=PATIENT_CHECK_IN,
                  description="side-effect check-in answered")  # fmt: skip
            return redirect("patient:check_in_thanks", check_in_token=token)
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_CHECK_IN,
          description="side-effect check-in form")  # fmt: skip
    return render(request, "patient/check_in.html", {"form": form, "reference": prescription.reference})


@check_in_link
def check_in_thanks(request: HttpRequest, follow_up: FollowUp, token: str) -> HttpResponse:
    if follow_up.answered_at is None:
        return redirect("patient:check_in", check_in_token=token)
    audit(request, AuditAction.VIEW, prescription=follow_up.prescription, actor_label=PATIENT_CHECK_IN,
          description="side-effect check-in thank-you page")  # fmt: skip
    return render(
        request,
        "patient/check_in_thanks.html",
        {"advice": advice_in(follow_up.advice, get_language() or "en"), "wants_call": follow_up.wants_call},
    )
