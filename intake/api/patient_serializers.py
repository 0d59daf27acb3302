"""Strict serializers for the patient's API: each answer in its documented JSON type, nothing coerced.

DRF's own fields accept "true", 1 and "yes" for a boolean and "3" for an integer; a questionnaire
that decides whether someone may safely take a medicine takes only what it was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from intake.models import (
    CarrierStatus,
    LiverCondition,
    Pregnancy,
    PrescriptionStatus,
    PriceConsent,
    RenewalStatus,
    SymptomLevel,
)
from intake.services.questionnaire import MAX_ITEM_LENGTH, MAX_LIST_ITEMS
from intake.services.workflow import MAX_TEXT
from intake.validators import validate_free_text, validate_single_line


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a whole number (a JSON integer)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


# One named schema per choice set that several fields share (the symptom levels; a renewal's
# state), rather than an enum per field name that the schema generator warns about.
@extend_schema_field({"type": "string", "enum": list(SymptomLevel.values)}, component_name="SymptomLevel")
class SymptomLevelField(StrictChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=SymptomLevel.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": list(RenewalStatus.values)}, component_name="RenewalStatus")
class RenewalStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=RenewalStatus.choices, **kwargs)


def text_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=StrictCharField(
            max_length=MAX_ITEM_LENGTH, allow_blank=True, trim_whitespace=True, validators=[validate_single_line]
        ),
        max_length=MAX_LIST_ITEMS,
        allow_empty=True,
        **kwargs,
    )


class QuestionnaireAnswersSerializer(serializers.Serializer):
    """The body of POST /api/v1/questionnaires/{token}/: the patient's answers to the questionnaire.

    A first questionnaire answers every question. A re-screen link (a refill's, or one whose answers
    the patient gave before) takes the short set too: `takes_opioids`, `liver_condition`, `pregnancy`,
    with `current_medications` (the medicines taken now) or `new_medications` (started since); what
    is left out carries over from the earlier answers. Which questions are missing is the service's
    answer (400 naming each), as only it knows whether earlier answers exist.
    """

    date_of_birth = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD, as on the prescription.")
    takes_opioids = StrictBooleanField(help_text="Any opioid in the last 10 days, prescribed or not.")
    opioid_treatment_program = StrictBooleanField(required=False, help_text="Methadone or buprenorphine treatment.")
    liver_condition = StrictChoiceField(choices=LiverCondition.choices)
    pregnancy = StrictChoiceField(choices=Pregnancy.choices)
    alcohol_drinks_per_week = StrictIntegerField(min_value=0, max_value=500, required=False)
    naltrexone_allergy = StrictBooleanField(required=False)
    thyroid_medication = StrictBooleanField(required=False)
    immunosuppressants = StrictBooleanField(required=False)
    surgery_within_14_days = StrictBooleanField(required=False)
    current_medications = text_list(required=False)
    new_medications = text_list(
        required=False, help_text="A re-screen: medicines started since the earlier answers, added to their list."
    )
    allergies = text_list(required=False)
    attestation = StrictBooleanField(help_text="Must be true: the answers are true and complete.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        try:
            values = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if unknown and isinstance(exc.detail, dict):
                exc.detail.update({str(name)[:100]: [ErrorDetail("Unknown field.")] for name in unknown})
            raise
        if unknown:
            raise serializers.ValidationError({str(name)[:100]: ["Unknown field."] for name in unknown})
        return values

    def validate_attestation(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Must be true: confirm that the answers are true and complete.")
        return value


class QuestionnaireReceiptSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices)


class StatusQuerySerializer(serializers.Serializer):
    reference = serializers.RegexField(
        r"^\s*[A-Za-z0-9-]{4,20}\s*$", max_length=40, help_text="The order number, e.g. RX-7K3M9QX."
    )
    date_of_birth = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD.")


class PatientStatusSerializer(serializers.Serializer):
    """What a patient reads about an order: nothing clinical."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices)
    language = serializers.CharField(
        help_text="The language of the texts (en or es): ?lang= if given, else the patient's language."
    )
    status_text = serializers.CharField()
    next_step = serializers.CharField()
    expected_ready_date = serializers.DateField(allow_null=True)
    carrier = serializers.CharField(allow_null=True)
    tracking_number = serializers.CharField(allow_null=True)
    tracking_url = serializers.URLField(allow_null=True)
    recall_notice = serializers.CharField(
        allow_null=True, help_text="Set when a recall reached the medicine handed over: whom to call."
    )
    carrier_status = serializers.ChoiceField(
        choices=CarrierStatus.choices, allow_null=True, help_text="The carrier's latest news of the parcel, or null."
    )
    carrier_status_text = serializers.CharField(allow_null=True, help_text="The same news in words.")
    carrier_status_at = serializers.DateTimeField(allow_null=True, help_text="When the carrier reported it.")
    address_notice = serializers.CharField(
        allow_null=True,
        help_text="Set when the carrier cannot deliver to the patient's address and the medicine has not left.",
    )
    fill_number = serializers.IntegerField(help_text="Which fill: 1 is the first, 2 the first refill.")
    refills_left = serializers.IntegerField()
    refill_possible_from = serializers.DateField(
        allow_null=True,
        help_text="The first day a refill can be asked for (today or earlier when it can be now); null when "
        "no refill can be asked for (not handed over yet, none left, or expired).",
    )
    renewal = RenewalStatusField(
        allow_null=True, help_text="The state of the last request to the prescriber for a renewal, or null."
    )
    renewed_as = serializers.CharField(allow_null=True, help_text="The renewed prescription's reference, or null.")
    price_amount = serializers.DecimalField(
        max_digits=9, decimal_places=2, allow_null=True,
        help_text="The cash price of the current fill, quoted when it was approved; null before.",
    )  # fmt: skip
    price_currency = serializers.CharField(allow_null=True, help_text="ISO 4217, e.g. USD; null before a quote.")
    price_consent = serializers.ChoiceField(
        choices=[choice for choice in PriceConsent.choices if choice[0]],
        allow_null=True,
        help_text="pending: the pharmacy waits for the patient to agree (POST /api/v1/status/consent/) before "
        "compounding; consented or declined: the answer; null: not asked.",
    )
    price_consent_at = serializers.DateTimeField(allow_null=True, help_text="When the patient answered.")
    payment_url = serializers.URLField(
        allow_null=True, help_text="The pharmacy's payment page, once the price is agreed (when it has one)."
    )


