"""Prescriber web forms. They validate and hand typed values to the services; crispy lays them out."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.forms import formset_factory

from intake.addresses import postal_code_disagreement
from intake.clinical.dose_confirmation import unusual_doses
from intake.models import ContactPreference, DocumentKind, DosageForm, DoseTiming, Language, Sex
from intake.models.people import US_STATES, phone_validator, postal_code_validator
from intake.models.shortcuts import TEMPLATE_NAME_MAX_LENGTH
from intake.models.webhooks import SECRET_MAX_LENGTH, URL_MAX_LENGTH
from intake.services.prescriptions import PatientDetails, PrescribedContent, Signature, Step
from intake.services.questionnaire import MAX_ITEM_LENGTH, MAX_LIST_ITEMS
from intake.services.webhooks import SECRET_RULE, webhook_secret_new
from intake.validators import validate_free_text, validate_single_line

# The first option of a choice the prescriber must make: nothing is chosen for them.
CHOOSE = ("", "Choose…")

STRENGTH_HELP = "mg per dose, up to two decimal places (LDN is usually 0.5–4.5 mg)."


def strength_field(label: str = "Strength (mg)", help_text: str = STRENGTH_HELP) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=7,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=help_text,
        error_messages={"min_value": "The strength must be more than 0 mg."},
    )


class DateInput(forms.DateInput):
    input_type = "date"


def must_choose(choices: list[tuple[str, str]], what: str) -> forms.ChoiceField:
    """A choice with an empty first option and a message that names what is missing."""
    return forms.ChoiceField(choices=[CHOOSE, *choices], error_messages={"required": f"Choose the {what}."})


class AllergiesField(forms.CharField):
    """The patient's allergies, one a line or separated by commas; empty when none are given."""

    widget = forms.Textarea(attrs={"rows": 2})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = str(super().to_python(value) or "")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if len(lines) == 1:
            lines = [item.strip() for item in lines[0].split(",") if item.strip()]
        return lines

    def validate(self, value: Any) -> None:
        super().validate(value)
        if len(value) > MAX_LIST_ITEMS:
            raise forms.ValidationError(f"List at most {MAX_LIST_ITEMS} allergies.")
        for line in value:
            if len(line) > MAX_ITEM_LENGTH:
                raise forms.ValidationError(f"Keep each allergy under {MAX_ITEM_LENGTH} characters: '{line[:40]}…'")
            validate_single_line(line)

    def run_validators(self, value: Any) -> None:
        return None

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


class PatientForm(forms.Form):
    first_name = forms.CharField(max_length=100, validators=[validate_single_line])
    last_name = forms.CharField(max_length=100, validators=[validate_single_line])
    date_of_birth = forms.DateField(widget=DateInput)
    sex = must_choose(Sex.choices, "patient's sex")
    weight_kg = forms.DecimalField(
        label="Weight (kg)", required=False, max_digits=5, decimal_places=1, min_value=Decimal("0.5"),
        help_text="Required for a patient under 18.",
    )  # fmt: skip
    email = forms.EmailField(
        required=False,
        help_text="Where the patient receives the questionnaire link.",
        validators=[validate_single_line],
    )
    phone = forms.CharField(required=False, max_length=25, validators=[validate_single_line, phone_validator])
    contact_preference = forms.ChoiceField(choices=ContactPreference.choices, initial=ContactPreference.EMAIL)
    language = forms.ChoiceField(
        label="Patient's language", choices=Language.choices, initial=Language.ENGLISH,
        help_text="Their questions, messages and label directions are written in it.",
    )  # fmt: skip
    address_line1 = forms.CharField(label="Address", max_length=200, validators=[validate_single_line])
    address_line2 = forms.CharField(
        label="Address line 2", max_length=200, required=False, validators=[validate_single_line]
    )
    city = forms.CharField(max_length=100, validators=[validate_single_line])
    state = must_choose(US_STATES, "state of the patient's address")
    postal_code = forms.CharField(
        label="ZIP code", max_length=10, validators=[validate_single_line, postal_code_validator]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Patient",
                Row(Column("first_name"), Column("last_name")),
                Row(Column("date_of_birth"), Column("sex"), Column("weight_kg")),
                Row(Column("email"), Column("phone"), Column("contact_preference")),
                Row(Column("language")),
                "address_line1",
                "address_line2",
                Row(Column("city"), Column("state"), Column("postal_code")),
            )
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("email") and not cleaned.get("phone"):
            self.add_error("email", "Give the patient's email or phone so we can send the questionnaire link.")
        if cleaned.get("state") and cleaned.get("postal_code"):
            disagreement = postal_code_disagreement(cleaned["state"], cleaned["postal_code"])
            if disagreement:
                self.add_error("postal_code", disagreement)
        return cleaned

    def details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(
            first_name=data["first_name"].strip(), last_name=data["last_name"].strip(),
            date_of_birth=data["date_of_birth"], sex=data["sex"], email=data["email"], phone=data["phone"],
            weight_kg=data["weight_kg"], address_line1=data["address_line1"], address_line2=data["address_line2"],
            city=data["city"], state=data["state"], postal_code=data["postal_code"],
            contact_preference=data["contact_preference"], language=data["language"],
        )  # fmt: skip


