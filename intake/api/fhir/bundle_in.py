"""A transaction Bundle read as the JSON API's submission body, and the way back from a field to its element.

`bundle_read` checks the Bundle against the `fhir.resources` R4B models once, finds the Patient,
the MedicationRequest and an optional body-weight Observation, and maps them onto the body that
POST /api/v1/prescriptions/ takes (intake.api.serializers.PrescriptionCreateSerializer), so the
same serializer and the same service judge both. A value missing in FHIR is left out of the body,
and the serializer's "required" names it; `ReadBundle.expression` turns any field of the body back
into the FHIRPath of the element that carried it (ELEMENTS, below).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from rest_framework import status

from intake.api.fhir import codes
from intake.api.fhir.outcome import FhirError, Issue

PATIENT: Final = "Patient"
MEDICATION_REQUEST: Final = "MedicationRequest"
OBSERVATION: Final = "Observation"
RESOURCE_TYPES: Final = (PATIENT, MEDICATION_REQUEST, OBSERVATION)

# Where each field of the submission body comes from: the resource that carries it and the FHIRPath
# inside it. "{name}" is a part found while reading (which telecom is the email, which instruction
# the dose to stay on); "titration.*" is any step, "{step}" its instruction.
ELEMENTS: Final[Mapping[str, tuple[str, str]]] = {
    "patient": (PATIENT, ""),
    "patient.first_name": (PATIENT, "name[0].given[0]"),
    "patient.last_name": (PATIENT, "name[0].family"),
    "patient.date_of_birth": (PATIENT, "birthDate"),
    "patient.sex": (PATIENT, "gender"),
    "patient.email": (PATIENT, "{email}"),
    "patient.phone": (PATIENT, "{phone}"),
    "patient.language": (PATIENT, "{language}"),
    "patient.weight_kg": (OBSERVATION, "valueQuantity.value"),
    "patient.address": (PATIENT, "address[0]"),
    "patient.address.line1": (PATIENT, "address[0].line[0]"),
    "patient.address.line2": (PATIENT, "address[0].line[1]"),
    "patient.address.city": (PATIENT, "address[0].city"),
    "patient.address.state": (PATIENT, "address[0].state"),
    "patient.address.postal_code": (PATIENT, "address[0].postalCode"),
    "dosage_form": (MEDICATION_REQUEST, "{form}"),
    "strength_mg": (MEDICATION_REQUEST, "{last}.doseAndRate[0].doseQuantity.value"),
    "directions": (MEDICATION_REQUEST, "dosageInstruction[0].text"),
    "quantity": (MEDICATION_REQUEST, "dispenseRequest.quantity.value"),
    "days_supply": (MEDICATION_REQUEST, "dispenseRequest.expectedSupplyDuration.value"),
    "refills": (MEDICATION_REQUEST, "dispenseRequest.numberOfRepeatsAllowed"),
    "indication": (MEDICATION_REQUEST, "reasonCode[0].text"),
    "icd10": (MEDICATION_REQUEST, "{icd10}"),
    "titration": (MEDICATION_REQUEST, "dosageInstruction"),
    "titration.*": (MEDICATION_REQUEST, "{step}"),
    "titration.*.strength_mg": (MEDICATION_REQUEST, "{step}.doseAndRate[0].doseQuantity.value"),
    "titration.*.days": (MEDICATION_REQUEST, "{step}.timing.repeat.boundsDuration.value"),
    "dose_timing": (MEDICATION_REQUEST, "{when}"),
    "prescriber_notes": (MEDICATION_REQUEST, "note[0].text"),
    "idempotency_key": (MEDICATION_REQUEST, "{identifier}"),
    # The signature is the account's own name: an error there is about the order as a whole.
    "signature": (MEDICATION_REQUEST, ""),
    "signature_name": (MEDICATION_REQUEST, ""),
    "signature_attestation": (MEDICATION_REQUEST, ""),
    "non_field_errors": (MEDICATION_REQUEST, ""),
    "__all__": (MEDICATION_REQUEST, ""),
}

# Units a duration may be sent in, as days.
DAYS_IN: Final = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7}
# Units a body weight may be sent in, as kg ("[kg]" is how some EHRs write UCUM's kg).
KG_IN: Final = {"kg": Decimal(1), "[kg]": Decimal(1), "[lb_av]": Decimal("0.45359237"), "lb": Decimal("0.45359237")}
MG: Final = "mg"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class ReadBundle:
    """The submission body a Bundle stands for, and where each of its fields came from."""

    data: dict[str, Any]
    identifier: tuple[str, str] | None
    # Request order, for the response: (entry index, resourceType).
    entries: list[tuple[int, str]]
    entry_of: dict[str, int]
    places: dict[str, str] = field(default_factory=dict)
    # The dosageInstruction index of each titration step, in the body's order.
    steps: list[int] = field(default_factory=list)

    @property
    def idempotency_key(self) -> str:
        return codes.identifier_key(*self.identifier) if self.identifier else ""

    def expression(self, name: str) -> str:
        """The FHIRPath of the element behind a field of the body ("patient.date_of_birth", "titration.1.days")."""
        parts = [part for part in name.split(".") if part]
        while parts:
            key, step = _pattern(parts)
            if key in ELEMENTS and (step is None or 0 <= step < len(self.steps)):
                resource, path = ELEMENTS[key]
                if resource not in self.entry_of:
                    return "Bundle.entry"
                places = dict(self.places)
                if step is not None:
                    places["step"] = f"dosageInstruction[{self.steps[step]}]"
                base = f"Bundle.entry[{self.entry_of[resource]}].resource"
                path = path.format_map(places)
                return f"{base}.{path}" if path else base
            parts.pop()
        return "Bundle"

    def issues(self, errors: Any) -> list[Issue]:
        """Issues from a serializer's nested errors or a service's {"patient.weight_kg": [...]}."""
        return [
            Issue(diagnostics=message, expression=(self.expression(path),), code=_issue_code(code))
            for path, message, code in _flattened(errors)
        ]


def _pattern(parts: list[str]) -> tuple[str, int | None]:
    """("titration", "1", "days") -> ("titration.*.days", 1)."""
    if len(parts) > 1 and parts[0] == "titration" and parts[1].isdigit():
        return ".".join(["titration", "*", *parts[2:]]), int(parts[1])
    return ".".join(parts), None


def _flattened(errors: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(dotted field, message, DRF error code) from nested errors; the keys may be dotted already."""
    if isinstance(errors, Mapping):
        found: list[tuple[str, str, str]] = []
        for key, value in errors.items():
            found.extend(_flattened(value, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(errors, list | tuple):
        return [item for error in errors for item in _flattened(error, path)]
    return [(path, str(errors), str(getattr(errors, "code", "") or ""))]


def _issue_code(drf_code: str) -> str:
    return "required" if drf_code in ("required", "null", "blank") else "value"


def _fail(diagnostics: str, expression: str, *, code: str = "invalid", status_code: int = 400) -> FhirError:
    return FhirError(status_code, [Issue(diagnostics=diagnostics, expression=(expression,), code=code)])


# --- The Bundle's structure ------------------------------------------------------------------------


def bundle_read(body: Any) -> ReadBundle:
    """The submission a transaction Bundle stands for; FhirError (400, 422) naming the element otherwise."""
    bundle = _validated_bundle(body)
    if bundle.type != "transaction":
        raise _fail("Submit a prescription as a Bundle of type transaction.", "Bundle.type", code="not-supported")
    entries: list[tuple[int, str]] = []
    found: dict[str, list[tuple[int, Any, Any]]] = {name: [] for name in RESOURCE_TYPES}
    for index, entry in enumerate(bundle.entry or []):
        if entry.resource is None:
            raise _fail("Each entry carries a resource.", f"Bundle.entry[{index}].resource", code="required")
        if entry.request is None or entry.request.method != "POST":
            raise _fail("Each entry of the transaction is a POST (entry.request.method).",
                        f"Bundle.entry[{index}].request.method", code="not-supported")  # fmt: skip
        kind = entry.resource.get_resource_type()
        entries.append((index, kind))
        found[kind].append((index, entry, entry.resource))
    for kind in (PATIENT, MEDICATION_REQUEST):
        if not found[kind]:
            raise _fail(f"The Bundle holds no {kind}.", "Bundle.entry", code="required")
    for kind in RESOURCE_TYPES:
        if len(found[kind]) > 1:
            raise _fail(f"The Bundle holds more than one {kind}.", f"Bundle.entry[{found[kind][1][0]}]",
                        code="not-supported")  # fmt: skip
    patient_at, patient_entry, patient = found[PATIENT][0]
    request_at, _entry, request = found[MEDICATION_REQUEST][0]
    read = ReadBundle(data={}, identifier=None, entries=entries,
                      entry_of={PATIENT: patient_at, MEDICATION_REQUEST: request_at})  # fmt: skip
    patient_url = patient_entry.fullUrl
    if not patient_url:
        raise _fail("The Patient entry needs a fullUrl for the MedicationRequest's subject to point at.",
                    f"Bundle.entry[{patient_at}].fullUrl", code="required")  # fmt: skip
    subject = request.subject.reference if request.subject is not None else None
    if subject != patient_url:
        raise _fail("MedicationRequest.subject refers to the Patient entry by its fullUrl.",
                    f"Bundle.entry[{request_at}].resource.subject")  # fmt: skip
    patient_data = _patient(patient, read, f"Bundle.entry[{patient_at}].resource")
    if found[OBSERVATION]:
        weight_at, _entry, observation = found[OBSERVATION][0]
        read.entry_of[OBSERVATION] = weight_at
        weight = _body_weight(observation, patient_url, f"Bundle.entry[{weight_at}].resource")
        if weight is not None:
            patient_data["weight_kg"] = weight
    read.data = {"patient": patient_data, **_prescribed(request, read, f"Bundle.entry[{request_at}].resource")}
    return read


def _validated_bundle(body: Any) -> Bundle:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise _fail("Send a FHIR Bundle (resourceType Bundle) of type transaction.", "Bundle.resourceType",
                    code="structure")  # fmt: skip
    entries = body.get("entry")
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") not in RESOURCE_TYPES:
            raise _fail("A prescription's Bundle holds a Patient, a MedicationRequest and at most a body-weight "
                        "Observation.", f"Bundle.entry[{index}].resource.resourceType",
                        code="not-supported")  # fmt: skip
    try:
        return Bundle.model_validate(body)
    except ValidationError as exc:
        raise FhirError(status.HTTP_400_BAD_REQUEST, [_model_issue(error) for error in exc.errors()]) from None
    except (KeyError, TypeError):
        # The models look a contained resource's resourceType up in a table: an unknown one is a KeyError.
        raise _fail("The Bundle is not valid FHIR R4 (an unknown or malformed resource).", "Bundle",
                    code="structure") from None  # fmt: skip


def _model_issue(error: Mapping[str, Any]) -> Issue:
    path = "Bundle"
    for part in error.get("loc", ()):
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and _NAME.match(part) and part != "root":  # "root": a pydantic wrapper, not FHIR
            path += f".{part}"
    kind = error.get("type", "")
    code = {"missing": "required", "extra_forbidden": "structure"}.get(kind, "value")
    message = str(error.get("msg", "Not valid FHIR R4."))
    if kind == "extra_forbidden":
        message = "FHIR R4 has no such element here."
    return Issue(diagnostics=message, expression=(path,), code=code)


# --- The Patient and the body weight -----------------------------------------------------------------


def _patient(patient: Any, read: ReadBundle, at: str) -> dict[str, Any]:
    data: dict[str, Any] = {}
    name = patient.name[0] if patient.name else None
    if name is not None and name.given:
        data["first_name"] = name.given[0]
    if name is not None and name.family is not None:
        data["last_name"] = name.family
    if patient.birthDate is not None:
        born = patient.birthDate
        data["date_of_birth"] = born.isoformat() if isinstance(born, date) else str(born)
    if patient.gender is not None:
        if patient.gender not in codes.GENDER_FROM_FHIR:
            raise _fail(f"gender is one of {', '.join(codes.GENDER_FROM_FHIR)}.", f"{at}.gender", code="code-invalid")
        data["sex"] = codes.GENDER_FROM_FHIR[patient.gender]
    read.places["email"] = read.places["phone"] = "telecom"
    read.places["language"] = "communication"
    for index, contact in enumerate(patient.telecom or []):
        kind = {"email": "email", "phone": "phone"}.get(contact.system or "")
        if kind is not None and kind not in data and contact.value is not None:
            data[kind] = contact.value
            read.places[kind] = f"telecom[{index}].value"
    if patient.address:
        address = patient.address[0]
        lines = address.line or []
        parts = {"line1": lines[0] if lines else None, "line2": lines[1] if len(lines) > 1 else None,
                 "city": address.city, "state": address.state, "postal_code": address.postalCode}  # fmt: skip
        data["address"] = {key: value for key, value in parts.items() if value is not None}
    # The language the patient reads: the preferred communication, else the first (BCP 47, "es-US" is es).
    communications = list(enumerate(patient.communication or []))
    preferred = [(i, c) for i, c in communications if c.preferred] or communications
    if preferred:
        index, communication = preferred[0]
        codings = communication.language.coding or [] if communication.language is not None else []
        if codings and codings[0].code:
            data["language"] = codings[0].code.split("-")[0].lower()
            read.places["language"] = f"communication[{index}].language.coding[0].code"
    return data


def _body_weight(observation: Any, patient_url: str, at: str) -> Decimal | None:
    coded = [(c.system, c.code) for c in (observation.code.coding or [])] if observation.code else []
    if (codes.LOINC, codes.BODY_WEIGHT_LOINC) not in coded:
        raise _fail("The only Observation taken is a body weight (LOINC 29463-7).", f"{at}.code", code="not-supported")
    if observation.subject is not None and observation.subject.reference != patient_url:
        raise _fail("The body weight's subject is the Patient entry's fullUrl.", f"{at}.subject")
    quantity = observation.valueQuantity
    if quantity is None or quantity.value is None:
        return None
    unit = quantity.code or quantity.unit
    if unit not in KG_IN:
        where = "code" if quantity.code else "unit"
        raise _fail("A body weight in kg (UCUM kg) or pounds ([lb_av]).", f"{at}.valueQuantity.{where}",
                    code="code-invalid")  # fmt: skip
    return Decimal(quantity.value) * KG_IN[unit]


# --- The MedicationRequest ---------------------------------------------------------------------------


def _prescribed(request: Any, read: ReadBundle, at: str) -> dict[str, Any]:
    if request.status != "active":
        raise _fail("A prescription to fill is a MedicationRequest with status active.", f"{at}.status",
                    code="code-invalid")  # fmt: skip
    if request.intent != "order":
        raise _fail("A prescription is a MedicationRequest with intent order.", f"{at}.intent", code="code-invalid")
    _check_naltrexone(request, at)
    read.identifier, read.places["identifier"] = None, "identifier"
    for index, identifier in enumerate(request.identifier or []):
        if identifier.system and identifier.value:
            read.identifier = (identifier.system, identifier.value)
            read.places["identifier"] = f"identifier[{index}]"
            break
    data: dict[str, Any] = {}
    form = _dosage_form(request, read, at)
    if form is not None:
        data["dosage_form"] = form
    data.update(_instructions(request, read, at, sublingual=form == "sublingual_drops"))
    dispense = request.dispenseRequest
    if dispense is not None:
        if dispense.quantity is not None and dispense.quantity.value is not None:
            data["quantity"] = dispense.quantity.value
        supply = dispense.expectedSupplyDuration
        if supply is not None and supply.value is not None:
            data["days_supply"] = _days(supply, f"{at}.dispenseRequest.expectedSupplyDuration")
        if dispense.numberOfRepeatsAllowed is not None:
            data["refills"] = dispense.numberOfRepeatsAllowed
    read.places["icd10"] = "reasonCode[0].coding"
    if request.reasonCode:
        reason = request.reasonCode[0]
        for index, coding in enumerate(reason.coding or []):
            if coding.system == codes.ICD10_CM and coding.code is not None:
                data["icd10"] = coding.code
                read.places["icd10"] = f"reasonCode[0].coding[{index}].code"
                break
        text = reason.text or next((c.display for c in reason.coding or [] if c.display), None)
        if text is not None:
            data["indication"] = text
    if request.note and request.note[0].text is not None:
        data["prescriber_notes"] = request.note[0].text
    return data


def _check_naltrexone(request: Any, at: str) -> None:
    concept, where = request.medicationCodeableConcept, f"{at}.medicationCodeableConcept"
    if concept is None and request.medicationReference is not None:
        where = f"{at}.medicationReference"
        medication = _contained(request, request.medicationReference.reference)
        concept = medication.code if medication is not None else None
    coded = [(c.system, c.code) for c in (concept.coding or [])] if concept is not None else []
    if (codes.RXNORM, codes.NALTREXONE_RXCUI) not in coded:
        raise _fail("This pharmacy compounds naltrexone only: code the medication as RxNorm 7243.", where,
                    code="business-rule", status_code=status.HTTP_422_UNPROCESSABLE_ENTITY)  # fmt: skip


def _contained(request: Any, reference: str | None) -> Any:
    if not reference or not reference.startswith("#"):
        return None
    return next((r for r in request.contained or [] if r.id == reference[1:]), None)


def _dosage_form(request: Any, read: ReadBundle, at: str) -> str | None:
    """The form from any extension's valueCodeableConcept, or from a contained Medication.form."""
    sources: list[tuple[str, Any]] = [
        (f"extension[{index}].valueCodeableConcept", extension.valueCodeableConcept)
        for index, extension in enumerate(request.extension or [])
        if extension.valueCodeableConcept is not None
    ]
    sources += [
        (f"contained[{index}].form", resource.form)
        for index, resource in enumerate(request.contained or [])
        if resource.get_resource_type() == "Medication" and resource.form is not None
    ]
    read.places["form"] = "extension"
    form: str | None = None
    for path, concept in sources:
        for index, coding in enumerate(concept.coding or []):
            if coding.system != codes.ORDERABLE_DRUG_FORM:
                continue
            element = f"{path}.coding[{index}].code"
            named = codes.DOSAGE_FORM_FROM_FHIR.get(coding.code or "")
            if named is None:
                raise _fail(f"The dosage form is one of {', '.join(codes.DOSAGE_FORM_FROM_FHIR)} "
                            f"({codes.ORDERABLE_DRUG_FORM}).", f"{at}.{element}", code="code-invalid")  # fmt: skip
            if form is not None and named != form:
                raise _fail("Two different dosage forms are given.", f"{at}.{element}", code="invariant")
            if form is None:
                form, read.places["form"] = named, element
    return form


def _instructions(request: Any, read: ReadBundle, at: str, *, sublingual: bool) -> dict[str, Any]:
    """Titration steps, the strength to stay on, the timing and the directions, from dosageInstruction."""
    instructions = list(enumerate(request.dosageInstruction or []))
    # Steps are taken in `sequence` order when every instruction gives one, else as listed.
    if instructions and all(dosage.sequence is not None for _i, dosage in instructions):
        instructions.sort(key=lambda pair: pair[1].sequence)
    last = instructions[-1][0] if instructions else 0
    read.places["last"] = f"dosageInstruction[{last}]"
    read.places["when"] = f"dosageInstruction[{last}].timing.repeat.when"
    data: dict[str, Any] = {}
    if request.dosageInstruction and request.dosageInstruction[0].text is not None:
        data["directions"] = request.dosageInstruction[0].text
    titration: list[dict[str, Any]] = []
    timing: str | None = None
    for position, (index, dosage) in enumerate(instructions):
        here = f"{at}.dosageInstruction[{index}]"
        repeat = dosage.timing.repeat if dosage.timing is not None else None
        bounds = repeat.boundsDuration if repeat is not None else None
        is_last = position == len(instructions) - 1
        if is_last and bounds is not None:
            raise _fail("The last dosage instruction is the dose to stay on, without boundsDuration; the "
                        "titration steps before it each give theirs.", f"{here}.timing.repeat.boundsDuration",
                        code="invariant")  # fmt: skip
        if not is_last and (bounds is None or bounds.value is None):
            raise _fail("A titration step gives its length in days (timing.repeat.boundsDuration).",
                        f"{here}.timing.repeat.boundsDuration", code="required")  # fmt: skip
        for when_index, when in enumerate((repeat.when if repeat is not None else None) or []):
            named = codes.DOSE_TIMING_FROM_FHIR.get(when)
            element = f"{here}.timing.repeat.when[{when_index}]"
            if named is None:
                raise _fail(f"timing.repeat.when is one of {', '.join(codes.DOSE_TIMING_FROM_FHIR)}.", element,
                            code="code-invalid")  # fmt: skip
            if timing is not None and named != timing:
                raise _fail("One dose a day, at one time, for every step.", element, code="invariant")
            if timing is None:
                timing, read.places["when"] = named, f"dosageInstruction[{index}].timing.repeat.when[{when_index}]"
        if sublingual and dosage.route is not None:
            routes = [(c.system, c.code) for c in dosage.route.coding or []]
            if (codes.SNOMED, codes.SUBLINGUAL_ROUTE) not in routes:
                raise _fail("Sublingual drops are taken by the sublingual route (SNOMED 37839007).",
                            f"{here}.route", code="code-invalid")  # fmt: skip
        dose = _dose(dosage, f"{here}.doseAndRate[0].doseQuantity")
        if is_last:
            if dose is not None:
                data["strength_mg"] = dose
        else:
            step: dict[str, Any] = {"days": _days(bounds, f"{here}.timing.repeat.boundsDuration")}
            if dose is not None:
                step["strength_mg"] = dose
            titration.append(step)
            read.steps.append(index)
    if titration:
        data["titration"] = titration
    if timing is not None:
        data["dose_timing"] = timing
    return data


def _dose(dosage: Any, at: str) -> Decimal | None:
    rates = dosage.doseAndRate or []
    quantity = rates[0].doseQuantity if rates else None
    if quantity is None or quantity.value is None:
        return None
    if quantity.code is not None and quantity.code != MG:
        raise _fail("Doses are in mg (UCUM mg).", f"{at}.code", code="code-invalid")
    if quantity.code is None and quantity.unit != MG:
        raise _fail("Doses are in mg (UCUM mg).", f"{at}.unit", code="code-invalid")
    return Decimal(quantity.value)


def _days(duration: Any, at: str) -> Decimal | None:
    unit = duration.code or duration.unit
    if unit not in DAYS_IN:
        where = "code" if duration.code else "unit"
        raise _fail("A duration in days (UCUM d) or weeks (wk).", f"{at}.{where}", code="code-invalid")
    return None if duration.value is None else Decimal(duration.value) * DAYS_IN[unit]
