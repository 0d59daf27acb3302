"""POST /fhir/R4/: a transaction Bundle (Patient + MedicationRequest) submits a prescription.

The Bundle is read into the JSON API's submission body (bundle_in), validated by the same
serializer and submitted through the same service; MedicationRequest.identifier is the idempotency
key. The answer is a transaction-response Bundle, one entry per entry sent, in the same order.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api.fhir import codes
from intake.api.fhir.base import FhirView
from intake.api.fhir.bundle_in import MEDICATION_REQUEST, PATIENT, ReadBundle, bundle_read
from intake.api.fhir.outcome import FhirError, Issue
from intake.api.permissions import IsPrescriber
from intake.api.submission import submission_submit, validated_submission
from intake.audit import AuditAction, audit
from intake.links import questionnaire_url
from intake.models import Prescription

CREATED = "201 Created"
OK = "200 OK"
# A flag's severity as an OperationOutcome.issue severity.
ISSUE_SEVERITY = {"hard_stop": "error", "warning": "warning", "info": "information"}


class TransactionView(FhirView):
    permission_classes = [IsPrescriber]

    def post(self, request: Request) -> Response:
        read = bundle_read(request.data)
        try:
            data = validated_submission(read.data)
        except exceptions.ValidationError as exc:
            raise FhirError(status.HTTP_400_BAD_REQUEST, read.issues(exc.detail)) from None
        started = timezone.now()
        try:
            prescription, created = submission_submit(
                request, data, idempotency_key=read.idempotency_key, through="FHIR"
            )
        except DjangoValidationError as exc:
            raise service_refusal(read, exc) from None
        if not created:
            audit(
                request, AuditAction.VIEW, prescription=prescription, description="MedicationRequest.identifier replay"
            )
        # The service finds a returning patient by name and birth date; one made just now is new.
        new_patient = created and prescription.patient.created_at >= started
        response = Response(transaction_response(read, prescription, created=created, new_patient=new_patient))
        response["Location"] = request.build_absolute_uri(
            reverse("fhir-medicationrequest", kwargs={"pk": prescription.pk})
        )
        return response


def service_refusal(read: ReadBundle, exc: DjangoValidationError) -> FhirError:
    """The service's refusal: the identifier reused for another prescription (422), or the fields it names (400)."""
    if not hasattr(exc, "error_dict"):
        return FhirError(status.HTTP_400_BAD_REQUEST, read.issues({"non_field_errors": exc.messages}))
    errors = exc.message_dict
    if set(errors) == {"idempotency_key"}:
        message = "This MedicationRequest.identifier was already used for a different prescription."
        return FhirError(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            [Issue(message, expression=(read.expression("idempotency_key"),), code="business-rule")],
        )
    return FhirError(status.HTTP_400_BAD_REQUEST, read.issues(errors))


def transaction_response(
    read: ReadBundle, prescription: Prescription, *, created: bool, new_patient: bool
) -> dict[str, Any]:
    """The transaction-response Bundle, checked against the R4B models."""
    entries = []
    for _index, kind in read.entries:
        if kind == MEDICATION_REQUEST:
            entries.append({"response": medication_request_response(prescription, created=created)})
        elif kind == PATIENT:
            entries.append({"response": {"status": CREATED if new_patient else OK}})
        else:
            # The body weight is kept on the patient's record, not as a resource of its own.
            entries.append({"response": {"status": OK}})
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
    return bundle.model_dump(mode="json", exclude_none=True)


def medication_request_response(prescription: Prescription, *, created: bool) -> dict[str, Any]:
    """The MedicationRequest's entry.response: where it is, its screening flags and the questionnaire link."""
    response: dict[str, Any] = {
        "status": CREATED if created else OK,
        "location": f"MedicationRequest/{prescription.pk}",
        "extension": [{"url": codes.QUESTIONNAIRE_URL_EXTENSION, "valueUrl": questionnaire_url(prescription)}],
    }
    if prescription.flags:
        response["outcome"] = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": ISSUE_SEVERITY.get(flag.get("severity", ""), "information"),
                    "code": "business-rule",
                    "details": {
                        "coding": [{"system": codes.FLAG_SYSTEM, "code": flag["code"]}],
                        "text": flag.get("message", ""),
                    },
                    "diagnostics": flag.get("message", ""),
                }
                for flag in prescription.flags
            ],
        }
    return response
