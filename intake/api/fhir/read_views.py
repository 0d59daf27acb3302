"""GET /fhir/R4/…: the capability statement and the resources a caller may read."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api.fhir.base import FhirView
from intake.api.fhir.outcome import not_found


class MetadataView(FhirView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise not_found("Not built yet.")


class _NotBuilt(FhirView):
    def get(self, request: Request, **kwargs: Any) -> Response:
        raise not_found("Not built yet.")


class MedicationRequestSearchView(_NotBuilt):
    pass


class MedicationRequestReadView(_NotBuilt):
    pass


class DetectedIssueSearchView(_NotBuilt):
    pass


class MedicationDispenseSearchView(_NotBuilt):
    pass


class QuestionnaireReadView(_NotBuilt):
    pass


class QuestionnaireResponseSearchView(_NotBuilt):
    pass


class NotFoundView(FhirView):
    """Anything else under /fhir/R4/: an OperationOutcome 404 whatever the method."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request, **kwargs: Any) -> Response:
        raise not_found("No such FHIR endpoint here.")

    post = put = patch = delete = get
