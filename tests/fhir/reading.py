"""Helpers for the FHIR read tests: strict validation of every resource answered, prescriptions at any status."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from accounts.models import User
from intake.models import Prescriber, Prescription
from tests.factories import make_prescription
from tests.workflow_helpers import advance

FHIR = "/fhir/R4/"
FHIR_JSON = "application/fhir+json"


def validated(body: dict[str, Any]) -> dict[str, Any]:
    """The body, after the R4B model of its resourceType accepted it (and each Bundle entry's resource)."""
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)
    for entry in body.get("entry", ()):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    return body


def fhir_get(client: APIClient, path: str, params: dict[str, Any] | list[tuple[str, str]] | None = None,
             **headers: str) -> Any:  # fmt: skip
    return client.get(f"{FHIR}{path}", params or {}, HTTP_ACCEPT=FHIR_JSON, **headers)


def resources_in(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle.get("entry", ())]


def prescription_at(
    status: str, prescriber: Prescriber, *, pharmacist: User, technician: User, answers: dict[str, Any] | None = None,
    **content: Any,
) -> Prescription:  # fmt: skip
    prescription = make_prescription(prescriber, **content)
    if status == "awaiting_questionnaire":
        return prescription
    return advance(prescription, status, pharmacist=pharmacist, technician=technician, answers=answers)


def outcome_issue(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    validated(body)
    return body["issue"][0]  # type: ignore[no-any-return]
