"""The patient's API, without an account: the questionnaire's JSON twin and the status lookup.

No authentication classes: the unguessable token (or the order number with the birth date) is the
key, and SessionAuthentication would demand a CSRF token from clients that have no session.
Throttles are the same counters as the web pages' (intake/throttles.py).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from intake.api.patient_serializers import (
    CheckInAnswersSerializer,
    CheckInResultSerializer,
    PatientRequestSerializer,
    PatientStatusSerializer,
    PriceAnswerSerializer,
    QuestionnaireAnswersSerializer,
    QuestionnaireReceiptSerializer,
    StatusQuerySerializer,
)
from intake.api.serializers import ErrorSerializer
from intake.audit import AuditAction, audit, client_ip
from intake.clinical.follow_up import symptom_labels
from intake.errors import NotFound
from intake.languages import answer_language
from intake.models import Prescription, PrescriptionStatus, Requester
from intake.services.follow_up import PATIENT_CHECK_IN, follow_up_by_token, follow_up_submit
from intake.services.price_consent import price_consent_decline, price_consent_give
from intake.services.questionnaire import PATIENT_LINK, questionnaire_prescription, questionnaire_submit
from intake.services.refills import refill_request, refill_state, renewal_request
from intake.services.status import PATIENT_STATUS_LOOKUP, patient_status, status_lookup
from intake.throttles import QUESTIONNAIRE, birth_date_try, private_link_allowed

TOO_MANY = "Too many attempts. Try again later, or call the pharmacy."


def _throttled(wait: int) -> exceptions.Throttled:
    return exceptions.Throttled(wait=wait, detail=TOO_MANY)


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
            raise _throttled(QUESTIONNAIRE.wait_seconds())
        prescription = questionnaire_prescription(token)  # 404 unknown, 410 expired
        with birth_date_try(request, prescription.reference) as attempt:
            if attempt.refused:
                raise _throttled(attempt.retry_after)
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
                    attempt.missed()
                    audit(request, AuditAction.DENIED, prescription=prescription, actor_label=PATIENT_LINK,
                          description="questionnaire API: date of birth did not match")  # fmt: skip
                raise
        what = "questionnaire answered (API)" if first_answer else "questionnaire corrected (API)"
        audit(request, AuditAction.UPDATE, prescription=answered, actor_label=PATIENT_LINK, description=what)
        return Response(
            QuestionnaireReceiptSerializer({"reference": answered.reference, "status": answered.status}).data,
            status=status.HTTP_201_CREATED if first_answer else status.HTTP_200_OK,
        )


PATIENT_REQUEST_REFUSALS = {
    400: _field_errors("A missing or malformed reference or date of birth."),
    404: _error("No order matches this number and date of birth; nothing changed."),
    415: _error("The body is not JSON."),
    429: _error("Too many misses."),
}


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
        prescription = _identified(request, query.validated_data)
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="status (API)")  # fmt: skip
        return _status_answer(request, prescription)

    @extend_schema(
        operation_id="patient_status_post",
        summary="The same, with the number and date of birth in the body (kept out of URLs and access logs)",
        request=PatientRequestSerializer,
        responses={200: PatientStatusSerializer, **PATIENT_REQUEST_REFUSALS},
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request) -> Response:
        prescription = patient_identified(request)
        audit(request, AuditAction.VIEW, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="status (API)")  # fmt: skip
        return _status_answer(request, prescription)


def _status_answer(request: Request, prescription: Prescription, **kwargs: Any) -> Response:
    # The texts in the patient's language, as the status page writes them; the codes stay codes.
    language = answer_language(request, prescription.patient.language)
    with translation.override(language):
        answer = _STATUS_OUT.to_representation({**patient_status_json(prescription), "language": language})
    response = Response(answer, **kwargs)
    response.headers["Content-Language"] = language
    return response


# One serializer for every status answer: writing a representation keeps no state on it, and DRF
# would otherwise deep-copy its declared fields for each answer (see intake.api.views).
_STATUS_OUT = PatientStatusSerializer()


def patient_status_json(prescription: Prescription) -> dict[str, Any]:
    """The status a patient reads, with what they can do next about refills and renewals."""
    state = refill_state(prescription)
    today = timezone.localdate()
    if state.can_refill:
        possible_from = today
    elif state.decision.earliest is not None:
        possible_from = state.decision.earliest
    else:
        possible_from = None
    last_renewal = state.last_renewal
    return {
        **patient_status(prescription).as_json(),
        "fill_number": prescription.fill_number,
        "refills_left": prescription.refills_left,
        "refill_possible_from": possible_from,
        "renewal": last_renewal.status if last_renewal else None,
        "renewed_as": last_renewal.new_prescription.reference
        if last_renewal and last_renewal.new_prescription
        else None,
    }


def patient_identified(request: Request) -> Prescription:
    """The prescription named by the body's reference and birth date, with the status lookup's throttles."""
    body = PatientRequestSerializer(data=request.data if request.data is not None else {})
    body.is_valid(raise_exception=True)
    return _identified(request, body.validated_data)


def _identified(request: Request, pair: dict[str, Any]) -> Prescription:
    """The status lookup behind the throttles, whether the pair came in the body or the query string."""
    with birth_date_try(request, pair["reference"]) as attempt:
        if attempt.refused:
            raise _throttled(attempt.retry_after)
        try:
            return status_lookup(reference=pair["reference"], date_of_birth=pair["date_of_birth"])
        except NotFound:
            attempt.missed()
            raise


class PatientRefillView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="patient_refill",
        summary="A patient asks for a refill with the order number and their date of birth",
        description=(
            "Not before 75% of the last fill's days supply has passed (409 says from which date), never "
            "after the prescription's expiry, and only while refills are left (then ask for a renewal)."
        ),
        request=PatientRequestSerializer,
        responses={
            201: PatientStatusSerializer,
            409: _error("Too soon (with the date), expired, no refill left, or the order is still under way."),
            **PATIENT_REQUEST_REFUSALS,
        },
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request) -> Response:
        prescription = patient_identified(request)
        refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="refill asked for (API)")  # fmt: skip
        prescription.refresh_from_db()
        return _status_answer(request, prescription, status=status.HTTP_201_CREATED)


class PatientRenewalView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="patient_renewal",
        summary="A patient asks their prescriber to renew a prescription with no refill left",
        description="Asking again while a request waits changes nothing: the prescriber is asked once.",
        request=PatientRequestSerializer,
        responses={
            201: PatientStatusSerializer,
            409: _error("Refills are still left, it was already renewed, or it was never handed over."),
            **PATIENT_REQUEST_REFUSALS,
        },
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request) -> Response:
        prescription = patient_identified(request)
        renewal_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="renewal asked for (API)")  # fmt: skip
        prescription.refresh_from_db()
        return _status_answer(request, prescription, status=status.HTTP_201_CREATED)


class PatientPriceAnswerView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="patient_price_answer",
        summary="A patient agrees to (consent) or declines (decline) the price of an approved order",
        description=(
            "With the order number and birth date, as POST /api/v1/status/. `consent` lets the pharmacy start "
            "compounding where it waits for consent; `decline`, with an optional reason, cancels the first fill "
            "(a refill lapses and its refill is given back) and tells the prescriber. The same answer again "
            "changes nothing. The answer is the order's status."
        ),
        request=PriceAnswerSerializer,
        responses={
            200: PatientStatusSerializer,
            409: _error("No price waits for an answer, or the other answer was already given."),
            **PATIENT_REQUEST_REFUSALS,
        },
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request) -> Response:
        prescription = patient_identified(request)
        body = PriceAnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        declining = body.validated_data["decision"] == "decline"
        if declining:
            price_consent_decline(
                prescription_id=prescription.pk, actor_label=PATIENT_STATUS_LOOKUP, reason=body.validated_data["reason"]
            )
        else:
            price_consent_give(prescription_id=prescription.pk, actor_label=PATIENT_STATUS_LOOKUP)
        audit(request, AuditAction.ACTION, prescription=prescription, actor_label=PATIENT_STATUS_LOOKUP,
              description="price declined (API)" if declining else "price agreed (API)")  # fmt: skip
        prescription = status_lookup(reference=prescription.reference, date_of_birth=prescription.patient.date_of_birth)
        return _status_answer(request, prescription)


class CheckInAnswerView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        operation_id="check_in_answer",
        summary="The patient answers the side-effect check-in (the JSON twin of its page)",
        request=CheckInAnswersSerializer,
        responses={
            200: CheckInResultSerializer,
            400: _field_errors("Wrong answers, or a date of birth that does not match; nothing changed."),
            404: _error("Unknown link."),
            409: _error("The check-in was already answered."),
            410: _error("The link has expired."),
            415: _error("The body is not JSON."),
            429: _error("Too many attempts."),
        },
        auth=[],
        tags=["patient"],
    )
    def post(self, request: Request, check_in_token: str) -> Response:
        token = check_in_token
        if not private_link_allowed(request, token):
            raise _throttled(QUESTIONNAIRE.wait_seconds())
        follow_up = follow_up_by_token(token)  # 404 unknown, 410 expired
        prescription = follow_up.prescription
        with birth_date_try(request, prescription.reference) as attempt:
            if attempt.refused:
                raise _throttled(attempt.retry_after)
            body = CheckInAnswersSerializer(data=request.data if request.data is not None else {})
            body.is_valid(raise_exception=True)
            answers = body.validated_data
            try:
                answered = follow_up_submit(
                    token=token,
                    date_of_birth=answers["date_of_birth"],
                    symptoms={code: answers[code] for code in symptom_labels()},
                    other_effects=answers["other_effects"],
                    wants_call=answers["wants_call"],
                )
            except ValidationError as exc:
                if "date_of_birth" in exc.message_dict:
                    attempt.missed()
                    audit(request, AuditAction.DENIED, prescription=prescription, actor_label=PATIENT_CHECK_IN,
                          description="check-in API: date of birth did not match")  # fmt: skip
                raise
        audit(request, AuditAction.UPDATE, prescription=prescription, actor_label=PATIENT_CHECK_IN,
              description="check-in answered (API)")  # fmt: skip
        return Response(
            CheckInResultSerializer({"needs_pharmacist": answered.needs_pharmacist, "advice": answered.advice}).data
        )