class PrescriptionForm(forms.Form):
    dosage_form = must_choose([], "dosage form")
    strength_mg = strength_field()
    directions = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    dose_timing = forms.ChoiceField(choices=DoseTiming.choices, initial=DoseTiming.BEDTIME)
    quantity = forms.IntegerField(
        min_value=1, max_value=100_000, help_text="Capsules, or mL / g for liquids and creams."
    )
    days_supply = forms.IntegerField(min_value=1, max_value=365)
    refills = forms.IntegerField(min_value=0, max_value=11, initial=0)
    indication = forms.CharField(max_length=200, help_text="e.g. fibromyalgia", validators=[validate_single_line])
    icd10 = forms.RegexField(
        label="ICD-10 code", required=False, max_length=8, regex=r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?$",
        error_messages={"invalid": "Enter an ICD-10 code such as M79.7 or G35."}, validators=[validate_single_line]
    )  # fmt: skip
    allergies = AllergiesField(
        label="The patient's allergies",
        required=False,
        max_length=MAX_LIST_ITEMS * (MAX_ITEM_LENGTH + 1),
        help_text="One a line, or separated by commas, e.g. penicillin: rash. Leave empty or write "
        "'none known' if there are none.",
    )
    prescriber_notes = forms.CharField(
        label="Notes to the pharmacist",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_free_text],
    )
    rush = forms.BooleanField(required=False, label="Rush: the patient needs this urgently")
    repeat_titration = forms.BooleanField(
        required=False,
        label="Start the titration again on every refill",
        help_text="Otherwise each refill is the prescribed strength only.",
    )
    # Shown only when a dose is outside the usual range (not in the layout): see dose_check.
    dose_confirmed = forms.BooleanField(
        required=False, label="I confirm this dose: it is what I mean to prescribe, not a slip of the decimal point."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        forms_available = DosageForm.objects.filter(active=True).order_by("code")
        choices = [(f.code, f"{f.name} ({f.strength_unit})") for f in forms_available]
        # The form decides what the quantity counts (capsules, mL or g): chosen, never assumed,
        # unless the pharmacy makes only one.
        self.fields["dosage_form"].choices = choices if len(choices) == 1 else [CHOOSE, *choices]  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                "Medication: naltrexone (low dose)",
                Row(Column("dosage_form"), Column("strength_mg"), Column("dose_timing")),
                "directions",
                Row(Column("quantity"), Column("days_supply"), Column("refills")),
                Row(Column("indication"), Column("icd10")),
                "allergies",
                "prescriber_notes",
                "rush",
            )
        )

    def content(self, steps: tuple[Step, ...]) -> PrescribedContent:
        data = self.cleaned_data
        return PrescribedContent(
            dosage_form=data["dosage_form"], strength_mg=data["strength_mg"], directions=data["directions"],
            quantity=data["quantity"], days_supply=data["days_supply"], refills=data["refills"],
            indication=data["indication"], icd10=data["icd10"], dose_timing=data["dose_timing"],
            prescriber_notes=data["prescriber_notes"], titration=steps, rush=data["rush"],
            repeat_titration=bool(steps) and data["repeat_titration"], allergies=tuple(data["allergies"]),
        )  # fmt: skip


