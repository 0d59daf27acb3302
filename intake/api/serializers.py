"""The API's bodies: what each endpoint accepts (validated into domain types) and what it answers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from intake.api.patient_serializers import RenewalStatusField, text_list
from intake.clinical.flags import SOURCES
from intake.clinical.verification import METHODS
from intake.links import questionnaire_url
from intake.models import (
    DosageFormCode,
    DoseTiming,
    Language,
    Prescription,
    PrescriptionStatus,
    Requester,
    Sex,
)
from intake.models.people import US_STATES, phone_validator, postal_code_validator
from intake.selectors import SHOWN_CLARIFICATIONS, SHOWN_FILLS, SHOWN_STEPS, shown_steps
from intake.services.addresses import address_warnings
from intake.services.compounding import ContainerInput
from intake.services.dispensing import fill_plan
from intake.services.final_check import CHECKLIST
from intake.services.lots import LotInput
from intake.services.prescriptions import PatientDetails, PrescribedContent, Step
from intake.validators import validate_free_text, validate_single_line

MAX_TEXT = 1000
MAX_TITRATION_STEPS = 20
MAX_QUANTITY = 100_000
MAX_DAYS_SUPPLY = 365
ICD10_PATTERN = r"^[A-Za-z][0-9][0-9A-Za-z](\.?[0-9A-Za-z]{1,4})?$"


def encodable(value: str) -> None:
    # JSON may carry lone surrogates ("\ud800"): they cannot be stored nor hashed as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise serializers.ValidationError("This text holds characters that are not valid Unicode.") from None


class Text(serializers.CharField):
    """A CharField that takes only JSON strings (not 42 nor true) of valid Unicode, on one line:
    a name, an address, a code or a number, without line breaks nor control characters."""

    default_error_messages = {"invalid": "Send text (a JSON string)."}
    characters: Callable[[str], None] | None = staticmethod(validate_single_line)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(encodable)
        if self.characters is not None:
            self.validators.append(self.characters)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FreeText(Text):
    """Directions, notes, messages and reasons: line breaks and tabs allowed, other controls not."""

    characters = staticmethod(validate_free_text)


class Secret(Text):
    """A password: any character the person chose."""

    characters = None


class Milligrams(serializers.DecimalField):
    """A strength in mg: more than 0, at most two decimal places ("4.50" and 4.5 alike)."""

    default_error_messages = {
        "min_value": "The strength must be more than 0 mg.",
        "max_value": "The strength must be at most {max_value} mg.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 7)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", Decimal("99999.99"))
        super().__init__(**kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        # Trailing zeros are not precision: "4.500" is 4.5 mg.
        super().validate_precision(without_trailing_zeros(value))
        return value


class Kilograms(serializers.DecimalField):
    """A weight in kg, kept to 0.1 kg: an EHR's converted pounds (61.23456) are rounded, not refused."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(max_digits=4, decimal_places=1, min_value=Decimal("0.5"), max_value=Decimal("650"))
        super().__init__(**kwargs)

    def validate_precision(self, value: Decimal) -> Decimal:
        if value.is_finite() and value.adjusted() < 4:
            value = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return super().validate_precision(value)


def without_trailing_zeros(value: Decimal) -> Decimal:
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return value
    if not any(digits):
        return Decimal(0)
    while exponent < 0 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return Decimal((sign, digits, exponent))


class ErrorSerializer(serializers.Serializer):
    """403, 404, 409, 415, 422, 429: a sentence for a person."""

    detail = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    email = Text(max_length=254)
    password = Secret(max_length=1024, trim_whitespace=False)
    otp = Text(max_length=12, required=False, default="", help_text="The authenticator app's current code, "
               "for an account that enrolled two-step sign-in.")  # fmt: skip


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


# --- Submitting a prescription ---------------------------------------------------------------


class AddressSerializer(serializers.Serializer):
    line1 = Text(max_length=200)
    line2 = Text(max_length=200, required=False, allow_blank=True, default="")
    city = Text(max_length=100)
    state = serializers.ChoiceField(choices=US_STATES)
    postal_code = Text(max_length=10, validators=[postal_code_validator])


