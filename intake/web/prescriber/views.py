"""The prescriber's pages: their prescriptions, a new prescription, answers to the pharmacy, refills and renewals."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from intake.audit import AuditAction, AuditEntry, Shown, audit, audit_list, client_ip
from intake.errors import WorkflowError
from intake.links import questionnaire_url
from intake.models import (
    Clarification,
    Prescriber,
    Prescription,
    PrescriptionStatus,
    RenewalRequest,
    RenewalStatus,
    Requester,
)
from intake.selectors import documents_of, prescription_for_user
from intake.services.prescriptions import form_token_key, prescription_sent_with, prescription_submit
from intake.services.refills import (
    pending_renewals_for,
    refill_request,
    refill_state,
    renewal_approve,
    renewal_deny,
    renewal_request,
)
from intake.services.workflow import prescription_cancel, prescription_respond
from intake.web.drafts import form_restore, keep_form_when_signed_out
from intake.web.form_errors import service_errors_on_form
from intake.web.prescriber.access import prescriber_required
from intake.web.prescriber.forms import (
    DocumentUploadForm,
    PatientForm,
    PrescriptionForm,
    ReasonForm,
    RenewalApproveForm,
    RenewalDenyForm,
    RespondForm,
    SignatureForm,
    TemplateSaveForm,
    TitrationFormSet,
    dose_check,
    new_form_token,
    posted_form_token,
    titration_steps,
)
from intake.web.prescriber.shortcuts import Prefill, prefill_asked, shortcut_context

ALREADY_SENT = "This prescription was already sent: here it is."


def _own(request: HttpRequest, prescription_id: int) -> Prescription:
    try:
        return prescription_for_user(request.user, prescription_id)  # type: ignore[arg-type]
    except WorkflowError:
        raise Http404("No such prescription") from None


@prescriber_required
def home(request: HttpRequest) -> HttpResponse:
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    prescriptions = (
        Prescription.objects.filter(prescriber=prescriber).select_related("patient").order_by("-submitted_at")
    )
    status = request.GET.get("status", "")
    if status:
        prescriptions = prescriptions.filter(status=status)
    page = Paginator(prescriptions, 25).get_page(request.GET.get("page"))
    questions = (
        Clarification.objects.filter(prescription__prescriber=prescriber, responded_at__isnull=True,
                                     prescription__status="on_hold")
        .select_related("prescription__patient")
        .order_by("asked_at")
    )  # fmt: skip
    renewals = pending_renewals_for(request.user)  # type: ignore[arg-type]
    audit_list(request, [Shown.prescription(rx.pk, rx.reference) for rx in page], object_type="prescription",
               description="prescriber home")  # fmt: skip
    return render(
        request,
        "prescriber/home.html",
        {
            "page": page,
            "questions": questions,
            "renewals": renewals,
            "blocker": prescriber.submission_blocker(),
            "status": status,
        },
    )


@keep_form_when_signed_out("prescriber:new")
@prescriber_required
@require_http_methods(["GET", "POST"])
def new_prescription(request: HttpRequest) -> HttpResponse:
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    blocker = prescriber.submission_blocker()
    data = request.POST if request.method == "POST" else form_restore(request)
    # A template, or a past prescription sent again or renewed: initial values, never the signature.
    prefill = prefill_asked(request, prescriber) if data is None else Prefill()
    patient_form = PatientForm(data, prefix="patient", initial=prefill.patient)
    prescription_form = PrescriptionForm(data, prefix="rx", initial=prefill.prescription)
    formset = TitrationFormSet(data, prefix="titration", initial=prefill.steps)
    signature_form = SignatureForm(data, prefix="sign")
    titration_problems: list[str] = []
    unusual: list[str] = []
    posted_token = posted_form_token(request.POST)
    # Kept across a re-shown form (errors, the dose check) so that it is still one form.
    form_token = posted_token or new_form_token()
    if request.method == "POST" and not blocker:
        # Back and submit again, or a second click: the prescription is already made.
        sent = prescription_sent_with(prescriber=prescriber, form_token=posted_token)
        if sent is not None:
            return _already_sent(request, sent)
        forms_valid = all(
            [patient_form.is_valid(), prescription_form.is_valid(), formset.is_valid(), signature_form.is_valid()]
        )
        content = prescription_form.content(titration_steps(formset)) if forms_valid else None
        unusual = dose_check(content) if content is not None else []
        confirmed = bool(unusual) and prescription_form.cleaned_data.get("dose_confirmed", False)
        if unusual and not confirmed:
            # A tenfold slip is the commonest serious dose error: nothing is signed until the
            # prescriber has seen the usual range and confirmed the dose.
            prescription_form.add_error("dose_confirmed", "Confirm the dose outside the usual range, or correct it.")
        elif content is not None:
            try:
                prescription, created = prescription_submit(
                    prescriber=prescriber,
                    patient=patient_form.details(),
                    content=content,
                    signature=signature_form.signature(client_ip(request), dose_confirmed=confirmed),
                    idempotency_key=form_token_key(posted_token) if posted_token else "",
                    audit=AuditEntry.of(request, description="submitted on the web"),
                )
            except ValidationError as exc:
                # Two submissions of one form at the same moment, the form changed in between.
                sent = prescription_sent_with(prescriber=prescriber, form_token=posted_token)
                if sent is not None:
                    return _already_sent(request, sent)
                titration_problems = _place_errors(exc, patient_form, prescription_form, signature_form)
            except WorkflowError as exc:
                blocker = exc.message
            else:
                if not created:
                    return _already_sent(request, prescription)
                messages.success(request, f"Prescription {prescription.reference} received and signed.")
                return redirect("prescriber:submitted", prescription_id=prescription.pk)
    return render(
        request,
        "prescriber/new.html",
        {
            "patient_form": patient_form,
            "prescription_form": prescription_form,
            "formset": formset,
            "signature_form": signature_form,
            "titration_problems": titration_problems,
            "unusual_doses": unusual,
            "blocker": blocker,
            "form_token": form_token,
            **shortcut_context(prescriber),
        },
        status=200 if request.method == "GET" or not blocker else 403,
    )


def _already_sent(request: HttpRequest, prescription: Prescription) -> HttpResponse:
    messages.info(request, ALREADY_SENT)
    return redirect("prescriber:detail", prescription_id=prescription.pk)


def _place_errors(exc: ValidationError, patient_form: Any, prescription_form: Any, signature_form: Any) -> list[str]:
    """Put the service's errors on the field they belong to; titration errors go above the steps."""
    titration: list[str] = []
    for key, problems in exc.message_dict.items():
        if key == "titration":
            titration.extend(problems)
        elif key.startswith("patient."):
            name = key.removeprefix("patient.")
            for problem in problems:
                patient_form.add_error(name if name in patient_form.fields else None, problem)
        elif key in signature_form.fields:
            for problem in problems:
                signature_form.add_error(key, problem)
        else:
            for problem in problems:
                prescription_form.add_error(key if key in prescription_form.fields else None, problem)
    return titration