def dose_check(content: PrescribedContent) -> list[str]:
    """The doses of a prescription outside the usual LDN range, in sentences showing the range."""
    return unusual_doses(
        dosage_form=content.dosage_form,
        strength_mg=content.strength_mg,
        titration_mg=[step.strength_mg for step in content.titration],
        quantity=content.quantity,
        days_supply=content.days_supply,
    )


_FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_form_token() -> str:
    """A random token for one showing of the prescription form: it is sent back with the form,
    and a second submission carrying it finds the prescription the first one made."""
    return secrets.token_urlsafe(24)


def posted_form_token(data: Any) -> str:
    """The form's token as posted, or "" when it is missing or not one this site issues."""
    token = str(data.get("form_token", ""))
    return token if _FORM_TOKEN.fullmatch(token) else ""


class TitrationStepForm(forms.Form):
    strength_mg = strength_field("Step strength (mg)", help_text="")
    days = forms.IntegerField(min_value=1, max_value=365, label="Days")


TitrationFormSet = formset_factory(TitrationStepForm, extra=0, can_delete=True, max_num=10, validate_max=True)


def titration_steps(formset: Any) -> tuple[Step, ...]:
    return tuple(
        Step(strength_mg=form.cleaned_data["strength_mg"], days=form.cleaned_data["days"])
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    )


class SignatureForm(forms.Form):
    signature_name = forms.CharField(
        label="Type your full name to sign", max_length=200, validators=[validate_single_line]
    )
    signature_attestation = forms.BooleanField(
        label=(
            "I am the prescriber named above, I have examined this patient, and I authorise this "
            "prescription. I understand that typing my name is my electronic signature."
        ),
        error_messages={"required": "Confirm the attestation to sign the prescription."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def signature(self, ip_address: str | None, *, dose_confirmed: bool = False) -> Signature:
        return Signature(
            name=self.cleaned_data["signature_name"],
            attested=self.cleaned_data["signature_attestation"],
            ip_address=ip_address,
            dose_confirmed=dose_confirmed,
        )


class RespondForm(forms.Form):
    message = forms.CharField(
        label="Your answer to the pharmacy",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_free_text],
    )
    correct = forms.BooleanField(required=False, label="I also correct the prescription below")
    strength_mg = strength_field("Corrected strength (mg)")
    directions = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    quantity = forms.IntegerField(min_value=1, max_value=100_000)
    days_supply = forms.IntegerField(min_value=1, max_value=365)
    refills = forms.IntegerField(min_value=0, max_value=11)
    signature_name = forms.CharField(label="Type your full name to sign the correction", max_length=200,
                                     required=False, validators=[validate_single_line])  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        for name in ("strength_mg", "directions", "quantity", "days_supply", "refills"):
            self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("correct") and not (cleaned.get("signature_name") or "").strip():
            self.add_error("signature_name", "A correction changes what you signed: type your name to sign it again.")
        return cleaned

    def corrections(self, current: dict[str, Any]) -> dict[str, Any]:
        if not self.cleaned_data.get("correct"):
            return {}
        changed = {}
        for name in ("strength_mg", "directions", "quantity", "days_supply", "refills"):
            value = self.cleaned_data.get(name)
            if value not in (None, "") and value != current.get(name):
                changed[name] = value
        return changed


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text])


# The prescriber's decision on a renewal request: sign a new prescription, or deny with a reason.


