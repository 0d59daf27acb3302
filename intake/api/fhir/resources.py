"""The pharmacy's rows as FHIR R4 resources, each built and checked by the `fhir.resources` R4B models.

A MedicationRequest is the exact inverse of the transaction's inbound mapping: posting it back
describes the same prescription. Builders take rows already read (the views' selectors prefetch
them) and read nothing themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from django.utils.functional import Promise
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.detectedissue import DetectedIssue
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.resource import Resource

from intake.api.fhir import codes
from intake.clinical.words import flag_title, method_label
from intake.models import (
    BatchLot,
    CompoundingRecord,
    DosageFormCode,
    Fill,
    IngredientLot,
    LiverCondition,
    Patient,
    Pregnancy,
    Prescription,
    PrescriptionStatus,
    Questionnaire,
    TitrationStep,
)

JSON = dict[str, Any]

# What a prescription's quantity counts, by dosage form (the dispense plan's units).
QUANTITY_UNIT: Final = {"capsule": "capsule", "oral_liquid": "mL", "sublingual_drops": "mL", "topical_cream": "g"}
_UCUM_UNITS: Final = frozenset({"mg", "mL", "g"})
# The date this capability statement last changed.
CAPABILITY_DATE: Final = "2026-12-03"
MEDICATION_ID: Final = "medication"
PATIENT_ID: Final = "patient"
WEIGHT_ID: Final = "weight"


def dumped(resource: Resource) -> JSON:
    return resource.model_dump(mode="json", exclude_none=True)  # type: ignore[no-any-return]


def plain(value: Decimal) -> Decimal:
    """4.50 as 4.5 and 3.00 as 3: a decimal as the prescriber wrote it."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


def _days(value: int) -> JSON:
    return {"value": value, "unit": "days", "system": codes.UCUM, "code": "d"}


def _quantity(value: int | Decimal, unit: str) -> JSON:
    if unit in _UCUM_UNITS:
        return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}
    return {"value": value, "unit": unit}


def _instant(moment: datetime) -> str:
    return moment.isoformat()


def last_updated(prescription: Prescription) -> datetime:
    """When the MedicationRequest last changed: the prescription's row or its patient's, the later
    (search.LAST_UPDATED is the same rule in SQL)."""
    return max(prescription.updated_at, prescription.patient.updated_at)


# --- MedicationRequest ------------------------------------------------------------------------------


def dosage_form_concept(dosage_form: str) -> JSON:
    code = codes.DOSAGE_FORM_TO_FHIR[dosage_form]
    label = DosageFormCode(dosage_form).label
    return {"coding": [{"system": codes.ORDERABLE_DRUG_FORM, "code": code, "display": label}], "text": label}


def naltrexone_concept(prescription: Prescription) -> JSON:
    label = DosageFormCode(prescription.dosage_form).label.lower()
    return {
        "coding": [{"system": codes.RXNORM, "code": codes.NALTREXONE_RXCUI, "display": "naltrexone"}],
        "text": f"Naltrexone {plain(prescription.strength_mg)} mg {label} (compounded, low-dose)",
    }


def patient_resource(patient: Patient) -> JSON:
    """The prescription's patient, as the transaction's Patient maps it, for a `contained` list."""
    telecom = [
        {"system": system, "value": value}
        for system, value in (("email", patient.email), ("phone", patient.phone))
        if value
    ]
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "name": [{"given": [patient.first_name], "family": patient.last_name}],
        "birthDate": patient.date_of_birth.isoformat(),
        "gender": codes.GENDER_TO_FHIR.get(patient.sex, "unknown"),
        **({"telecom": telecom} if telecom else {}),
        "address": [
            {
                "line": [line for line in (patient.address_line1, patient.address_line2) if line],
                "city": patient.city,
                "state": patient.state,
                "postalCode": patient.postal_code,
                "country": "US",
            }
        ],
    }


def _weight_observation(prescription: Prescription, weight_kg: Decimal) -> JSON:
    return {
        "resourceType": "Observation",
        "id": WEIGHT_ID,
        "status": "final",
        "code": {"coding": [{"system": codes.LOINC, "code": codes.BODY_WEIGHT_LOINC, "display": "Body weight"}]},
        "subject": {"reference": f"#{PATIENT_ID}"},
        "effectiveDateTime": _instant(prescription.signed_at),
        "valueQuantity": {
            "value": plain(weight_kg),
            "unit": "kg",
            "system": codes.UCUM,
            "code": "kg",
        },
    }