class PatientInSerializer(serializers.Serializer):
    first_name = Text(max_length=100)
    last_name = Text(max_length=100)
    date_of_birth = serializers.DateField(input_formats=["iso-8601"])
    sex = serializers.ChoiceField(choices=Sex.choices)
    email = serializers.EmailField(max_length=254)
    phone = Text(max_length=25, required=False, allow_blank=True, default="", validators=[phone_validator])
    language = serializers.ChoiceField(
        choices=Language.choices, required=False, default="",
        help_text="The language the patient reads: their questionnaire, status pages, messages and label "
        "directions are written in it. en (English) or es (Spanish); left out, a new patient's is en and a "
        "returning patient's stays as it was.",
        error_messages={"invalid_choice": 'The patient\'s language is "en" (English) or "es" (Spanish), '
                                          'not "{input}".'},
    )  # fmt: skip
    weight_kg = Kilograms(required=False, allow_null=True, default=None, help_text="Required for a patient under 18.")
    address = AddressSerializer()
    allergies = text_list(
        required=False, default=list,
        help_text='The allergies the prescriber knows of, one an item ("penicillin: rash"); screened as the '
        "patient's own.",
    )  # fmt: skip


class StepSerializer(serializers.Serializer):
    strength_mg = Milligrams()
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS_SUPPLY)


