"""The formulary and its master formulation records: read by all staff, changed by pharmacists."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from intake.audit import AuditAction, audit
from intake.clinical.beyond_use import bud_rules
from intake.errors import WorkflowError
from intake.models import DosageForm, MasterFormulation
from intake.services.compounding import effective_bud_rule, master_formulation_save
from intake.web.form_errors import service_errors_on_form
from intake.web.staff.access import pharmacist_required, staff_required, staff_user
from intake.web.staff.forms import IngredientFormSet, MasterFormulationForm, ingredient_values


@staff_required
@require_GET
def formulary(request: HttpRequest) -> HttpResponse:
    forms = DosageForm.objects.prefetch_related(
        Prefetch("formulations", queryset=MasterFormulation.objects.order_by("-active", "strength_mg", "name"))
    ).order_by("code")
    return render(request, "staff/formulary.html", {"dosage_forms": forms, "rules": bud_rules()})


def _formulation(formulation_id: int) -> MasterFormulation:
    found = MasterFormulation.objects.select_related("dosage_form").filter(pk=formulation_id).first()
    if found is None:
        raise Http404("No such master formulation")
    return found


@staff_required
@require_GET
def formulation_detail(request: HttpRequest, formulation_id: int) -> HttpResponse:
    formulation = _formulation(formulation_id)
    rule = bud_rules()[effective_bud_rule(formulation)]
    return render(request, "staff/formulation_detail.html", {"formulation": formulation, "rule": rule})


def _edit(request: HttpRequest, formulation: MasterFormulation | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = MasterFormulationForm(request.POST, prefix="mf")
        formset = IngredientFormSet(request.POST, prefix="ingredients")
        if form.is_valid() and formset.is_valid():
            try:
                saved = master_formulation_save(
                    actor=staff_user(request),
                    dosage_form_id=form.cleaned_data["dosage_form"].pk,
                    values=form.values(),
                    ingredients=ingredient_values(formset),
                    formulation_id=formulation.pk if formulation else None,
                )
            except ValidationError as exc:
                service_errors_on_form(form, exc)
            except WorkflowError as exc:
                messages.error(request, exc.message)
            else:
                audit(request, AuditAction.UPDATE if formulation else AuditAction.CREATE,
                      object_type="master_formulation", object_id=saved.pk, description=saved.name)  # fmt: skip
                messages.success(request, f"Master formulation “{saved.name}” saved.")
                return redirect("staff:formulation", formulation_id=saved.pk)
        status = 400
    elif formulation is not None:
        form = MasterFormulationForm(initial=MasterFormulationForm.initial_for(formulation), prefix="mf")
        formset = IngredientFormSet(initial=list(formulation.ingredients), prefix="ingredients")
    else:
        form = MasterFormulationForm(prefix="mf", initial={"dosage_form": request.GET.get("dosage_form")})
        formset = IngredientFormSet(
            initial=[{"name": "Naltrexone HCl USP", "unit": "mg"}, {"name": "", "unit": ""}], prefix="ingredients"
        )
    return render(
        request,
        "staff/formulation_form.html",
        {"form": form, "formset": formset, "formulation": formulation, "rules": bud_rules()},
        status=status,
    )


@pharmacist_required
@require_http_methods(["GET", "POST"])
def formulation_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@pharmacist_required
@require_http_methods(["GET", "POST"])
def formulation_edit(request: HttpRequest, formulation_id: int) -> HttpResponse:
    return _edit(request, _formulation(formulation_id))
