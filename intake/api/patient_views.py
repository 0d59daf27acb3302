"""The patient's API, without an account: the questionnaire's JSON twin and the status lookup.

No authentication classes: the unguessable token (or the order number with the birth date) is the
key, and SessionAuthentication would demand a CSRF token from clients that have no session.
Throttles are the same counters as the web pages' (intake/throttles.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intake.api.patient_serializers import (
    PatientStatusSerializer,
    QuestionnaireAnswersSerializer,
    QuestionnaireReceiptSerializer,
    StatusQuerySerializer,
)
from intake.api.serializers import ErrorSerializer
from intake.audit import AuditAction, audit, client_ip
from intake.errors import NotFound
from intake.models import PrescriptionStatus
from intake.services.questionnaire import PATIENT_LINK, questionnaire_prescription, questionnaire_submit
from intake.services.status import PATIENT_STATUS_LOOKUP, patient_status, status_lookup
from intake.throttles import birth_date_guesses_blocked, birth_date_missed, private_link_allowed, retry_after_seconds

TOO_MANY = "Too many attempts. Wait a few minutes and try again, or call the pharmacy."


def _throttled() -> exceptions.Throttled:
    return exceptions.Throttled(wait=retry_after_seconds(), detail=TOO_MANY)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def _field_errors(description: str) -> OpenApiResponse:
    return OpenApiResponse(OpenApiTypes.OBJECT, description=description + ' Field errors: {"field": ["…"]}.')


class QuestionnaireAnswerView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="questionnaire_answer",
        summary="The patient answers the questionnaire (or corrects the answers before review)",
        request=QuestionnaireAnswersSerializer,
        responses={
            201: QuestionnaireReceiptSerializer,
            200: OpenApiResponse(QuestionnaireReceiptSerializer, description="Answers corrected."),
            400: _field_errors("Wrong answers, or a date of birth that does not match; nothing changed."),
            404: _error("Unknown link."),
            409: _error("A pharmacist has started the review, or the prescription is closed."),
            410: _error("The link has expired."),
            415: _error("The body is not JSON."),
            429: _error("Too many attempts."),
        },
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request, token: str) -> Response:
        if not private_link_allowed(request, token):
            raise _throttled()
        prescription = questionnaire_prescription(token)  # 404 unknown, 410 expired
        if birth_date_guesses_blocked(request, prescription.reference):
            raise _throttled()
        serializer = QuestionnaireAnswersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answers = dict(serializer.validated_data)
        first_answer = prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE
        try:
            answered = questionnaire_submit(
                token=token,
                date_of_birth=answers.pop("date_of_birth"),
                answers=answers,
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            if "date_of_birth" in exc.message_dict:
                birth_date_missed(request, prescription.reference)
                audit(request, AuditAction.DENIED, prescription=prescription, actor_label=PATIENT_LINK,
                      description="questionnaire API: date of birth did not match")  # fmt: skip
            raise
        what = "questionnaire answered (API)" if first_answer else "questionnaire corrected (API)"
        audit(request, AuditAction.UPDATE, prescription=answered, actor_label=PATIENT_LINK, description=what)
        return Response(
            QuestionnaireReceiptSerializer({"reference": answered.reference, "status": answered.status}).data,
            status=status.HTTP_201_CREATED if first_answer else status.HTTP_200_OK,
        )


class PatientStatusView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="patient_status",
        summary="A patient reads the status of an order with its number and their date of birth",
        parameters=[StatusQuerySerializer],
        responses={
            200: PatientStatusSerializer,
            400: _field_errors("A missing or malformed parameter."),
            404: _error("No order matches this number and date of birth."),
            429: _error("Too many misses."),
        },
        auth=[],
        tags=["patient"],
    )
    def get(self, request: Request) -> Response:
        query = StatusQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        reference = query.validated_data["reference"]
        if birth_date_guesses_blocked(request, reference):
            raise _throttled()
        try:
            prescription = status_lookup(reference=reference, date_of_birth=query.validated_data["date_of_birth"])
        except NotFound:
            birth_date_missed(request, reference)
            raise
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="status (API)")  # fmt: skip
        return Response(PatientStatusSerializer(patient_status(prescription).as_json()).data)
