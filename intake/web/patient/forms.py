"""The patient's forms: the birth-date check, the questionnaire, the status lookup and the check-in.

Plain words for people on a phone; they validate and hand typed values to the services.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from intake.clinical.follow_up import symptom_labels
from intake.models import LiverCondition, Pregnancy, Questionnaire, SymptomLevel
from intake.services.questionnaire import BOOLEAN_ANSWERS, MAX_ITEM_LENGTH, MAX_LIST_ITEMS, RESCREEN_ANSWERS
from intake.services.workflow import MAX_TEXT
from intake.validators import validate_free_text, validate_single_line

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise  # a label in the language of the page that shows it

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
REFERENCE_PATTERN = re.compile(r"^RX-[0-9A-Z]{4,8}$")
# The one answer to a wrong order number, a wrong birth date, or a button pressed without either.
LOOKUP_MISS = _("We could not find an order with this number and date of birth. Check both and try again.")

OPIOID_EXAMPLES = _(
    "For example: Norco, Vicodin or Lortab (hydrocodone); Percocet, OxyContin or Roxicodone (oxycodone); "
    "tramadol (Ultram); codeine, Tylenol #3 or codeine cough syrup; morphine; Dilaudid (hydromorphone); "
    "fentanyl patches (Duragesic); Nucynta (tapentadol); Suboxone, Subutex or Butrans (buprenorphine); "
    "methadone; Lomotil; or kratom. Count pills from a friend or bought without a prescription too."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        # ISO format: what a type="date" input sends and expects back.
        super().__init__(format="%Y-%m-%d", attrs={"autocomplete": "bday"})


YOUR_BIRTH_DATE = _("Your date of birth")


def birth_date_field(label: StrOrPromise = YOUR_BIRTH_DATE) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"],
        help_text=_("As on your prescription, for example 02/29/1980."),
        error_messages={"required": _("Enter your date of birth."), "invalid": _("Enter a date such as 02/29/1980.")},
    )


def _clean_birth_date(value: date) -> date:
    if value > timezone.localdate():
        raise forms.ValidationError(_("A date of birth cannot be in the future."))
    return value


class BirthDateForm(forms.Form):
    """The only question before anything else is shown: the patient's date of birth."""

    date_of_birth = birth_date_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_date_of_birth(self) -> date:
        return _clean_birth_date(self.cleaned_data["date_of_birth"])

    def mismatch(self) -> None:
        # Says nothing about the prescription: the same words for any wrong date.
        self.add_error("date_of_birth", _("This date of birth does not match our records. Check it and try again."))


class StatusLookupForm(forms.Form):
    reference = forms.CharField(
        label=_("Order number"),
        max_length=20,
        help_text=_("From our email or text message, for example RX-7K3M9QX."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}),
        error_messages={"required": _("Enter your order number.")},
    )
    date_of_birth = birth_date_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_reference(self) -> str:
        compact = re.sub(r"[\s.]", "", self.cleaned_data["reference"]).upper()
        if not compact.startswith("RX-"):
            compact = "RX-" + compact.removeprefix("RX")
        if not REFERENCE_PATTERN.match(compact):
            raise forms.ValidationError(_("An order number looks like RX-7K3M9QX."))
        return compact

    def clean_date_of_birth(self) -> date:
        return _clean_birth_date(self.cleaned_data["date_of_birth"])

    def mismatch(self) -> None:
        self.add_error(None, LOOKUP_MISS)


class PriceAnswerForm(forms.Form):
    """The patient's answer to the price of their order: the button pressed, and why they decline."""

    CONSENT = "consent"
    DECLINE = "decline"

    decision = forms.ChoiceField(choices=[(CONSENT, CONSENT), (DECLINE, DECLINE)])
    reason = forms.CharField(
        required=False, max_length=MAX_TEXT, widget=forms.Textarea, validators=[validate_free_text]
    )


def yes_no(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": _("Answer yes or no.")},
    )