class SignatureSerializer(serializers.Serializer):
    """Optional: by default an API submission is signed with the prescriber's own name."""

    name = Text(max_length=200)
    attestation = serializers.BooleanField()

    def validate_attestation(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Confirm the attestation to sign the prescription.")
        return value


class PrescribedFieldsSerializer(serializers.Serializer):
    """The prescribed content, shared by submission and by a prescriber's correction."""

    dosage_form = serializers.ChoiceField(choices=DosageFormCode.choices)
    strength_mg = Milligrams(help_text='mg, more than 0, at most two decimal places; a string ("4.5") or a number.')
    directions = FreeText(max_length=MAX_TEXT)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    days_supply = serializers.IntegerField(min_value=1, max_value=MAX_DAYS_SUPPLY)
    refills = serializers.IntegerField(min_value=0, max_value=11)
    indication = Text(max_length=200)
    icd10 = Text(
        max_length=8, required=False, allow_blank=True, default="",
        validators=[RegexValidator(ICD10_PATTERN, "Enter an ICD-10 code such as M79.7.")],
    )  # fmt: skip
    titration = StepSerializer(many=True, required=False, default=list, max_length=MAX_TITRATION_STEPS)  # type: ignore[call-arg]
    dose_timing = serializers.ChoiceField(choices=DoseTiming.choices)
    prescriber_notes = FreeText(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    repeat_titration = serializers.BooleanField(
        required=False, default=False,
        help_text="true: every refill starts the titration again; false: refills are the prescribed strength only.",
    )  # fmt: skip


class PrescriptionCreateSerializer(PrescribedFieldsSerializer):
    patient = PatientInSerializer()
    rush = serializers.BooleanField(required=False, default=False)
    signature = SignatureSerializer(required=False)


def patient_details(data: dict[str, Any]) -> PatientDetails:
    """The patient of a validated submission (PrescriptionCreateSerializer)."""
    patient = data["patient"]
    address = patient["address"]
    return PatientDetails(
        first_name=patient["first_name"], last_name=patient["last_name"],
        date_of_birth=patient["date_of_birth"], sex=patient["sex"], email=patient["email"],
        phone=patient["phone"], weight_kg=patient["weight_kg"], address_line1=address["line1"],
        address_line2=address["line2"], city=address["city"], state=address["state"],
        postal_code=address["postal_code"], language=patient["language"],
    )  # fmt: skip


def prescribed_content(data: dict[str, Any]) -> PrescribedContent:
    """What a validated submission prescribes (PrescriptionCreateSerializer)."""
    return PrescribedContent(
        dosage_form=data["dosage_form"], strength_mg=data["strength_mg"], directions=data["directions"],
        quantity=data["quantity"], days_supply=data["days_supply"], refills=data["refills"],
        indication=data["indication"], icd10=data["icd10"], dose_timing=data["dose_timing"],
        prescriber_notes=data["prescriber_notes"], rush=data["rush"], repeat_titration=data["repeat_titration"],
        titration=tuple(Step(strength_mg=s["strength_mg"], days=s["days"]) for s in data["titration"]),
        allergies=tuple(line for line in data["patient"].get("allergies", ()) if line),
    )  # fmt: skip


# --- Workflow actions ------------------------------------------------------------------------


class EmptySerializer(serializers.Serializer):
    """No body needed (an empty object, or nothing)."""


class MessageSerializer(serializers.Serializer):
    message = FreeText(max_length=MAX_TEXT)


class RescreenSerializer(serializers.Serializer):
    message = FreeText(
        max_length=MAX_TEXT,
        help_text="Why the patient is asked to answer again (kept in the history; the patient's message says "
        "nothing clinical).",
    )


class ReasonSerializer(serializers.Serializer):
    reason = FreeText(max_length=MAX_TEXT)


class VerifyFlagSerializer(serializers.Serializer):
    code = Text(max_length=40, help_text="The code of a flag the prescription carries, e.g. opioid_use.")
    method = serializers.ChoiceField(
        choices=list(METHODS.items()), help_text="How the pharmacist checked it (the NCPDP professional service)."
    )
    note = FreeText(
        max_length=MAX_TEXT,
        help_text="What was checked and what it showed: a sentence a colleague could act on (15 characters, "
        "3 words at least).",
    )
    field = Text(
        max_length=60, required=False, default="",
        help_text="Only the flag raised by this field (e.g. current_medications[1]); every flag with the code "
        "when left out.",
    )  # fmt: skip


class ApproveSerializer(serializers.Serializer):
    override_reasons = serializers.DictField(
        child=FreeText(max_length=MAX_TEXT, allow_blank=True), required=False, default=dict,
        help_text='The pharmacist\'s reason for each warning flag, by flag code: {"pregnancy": "…"}.',
    )  # fmt: skip


class CorrectionsSerializer(serializers.Serializer):
    """Corrected prescription fields (each optional); a correction is signed and screened again."""

    dosage_form = serializers.ChoiceField(choices=DosageFormCode.choices, required=False)
    strength_mg = Milligrams(required=False)
    directions = FreeText(max_length=MAX_TEXT, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    days_supply = serializers.IntegerField(min_value=1, max_value=MAX_DAYS_SUPPLY, required=False)
    refills = serializers.IntegerField(min_value=0, max_value=11, required=False)
    indication = Text(max_length=200, required=False)
    icd10 = Text(
        max_length=8, required=False, allow_blank=True,
        validators=[RegexValidator(ICD10_PATTERN, "Enter an ICD-10 code such as M79.7.")],
    )  # fmt: skip
    titration = StepSerializer(many=True, required=False, max_length=MAX_TITRATION_STEPS)  # type: ignore[call-arg]
    dose_timing = serializers.ChoiceField(choices=DoseTiming.choices, required=False)
    prescriber_notes = FreeText(max_length=MAX_TEXT, required=False, allow_blank=True)
    weight_kg = Kilograms(required=False)
    repeat_titration = serializers.BooleanField(required=False)


class RespondSerializer(CorrectionsSerializer):
    """The prescriber's answer; corrected fields go beside the message or inside "corrections"."""

    message = FreeText(max_length=MAX_TEXT)
    corrections = CorrectionsSerializer(required=False)
    signature = SignatureSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        nested = attrs.pop("corrections", {}) or {}
        signature = attrs.pop("signature", None)
        message = attrs.pop("message")
        both = sorted(set(attrs) & set(nested))
        if both:
            raise serializers.ValidationError({name: ["Given twice: here and in corrections."] for name in both})
        corrections = {**attrs, **nested}
        if "titration" in corrections:
            corrections["titration"] = [dict(step) for step in corrections["titration"]]
        return {
            "message": message,
            "corrections": corrections,
            "signature_name": signature["name"] if signature else "",
        }


class LotSerializer(serializers.Serializer):
    ingredient = Text(max_length=120)
    lot = Text(max_length=60)
    expires = serializers.DateField(input_formats=["iso-8601"])
    manufacturer = Text(max_length=120, required=False, allow_blank=True, default="")
    quantity_used = Text(max_length=40, required=False, allow_blank=True, default="", help_text='e.g. "135 mg"')


class Weight(serializers.DecimalField):
    """A weight in mg, as a balance shows it (up to three decimals)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(max_digits=12, decimal_places=3, min_value=Decimal("0.001"), max_value=Decimal("1000000"))
        super().__init__(**kwargs)


class ContainerMadeSerializer(serializers.Serializer):
    """One container of the fill's dispense plan (in the plan's order), as made."""

    quantity_made = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, required=False, help_text="Must be the plan's quantity for it."
    )
    naltrexone_mg = Weight(required=False, help_text="Naltrexone HCl weighed; within the tolerance of the plan's.")
    capsule_weights_mg = serializers.ListField(
        child=Weight(), required=False, default=list, max_length=50,
        help_text="Net fill weights of the capsules sampled; each within the tolerance (USP <795>).",
    )  # fmt: skip
    lots = LotSerializer(many=True, required=False, default=list, max_length=20)  # type: ignore[call-arg]


class RecordCompoundingSerializer(serializers.Serializer):
    lots = LotSerializer(many=True, allow_empty=False, max_length=20)  # type: ignore[call-arg]
    quantity_made = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="The whole batch: the total of the fill's dispense plan."
    )
    master_formulation_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    quality_checks = FreeText(max_length=2000, required=False, allow_blank=True, default="")
    deviations = FreeText(max_length=2000, required=False, allow_blank=True, default="")
    containers = ContainerMadeSerializer(
        many=True, required=False, max_length=50,  # type: ignore[call-arg]
        help_text="Optional: per container of the plan, in order, the quantity made, weights and its own lots.",
    )  # fmt: skip

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["lots"] = [LotInput(**lot) for lot in attrs["lots"]]
        if "containers" in attrs:
            attrs["containers"] = [
                ContainerInput(
                    quantity_made=item.get("quantity_made"),
                    naltrexone_mg=item.get("naltrexone_mg"),
                    capsule_weights_mg=tuple(item["capsule_weights_mg"]),
                    lots=tuple(LotInput(**lot) for lot in item["lots"]),
                )
                for item in attrs["containers"]
            ]
        return attrs


class FinalCheckSerializer(serializers.Serializer):
    """Optional: the checklist and a scan of each container, checked like the page's. Without them
    the check is recorded as made through the API."""

    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=[(item.value, item.label) for item in CHECKLIST]),
        required=False, max_length=len(CHECKLIST) * 2,
        help_text="The items confirmed: every one of them.",
    )  # fmt: skip
    scans = serializers.DictField(
        child=Text(max_length=60), required=False,
        help_text='Each container\'s scanned label by its number: {"1": "RX-7K2M9QX-12-1"}.',
    )  # fmt: skip

    def validate_scans(self, value: dict[str, str]) -> dict[int, str]:
        if len(value) > 50 or not all(key.isdigit() and 0 < int(key) <= 50 for key in value):
            raise serializers.ValidationError("Key each scan by its container's number, 1 to 50.")
        return {int(key): code for key, code in value.items()}


class ShipSerializer(serializers.Serializer):
    carrier = Text(
        max_length=40, required=False, allow_blank=True,
        help_text="Required with a tracking number; with a carrier service, the carrier to buy from (optional).",
    )  # fmt: skip
    tracking_number = Text(
        max_length=60, required=False, allow_blank=True,
        help_text="Omit with SHIPPING_BACKEND=easypost: the cheapest allowed label is bought, its tracking kept.",
    )  # fmt: skip
    service = Text(
        max_length=40, required=False, allow_blank=True,
        help_text="With a carrier service: the service to buy (Priority, Ground); the cheapest when omitted.",
    )  # fmt: skip


# --- The prescription, as every endpoint answers it -----------------------------------------


class VerificationSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=list(METHODS.items()))
    note = serializers.CharField()
    by = serializers.CharField(help_text="The pharmacist who verified it.")
    at = serializers.DateTimeField()


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["hard_stop", "warning", "info"])
    message = serializers.CharField()
    source = serializers.ChoiceField(  # type: ignore[assignment]  # the flag's key, not Field.source
        choices=list(SOURCES), default="",
        help_text="What raised it: the prescription's fields, the patient's answers, a medication or allergy "
        "line, earlier answers (history) or the patient's other orders.",
    )  # fmt: skip
    verification = VerificationSerializer(
        allow_null=True, help_text="How a pharmacist verified it, or null while it is not verified."
    )
    field = serializers.CharField(required=False, help_text="Where it came from: a prescription or answer field.")
    value = serializers.JSONField(required=False, help_text="The value that raised it.")
    matched_as = serializers.CharField(required=False, help_text="The drug a medication line was read as.")


class AddressOutSerializer(serializers.Serializer):
    line1 = serializers.CharField(source="address_line1")
    line2 = serializers.CharField(source="address_line2")
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()


class PatientOutSerializer(serializers.Serializer):
    """The patient as the request gave them; the weight is the one prescribed with (the prescription's)."""

    first_name = serializers.CharField(source="patient.first_name")
    last_name = serializers.CharField(source="patient.last_name")
    date_of_birth = serializers.DateField(source="patient.date_of_birth")
    sex = serializers.CharField(source="patient.sex")
    email = serializers.CharField(source="patient.email")
    phone = serializers.CharField(source="patient.phone")
    language = serializers.CharField(source="patient.language", help_text="en (English) or es (Spanish).")
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    address = AddressOutSerializer(source="patient")
    allergies = serializers.ListField(
        child=serializers.CharField(),
        source="prescriber_allergies",
        help_text="The allergies the prescriber sent (the patient's own answers are in the questionnaire).",
    )


class PrescriberOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")
    npi = serializers.CharField()
    credential = serializers.CharField()


class StepOutSerializer(serializers.Serializer):
    strength_mg = serializers.DecimalField(max_digits=7, decimal_places=2)
    days = serializers.IntegerField()


class ClarificationOutSerializer(serializers.Serializer):
    question = serializers.CharField()
    asked_at = serializers.DateTimeField()
    response = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)


class FillOutSerializer(serializers.Serializer):
    """One dispensing of the prescription: the first fill is 1, the first refill 2."""

    number = serializers.IntegerField()
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices)
    requested_by = serializers.ChoiceField(choices=Requester.choices)
    dispensed_at = serializers.DateTimeField(allow_null=True, help_text="Shipped or picked up.")
    beyond_use_date = serializers.DateField(allow_null=True)
    tracking_number = serializers.CharField(help_text="The parcel's tracking number once shipped, else empty.")
    label_url = serializers.CharField(help_text="The bought shipping label's link (a carrier service), else empty.")


class DispensePlanEntrySerializer(serializers.Serializer):
    """One strength of what the pharmacy makes for the current fill."""

    strength_mg = serializers.FloatField()
    days = serializers.IntegerField()
    quantity = serializers.FloatField(help_text="Capsules (whole), or the mL / g these days take.")
    unit = serializers.ChoiceField(choices=["capsule", "mL", "g"])
    concentration_mg_per_ml = serializers.FloatField(required=False, help_text="Liquids and drops.")
    dose_ml = serializers.FloatField(required=False, help_text="Liquids and drops: dose_ml x concentration = strength.")
    concentration_mg_per_g = serializers.FloatField(required=False, help_text="Creams.")
    dose_g = serializers.FloatField(required=False, help_text="Creams.")


class PrescriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="The human order number, e.g. RX-7K2M9QX.")
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    flags = FlagSerializer(many=True)
    questionnaire_url = serializers.SerializerMethodField(
        help_text="The patient's private questionnaire link; its last path segment is the token."
    )
    patient = PatientOutSerializer(source="*")
    prescriber = PrescriberOutSerializer()
    dosage_form = serializers.ChoiceField(choices=DosageFormCode.choices)
    strength_mg = serializers.DecimalField(max_digits=7, decimal_places=2)
    directions = serializers.CharField()
    quantity = serializers.IntegerField()
    days_supply = serializers.IntegerField()
    refills = serializers.IntegerField()
    indication = serializers.CharField()
    icd10 = serializers.CharField()
    titration = StepOutSerializer(many=True, source=SHOWN_STEPS)
    repeat_titration = serializers.BooleanField(help_text="Every refill starts the titration again.")
    dispense_plan = serializers.SerializerMethodField(
        help_text="What the pharmacy makes for the current fill, one entry per strength."
    )
    dose_timing = serializers.ChoiceField(choices=DoseTiming.choices)
    prescriber_notes = serializers.CharField()
    weight_kg = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    rush = serializers.BooleanField()
    signature_name = serializers.CharField()
    signed_at = serializers.DateTimeField()
    altered = serializers.SerializerMethodField(
        help_text="True when the prescribed content no longer matches what was signed."
    )
    clarifications = ClarificationOutSerializer(many=True, source=SHOWN_CLARIFICATIONS)
    submitted_at = serializers.DateTimeField()
    beyond_use_date = serializers.DateField(allow_null=True)
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    ready_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()
    fill_number = serializers.IntegerField(help_text="The current fill: 1 is the first fill, 2 the first refill.")
    refills_used = serializers.IntegerField()
    refills_left = serializers.IntegerField()
    expires_on = serializers.SerializerMethodField(
        help_text="The first day the prescription is no longer valid (one year from writing); no refill from then."
    )
    renewed_from = serializers.CharField(
        source="renewed_from.reference", allow_null=True,
        help_text="The reference of the prescription this one renews, or null.",
    )  # fmt: skip
    fills = FillOutSerializer(many=True, source=SHOWN_FILLS, help_text="Every fill so far, oldest first.")
    address_warnings = serializers.SerializerMethodField(
        help_text="What to confirm about the patient's address before sending: a ZIP code of another state, "
        "the carrier unable to deliver there."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_questionnaire_url(self, prescription: Prescription) -> str:
        return questionnaire_url(prescription)

    @extend_schema_field(OpenApiTypes.DATE)
    def get_expires_on(self, prescription: Prescription) -> str:
        return prescription.expires_on.isoformat()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_altered(self, prescription: Prescription) -> bool:
        # Prescription.is_altered, from the steps shown rather than a query of its own.
        return prescription.compute_digest(shown_steps(prescription)) != prescription.content_digest

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_address_warnings(self, prescription: Prescription) -> list[str]:
        return address_warnings(prescription.patient)

    @extend_schema_field(DispensePlanEntrySerializer(many=True))
    def get_dispense_plan(self, prescription: Prescription) -> list[dict[str, Any]]:
        return fill_plan(prescription, steps=shown_steps(prescription)).as_json()


# --- Refills and renewals --------------------------------------------------------------------


class AccessLogEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    actor = serializers.SerializerMethodField()
    action = serializers.CharField()
    ip = serializers.IPAddressField(source="ip_address", allow_null=True)
    description = serializers.CharField()

    def get_actor(self, record: Any) -> str:
        # The person's email, or who acted without an account ("patient (private link)").
        return record.actor.email if record.actor is not None else record.actor_label


class RenewalSerializer(serializers.Serializer):
    """A request to the prescriber for a new prescription once no refill is left."""

    id = serializers.IntegerField()
    prescription_id = serializers.IntegerField(help_text="The prescription to renew.")
    prescription = serializers.CharField(
        source="prescription.reference", help_text="The reference of the prescription to renew."
    )
    status = RenewalStatusField()
    requested_at = serializers.DateTimeField()
    requested_by = serializers.ChoiceField(choices=Requester.choices)
    new_prescription = serializers.CharField(
        source="new_prescription.reference", allow_null=True,
        help_text="The new prescription's reference, once approved.",
    )  # fmt: skip
    new_prescription_id = serializers.IntegerField(
        allow_null=True, help_text="The new prescription's id, once approved."
    )
    denial_reason = serializers.CharField(help_text="Why the prescriber did not renew (empty unless denied).")


class RenewalApproveSerializer(serializers.Serializer):
    signature_name = Text(max_length=200, help_text="The prescriber's full name, typed: the electronic signature.")
    attestation = serializers.BooleanField(help_text="Must be true: the prescriber authorises the new prescription.")
    refills = serializers.IntegerField(min_value=0, max_value=11)

    def validate_attestation(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Confirm the attestation to sign the prescription.")
        return value
