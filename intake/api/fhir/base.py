"""What every FHIR view shares: FHIR's media type in and out, bearer tokens, OperationOutcome errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from intake.api.auth import TokenAuthentication
from intake.api.fhir import outcome
from intake.api.fhir.codes import MEDIA_TYPE
from intake.api.parsers import BoundedJSONParser


class FhirJSONRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "fhir+json"
    charset = "utf-8"
    # Escaped output: a message that quotes a lone surrogate from the request still renders.
    ensure_ascii = True


class PlainJSONRenderer(FhirJSONRenderer):
    """For a client that asks for application/json: the same FHIR body."""

    media_type = "application/json"
    format = "json"


class FhirJSONParser(BoundedJSONParser):
    media_type = MEDIA_TYPE


class FhirView(APIView):
    """A FHIR endpoint: `Authorization: Bearer <token>` (or `Token`), FHIR JSON both ways."""

    # FHIR describes itself (GET metadata, the CapabilityStatement); the OpenAPI document is the JSON API's.
    schema = None
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [FhirJSONParser, BoundedJSONParser]
    renderer_classes = [FhirJSONRenderer, PlainJSONRenderer]

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Any]:
        return outcome.exception_handler