@prescriber_required
def submitted(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = _own(request, prescription_id)
    audit(request, AuditAction.VIEW, prescription=prescription, description="submission confirmation")
    return render(
        request,
        "prescriber/submitted.html",
        {"prescription": prescription, "questionnaire_url": questionnaire_url(prescription)},
    )


def _detail_context(prescription: Prescription, **forms: Any) -> dict[str, Any]:
    state = refill_state(prescription)
    return {
        "prescription": prescription,
        "steps": prescription.titration_steps.all(),
        "events": prescription.events.select_related("actor"),
        "clarifications": prescription.clarifications.all(),
        "questionnaire_url": questionnaire_url(prescription),
        "respond_form": forms.get("respond_form") or RespondForm(initial=_current(prescription), prefix="respond"),
        "cancel_form": ReasonForm(prefix="cancel"),
        "fills": prescription.fills.all(),
        "refill": state,
        "valid_until": prescription.valid_until,
        "renewals": prescription.renewal_requests.select_related("new_prescription"),
        "documents": documents_of(prescription),
        "document_form": DocumentUploadForm(),
        "template_form": TemplateSaveForm(prefix="template"),
    }


@prescriber_required
def detail(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = _own(request, prescription_id)
    audit(request, AuditAction.VIEW, prescription=prescription)
    kept = form_restore(request) if prescription.status == PrescriptionStatus.ON_HOLD else None
    respond_form = RespondForm(kept, prefix="respond") if kept is not None else None
    return render(request, "prescriber/detail.html", _detail_context(prescription, respond_form=respond_form))


def _current(prescription: Prescription) -> dict[str, Any]:
    return {
        "strength_mg": prescription.strength_mg,
        "directions": prescription.directions,
        "quantity": prescription.quantity,
        "days_supply": prescription.days_supply,
        "refills": prescription.refills,
    }


@keep_form_when_signed_out("prescriber:detail")
@prescriber_required
@require_POST
def respond(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = _own(request, prescription_id)
    form = RespondForm(request.POST, prefix="respond")
    if form.is_valid():
        try:
            prescription_respond(
                prescription_id=prescription.pk,
                actor=request.user,  # type: ignore[arg-type]
                message=form.cleaned_data["message"],
                corrections=form.corrections(_current(prescription)),
                signature_name=form.cleaned_data.get("signature_name", ""),
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("prescriber:detail", prescription_id=prescription.pk)
        else:
            audit(request, AuditAction.UPDATE, prescription=prescription, description="answered clarification")
            messages.success(request, "Your answer was sent to the pharmacy.")
            return redirect("prescriber:detail", prescription_id=prescription.pk)
    return render(request, "prescriber/detail.html", _detail_context(prescription, respond_form=form), status=400)


@prescriber_required
@require_POST
def cancel(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = _own(request, prescription_id)
    form = ReasonForm(request.POST, prefix="cancel")
    if not form.is_valid():
        messages.error(request, "Write why you cancel the prescription.")
        return redirect("prescriber:detail", prescription_id=prescription.pk)
    try:
        prescription_cancel(
            prescription_id=prescription.pk,
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", "This prescription cannot be cancelled now."))
    else:
        audit(request, AuditAction.UPDATE, prescription=prescription, description="cancelled")
        messages.success(request, f"Prescription {prescription.reference} was cancelled.")
    return redirect("prescriber:detail", prescription_id=prescription.pk)


# Refills and renewals -----------------------------------------------------------------------


@prescriber_required
@require_POST
def refill(request: HttpRequest, prescription_id: int) -> HttpResponse:
    prescription = _own(request, prescription_id)
    try:
        refilled = refill_request(
            prescription_id=prescription.pk,
            actor=request.user,  # type: ignore[arg-type]
            requester=Requester.PRESCRIBER,
        )
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        audit(request, AuditAction.ACTION, prescription=prescription, description="refill asked for")
        messages.success(
            request,
            f"Refill asked for: fill {refilled.fill_number} waits for the patient's answers to the re-screening "
            "questions, then for the pharmacy's review.",
        )
    return redirect("prescriber:detail", prescription_id=prescription.pk)


@prescriber_required
@require_POST
def renew(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """The prescriber renews their own prescription: the request is theirs, decided on the next page."""
    prescription = _own(request, prescription_id)
    try:
        renewal = renewal_request(
            prescription_id=prescription.pk,
            actor=request.user,  # type: ignore[arg-type]
            requester=Requester.PRESCRIBER,
        )
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect("prescriber:detail", prescription_id=prescription.pk)
    audit(request, AuditAction.ACTION, prescription=prescription, description="renewal started by the prescriber")
    return redirect("prescriber:renewal", renewal_id=renewal.pk)


def _own_renewal(request: HttpRequest, renewal_id: int) -> RenewalRequest:
    # Only the old prescription's prescriber decides; for anyone else the request does not exist.
    return get_object_or_404(
        RenewalRequest.objects.select_related(
            "prescription__patient", "prescription__prescriber__user", "new_prescription"
        ),
        pk=renewal_id,
        prescription__prescriber__user=request.user,
    )


def _renewal_page(
    request: HttpRequest, renewal: RenewalRequest, *, approve_form: Any = None, deny_form: Any = None, status: int = 200
) -> HttpResponse:
    prescription = renewal.prescription
    return render(
        request,
        "prescriber/renewal.html",
        {
            "renewal": renewal,
            "prescription": prescription,
            "steps": prescription.titration_steps.all(),
            "pending": renewal.status == RenewalStatus.PENDING,
            "approve_form": approve_form
            or RenewalApproveForm(prefix="approve", initial={"refills": prescription.refills}),
            "deny_form": deny_form or RenewalDenyForm(prefix="deny"),
        },
        status=status,
    )


@prescriber_required
def renewal(request: HttpRequest, renewal_id: int) -> HttpResponse:
    found = _own_renewal(request, renewal_id)
    audit(request, AuditAction.VIEW, prescription=found.prescription, description="renewal request")
    return _renewal_page(request, found)


@prescriber_required
@require_POST
def renewal_approve_view(request: HttpRequest, renewal_id: int) -> HttpResponse:
    found = _own_renewal(request, renewal_id)
    form = RenewalApproveForm(request.POST, prefix="approve")
    if form.is_valid():
        try:
            new = renewal_approve(
                renewal_id=found.pk,
                actor=request.user,  # type: ignore[arg-type]
                signature=form.signature(client_ip(request)),
                refills=form.cleaned_data["refills"],
            )
        except ValidationError as exc:
            service_errors_on_form(form, exc)
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("prescriber:renewal", renewal_id=found.pk)
        else:
            audit(request, AuditAction.CREATE, prescription=new,
                  description=f"renewal of {found.prescription.reference}")  # fmt: skip
            messages.success(
                request, f"Renewed as {new.reference}, signed. The patient is asked to confirm the questionnaire."
            )
            return redirect("prescriber:detail", prescription_id=new.pk)
    return _renewal_page(request, found, approve_form=form, status=400)


@prescriber_required
@require_POST
def renewal_deny_view(request: HttpRequest, renewal_id: int) -> HttpResponse:
    found = _own_renewal(request, renewal_id)
    form = RenewalDenyForm(request.POST, prefix="deny")
    if form.is_valid():
        try:
            renewal_deny(
                renewal_id=found.pk,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for problem in exc.message_dict.get("reason", exc.messages):
                form.add_error("reason", problem)
        except WorkflowError as exc:
            messages.error(request, exc.message)
            return redirect("prescriber:renewal", renewal_id=found.pk)
        else:
            audit(request, AuditAction.UPDATE, prescription=found.prescription, description="renewal denied")
            messages.success(request, f"Renewal of {found.prescription.reference} denied. The patient is told.")
            return redirect("prescriber:detail", prescription_id=found.prescription_id)
    return _renewal_page(request, found, deny_form=form, status=400)
