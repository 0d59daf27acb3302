"""Posting FHIR transaction Bundles, and checking what the FHIR interface answers."""

from __future__ import annotations

import json
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from intake.api.fhir.codes import MEDIA_TYPE
from intake.models import Patient, Prescription, TitrationStep

FHIR_BASE = "/fhir/R4/"


def post_bundle(client: Any, body: Any) -> Any:
    """POST a Bundle (or any JSON, or raw text) to the FHIR base as application/fhir+json."""
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(FHIR_BASE, raw, content_type=MEDIA_TYPE)


def response_bundle(response: Any) -> dict[str, Any]:
    """The answer as JSON, after checking it is a valid R4B transaction-response Bundle."""
    body = response.json()
    assert Bundle.model_validate(body).type == "transaction-response"
    return body


def outcome_of(response: Any) -> dict[str, Any]:
    """The answer as JSON, after checking it is a valid R4B OperationOutcome."""
    body = response.json()
    OperationOutcome.model_validate(body)
    return body


def expressions(response: Any) -> list[str]:
    return [path for issue in outcome_of(response)["issue"] for path in issue.get("expression", [])]


def nothing_saved() -> bool:
    return not Prescription.objects.exists() and not Patient.objects.exists() and not TitrationStep.objects.exists()
