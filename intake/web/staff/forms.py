"""Pharmacy staff forms. They validate input and hand typed values to the services."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.forms import formset_factory

from intake.clinical.verification import (
    METHODS,
    PRESCRIBER_CONFIRMED,
    confirmations_missing,
    reason_problem,
    reasons_needed,
)
from intake.clinical.words import flag_title, flag_titles
from intake.models import BudRuleName, DosageForm, MasterFormulation, Patient, StateLicence, StockUnit
from intake.models.people import US_STATES
from intake.services.compounding import FORMULATION_FIELDS, ContainerInput
from intake.services.dispensing import ContainerDetails
from intake.services.final_check import CHECKLIST
from intake.services.licences import LICENCE_FIELDS
from intake.services.lots import LotInput
from intake.validators import validate_free_text, validate_single_line

TEXT_LIMIT = 1000


class DateInput(forms.DateInput):
    input_type = "date"


def _no_form_tag() -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    return helper


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )


class ClarificationForm(forms.Form):
    message = forms.CharField(
        label="Question for the prescriber",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The prescriber sees it on their home page; the notification itself carries no clinical detail.",
        validators=[validate_free_text],
    )


class ApproveForm(forms.Form):
    """One reason field per warning code that needs one: not verified, and not a strength above the
    LDN range, which only the prescriber's confirmation clears (the service decides what is missing)."""

    def __init__(self, *args: Any, flags: Iterable[Mapping[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        flags = list(flags)
        self.warning_codes: list[str] = reasons_needed(flags)
        self.confirmations_missing: list[str] = confirmations_missing(flags)
        for code in self.warning_codes:
            messages = [str(f.get("message", "")) for f in flags if f.get("code") == code and not f.get("verification")]
            self.fields[self.field_name(code)] = forms.CharField(
                label=f"Why the “{flag_title(code)}” warning does not stop this prescription",
                help_text=" ".join(dict.fromkeys(messages)),
                required=False,
                max_length=TEXT_LIMIT,
                widget=forms.Textarea(attrs={"rows": 2}),
                validators=[validate_free_text],
            )

    @staticmethod
    def field_name(code: str) -> str:
        return f"reason_{code}"

    def override_reasons(self) -> dict[str, str]:
        return {
            code: self.cleaned_data.get(self.field_name(code), "").strip()
            for code in self.warning_codes
            if self.cleaned_data.get(self.field_name(code), "").strip()
        }

    def missing_reason_errors(self) -> None:
        """Put the reason's problem on each warning's field (after the service refused the reasons)."""
        if self.confirmations_missing:
            self.add_error(
                None,
                f"{flag_titles(self.confirmations_missing)}: a strength above the usual LDN range is approved only "
                f"once the prescriber has confirmed it. Verify the flag with “{METHODS[PRESCRIBER_CONFIRMED]}”; "
                "a written reason does not clear it.",
            )
        for code in self.warning_codes:
            text = self.cleaned_data.get(self.field_name(code), "").strip()
            if not text:
                self.add_error(self.field_name(code), "Write the reason for this warning, or verify it.")
            elif problem := reason_problem(text):
                self.add_error(self.field_name(code), problem)


class VerifyFlagForm(forms.Form):
    """How a pharmacist checked one flag: the method as a choice, and a note a colleague could act on."""

    code = forms.CharField(max_length=40, widget=forms.HiddenInput, validators=[validate_single_line])
    field = forms.CharField(max_length=60, required=False, widget=forms.HiddenInput, validators=[validate_single_line])
    method = forms.ChoiceField(label="How you checked it", choices=[("", "Choose…"), *METHODS.items()])
    note = forms.CharField(
        label="What you checked and what it showed",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: PDMP shows the last oxycodone fill 8 months ago; patient confirms stopped.",
        validators=[validate_free_text],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()
        self.helper.disable_csrf = True  # the page's form tag has its own token

    def clean_note(self) -> str:
        note: str = self.cleaned_data["note"].strip()
        problem = reason_problem(note)
        if problem:
            raise forms.ValidationError(problem)
        return note


class RescreenForm(forms.Form):
    message = forms.CharField(
        label="Why the patient answers again",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the history. The patient gets a new link; the message to them says nothing clinical.",
        validators=[validate_free_text],
    )


class LotForm(forms.Form):
    ingredient = forms.CharField(max_length=120, validators=[validate_single_line])
    manufacturer = forms.CharField(max_length=120, required=False, validators=[validate_single_line])
    # The received lots offered as the compounder types (the page's datalist "stock-lots").
    lot = forms.CharField(
        label="Lot number",
        max_length=60,
        validators=[validate_single_line],
        widget=forms.TextInput(attrs={"list": "stock-lots", "autocomplete": "off"}),
    )
    expires = forms.DateField(widget=DateInput)
    quantity_used = forms.CharField(
        label="Quantity used",
        max_length=40,
        required=False,
        validators=[validate_single_line],
        help_text="With its unit: 1.35 g, 500 mg, 30 each. Required for a lot received into stock.",
    )

    def lot_input(self) -> LotInput:
        data = self.cleaned_data
        return LotInput(
            ingredient=data["ingredient"],
            lot=data["lot"],
            expires=data["expires"],
            manufacturer=data.get("manufacturer", ""),
            quantity_used=data.get("quantity_used", ""),
        )


LotFormSet = formset_factory(LotForm, extra=0, min_num=1, validate_min=True, max_num=20, validate_max=True)


def lot_inputs(formset: Any) -> list[LotInput]:
    # Blank rows added with "Add a lot" and left empty have no cleaned_data: skipped.
    return [form.lot_input() for form in formset.forms if form.cleaned_data]


class CompoundingForm(forms.Form):
    master_formulation = forms.ModelChoiceField(queryset=MasterFormulation.objects.none(), empty_label=None)
    quality_checks = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    deviations = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Anything that differed from the master formulation; leave blank if none.",
        validators=[validate_free_text],
    )

    def __init__(self, *args: Any, formulations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if formulations is not None:
            self.fields["master_formulation"].queryset = formulations  # type: ignore[attr-defined]
        self.helper = _no_form_tag()


class ContainerForm(forms.Form):
    """One container of the dispense plan as made: its count or volume, and what was weighed."""

    quantity_made = forms.IntegerField(min_value=1, max_value=100_000)
    naltrexone_mg = forms.DecimalField(
        label="Naltrexone HCl weighed (mg)", required=False, min_value=Decimal("0.001"), max_digits=12,
        decimal_places=3,
    )  # fmt: skip
    capsule_weights_mg = forms.CharField(
        label="Capsule fill weights (mg)", required=False, max_length=600,
        help_text="Capsules: the net weight of each capsule sampled, separated by spaces or commas.",
    )  # fmt: skip

    def clean_capsule_weights_mg(self) -> tuple[Decimal, ...]:
        text = self.cleaned_data.get("capsule_weights_mg", "")
        weights = []
        for part in text.replace(",", " ").replace(";", " ").split():
            try:
                weight = Decimal(part)
            except ArithmeticError:
                raise forms.ValidationError(f"“{part}” is not a weight in mg.") from None
            if not weight.is_finite() or weight <= 0 or weight > 1_000_000:
                raise forms.ValidationError(f"“{part}” is not a weight in mg.")
            weights.append(weight)
        if len(weights) > 50:
            raise forms.ValidationError("Record at most 50 capsule weights.")
        return tuple(weights)

    def container_input(self) -> ContainerInput:
        data = self.cleaned_data
        return ContainerInput(
            quantity_made=data["quantity_made"], naltrexone_mg=data.get("naltrexone_mg"),
            capsule_weights_mg=data.get("capsule_weights_mg", ()),
        )  # fmt: skip


ContainerFormSet = formset_factory(ContainerForm, extra=0, min_num=1, validate_min=True, max_num=50, validate_max=True)


class FinalCheckForm(forms.Form):
    """The checklist, and a scan field per container: a scanner types the label's code and Enter."""

    def __init__(self, *args: Any, containers: Iterable[ContainerDetails] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in CHECKLIST:
            self.fields[f"item_{item.value}"] = forms.BooleanField(
                label=item.label, required=True,
                error_messages={"required": "Check this and tick it before passing the batch."},
            )  # fmt: skip
        self.container_numbers: list[int] = []
        for details in containers:
            self.container_numbers.append(details.number)
            self.fields[self.scan_field(details.number)] = forms.CharField(
                label=f"Scan container {details.number}: {details.title}",
                max_length=60,
                error_messages={"required": f"Scan container {details.number}'s label."},
                widget=forms.TextInput(attrs={"data-scan": "", "autocomplete": "off", "spellcheck": "false"}),
                validators=[validate_single_line],
            )

    @staticmethod
    def scan_field(number: int) -> str:
        return f"scan_{number}"

    def confirmed(self) -> list[str]:
        return [item.value for item in CHECKLIST if self.cleaned_data.get(f"item_{item.value}")]

    def scans(self) -> dict[int, str]:
        return {number: self.cleaned_data.get(self.scan_field(number), "") for number in self.container_numbers}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """The service's refusals on the fields they concern ("scans.2" -> scan_2)."""
        for key, problems in errors.items():
            number = key.removeprefix("scans.")
            field = self.scan_field(int(number)) if key.startswith("scans.") and number.isdigit() else None
            for problem in problems:
                self.add_error(field if field in self.fields else None, problem)


class ShipForm(forms.Form):
    """Carrier and tracking number typed in; with a carrier service, a rate ("USPS:Priority") to buy
    instead, the tracking number left blank."""

    carrier = forms.CharField(
        max_length=40, widget=forms.TextInput(attrs={"list": "carriers"}), validators=[validate_single_line]
    )
    tracking_number = forms.CharField(max_length=60, validators=[validate_single_line])
    rate = forms.RegexField(
        regex=r"^[\w .-]{1,40}:[\w .-]{1,40}$", required=False, widget=forms.HiddenInput,
        error_messages={"invalid": "Choose one of the carrier's rates."},
    )  # fmt: skip

    def __init__(self, *args: Any, buys_labels: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if buys_labels:
            self.fields["carrier"].required = False
            self.fields["tracking_number"].required = False
            self.fields["tracking_number"].help_text = "Leave blank to buy the label chosen above."

    def chosen(self) -> tuple[str, str]:
        """The carrier and service of the chosen rate, or the typed carrier and no service."""
        rate = self.cleaned_data.get("rate") or ""
        if rate and not self.cleaned_data.get("tracking_number"):
            carrier, service = rate.split(":", 1)
            return carrier, service
        return self.cleaned_data.get("carrier") or "", ""


class MasterFormulationForm(forms.Form):
    dosage_form = forms.ModelChoiceField(queryset=DosageForm.objects.all(), empty_label=None)
    name = forms.CharField(max_length=120, validators=[validate_single_line])
    strength_mg = forms.DecimalField(
        label="Strength (mg)",
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="Leave blank when the formula covers every strength of its dosage form.",
    )
    filler = forms.CharField(
        max_length=120,
        required=False,
        help_text="Recorded because patients may be allergic.",
        validators=[validate_single_line],
    )
    aqueous = forms.BooleanField(required=False, help_text="Water activity of 0.6 or more.")
    preserved = forms.BooleanField(required=False, help_text="Contains an antimicrobial preservative.")
    storage = forms.CharField(max_length=120, validators=[validate_single_line])
    equipment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Mixing steps, one per line.",
        validators=[validate_free_text],
    )
    quality_checks = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), validators=[validate_free_text]
    )
    container = forms.CharField(max_length=120, required=False, validators=[validate_single_line])
    salt_factor = forms.DecimalField(
        max_digits=6, decimal_places=4, initial=Decimal(1), required=False,
        help_text="mg of naltrexone HCl weighed per mg of labelled strength: 1 (or blank) when strengths are the "
        "HCl salt; 1.107 when they are naltrexone base.",
    )  # fmt: skip
    overage_percent = forms.DecimalField(
        label="Overage (%)", max_digits=5, decimal_places=2, initial=Decimal(0), required=False,
        help_text="Extra made for losses in filling and transfer; blank: none.",
    )  # fmt: skip
    capsule_fill_mg = forms.DecimalField(
        label="Capsule fill weight (mg)", required=False, max_digits=8, decimal_places=2,
        help_text="Capsules: the net fill weight of one capsule; the worksheet's filler and weight checks use it.",
    )  # fmt: skip
    concentration = forms.DecimalField(
        required=False, max_digits=8, decimal_places=3,
        help_text="Liquids and drops: mg per mL; creams: mg per g. Blank: the dosage form's.",
    )  # fmt: skip
    bud_rule = forms.ChoiceField(label="Beyond-use date rule", choices=BudRuleName.choices)
    bud_reference = forms.CharField(
        label="BUD reference", max_length=200, initial="USP <795> (2023), Table 4", validators=[validate_single_line]
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()
        self.helper.layout = Layout(
            Row(Column("dosage_form"), Column("strength_mg")),
            "name",
            Row(Column("filler"), Column("container")),
            Row(Column("salt_factor"), Column("overage_percent"), Column("capsule_fill_mg"), Column("concentration")),
            Row(Column("aqueous"), Column("preserved"), Column("active")),
            Row(Column("storage"), Column("bud_rule")),
            "bud_reference",
            "equipment",
            "steps",
            "quality_checks",
        )

    @classmethod
    def initial_for(cls, formulation: MasterFormulation) -> dict[str, Any]:
        initial = {field: getattr(formulation, field) for field in FORMULATION_FIELDS}
        initial["dosage_form"] = formulation.dosage_form_id
        return initial

    def clean_salt_factor(self) -> Decimal:
        value = self.cleaned_data.get("salt_factor")
        return Decimal(1) if value is None else value

    def clean_overage_percent(self) -> Decimal:
        value = self.cleaned_data.get("overage_percent")
        return Decimal(0) if value is None else value

    def values(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in FORMULATION_FIELDS}


class IngredientForm(forms.Form):
    name = forms.CharField(max_length=120, validators=[validate_single_line])
    quantity = forms.CharField(max_length=40, required=False, validators=[validate_single_line])
    unit = forms.CharField(max_length=20, required=False, validators=[validate_single_line])


IngredientFormSet = formset_factory(IngredientForm, extra=0, min_num=1, validate_min=True, max_num=20)


def ingredient_values(formset: Any) -> list[dict[str, str]]:
    return [dict(form.cleaned_data) for form in formset.forms if form.cleaned_data]


class StateLicenceForm(forms.Form):
    state = forms.ChoiceField(choices=US_STATES)
    licence_number = forms.CharField(max_length=60, validators=[validate_single_line])
    expires_on = forms.DateField(label="Expires on", widget=DateInput, help_text="The last day the licence is valid.")
    active = forms.BooleanField(
        required=False, initial=True, help_text="Untick for a licence surrendered or suspended."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()
        self.helper.layout = Layout(
            Row(Column("state"), Column("licence_number")), Row(Column("expires_on"), Column("active"))
        )

    @classmethod
    def initial_for(cls, licence: StateLicence) -> dict[str, Any]:
        return {name: getattr(licence, name) for name in LICENCE_FIELDS}

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in LICENCE_FIELDS}


class FollowUpReviewForm(forms.Form):
    note = forms.CharField(
        label="What was done",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Who was called and what was agreed; it goes into the prescription's history.",
        validators=[validate_free_text],
    )


class StockReceiveForm(forms.Form):
    ingredient = forms.CharField(max_length=120, validators=[validate_single_line])
    manufacturer = forms.CharField(max_length=120, required=False, validators=[validate_single_line])
    lot = forms.CharField(label="Lot number", max_length=60, validators=[validate_single_line])
    expires = forms.DateField(label="Expires on", widget=DateInput)
    unit = forms.ChoiceField(choices=StockUnit.choices, help_text="The unit the lot is counted in.")
    quantity = forms.DecimalField(
        label="Quantity received", max_digits=12, decimal_places=3, min_value=Decimal("0.001")
    )
    low_stock_below = forms.DecimalField(
        label="Low below",
        max_digits=12,
        decimal_places=3,
        min_value=Decimal(0),
        required=False,
        help_text="The dashboard lists the lot once less than this is left; blank: never.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()
        self.helper.layout = Layout(
            Row(Column("ingredient"), Column("manufacturer")),
            Row(Column("lot"), Column("expires")),
            Row(Column("unit"), Column("quantity"), Column("low_stock_below")),
        )


class StockCorrectForm(forms.Form):
    quantity_on_hand = forms.DecimalField(
        label="Counted on hand", max_digits=12, decimal_places=3, min_value=Decimal(0)
    )
    reason = forms.CharField(
        max_length=100,
        validators=[validate_single_line],
        help_text="Why the count differs (a spill, a recount); kept in the lot's history.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _no_form_tag()


STOCK_SHOW = (
    ("", "All lots"),
    ("usable", "Usable"),
    ("low", "Low"),
    ("expiring", "Expiring soon"),
    ("expired", "Expired"),
    ("quarantined", "Quarantined"),
)


class StockFilterForm(forms.Form):
    ingredient = forms.CharField(max_length=120, required=False, validators=[validate_single_line])
    show = forms.ChoiceField(choices=STOCK_SHOW, required=False)


class ShippingProblemForm(forms.Form):
    handled_note = forms.CharField(
        label="What was done",
        max_length=300,
        help_text="Called the patient, shipped again, asked the carrier to hold it… It takes the parcel off the list.",
        validators=[validate_single_line],
    )


class PatientSearchForm(forms.Form):
    """A patient found by name and birth date, as the pharmacy knows them (never by a part of the name alone)."""

    last_name = forms.CharField(max_length=100, validators=[validate_single_line])
    first_name = forms.CharField(
        max_length=100, required=False, validators=[validate_single_line], help_text="Or its first letters."
    )
    date_of_birth = forms.DateField(label="Date of birth", widget=DateInput)

    def clean_last_name(self) -> str:
        last_name = self.cleaned_data["last_name"].strip()
        if not Patient.identity_key("", last_name).strip("|"):
            raise forms.ValidationError("Write the patient's last name.")
        return last_name