class PatientRequestSerializer(serializers.Serializer):
    """The body of POST /api/v1/status/refill/ and /status/renewal/: the order number and birth date."""

    reference = serializers.RegexField(
        r"^\s*[A-Za-z0-9-]{4,20}\s*$", max_length=40, help_text="The order number, e.g. RX-7K3M9QX."
    )
    date_of_birth = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD.")


class PriceAnswerSerializer(PatientRequestSerializer):
    """The body of POST /api/v1/status/consent/: the order number, birth date and the answer."""

    decision = StrictChoiceField(choices=[("consent", "consent"), ("decline", "decline")])
    reason = StrictCharField(
        allow_blank=True, max_length=MAX_TEXT, default="", help_text="Why the price is declined (optional)."
    )


class CheckInAnswersSerializer(serializers.Serializer):
    """The body of POST /api/v1/check-ins/{token}/: the side-effect check-in's answers."""

    date_of_birth = serializers.DateField(input_formats=["%Y-%m-%d"], help_text="YYYY-MM-DD, as on the prescription.")
    sleep_problems = SymptomLevelField()
    vivid_dreams = SymptomLevelField()
    nausea = SymptomLevelField()
    headache = SymptomLevelField()
    other_effects = StrictCharField(
        max_length=1000, required=False, allow_blank=True, default="", validators=[validate_free_text]
    )
    wants_call = StrictBooleanField(required=False, default=False, help_text="True: the patient would like a call.")


class CheckInResultSerializer(serializers.Serializer):
    needs_pharmacist = serializers.BooleanField(help_text="True: a pharmacist will look at the answers.")
    advice = serializers.ListField(child=serializers.CharField(), help_text="What to try, in plain words.")
