"""The prescriber's shortcuts: protocol templates, a past prescription sent again or renewed, and
documents attached to a prescription. Every shortcut fills a form; nothing is signed for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from intake.audit import AuditEntry
from intake.errors import WorkflowError
from intake.models import Prescriber
from intake.selectors import protocol_templates_of
from intake.services.protocols import (
    prescription_prefill,
    protocol_template_apply,
    protocol_template_delete,
    protocol_template_save,
    protocol_template_save_from,
)
from intake.services.uploads import document_upload
from intake.web.prescriber.access import prescriber_required
from intake.web.prescriber.forms import (
    DocumentUploadForm,
    PatientForm,
    PrescriptionForm,
    SignatureForm,
    TemplateSaveForm,
    TitrationFormSet,
    content_initial,
    patient_initial,
    posted_form_token,
    posted_initial,
    titration_steps,
)

CHECK_AND_SIGN = "Check every field, then sign: nothing is sent until you do."
RENEWAL_NOTICE = "Renewal: the maintenance dose, without the titration."
SENT_AGAIN_NOTICE = "Copied from your earlier prescription."


@dataclass(frozen=True)
class Prefill:
    """Initial values for the new-prescription form (empty: the form as it always was)."""

    patient: dict[str, Any] = field(default_factory=dict)
    prescription: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)


def prefill_asked(request: HttpRequest, prescriber: Prescriber) -> Prefill:
    """The form's values from `?template=`, `?from=` (send again) or `?renew=`; none without them.
    Another prescriber's template or prescription is a 404, as one that does not exist."""
    try:
        if template_id := request.GET.get("template"):
            content = protocol_template_apply(prescriber=prescriber, template_id=template_id)
            rx, steps = content_initial(content)
            messages.info(request, f"Template applied. {CHECK_AND_SIGN}")
            return Prefill(prescription=rx, steps=steps)
        for key, renewal in (("from", False), ("renew", True)):
            if prescription_id := request.GET.get(key):
                details, content = prescription_prefill(
                    prescriber=prescriber, prescription_id=prescription_id, renewal=renewal
                )
                rx, steps = content_initial(content)
                what = RENEWAL_NOTICE if renewal else SENT_AGAIN_NOTICE
                messages.info(request, f"{what} {CHECK_AND_SIGN}")
                return Prefill(patient=patient_initial(details), prescription=rx, steps=steps)
    except WorkflowError:
        raise Http404("No such template or prescription") from None
    return Prefill()


def shortcut_context(prescriber: Prescriber, template_form: TemplateSaveForm | None = None) -> dict[str, Any]:
    """What the new-prescription page shows of the shortcuts."""
    return {
        "protocol_templates": list(protocol_templates_of(prescriber).only("pk", "name")),
        "template_form": template_form or TemplateSaveForm(prefix="template"),
    }


@prescriber_required
@require_POST
def template_save(request: HttpRequest) -> HttpResponse:
    """Save the medication on the new-prescription form as a template; the form comes back as it
    was, the patient's fields included, to be finished and signed."""
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    template_form = TemplateSaveForm(request.POST, prefix="template")
    prescription_form = PrescriptionForm(request.POST, prefix="rx")
    # A template holds no patient: the indication may be left for each prescription.
    prescription_form.fields["indication"].required = False
    formset = TitrationFormSet(request.POST, prefix="titration")
    status = 400
    if all([template_form.is_valid(), prescription_form.is_valid(), formset.is_valid()]):
        try:
            template = protocol_template_save(
                prescriber=prescriber,
                name=template_form.cleaned_data["name"],
                content=prescription_form.content(titration_steps(formset)),
            )
        except ValidationError as exc:
            for problem in exc.messages:
                template_form.add_error("name", problem)
        else:
            messages.success(request, f"Template “{template.name}” saved. Apply it on any new prescription.")
            template_form = TemplateSaveForm(prefix="template")
            status = 200
    return render(
        request,
        "prescriber/new.html",
        {
            "patient_form": PatientForm(prefix="patient", initial=posted_initial(PatientForm, request.POST, "patient")),
            "prescription_form": prescription_form,
            "formset": formset,
            "signature_form": SignatureForm(prefix="sign"),
            "titration_problems": [],
            "unusual_doses": [],
            "blocker": prescriber.submission_blocker(),
            "form_token": posted_form_token(request.POST),
            **shortcut_context(prescriber, template_form),
        },
        status=status,
    )


@prescriber_required
def templates(request: HttpRequest) -> HttpResponse:
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    return render(request, "prescriber/templates.html", {"templates": protocol_templates_of(prescriber)})


@prescriber_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    try:
        protocol_template_delete(prescriber=prescriber, template_id=template_id)
    except WorkflowError:
        raise Http404("No such template") from None
    messages.success(request, "Template deleted.")
    return redirect("prescriber:templates")


@prescriber_required
@require_POST
def template_from_prescription(request: HttpRequest, prescription_id: int) -> HttpResponse:
    """Save the medication of a past prescription as a template, from its page."""
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    form = TemplateSaveForm(request.POST, prefix="template")
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _back_or_404(request, prescription_id)
    try:
        template = protocol_template_save_from(
            prescriber=prescriber, name=form.cleaned_data["name"], prescription_id=prescription_id
        )
    except WorkflowError:
        raise Http404("No such prescription") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("prescriber:detail", prescription_id=prescription_id)
    messages.success(request, f"Template “{template.name}” saved.")
    return redirect("prescriber:templates")


@prescriber_required
@require_POST
def document_add(request: HttpRequest, prescription_id: int) -> HttpResponse:
    form = DocumentUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return _back_or_404(request, prescription_id)
    try:
        document = document_upload(
            actor=request.user,  # type: ignore[arg-type]
            prescription_id=prescription_id,
            upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"],
            audit=AuditEntry.of(request, description="document attached on the web"),
        )
    except WorkflowError:
        raise Http404("No such prescription") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{document.original_filename}” attached: the pharmacy can read it now.")
    return redirect("prescriber:detail", prescription_id=prescription_id)


def _back_or_404(request: HttpRequest, prescription_id: int) -> HttpResponse:
    # A refused form says nothing of a prescription that is not the prescriber's.
    prescriber: Prescriber = request.user.prescriber  # type: ignore[union-attr]
    if not prescriber.prescriptions.filter(pk=prescription_id).exists():
        raise Http404("No such prescription")
    return redirect("prescriber:detail", prescription_id=prescription_id)