class RenewalApproveForm(SignatureForm):
    """The typed signature and attestation of a new prescription, and its refills."""

    refills = forms.IntegerField(
        min_value=0, max_value=11, initial=0, help_text="Refills on the new prescription, 0 to 11."
    )

    field_order = ("refills", "signature_name", "signature_attestation")


class RenewalDenyForm(forms.Form):
    reason = forms.CharField(
        label="Why you do not renew it",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write why the prescription is not renewed."},
        validators=[validate_free_text],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


# Webhooks for the prescriber's own systems.


class WebhookSubscriptionForm(forms.Form):
    """An endpoint and its secret; the pharmacy makes the secret when asked (shown once)."""

    url = forms.CharField(
        label="Endpoint URL",
        max_length=URL_MAX_LENGTH,
        validators=[validate_single_line],
        help_text="Where the pharmacy POSTs each status change: https, reachable from the internet.",
        widget=forms.URLInput(attrs={"placeholder": "https://ehr.example.com/pharmacy-events"}),
    )
    secret = forms.CharField(
        label="Signing secret",
        required=False,
        strip=False,
        max_length=SECRET_MAX_LENGTH,
        validators=[validate_single_line],
        help_text=f"{SECRET_RULE} Your system checks X-Pharmacy-Signature with it.",
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    generate = forms.BooleanField(
        label="Make a secret for me (shown once, after adding)", required=False, initial=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("generate"):
            cleaned["secret"] = webhook_secret_new()
        elif not cleaned.get("secret") and "secret" not in self.errors:
            self.add_error("secret", f"Give a secret, or let the pharmacy make one. {SECRET_RULE}")
        return cleaned


# Shortcuts: a protocol template saved from the form, and values given back to the form.


class TemplateSaveForm(forms.Form):
    name = forms.CharField(
        label="Template name",
        max_length=TEMPLATE_NAME_MAX_LENGTH,
        validators=[validate_single_line],
        help_text="e.g. LDN 1.5→3→4.5 mg capsules, 90 days. A name you already use is replaced.",
        error_messages={"required": "Name the template."},
    )


def content_initial(content: PrescribedContent) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The prescription form's and the titration rows' initial values for `content`."""
    prescription = {
        "dosage_form": content.dosage_form, "strength_mg": content.strength_mg, "directions": content.directions,
        "dose_timing": content.dose_timing, "quantity": content.quantity, "days_supply": content.days_supply,
        "refills": content.refills, "indication": content.indication, "icd10": content.icd10,
        "allergies": list(content.allergies), "prescriber_notes": content.prescriber_notes,
        "repeat_titration": content.repeat_titration,
    }  # fmt: skip
    steps = [{"strength_mg": step.strength_mg, "days": step.days} for step in content.titration]
    return prescription, steps


def patient_initial(details: PatientDetails) -> dict[str, Any]:
    return {
        "first_name": details.first_name, "last_name": details.last_name, "date_of_birth": details.date_of_birth,
        "sex": details.sex, "weight_kg": details.weight_kg, "email": details.email, "phone": details.phone,
        "contact_preference": details.contact_preference, "address_line1": details.address_line1,
        "address_line2": details.address_line2, "city": details.city, "state": details.state,
        "postal_code": details.postal_code, "language": details.language or Language.ENGLISH,
    }  # fmt: skip


def posted_initial(form_class: type[forms.Form], data: Any, prefix: str) -> dict[str, Any]:
    """A form's posted values as initial ones: shown again without being checked (a template was
    saved from the form; the patient's fields may still be empty)."""
    return {name: data.get(f"{prefix}-{name}") for name in form_class.base_fields if f"{prefix}-{name}" in data}


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=DocumentKind.choices, initial=DocumentKind.LABS, label="What it is")
    file = forms.FileField(
        label="Document",
        help_text="A PDF, PNG or JPEG file (prior labs, a letter); only the pharmacy's staff can open it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )
