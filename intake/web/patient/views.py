"""The patient's pages, without a login: the questionnaire at the private link, the order status
with its refill and renewal buttons.

A private link's token finds the prescription, but nothing about it is shown until the patient
has confirmed their date of birth. The confirmation is remembered in the session for that
prescription only, for a short while, whichever door it came through (a private link or the
order number and birth date): the browser has shown it knows the birth date, and each door still
needs its own link or order number. Wrong dates and too many requests are throttled
(intake/throttles.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from intake.audit import AuditAction, audit, client_ip
from intake.errors import Conflict, NotFound, WorkflowError
from intake.languages import LANGUAGE_PARAMETER, use_patient_language
from intake.models import Prescription, PrescriptionStatus, Questionnaire, Requester
from intake.services.price_consent import price_consent_decline, price_consent_give
from intake.services.questionnaire import (
    MAX_LIST_ITEMS,
    PATIENT_LINK,
    LinkExpired,
    date_of_birth_matches,
    is_rescreen,
    questionnaire_closed_reason,
    questionnaire_editable,
    questionnaire_prescription,
    questionnaire_submit,
)
from intake.services.refills import refill_request, refill_state, renewal_request
from intake.services.status import PATIENT_STATUS_LOOKUP, patient_status, status_lookup
from intake.throttles import GUESSED_REFERENCE, QUESTIONNAIRE, birth_date_try, normalize_reference, private_link_allowed
from intake.web.patient.forms import (
    LOOKUP_MISS,
    AllergyFormSet,
    BirthDateForm,
    MedicationFormSet,
    PriceAnswerForm,
    QuestionnaireForm,
    StatusLookupForm,
    list_rows,
    questionnaire_answers,
)
from intake.when import date_words

S = PrescriptionStatus

# How long a confirmed birth date opens the prescription in this browser, and how long an anonymous
# patient's session may sit idle: answering takes longer than staff's 15-minute idle limit.
UNLOCK_SECONDS = 60 * 60

Found = TypeVar("Found")  # what a private link's token finds: a prescription, a check-in


# --- The birth-date proof and the gate in front of every private link --------------------------


def _proof_key(prescription: Prescription | None) -> str:
    # Keyed by a keyed hash of the id: neither the link's token nor the order number sits in the session.
    pk = str(prescription.pk) if prescription is not None else ""
    return "patient_proof:" + salted_hmac("intake.patient.proof", pk).hexdigest()[:32]


def is_proven(request: HttpRequest, prescription: Prescription | None) -> bool:
    """This browser confirmed the prescription's birth date within the last UNLOCK_SECONDS.

    None, an unknown order number, is never proven, but the session is read all the same: a miss
    costs the same whether or not the number exists.
    """
    proven_at = request.session.get(_proof_key(prescription))
    return isinstance(proven_at, int | float) and 0 <= timezone.now().timestamp() - proven_at < UNLOCK_SECONDS


def prove(request: HttpRequest, prescription: Prescription) -> None:
    request.session[_proof_key(prescription)] = int(timezone.now().timestamp())
    if not request.user.is_authenticated:
        request.session.set_expiry(UNLOCK_SECONDS)


def too_many_attempts(request: HttpRequest, retry_after: int) -> HttpResponse:
    response = render(request, "patient/too_many_attempts.html", {"wait_minutes": -(-retry_after // 60)}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def birth_date_gate(
    find: Callable[[str], Found],
    *,
    prescription_of: Callable[[Found], Prescription],
    actor_label: str,
    expired_template: str = "patient/link_expired.html",
    link_kwarg: str = "token",
) -> Callable[[Callable[[HttpRequest, Found, str], HttpResponse]], Callable[..., HttpResponse]]:
    """A private link: find what the token (the URL's `link_kwarg`) opens and ask for the birth
    date before the view runs.

    `find` raises NotFound (404 page) or LinkExpired (410 page); the view gets what it found.
    """

    def decorator(view: Callable[[HttpRequest, Found, str], HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @never_cache
        @require_http_methods(["GET", "POST"])
        def wrapped(request: HttpRequest, **kwargs: str) -> HttpResponse:
            token = kwargs[link_kwarg]
            if not private_link_allowed(request, token):
                return too_many_attempts(request, QUESTIONNAIRE.wait_seconds())
            try:
                found = find(token)
            except LinkExpired:
                return render(request, expired_template, status=410)
            except NotFound:
                return render(request, "patient/link_not_found.html", status=404)
            prescription = prescription_of(found)
            use_patient_language(request, prescription.patient.language)
            if not is_proven(request, prescription):
                return _confirm_birth_date(request, prescription, actor_label=actor_label)
            return view(request, found, token)

        return wrapped

    return decorator


def _same(prescription: Prescription) -> Prescription:
    return prescription


private_link = birth_date_gate(questionnaire_prescription, prescription_of=_same, actor_label=PATIENT_LINK)


def _confirm_birth_date(request: HttpRequest, prescription: Prescription, *, actor_label: str) -> HttpResponse:
    """The neutral page: one date field, the same for every link, whatever the answer."""
    # Answers or a button posted after the session ended arrive here: say why they were not kept.
    lost = request.method == "POST" and "date_of_birth" not in request.POST
    answers_lost = lost and bool(set(request.POST) - {"csrfmiddlewaretoken"})
    form = BirthDateForm(request.POST if request.method == "POST" and not lost else None)
    if form.is_bound and form.is_valid():
        with birth_date_try(request, prescription.reference) as attempt:
            if attempt.refused:
                return too_many_attempts(request, attempt.retry_after)
            if date_of_birth_matches(prescription, form.cleaned_data["date_of_birth"]):
                prove(request, prescription)
                return redirect(request.path)
            attempt.missed()
        audit(request, AuditAction.DENIED, prescription=prescription, actor_label=actor_label,
              description="private link: date of birth did not match")  # fmt: skip
        form.mismatch()
    else:
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=actor_label,
              description="private link: date of birth asked")  # fmt: skip
    return render(
        request,
        "patient/confirm_birth_date.html",
        {"form": form, "answers_lost": answers_lost, "request_lost": lost and not answers_lost},
    )


# --- The questionnaire ---------------------------------------------------------------------------


def _list_formsets(request: HttpRequest, questionnaire: Questionnaire | None, *, short: bool) -> tuple[Any, Any]:
    if request.method == "POST":
        return (
            MedicationFormSet(request.POST, prefix="medications"),
            # The re-screen does not ask for allergies: they carry over.
            AllergyFormSet(prefix="allergies") if short else AllergyFormSet(request.POST, prefix="allergies"),
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


def _earlier_answers(prescription: Prescription, existing: Questionnaire | None) -> Questionnaire | None:
    """The answers to start from: this prescription's own (kept across refills), else, for a
    renewal, those given for the prescription it renews; the patient still confirms and attests."""
    if existing is not None or prescription.renewed_from_id is None:
        return existing
    return Questionnaire.objects.filter(prescription_id=prescription.renewed_from_id).first()


@private_link
def questionnaire(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    if not questionnaire_editable(prescription):
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
              description="questionnaire closed")  # fmt: skip
        return _closed(request, prescription, status=409 if request.method == "POST" else 200)
    existing = Questionnaire.objects.filter(prescription=prescription).first()
    earlier = _earlier_answers(prescription, existing)
    # A refill: the short re-screen (four questions asked afresh, the medicines listed before to
    # correct). A renewal, or a pharmacist's request to answer again: the same questions, pre-filled.
    short = is_rescreen(prescription) and existing is not None
    confirming = prescription.status == S.AWAITING_QUESTIONNAIRE and earlier is not None and not short
    medications, allergies = _list_formsets(request, earlier, short=short)
    list_problems: list[str] = []
    if request.method == "POST":
        form = QuestionnaireForm(request.POST, short=short)
        lists_valid = medications.is_valid() and (short or allergies.is_valid())
        if all([form.is_valid(), lists_valid]):
            try:
                # The session proved the birth date for this prescription; the service checks it again.
                questionnaire_submit(
                    token=token,
                    date_of_birth=prescription.patient.date_of_birth,
                    answers=questionnaire_answers(form, medications, None if short else allergies),
                    ip_address=client_ip(request),
                )
            except ValidationError as exc:
                list_problems = _place_errors(exc, form, medications, allergies)
            except Conflict:
                return _closed(request, prescription, status=409)
            else:
                done = "re-screen answered" if short else "questionnaire confirmed" if confirming else (
                    "questionnaire corrected" if existing else "questionnaire answered")  # fmt: skip
                audit(request, AuditAction.UPDATE, prescription=prescription, actor_label=PATIENT_LINK,
                      description=done)  # fmt: skip
                return redirect("patient:questionnaire_thanks", token=token)
    else:
        # The re-screen's questions are asked afresh: an answer carried over is clicked past.
        form = QuestionnaireForm(initial={} if short else QuestionnaireForm.initial_from(earlier), short=short)
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
          description="re-screen form" if short else "questionnaire form (to confirm)" if confirming else (
              "questionnaire form"))  # fmt: skip
    return render(
        request,
        "patient/questionnaire.html",
        {
            "form": form,
            "medications": medications,
            "allergies": allergies,
            "list_problems": list_problems,
            "correcting": existing is not None and not confirming and not short,
            "confirming": confirming,
            "short": short,
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


# --- The order status, with the next fill ----------------------------------------------------------


@dataclass(frozen=True)
class NextFill:
    """What the status page says about fills and refills; nothing clinical."""

    fill_number: int
    refills: int
    refills_left: int
    valid_until: date | None
    can_refill: bool
    can_ask_renewal: bool
    # Why no refill can be asked for now (too soon, with the date; none left; expired); "" otherwise.
    explanation: str
    renewal_asked_on: date | None
    renewed_reference: str


def next_fill(prescription: Prescription) -> NextFill | None:
    """None for a prescription that was never filled and never will be (rejected or cancelled)."""
    if prescription.status in (S.REJECTED, S.CANCELLED):
        return None
    state = refill_state(prescription)
    dispensed = prescription.status in (S.SHIPPED, S.COMPLETED)
    waiting_on_prescriber = state.pending_renewal is not None or state.renewed_as is not None
    return NextFill(
        fill_number=prescription.fill_number,
        refills=prescription.refills,
        refills_left=prescription.refills_left,
        valid_until=prescription.valid_until,
        can_refill=state.can_refill,
        can_ask_renewal=state.can_ask_renewal,
        explanation=state.explanation() if dispensed and not waiting_on_prescriber else "",
        renewal_asked_on=(
            timezone.localdate(state.pending_renewal.requested_at) if state.pending_renewal is not None else None
        ),
        renewed_reference=state.renewed_as.reference if state.renewed_as is not None else "",
    )


def _status_page(
    request: HttpRequest, prescription: Prescription, *, token: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "patient/status.html",
        {
            "order": patient_status(prescription),
            "next_fill": next_fill(prescription),
            "token": token,
            # The lookup page's buttons say which order they are for; the proof is in the session.
            "reference": "" if token else prescription.reference,
        },
        status=status,
    )


@private_link
def status_by_link(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_LINK,
          description="status page (private link)")  # fmt: skip
    return _status_page(request, prescription, token=token)


@never_cache
@require_http_methods(["GET", "POST"])
def status_lookup_page(request: HttpRequest) -> HttpResponse:
    """Order number and date of birth; POST so the birth date stays out of URLs and server logs."""
    if request.method == "GET":
        if set(request.GET) - {LANGUAGE_PARAMETER}:
            # An old link with the pair in its query: the address bar and history keep the page's
            # address, so it is sent to the bare page and the pair is typed again, never read from it.
            return redirect("patient:status")
        return render(request, "patient/status_lookup.html", {"form": StatusLookupForm()})
    form = StatusLookupForm(request.POST)
    if not form.is_valid():
        return render(request, "patient/status_lookup.html", {"form": form})
    with birth_date_try(request, form.cleaned_data["reference"]) as attempt:
        if attempt.refused:
            return too_many_attempts(request, attempt.retry_after)
        try:
            prescription = status_lookup(
                reference=form.cleaned_data["reference"], date_of_birth=form.cleaned_data["date_of_birth"]
            )
        except NotFound:
            attempt.missed()
            form.mismatch()
            return render(request, "patient/status_lookup.html", {"form": form}, status=404)
    # The refill and renewal buttons on this page post back without the birth date.
    prove(request, prescription)
    use_patient_language(request, prescription.patient.language)
    audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
          description="status page (order number and date of birth)")  # fmt: skip
    return _status_page(request, prescription)


# --- The patient asks for a refill or a renewal ------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    done: bool
    message: str
    # A refill that needs the questionnaire confirmed first: its new private link's token.
    confirm_token: str = ""


def _ask_refill(request: HttpRequest, prescription: Prescription, *, actor_label: str) -> Asked:
    try:
        refilled = refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
    except WorkflowError as exc:
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
              description="refill asked by the patient: not possible now")  # fmt: skip
        return Asked(done=False, message=exc.message)
    audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
          description="refill asked by the patient")  # fmt: skip
    # Every refill: four short questions first, then a pharmacist's review.
    return Asked(
        done=True,
        message=gettext("We have your refill request. First, please answer four short health questions."),
        confirm_token=refilled.questionnaire_token,
    )


def _ask_renewal(request: HttpRequest, prescription: Prescription, *, actor_label: str) -> Asked:
    try:
        renewal = renewal_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
    except WorkflowError as exc:
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
              description="renewal asked by the patient: not possible")  # fmt: skip
        return Asked(done=False, message=exc.message)
    audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
          description="renewal asked by the patient")  # fmt: skip
    asked_on = date_words(timezone.localdate(renewal.requested_at))
    return Asked(
        done=True,
        message=gettext(
            "We asked your prescriber on {day} to renew your prescription. We will tell you their answer."
        ).format(day=asked_on),
    )


def _answer_price(request: HttpRequest, prescription: Prescription, *, actor_label: str) -> Asked:
    """Agree to or decline the price of the order; the same button twice changes nothing."""
    form = PriceAnswerForm(request.POST)
    if not form.is_valid():
        problem = gettext("Choose whether you agree to the price; a reason is at most 1,000 characters.")
        return Asked(done=False, message=problem)
    declining = form.cleaned_data["decision"] == PriceAnswerForm.DECLINE
    try:
        if declining:
            price_consent_decline(
                prescription_id=prescription.pk, actor_label=actor_label, reason=form.cleaned_data["reason"]
            )
        else:
            price_consent_give(prescription_id=prescription.pk, actor_label=actor_label)
    except (WorkflowError, ValidationError) as exc:
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
              description="price answered by the patient: not possible now")  # fmt: skip
        message = exc.message if isinstance(exc, WorkflowError) else "; ".join(exc.messages)
        return Asked(done=False, message=message)
    audit(request, AuditAction.ACTION, prescription=prescription, actor_label=actor_label,
          description="price declined by the patient" if declining else "price agreed by the patient")  # fmt: skip
    if declining:
        declined = gettext("You declined the price. We will not prepare this order, and we have told your prescriber.")
        return Asked(done=True, message=declined)
    return Asked(done=True, message=gettext("Thank you: you agreed to the price. We start preparing your order now."))


Ask = Callable[..., Asked]


def _show(request: HttpRequest, asked: Asked) -> None:
    level = messages.INFO if asked.confirm_token else messages.SUCCESS if asked.done else messages.WARNING
    messages.add_message(request, level, asked.message)


def _from_link(request: HttpRequest, prescription: Prescription, token: str, ask: Ask) -> HttpResponse:
    # A GET lands here after the birth date was asked again: the button has to be pressed again.
    if request.method == "POST":
        asked = ask(request, prescription, actor_label=PATIENT_LINK)
        _show(request, asked)
        if asked.confirm_token:
            return redirect("patient:questionnaire", token=asked.confirm_token)
    return redirect("patient:status_link", token=token)


@private_link
def status_link_refill(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    return _from_link(request, prescription, token, _ask_refill)


@private_link
def status_link_renewal(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    return _from_link(request, prescription, token, _ask_renewal)


def _from_lookup(request: HttpRequest, ask: Ask) -> HttpResponse:
    """A button on the page the order number and birth date opened: only the browser that proved the
    birth date may press it; anyone else gets the lookup's miss and changes nothing."""
    if request.method != "POST":
        return redirect("patient:status")
    reference = normalize_reference(request.POST.get("reference", ""))[:20]
    prescription = (
        Prescription.objects.select_related("patient").filter(reference=reference).first() if reference else None
    )
    if not is_proven(request, prescription) or prescription is None:
        with birth_date_try(request, reference) as attempt:
            if attempt.refused:
                return too_many_attempts(request, attempt.retry_after)
            attempt.missed()
        # Recorded for an unknown number too: both misses cost the same, so neither says the number exists.
        unproven = "status page button without a confirmed date of birth"
        if prescription is not None:
            audit(request, AuditAction.DENIED, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
                  description=unproven)  # fmt: skip
        else:
            audit(request, AuditAction.DENIED, object_type=GUESSED_REFERENCE, object_id=reference,
                  actor_label=PATIENT_STATUS_LOOKUP, description=unproven)  # fmt: skip
        return render(
            request, "patient/status_lookup.html", {"form": StatusLookupForm(), "missed": LOOKUP_MISS}, status=404
        )
    use_patient_language(request, prescription.patient.language)
    asked = ask(request, prescription, actor_label=PATIENT_STATUS_LOOKUP)
    _show(request, asked)
    if asked.confirm_token:
        return redirect("patient:questionnaire", token=asked.confirm_token)
    prescription.refresh_from_db()
    return _status_page(request, prescription, status=200 if asked.done else 409)


@never_cache
@require_http_methods(["GET", "POST"])
def status_refill(request: HttpRequest) -> HttpResponse:
    return _from_lookup(request, _ask_refill)


@never_cache
@require_http_methods(["GET", "POST"])
def status_renewal(request: HttpRequest) -> HttpResponse:
    return _from_lookup(request, _ask_renewal)


@private_link
def status_link_price(request: HttpRequest, prescription: Prescription, token: str) -> HttpResponse:
    return _from_link(request, prescription, token, _answer_price)


@never_cache
@require_http_methods(["GET", "POST"])
def status_price(request: HttpRequest) -> HttpResponse:
    return _from_lookup(request, _answer_price)
