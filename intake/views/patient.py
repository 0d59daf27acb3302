"""The patient's pages, without a login: the questionnaire at the private link and the order status.

The private link's token finds the prescription, but nothing about it is shown until the patient
has confirmed their date of birth; the confirmation is remembered in the session for that token
only, for a short while. Wrong dates and too many requests are throttled (intake/throttles.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from intake.audit import AuditAction, audit, client_ip
from intake.errors import Conflict, NotFound
from intake.forms_patient import (
    AllergyFormSet,
    BirthDateForm,
    MedicationFormSet,
    QuestionnaireForm,
    StatusLookupForm,
    list_rows,
    questionnaire_answers,
)
from intake.models import Prescription, Questionnaire
from intake.services.questionnaire import (
    MAX_LIST_ITEMS,
    PATIENT_LINK,
    LinkExpired,
    date_of_birth_matches,
    questionnaire_closed_reason,
    questionnaire_editable,
    questionnaire_prescription,
    questionnaire_submit,
)
from intake.services.status import PATIENT_STATUS_LOOKUP, patient_status, status_lookup
from intake.throttles import (
    birth_date_guesses_blocked,
    birth_date_missed,
    private_link_allowed,
    retry_after_seconds,
)

# How long a confirmed birth date opens the link in this browser, and how long an anonymous
# patient's session may sit idle: answering takes longer than staff's 15-minute idle limit.
UNLOCK_SECONDS = 60 * 60

PrivateLinkView = Callable[[HttpRequest, Prescription, str], HttpResponse]


def _unlock_key(token: str) -> str:
    # The token itself stays out of the session store.
    return "patient_link:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def _is_unlocked(request: HttpRequest, token: str) -> bool:
    unlocked_at = request.session.get(_unlock_key(token))
    return isinstance(unlocked_at, int | float) and 0 <= timezone.now().timestamp() - unlocked_at < UNLOCK_SECONDS


def _unlock(request: HttpRequest, token: str) -> None:
    request.session[_unlock_key(token)] = int(timezone.now().timestamp())
    if not request.user.is_authenticated:
        request.session.set_expiry(UNLOCK_SECONDS)


def too_many_attempts(request: HttpRequest) -> HttpResponse:
    response = render(request, "patient/too_many_attempts.html", status=429)
    response["Retry-After"] = str(retry_after_seconds())
    return response


def private_link(view: PrivateLinkView) -> Callable[..., HttpResponse]:
    """Find the prescription behind the link and ask for the birth date before the view runs."""

    @wraps(view)
    @never_cache
    @require_http_methods(["GET", "POST"])
    def wrapped(request: HttpRequest, token: str) -> HttpResponse:
        if not private_link_allowed(request, token):
            return too_many_attempts(request)
        try:
            prescription = questionnaire_prescription(token)
        except LinkExpired:
            return render(request, "patient/link_expired.html", status=410)
        except NotFound:
            return render(request, "patient/link_not_found.html", status=404)
        if not _is_unlocked(request, token):
            return _confirm_birth_date(request, token, prescription)
        return view(request, prescription, token)

    return wrapped


def _confirm_birth_date(request: HttpRequest, token: str, prescription: Prescription) -> HttpResponse:
    """The neutral page: one date field, the same for every link, whatever the answer."""
    # A questionnaire posted after the session ended arrives here: say why the answers were not kept.
    answers_lost = request.method == "POST" and "takes_opioids" in request.POST
    form = BirthDateForm(request.POST if request.method == "POST" and not answers_lost else None)
    if form.is_bound and form.is_valid():
        if birth_date_guesses_blocked(request, prescription.reference):
            return too_many_attempts(request)
        if date_of_birth_matches(prescription, form.cleaned_data["date_of_birth"]):
            _unlock(request, token)
            return redirect(request.path)
        birth_date_missed(request, prescription.reference)
        audit(request, AuditAction.DENIED, prescription=prescription, actor_label=PATIENT_LINK,
              description="private link: date of birth did not match")  # fmt: skip
        form.mismatch()
    else:
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
              description="private link: date of birth asked")  # fmt: skip
    return render(request, "patient/confirm_birth_date.html", {"form": form, "answers_lost": answers_lost})


def _list_formsets(request: HttpRequest, questionnaire: Questionnaire | None) -> tuple[Any, Any]:
    if request.method == "POST":
        return (
            MedicationFormSet(request.POST, prefix="medications"),
            AllergyFormSet(request.POST, prefix="allergies"),
        )
    medications = list(questionnaire.current_medications) if questionnaire else []
    allergies = list(questionnaire.allergies) if questionnaire else []
    return (
        MedicationFormSet(
            initial=list_rows(medications, 0 if len(medications) >= MAX_LIST_ITEMS else 1 if medications else 3),
            prefix="medications",
        ),
        AllergyFormSet(initial=list_rows(allergies, 0 if len(allergies) >= MAX_LIST_ITEMS else 1), prefix="allergies"),
    )


def _place_errors(exc: ValidationError, form: QuestionnaireForm, medications: Any, allergies: Any) -> list[str]:
    """The service's errors on their fields; list errors go above the list."""
    list_problems: list[str] = []
    for key, problems in exc.message_dict.items():
        if key in form.fields:
            for problem in problems:
                form.add_error(key, problem)
        else:
            list_problems.extend(problems)
    return list_problems