SUBLINGUAL: Final = {
    "coding": [{"system": codes.SNOMED, "code": codes.SUBLINGUAL_ROUTE, "display": "Sublingual route"}]
}


def _dosage_instructions(prescription: Prescription, steps: Sequence[TitrationStep]) -> list[JSON]:
    """One per titration step, then the prescribed strength without bounds; the directions on the first."""
    doses = [(step.strength_mg, step.days) for step in steps] + [(prescription.strength_mg, None)]
    when = codes.DOSE_TIMING_TO_FHIR[prescription.dose_timing]
    drops = prescription.dosage_form == DosageFormCode.SUBLINGUAL_DROPS
    instructions = []
    for position, (strength, days) in enumerate(doses):
        repeat: JSON = {"when": [when]}
        if days is not None:
            repeat["boundsDuration"] = _days(days)
        instructions.append(
            {
                "sequence": position + 1,
                **({"text": prescription.directions} if position == 0 else {}),
                "timing": {"repeat": repeat},
                **({"route": SUBLINGUAL} if drops else {}),
                "doseAndRate": [{"doseQuantity": _quantity(plain(strength), "mg")}],
            }
        )
    return instructions


def medication_request(
    prescription: Prescription, *, steps: Sequence[TitrationStep], identifiers: Iterable[tuple[str, str]] = ()
) -> MedicationRequest:
    """The prescription as a MedicationRequest. `steps`: its titration, in order; `identifiers`: the
    (system, value) pairs the prescriber's EHR sent it with."""
    patient = prescription.patient
    prescriber = prescription.prescriber
    form = dosage_form_concept(prescription.dosage_form)
    contained: list[JSON] = [
        patient_resource(patient),
        {"resourceType": "Medication", "id": MEDICATION_ID, "code": naltrexone_concept(prescription), "form": form},
    ]
    # Contained resources are referenced from the resource that holds them.
    supporting = [{"reference": f"#{MEDICATION_ID}", "display": "The compounded preparation and its dosage form"}]
    if prescription.weight_kg is not None:
        contained.append(_weight_observation(prescription, prescription.weight_kg))
        supporting.append({"reference": f"#{WEIGHT_ID}", "display": "Body weight"})
    resource: JSON = {
        "resourceType": "MedicationRequest",
        "id": str(prescription.pk),
        "meta": {"lastUpdated": _instant(last_updated(prescription))},
        "contained": contained,
        "extension": [{"url": codes.DOSAGE_FORM_EXTENSION, "valueCodeableConcept": form}],
        "identifier": [
            {"use": "official", "system": codes.ORDER_NUMBER_SYSTEM, "value": prescription.reference},
            *(
                {"use": "usual", **({"system": system} if system else {}), "value": value}
                for system, value in identifiers
            ),
        ],
        "status": codes.STATUS_TO_FHIR.get(prescription.status, codes.STATUS_TO_FHIR_DEFAULT),
        "intent": "order",
        "medicationCodeableConcept": naltrexone_concept(prescription),
        "subject": {"reference": f"#{PATIENT_ID}", "display": patient.full_name},
        "supportingInformation": supporting,
        "authoredOn": _instant(prescription.signed_at),
        "requester": {
            "type": "Practitioner",
            "display": prescriber.display_name,
            "identifier": {"system": codes.US_NPI, "value": prescriber.npi},
        },
        "reasonCode": [
            {
                **({"coding": [{"system": codes.ICD10_CM, "code": prescription.icd10}]} if prescription.icd10 else {}),
                "text": prescription.indication,
            }
        ],
        **({"note": [{"text": prescription.prescriber_notes}]} if prescription.prescriber_notes else {}),
        # A renewal names the prescription it renews (an id only: nothing more is read for it).
        **(
            {"priorPrescription": {"reference": f"MedicationRequest/{prescription.renewed_from_id}"}}
            if prescription.renewed_from_id
            else {}
        ),
        "dosageInstruction": _dosage_instructions(prescription, steps),
        "dispenseRequest": {
            "validityPeriod": {
                "start": prescription.written_on.isoformat(),
                "end": prescription.valid_until.isoformat(),
            },
            "numberOfRepeatsAllowed": prescription.refills,
            "quantity": _quantity(prescription.quantity, QUANTITY_UNIT[prescription.dosage_form]),
            "expectedSupplyDuration": _days(prescription.days_supply),
        },
    }
    return MedicationRequest.model_validate(resource)


