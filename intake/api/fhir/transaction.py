"""POST /fhir/R4/: a transaction Bundle (Patient + MedicationRequest) submits a prescription."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api.fhir.base import FhirView
from intake.api.fhir.outcome import FhirError, Issue


class TransactionView(FhirView):
    def post(self, request: Request) -> Response:
        raise FhirError(status.HTTP_501_NOT_IMPLEMENTED, [Issue("Not built yet.", code="not-supported")])