class QuestionnaireForm(forms.Form):
    """Every answer of the questionnaire except the lists (formsets) and the birth date (checked first)."""

    takes_opioids = yes_no(
        _("In the last 10 days, have you taken any opioid pain medicine or opioid drug, prescribed or not?"),
        OPIOID_EXAMPLES,
    )
    opioid_treatment_program = yes_no(
        _(
            "Are you being treated with methadone or buprenorphine (Suboxone, Subutex, Sublocade, Zubsolv) "
            "for opioid use?"
        ),
    )
    liver_condition = forms.ChoiceField(
        label=_("Do you have a liver problem?"),
        choices=LiverCondition.choices,
        widget=forms.RadioSelect,
        help_text=_("Hepatitis, cirrhosis, fatty liver or anything else a doctor told you about your liver."),
        error_messages={"required": _("Choose one answer.")},
    )
    pregnancy = forms.ChoiceField(
        label=_("Are you pregnant, planning a pregnancy, or breastfeeding?"),
        choices=Pregnancy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose one answer.")},
    )
    alcohol_drinks_per_week = forms.IntegerField(
        label=_("How many alcoholic drinks do you have in a usual week?"),
        min_value=0,
        max_value=500,
        help_text=_("One drink is a can of beer, a glass of wine or a shot of spirits. Enter 0 if you do not drink."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Enter a number; 0 if you do not drink."),
            "min_value": _("Enter 0 or more."),
            "max_value": _("Enter a number up to 500."),
            "invalid": _("Enter a whole number, such as 0 or 3."),
        },
    )
    naltrexone_allergy = yes_no(
        _("Have you ever had an allergic reaction to naltrexone (Revia, Vivitrol or low-dose naltrexone)?")
    )
    thyroid_medication = yes_no(
        _("Do you take thyroid medicine?"),
        _("For example levothyroxine (Synthroid, Levoxyl), Armour Thyroid or liothyronine (Cytomel)."),
    )
    immunosuppressants = yes_no(
        _("Do you take medicine that lowers your immune system, for example after an organ transplant?"),
        _("For example tacrolimus (Prograf), cyclosporine, mycophenolate (CellCept), sirolimus or azathioprine."),
    )
    surgery_within_14_days = yes_no(
        _("Have you had surgery in the last 14 days, or is surgery planned in the next 14 days?"),
        _("Include dental surgery and procedures where you may be given pain medicine."),
    )
    attestation = forms.BooleanField(
        label=_("I confirm that my answers are true and complete to the best of my knowledge."),
        error_messages={"required": _("Tick the box to confirm your answers.")},
    )

    def __init__(self, *args: Any, short: bool = False, **kwargs: Any) -> None:
        """`short`: the re-screen before a refill, four questions; the other answers carry over."""
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        if short:
            for name in list(self.fields):
                if name not in (*RESCREEN_ANSWERS, "attestation"):
                    del self.fields[name]
            self.helper.layout = Layout(
                Fieldset(_("Opioids"), "takes_opioids"),
                Fieldset(_("Your health now"), "liver_condition", "pregnancy"),
            )
            return
        self.helper.layout = Layout(
            Fieldset(
                _("Opioids"),
                "takes_opioids",
                "opioid_treatment_program",
            ),
            Fieldset(
                _("Your health"),
                "liver_condition",
                "pregnancy",
                "alcohol_drinks_per_week",
                "naltrexone_allergy",
                "thyroid_medication",
                "immunosuppressants",
                "surgery_within_14_days",
            ),
        )

    @staticmethod
    def initial_from(questionnaire: Questionnaire | None) -> dict[str, Any]:
        """Pre-fill from earlier answers (the patient's own), with yes/no as the radios expect."""
        if questionnaire is None:
            return {}
        answers = questionnaire.answers()
        initial: dict[str, Any] = {name: "yes" if answers[name] else "no" for name in BOOLEAN_ANSWERS}
        initial.update(
            liver_condition=answers["liver_condition"],
            pregnancy=answers["pregnancy"],
            alcohol_drinks_per_week=answers["alcohol_drinks_per_week"],
        )
        return initial


class MedicationRowForm(forms.Form):
    """One line as the patient writes it: a medicine, vitamin or herb (blank lines are dropped)."""

    text = forms.CharField(
        label=_("Medicine, vitamin or herb"),
        max_length=MAX_ITEM_LENGTH,
        required=False,
        validators=[validate_single_line],
    )


class AllergyRowForm(forms.Form):
    text = forms.CharField(
        label=_("Allergy"), max_length=MAX_ITEM_LENGTH, required=False, validators=[validate_single_line]
    )


def _formset(form: type[forms.Form]) -> type[forms.BaseFormSet]:
    return formset_factory(form, extra=0, max_num=MAX_LIST_ITEMS, validate_max=True, absolute_max=MAX_LIST_ITEMS)


MedicationFormSet = _formset(MedicationRowForm)
AllergyFormSet = _formset(AllergyRowForm)


def list_rows(items: list[str], blank_rows: int) -> list[dict[str, str]]:
    """Initial rows for a list formset: what the patient wrote before, then at least `blank_rows` empty ones."""
    return [{"text": item} for item in items] + [{"text": ""} for _ in range(blank_rows)]


def list_items(formset: forms.BaseFormSet) -> list[str]:
    """The non-empty lines of a valid list formset, in order."""
    return [row.cleaned_data["text"] for row in formset.forms if row.cleaned_data.get("text")]


def questionnaire_answers(
    form: QuestionnaireForm, medications: forms.BaseFormSet, allergies: forms.BaseFormSet | None
) -> dict[str, Any]:
    """The questionnaire's answer keys (without the birth date) from valid forms: those the form asked
    (a re-screen asks fewer; the service carries the others over), with the medicines listed now."""
    answers: dict[str, Any] = dict(form.cleaned_data)
    answers["current_medications"] = list_items(medications)
    if allergies is not None:
        answers["allergies"] = list_items(allergies)
    return answers


class CheckInForm(forms.Form):
    """The side-effect check-in: one none / a little / a lot question per symptom, then free text."""

    other_effects = forms.CharField(
        label=_("Anything else?"),
        required=False,
        max_length=MAX_TEXT,
        help_text=_("Any other effect you noticed, or a question for the pharmacist. Leave empty if nothing."),
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_free_text],
        error_messages={"max_length": _("Keep it to %(limit_value)d characters.")},
    )
    wants_call = forms.BooleanField(label=_("I would like a pharmacist to call me"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The symptoms are data (intake/clinical/data/follow_up.json): one radio group each.
        for code, label in symptom_labels(get_language() or "en").items():
            self.fields[code] = forms.ChoiceField(
                label=label,
                choices=SymptomLevel.choices,
                # Bootstrap's toggle buttons: large targets on a phone, still plain radios underneath.
                widget=forms.RadioSelect(attrs={"class": "btn-check"}),
                error_messages={"required": _("Choose one answer.")},
            )
        self.order_fields([*symptom_labels(), "other_effects", "wants_call"])
        self.helper = FormHelper()
        self.helper.form_tag = False

    def symptom_fields(self) -> list[forms.BoundField]:
        return [self[code] for code in symptom_labels()]

    def symptoms(self) -> dict[str, str]:
        return {code: self.cleaned_data[code] for code in symptom_labels()}