# --- DetectedIssue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """A pharmacist's written reason for approving despite a warning."""

    reason: str
    at: datetime
    by: str


def _mitigation(flag: Mapping[str, Any], override: Override | None) -> list[JSON]:
    """How the flag was cleared: its verification (method, note, who, when) or the approval's reason.
    R4's mitigation has no free text of its own: the note or reason is the action's text."""
    verification = flag.get("verification")
    if isinstance(verification, Mapping) and verification:
        method = str(verification.get("method", ""))
        label = method_label(method)
        return [
            {
                "action": {
                    "coding": [{"system": codes.MITIGATION_SYSTEM, "code": method, "display": label}],
                    "text": f"{label}: {verification.get('note', '')}",
                },
                **({"date": str(verification["at"])} if verification.get("at") else {}),
                **({"author": {"display": str(verification["by"])}} if verification.get("by") else {}),
            }
        ]
    if override is not None:
        return [
            {
                "action": {
                    "coding": [
                        {"system": codes.MITIGATION_SYSTEM, "code": codes.OVERRIDE_REASON, "display": "Written reason"}
                    ],
                    "text": override.reason,
                },
                "date": _instant(override.at),
                "author": {"display": override.by},
            }
        ]
    return []


def detected_issues(prescription: Prescription, *, overrides: Mapping[str, Override]) -> list[DetectedIssue]:
    """One DetectedIssue per screening flag, with its verification or the approval's written reason."""
    issues = []
    for position, flag in enumerate(prescription.flags):
        code = str(flag.get("code", ""))
        resource: JSON = {
            "resourceType": "DetectedIssue",
            "id": f"{prescription.pk}-{position + 1}",
            "status": "final",
            "severity": codes.SEVERITY_TO_FHIR.get(str(flag.get("severity")), "low"),
            "code": {
                "coding": [{"system": codes.FLAG_SYSTEM, "code": code, "display": flag_title(code)}],
                "text": flag_title(code),
            },  # fmt: skip
            "implicated": [{"reference": f"MedicationRequest/{prescription.pk}"}],
            "detail": str(flag.get("message", "")),
        }
        mitigation = _mitigation(flag, overrides.get(code))
        if mitigation:
            resource["mitigation"] = mitigation
        issues.append(DetectedIssue.model_validate(resource))
    return issues


# --- MedicationDispense ------------------------------------------------------------------------------


def batch_number(prescription: Prescription, record: CompoundingRecord) -> str:
    """The batch's own number: what each of its containers' label codes starts with; for a fill taken
    from an anticipatory batch, that batch's number."""
    if record.batch_id and record.batch:
        return record.batch.number
    return f"{prescription.reference}-{record.pk}"


def _ingredient(lot: IngredientLot | BatchLot) -> JSON:
    details: list[JSON] = [
        {"url": "lotNumber", "valueString": lot.lot},
        {"url": "expirationDate", "valueDate": lot.expires.isoformat()},
    ]
    if lot.manufacturer:
        details.append({"url": "manufacturer", "valueString": lot.manufacturer})
    if isinstance(lot, IngredientLot) and lot.container is not None:
        details.append({"url": "container", "valueString": lot.container.code})
    return {
        "extension": [{"url": codes.INGREDIENT_LOT_EXTENSION, "extension": details}],
        "itemCodeableConcept": {"text": lot.ingredient},
    }


def dispense_status(fill: Fill) -> str:
    """Compounded and waiting for the final check (or made again): preparation; ready for pickup:
    in-progress (FHIR's "ready for pickup"); shipped or picked up: completed."""
    if fill.dispensed_at is not None:
        return "completed"
    if fill.status == PrescriptionStatus.READY:
        return "in-progress"
    return "preparation"


