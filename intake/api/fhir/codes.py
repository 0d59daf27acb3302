"""The code systems and the mappings between this pharmacy's codes and FHIR's, kept as data."""

from __future__ import annotations

import hashlib
from typing import Final

FHIR_VERSION: Final = "4.0.1"
MEDIA_TYPE: Final = "application/fhir+json"

RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
NALTREXONE_RXCUI: Final = "7243"
ORDERABLE_DRUG_FORM: Final = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
SNOMED: Final = "http://snomed.info/sct"
SUBLINGUAL_ROUTE: Final = "37839007"
ICD10_CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC: Final = "http://loinc.org"
BODY_WEIGHT_LOINC: Final = "29463-7"
UCUM: Final = "http://unitsofmeasure.org"
EVENT_TIMING: Final = "http://hl7.org/fhir/v3/TimingEvent"
# The pharmacy's own code system for screening flags (DetectedIssue.code).
FLAG_SYSTEM: Final = "https://ldn-pharmacy.example/fhir/CodeSystem/screening-flag"
QUESTIONNAIRE_ID: Final = "ldn-screening"

# Dosage form <-> v3 orderableDrugForm.
DOSAGE_FORM_TO_FHIR: Final = {
    "capsule": "CAP",
    "oral_liquid": "ORSOL",
    "sublingual_drops": "ORDROP",
    "topical_cream": "TOPCRM",
}
DOSAGE_FORM_FROM_FHIR: Final = {code: form for form, code in DOSAGE_FORM_TO_FHIR.items()}

# Dose timing <-> Timing.repeat.when.
DOSE_TIMING_TO_FHIR: Final = {"bedtime": "HS", "morning": "MORN"}
DOSE_TIMING_FROM_FHIR: Final = {code: timing for timing, code in DOSE_TIMING_TO_FHIR.items()}

GENDER_TO_FHIR: Final = {"F": "female", "M": "male", "X": "other"}
# The pharmacy records "other / not specified" for both of FHIR's last two.
GENDER_FROM_FHIR: Final = {"female": "F", "male": "M", "other": "X", "unknown": "X"}

# Prescription status -> MedicationRequest.status.
STATUS_TO_FHIR: Final = {
    "on_hold": "on-hold",
    "completed": "completed",
    "rejected": "stopped",
    "cancelled": "cancelled",
}
STATUS_TO_FHIR_DEFAULT: Final = "active"

# Flag severity -> DetectedIssue.severity.
SEVERITY_TO_FHIR: Final = {"hard_stop": "high", "warning": "moderate", "info": "low"}

# The pharmacy's own identifier of a prescription (MedicationRequest.identifier): its order number.
ORDER_NUMBER_SYSTEM: Final = "https://ldn-pharmacy.example/fhir/sid/order-number"
# Extension on a transaction-response entry: the patient's private questionnaire link.
QUESTIONNAIRE_URL_EXTENSION: Final = "https://ldn-pharmacy.example/fhir/StructureDefinition/questionnaire-url"


def identifier_key(system: str, value: str) -> str:
    """The IdempotencyKey.key that stands for a MedicationRequest.identifier sent by a prescriber.

    The identifier is the EHR's idempotency key; keeping it as the key of the JSON API's own
    idempotency record lets a search by identifier find it, and a repeat answer the first result.
    """
    key = f"fhir:{system}|{value}"
    if len(key) <= 255:
        return key
    return "fhir-sha256:" + hashlib.sha256(key.encode()).hexdigest()


# --- The read side --------------------------------------------------------------------------------

# Extension on a MedicationRequest: the dosage form as a v3 orderableDrugForm coding.
DOSAGE_FORM_EXTENSION: Final = "https://ldn-pharmacy.example/fhir/StructureDefinition/dosage-form"
# The canonical URL of the patient's questionnaire (Questionnaire.url, QuestionnaireResponse.questionnaire).
QUESTIONNAIRE_URL: Final = f"https://ldn-pharmacy.example/fhir/Questionnaire/{QUESTIONNAIRE_ID}"
# How a flag was cleared (DetectedIssue.mitigation.action): a verification's method, or a written reason.
MITIGATION_SYSTEM: Final = "https://ldn-pharmacy.example/fhir/CodeSystem/flag-mitigation"
OVERRIDE_REASON: Final = "override_reason"
# Extension on a contained Medication.ingredient: the lot it was made from (lotNumber, expirationDate,
# manufacturer as sub-extensions), since R4 Medication keeps one batch for the whole preparation.
INGREDIENT_LOT_EXTENSION: Final = "https://ldn-pharmacy.example/fhir/StructureDefinition/ingredient-lot"
US_NPI: Final = "http://hl7.org/fhir/sid/us-npi"
# Questionnaire answers that are codes: the pharmacy's own code systems for them.
ANSWER_SYSTEM: Final = "https://ldn-pharmacy.example/fhir/CodeSystem/questionnaire-answer"

# MedicationRequest.status -> the prescription statuses it stands for (`active`: every other status).
STATUS_FROM_FHIR: Final = {
    fhir_status: frozenset(status for status, mapped in STATUS_TO_FHIR.items() if mapped == fhir_status)
    for fhir_status in set(STATUS_TO_FHIR.values())
}
# Every MedicationRequest.status code (R4): a search may name any; those the pharmacy never uses find nothing.
MEDICATION_REQUEST_STATUSES: Final = frozenset(
    {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
)


def identifier_from_key(key: str) -> tuple[str, str] | None:
    """The (system, value) an IdempotencyKey.key made by identifier_key stands for; None for a key
    from the JSON API's header, or one too long to keep whole (stored as its digest)."""
    if not key.startswith("fhir:"):
        return None
    system, separator, value = key.removeprefix("fhir:").partition("|")
    return (system, value) if separator else None