@private_link
def questionnaire(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    if not questionnaire_editable(prescription):
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
              description="questionnaire closed")  # fmt: skip
        return _closed(request, prescription, status=409 if request.method == "POST" else 200)
    existing = Questionnaire.objects.filter(prescription=prescription).first()
    medications, allergies = _list_formsets(request, existing)
    list_problems: list[str] = []
    if request.method == "POST":
        form = QuestionnaireForm(request.POST)
        if all([form.is_valid(), medications.is_valid(), allergies.is_valid()]):
            try:
                # The session proved the birth date for this token; the service checks it again.
                questionnaire_submit(
                    token=token,
                    date_of_birth=prescription.patient.date_of_birth,
                    answers=questionnaire_answers(form, medications, allergies),
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                list_problems = _place_errors(exc, form, medications, allergies)
            except Conflict:
                return _closed(request, prescription, status=409)
            else:
                audit(request, AuditAction.UPDATE, prescription=prescription, actor_label=PATIENT_LINK,
                      description="questionnaire corrected" if existing else "questionnaire answered")  # fmt: skip
                return redirect("patient:questionnaire_thanks", token=token)
    else:
        form = QuestionnaireForm(initial=QuestionnaireForm.initial_from(existing))
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
          description="questionnaire form")  # fmt: skip
    return render(
        request,
        "patient/questionnaire.html",
        {
            "form": form,
            "medications": medications,
            "allergies": allergies,
            "list_problems": list_problems,
            "correcting": existing is not None,
        },
    )


def _closed(request: HttpRequest, prescription: Prescription, *, status: int) -> HttpResponse:
    return render(
        request,
        "patient/questionnaire_closed.html",
        {"reason": questionnaire_closed_reason(prescription), "token": prescription.questionnaire_token},
        status=status,
    )


@private_link
def questionnaire_thanks(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
          description="questionnaire thank-you page")  # fmt: skip
    return render(
        request,
        "patient/thanks.html",
        {
            "order": patient_status(prescription),
            "token": token,
            "editable": questionnaire_editable(prescription),
        },
    )


@private_link
def status_by_link(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
          description="status page (private link)")  # fmt: skip
    return render(request, "patient/status.html", {"order": patient_status(prescription), "token": token})


@never_cache
@require_http_methods(["GET", "POST"])
def status_lookup_page(request: HttpRequest) -> HttpResponse:
    """Order number and date of birth; POST so the birth date stays out of URLs and server logs."""
    if request.method == "GET":
        return render(request, "patient/status_lookup.html", {"form": StatusLookupForm()})
    form = StatusLookupForm(request.POST)
    if not form.is_valid():
        return render(request, "patient/status_lookup.html", {"form": form})
    reference = form.cleaned_data["reference"]
    if birth_date_guesses_blocked(request, reference):
        return too_many_attempts(request)
    try:
        prescription = status_lookup(reference=reference, date_of_birth=form.cleaned_data["date_of_birth"])
    except NotFound:
        birth_date_missed(request, reference)
        form.mismatch()
        return render(request, "patient/status_lookup.html", {"form": form}, status=404)
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
          description="status page (order number and date of birth)")  # fmt: skip
    return render(request, "patient/status.html", {"order": patient_status(prescription)})