def medication_dispense(
    prescription: Prescription, *, fill: Fill, record: CompoundingRecord, lots: Iterable[IngredientLot | BatchLot]
) -> MedicationDispense:
    """A fill once compounded: its latest batch as a contained Medication. R4 gives a Medication one
    batch, so `batch` is the compounded batch (its number and beyond-use date) and each ingredient
    carries the lot it came from in an extension (lotNumber, expirationDate, manufacturer, container)."""
    medication: JSON = {
        "resourceType": "Medication",
        "id": MEDICATION_ID,
        "code": naltrexone_concept(prescription),
        "form": dosage_form_concept(prescription.dosage_form),
        "ingredient": [_ingredient(lot) for lot in lots],
        "batch": {
            "lotNumber": batch_number(prescription, record),
            # A dateTime in R4: the beyond-use date, a date, is one.
            "expirationDate": record.beyond_use_date.isoformat(),
        },
    }
    if not medication["ingredient"]:
        del medication["ingredient"]
    resource: JSON = {
        "resourceType": "MedicationDispense",
        "id": f"{prescription.pk}-{fill.number}",
        "contained": [medication],
        "status": dispense_status(fill),
        "medicationReference": {"reference": f"#{MEDICATION_ID}"},
        "authorizingPrescription": [{"reference": f"MedicationRequest/{prescription.pk}"}],
        "quantity": _quantity(fill.quantity, QUANTITY_UNIT[prescription.dosage_form]),
        "daysSupply": _days(fill.days_supply),
        "whenPrepared": _instant(record.checked_at or record.compounded_at),
        **({"whenHandedOver": _instant(fill.dispensed_at)} if fill.dispensed_at else {}),
    }
    return MedicationDispense.model_validate(resource)


# --- Questionnaire and QuestionnaireResponse ----------------------------------------------------------


@dataclass(frozen=True)
class Question:
    link_id: str
    kind: str  # Questionnaire.item.type
    text: str
    repeats: bool = False
    options: tuple[tuple[str, str | Promise], ...] = ()  # labels as the models give them (lazy)


# The questions as the patient's page asks them (intake/web/patient/forms.py; a test keeps them equal).
QUESTIONS: Final = (
    Question("date_of_birth", "date", "Your date of birth"),
    Question(
        "takes_opioids",
        "boolean",
        "In the last 10 days, have you taken any opioid pain medicine or opioid drug, prescribed or not?",
    ),
    Question(
        "opioid_treatment_program",
        "boolean",
        "Are you being treated with methadone or buprenorphine (Suboxone, Subutex, Sublocade, Zubsolv) for opioid use?",
    ),
    Question("liver_condition", "choice", "Do you have a liver problem?", options=tuple(LiverCondition.choices)),
    Question(
        "pregnancy",
        "choice",
        "Are you pregnant, planning a pregnancy, or breastfeeding?",
        options=tuple(Pregnancy.choices),
    ),
    Question("alcohol_drinks_per_week", "integer", "How many alcoholic drinks do you have in a usual week?"),
    Question(
        "naltrexone_allergy",
        "boolean",
        "Have you ever had an allergic reaction to naltrexone (Revia, Vivitrol or low-dose naltrexone)?",
    ),
    Question("thyroid_medication", "boolean", "Do you take thyroid medicine?"),
    Question(
        "immunosuppressants",
        "boolean",
        "Do you take medicine that lowers your immune system, for example after an organ transplant?",
    ),
    Question(
        "surgery_within_14_days",
        "boolean",
        "Have you had surgery in the last 14 days, or is surgery planned in the next 14 days?",
    ),
    Question("current_medications", "string", "Medicines, vitamins and herbs you take", repeats=True),
    Question("allergies", "string", "Allergies", repeats=True),
    Question(
        "attestation",
        "boolean",
        "I confirm that my answers are true and complete to the best of my knowledge.",
    ),
)
# A list may be empty; every other answer is required.
_OPTIONAL: Final = frozenset({"current_medications", "allergies"})


def answer_system(link_id: str) -> str:
    return f"{codes.ANSWER_SYSTEM}/{link_id}"


def questionnaire() -> FhirQuestionnaire:
    items = []
    for question in QUESTIONS:
        item: JSON = {
            "linkId": question.link_id,
            "text": question.text,
            "type": question.kind,
            "required": question.link_id not in _OPTIONAL,
            "repeats": question.repeats,
        }
        if question.options:
            item["answerOption"] = [
                {"valueCoding": {"system": answer_system(question.link_id), "code": code, "display": str(label)}}
                for code, label in question.options
            ]
        if question.kind == "integer":
            item["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0}]
        items.append(item)
    return FhirQuestionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": codes.QUESTIONNAIRE_ID,
            "url": codes.QUESTIONNAIRE_URL,
            "name": "LdnScreening",
            "title": "Low-dose naltrexone: the patient's screening questions",
            "status": "active",
            "subjectType": ["Patient"],
            "item": items,
        }
    )


def _answers(question: Question, value: Any) -> list[JSON]:
    if question.kind == "choice":
        label = dict(question.options).get(value, value)
        return [{"valueCoding": {"system": answer_system(question.link_id), "code": value, "display": str(label)}}]
    if question.repeats:
        return [{"valueString": str(line)} for line in value]
    key = {"boolean": "valueBoolean", "integer": "valueInteger", "date": "valueDate", "string": "valueString"}
    return [{key[question.kind]: value}]


def questionnaire_response(prescription: Prescription, answered: Questionnaire) -> QuestionnaireResponse:
    """The patient's current answers (a re-screen replaces them; the history keeps the earlier ones)."""
    values: dict[str, Any] = {
        **answered.answers(),
        "date_of_birth": prescription.patient.date_of_birth.isoformat(),
        "attestation": True,
    }
    items = [
        {"linkId": question.link_id, "text": question.text, "answer": _answers(question, values[question.link_id])}
        for question in QUESTIONS
        if values.get(question.link_id) not in (None, [])
    ]
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "id": str(answered.pk),
            "meta": {"lastUpdated": _instant(answered.updated_at)},
            "contained": [patient_resource(prescription.patient)],
            "questionnaire": codes.QUESTIONNAIRE_URL,
            "status": "completed",
            "basedOn": [{"reference": f"MedicationRequest/{prescription.pk}"}],
            "subject": {"reference": f"#{PATIENT_ID}", "display": prescription.patient.full_name},
            "authored": _instant(answered.submitted_at),
            "item": items,
        }
    )


# --- CapabilityStatement and Bundle -------------------------------------------------------------------


def _search(name: str, kind: str, documentation: str) -> JSON:
    return {"name": name, "type": kind, "documentation": documentation}


def capability_statement(*, base_url: str) -> CapabilityStatement:
    read, search = {"code": "read"}, {"code": "search-type"}
    in_transaction = "Accepted only as a part of a transaction Bundle posted to the base URL."
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": CAPABILITY_DATE,
            "publisher": "LDN compounding pharmacy",
            "kind": "instance",
            "software": {"name": "LDN pharmacy"},
            "implementation": {"description": "Low-dose naltrexone prescriptions for EHRs", "url": base_url},
            "fhirVersion": codes.FHIR_VERSION,
            "format": [codes.MEDIA_TYPE, "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "cors": False,
                        "description": (
                            "Authorization: Bearer <token>, the token from POST /api/v1/auth/token/ with the "
                            "account's email and password (and its current code where a second factor is "
                            "enrolled). A prescriber reads only their own prescriptions; pharmacy staff all."
                        ),
                    },
                    "resource": [
                        {
                            "type": "MedicationRequest",
                            "interaction": [read, search],
                            "documentation": "A prescription; created through a transaction with its Patient.",
                            "searchParam": [
                                _search("identifier", "token", "The order number, or the identifier the EHR sent."),
                                _search("status", "token", "active, on-hold, completed, stopped, cancelled."),
                                _search("_lastUpdated", "date", "When the prescription or its patient last changed."),
                            ],
                        },
                        {
                            "type": "DetectedIssue",
                            "interaction": [read, search],
                            "documentation": "The screening flags of a prescription.",
                            "searchParam": [_search("implicated", "reference", "MedicationRequest/{id} (required).")],
                        },
                        {
                            "type": "MedicationDispense",
                            "interaction": [read, search],
                            "documentation": "One per fill once compounded: lots and beyond-use date.",
                            "searchParam": [_search("prescription", "reference", "The MedicationRequest (required).")],
                        },
                        {"type": "Questionnaire", "interaction": [read], "documentation": "ldn-screening."},
                        {
                            "type": "QuestionnaireResponse",
                            "interaction": [read, search],
                            "documentation": "The patient's answers; pharmacy staff only.",
                            "searchParam": [_search("based-on", "reference", "MedicationRequest/{id} (required).")],
                        },
                        {"type": "Patient", "documentation": in_transaction},
                        {"type": "Observation", "documentation": f"Body weight (LOINC 29463-7). {in_transaction}"},
                    ],
                    "interaction": [{"code": "transaction"}],
                }
            ],
        }
    )


@dataclass(frozen=True)
class Match:
    full_url: str
    resource: Resource


def searchset(matches: Sequence[Match], *, total: int, links: Mapping[str, str]) -> Bundle:
    """A searchset Bundle: `links` is relation -> URL (self, next, previous)."""
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": [{"relation": relation, "url": url} for relation, url in links.items()],
            "entry": [
                {"fullUrl": match.full_url, "resource": match.resource, "search": {"mode": "match"}}
                for match in matches
            ],
        }
    )
