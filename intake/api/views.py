"""The JSON API. Each view parses, calls one service, and renders.

Errors travel as exceptions to intake.api.errors.exception_handler, which answers them in JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast
from urllib.parse import urlencode

import django_filters
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from intake.api import serializers as api
from intake.api.auth import TokenAuthentication, token_expires_at, token_obtain, token_revoke
from intake.api.parsers import BoundedJSONParser
from intake.api.permissions import IsPrescriber, action_precheck
from intake.api.submission import submission_submit, validated_submission
from intake.audit import AuditAction, Shown, audit, audit_list, client_ip
from intake.models import Action, DosageFormCode, Prescription, PrescriptionStatus
from intake.selectors import (
    AccessCursor,
    access_log,
    access_page,
    prescription_for_user,
    prescriptions_visible_to,
    shown_rows_read,
    with_shown_rows,
)
from intake.services import workflow
from intake.services.compounding import compounding_record_create

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255

FIELD_ERRORS = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='The fields that are wrong, nested like the request: {"patient": {"weight_kg": ["…"]}}.',
)


def refusal(description: str) -> OpenApiResponse:
    return OpenApiResponse(api.ErrorSerializer, description=description)


UNAUTHENTICATED = refusal("No valid `Authorization: Token …` header.")
NOT_FOUND = refusal("No such prescription, or not one the caller may see (the same answer for both).")


class AsciiJSONRenderer(JSONRenderer):
    # Escaped output: an error that quotes a lone surrogate from the request ("\ud800" is not a
    # valid choice) still renders, where UTF-8 output would fail with a 500.
    ensure_ascii = True


class JsonApiView(APIView):
    """JSON in, JSON out: another content type answers 415, errors are JSON too."""

    parser_classes = [BoundedJSONParser]
    renderer_classes = [AsciiJSONRenderer]


# --- Sign-in ---------------------------------------------------------------------------------


class TokenView(JsonApiView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(
        operation_id="auth_token",
        summary="Exchange an email and password for an API token",
        description=(
            "Ten wrong passwords in a row lock the account for a while (429), here and on the web. An "
            "account with two-step sign-in sends its current code as `otp`. Send the token as "
            "`Authorization: Token <token>` (or `Bearer <token>`) until `expires_at`."
        ),
        request=api.TokenRequestSerializer,
        responses={
            200: api.TokenResponseSerializer,
            400: FIELD_ERRORS,
            429: refusal("The account is locked after too many wrong passwords."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        body = api.TokenRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token = token_obtain(request=request._request, **body.validated_data)
        return Response({"token": token.key, "expires_at": token_expires_at(token, token.user)})

    @extend_schema(
        operation_id="auth_token_revoke",
        summary="Revoke the caller's own token",
        request=None,
        responses={204: None, 401: UNAUTHENTICATED},
        tags=["auth"],
    )
    def delete(self, request: Request) -> Response:
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_authenticators(self) -> list[Any]:
        # Signing in needs no token; revoking one needs the token being revoked.
        return [TokenAuthentication()] if self._revoking() else []

    def get_permissions(self) -> list[BasePermission]:
        return [IsAuthenticated()] if self._revoking() else [AllowAny()]

    def _revoking(self) -> bool:
        # The schema generator asks without a request.
        return getattr(self.request, "method", "") == "DELETE"


# --- Prescriptions ---------------------------------------------------------------------------


class PrescriptionPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int:
        # DRF would quietly answer 25 for "page_size=lots": the caller is told instead, as the schema says.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
            elif parameter["name"] == self.page_query_param:
                parameter["schema"].update(minimum=1)
        return parameters


class PrescriptionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PrescriptionStatus.choices)
    dosage_form = django_filters.ChoiceFilter(choices=DosageFormCode.choices)

    class Meta:
        model = Prescription
        fields: ClassVar[list[str]] = []


def with_related(queryset: QuerySet[Prescription]) -> QuerySet[Prescription]:
    # What the answer shows (titration, clarifications, fills, the renewed prescription's
    # reference) without a query per prescription.
    return with_shown_rows(queryset.select_related("renewed_from"))


def signed_in(request: Request) -> User:
    """The caller, once IsAuthenticated (or IsPrescriber) has let the request through."""
    return cast(User, request.user)


def fresh(request: Request, pk: int) -> Prescription:
    return with_related(prescriptions_visible_to(signed_in(request))).get(pk=pk)


def rendered(prescription: Prescription, **kwargs: Any) -> Response:
    return Response(_PRESCRIPTION_OUT.to_representation(prescription), **kwargs)


# One serializer for writing every answer: DRF deep-copies a serializer's declared fields, nested
# ones included, each time one is made, which cost more than the database work. Writing a
# representation keeps no state on the serializer, and it needs no context, so its fields are bound once.
_PRESCRIPTION_OUT = api.PrescriptionSerializer()


class PrescriptionListCreateView(generics.GenericAPIView):
    parser_classes = [BoundedJSONParser]
    renderer_classes = [AsciiJSONRenderer]
    serializer_class = api.PrescriptionSerializer
    pagination_class = PrescriptionPagination
    filterset_class = PrescriptionFilter

    def get_permissions(self) -> list[BasePermission]:
        return [IsPrescriber()] if self.request.method == "POST" else [IsAuthenticated()]

    def get_queryset(self) -> QuerySet[Prescription]:
        return with_related(prescriptions_visible_to(signed_in(self.request)))

    @extend_schema(
        operation_id="prescriptions_list",
        summary="The prescriptions the caller may see",
        description="A prescriber sees their own; pharmacy staff see all. Newest first.",
        responses={
            200: api.PrescriptionSerializer(many=True),
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            404: refusal("No such page."),
        },
        tags=["prescriptions"],
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        shown = [Shown.prescription(prescription.pk, prescription.reference) for prescription in page or []]
        audit_list(request, shown, object_type="prescription",
                   description=f"{len(shown)} shown; {request.query_params.urlencode()}"[:200])  # fmt: skip
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="prescriptions_create",
        summary="Submit a signed prescription",
        description=(
            "For a verified prescriber, signed with their own name. An `Idempotency-Key` header makes a "
            "repeated request answer the first prescription instead of creating a second; the same key "
            "with a different body answers 422."
        ),
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string per prescription, at most 255 characters.",
            ),
        ],
        request=api.PrescriptionCreateSerializer,
        responses={
            201: api.PrescriptionSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: refusal("Not a prescriber, or a prescriber not allowed to submit now (the reason is given)."),
            415: refusal("The body is not JSON."),
            422: refusal("This Idempotency-Key was already used for a different prescription."),
        },
        tags=["prescriptions"],
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise exceptions.ValidationError({"idempotency_key": [f"At most {MAX_IDEMPOTENCY_KEY} characters."]})
        data = validated_submission(request.data)
        prescription, created = submission_submit(request, data, idempotency_key=key, through="the API")
        if not created:
            audit(request, AuditAction.VIEW, prescription=prescription, description="Idempotency-Key replay")
            prescription = fresh(request, prescription.pk)
        # A new prescription is answered as the service left it: every field and row it shows is
        # already in memory (intake.selectors.shown_rows_set), so reading it back would only cost queries.
        response = rendered(prescription, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{prescription.pk}/")
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


ID_PARAMETER = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The prescription's id.")


class PrescriptionDetailView(JsonApiView):
    """One prescription the caller may see."""

    @extend_schema(
        operation_id="prescriptions_retrieve",
        summary="One prescription",
        parameters=[ID_PARAMETER],
        responses={200: api.PrescriptionSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND},
        tags=["prescriptions"],
    )
    def get(self, request: Request, pk: str) -> Response:
        prescription = prescription_for_user(signed_in(request), pk)
        audit(request, AuditAction.VIEW, prescription=prescription, description="read through the API")
        return rendered(shown_rows_read(prescription))


ACCESS_LOG_PAGE = 200


class AccessLogView(JsonApiView):
    """Who read or changed a prescription and its patient, from the audit trail (pharmacists)."""

    @extend_schema(
        operation_id="prescriptions_access_log",
        summary="Every read and change of the prescription and its patient, newest first (pharmacist)",
        description=(
            f"At most {ACCESS_LOG_PAGE} entries an answer. When there are older ones, the `Link` header "
            'names the next page (`rel="next"`): the same URL with `before` set.'
        ),
        parameters=[
            ID_PARAMETER,
            OpenApiParameter(
                "before",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description="Where the previous page ended, as its `Link` header gives it.",
            ),
        ],  # fmt: skip
        responses={
            200: api.AccessLogEntrySerializer(many=True),
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: refusal("Only a pharmacist reads the access log."),
            404: NOT_FOUND,
        },
        tags=["prescriptions"],
    )
    def get(self, request: Request, pk: str) -> Response:
        user = signed_in(request)
        prescription = prescription_for_user(user, pk)
        if not user.is_pharmacist:
            raise exceptions.PermissionDenied("Only a pharmacist reads the access log.")
        before = None
        if "before" in request.query_params:
            before = AccessCursor.parse(request.query_params["before"])
            if before is None:
                raise exceptions.ValidationError({"before": ["Not a page of this log: use the Link header's."]})
        page = access_page(access_log(prescription), before=before, page_size=ACCESS_LOG_PAGE)
        audit(request, AuditAction.VIEW, prescription=prescription, description="access log read")
        response = Response(api.AccessLogEntrySerializer(page.records, many=True).data)
        if page.has_older:
            # A bare list, as before pages: the next page's address travels in the header.
            older = request.build_absolute_uri(f"{request.path}?{urlencode({'before': page.older})}")
            response["Link"] = f'<{older}>; rel="next"'
        return response


# --- Workflow actions ------------------------------------------------------------------------


class WorkflowActionView(JsonApiView):
    """POST /api/v1/prescriptions/{id}/actions/<action>/: one subclass per action."""

    action: ClassVar[str]
    body_serializer: ClassVar[type[serializers.Serializer]] = api.EmptySerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        raise NotImplementedError

    def post(self, request: Request, pk: str) -> Response:
        # Checked in the service's order (404, 403, 409) before the body, so a body never hides them.
        prescription = prescription_for_user(signed_in(request), pk)
        action_precheck(signed_in(request), self.action, prescription)
        body = self.body_serializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        self.perform(request, prescription.pk, dict(body.validated_data))
        audit(request, AuditAction.ACTION, prescription=prescription, description=self.action)
        return rendered(fresh(request, prescription.pk))


def action_schema(
    action: str,
    body: type[serializers.Serializer] | None,
    summary: str,
    conflict: str = "Not allowed from the prescription's current status (or someone else just acted).",
    **extra: Any,
) -> Any:
    return extend_schema_view(
        post=extend_schema(
            operation_id=f"prescriptions_{action}",
            summary=summary,
            description=(
                f"`{action}`: allowed only from the statuses and to the roles of the pharmacy's workflow. "
                "Answers the prescription as it is after the action."
            ),
            parameters=[ID_PARAMETER],
            request=body,
            responses={
                200: api.PrescriptionSerializer,
                400: FIELD_ERRORS,
                401: UNAUTHENTICATED,
                403: refusal("The caller's role may not take this action."),
                404: NOT_FOUND,
                409: refusal(conflict),
                415: refusal("The body is not JSON."),
                **extra,
            },
            tags=["workflow"],
        )
    )


@action_schema("claim", None, "Claim for review (pharmacist, technician): pending_review → in_review")
class ClaimView(WorkflowActionView):
    action = Action.CLAIM

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_claim(prescription_id=prescription_id, actor=signed_in(request))


@action_schema("request_clarification", api.MessageSerializer, "Ask the prescriber a question (pharmacist) → on_hold")
class RequestClarificationView(WorkflowActionView):
    action = Action.REQUEST_CLARIFICATION
    body_serializer = api.MessageSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_request_clarification(
            prescription_id=prescription_id, actor=signed_in(request), message=data["message"]
        )


@action_schema("respond", api.RespondSerializer, "Answer the pharmacy, possibly correcting (the prescriber)")
class RespondView(WorkflowActionView):
    action = Action.RESPOND
    body_serializer = api.RespondSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_respond(
            prescription_id=prescription_id,
            actor=signed_in(request),
            message=data["message"],
            corrections=data["corrections"],
            # A correction is signed again, by default with the prescriber's own name.
            signature_name=data["signature_name"] or signed_in(request).get_full_name(),
            ip_address=client_ip(request),
        )


@action_schema(
    "approve", api.ApproveSerializer,
    "Approve (pharmacist): each warning verified or given a reason; an unverified hard stop 409",
)  # fmt: skip
class ApproveView(WorkflowActionView):
    action = Action.APPROVE
    body_serializer = api.ApproveSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_approve(
            prescription_id=prescription_id, actor=signed_in(request), override_reasons=data["override_reasons"]
        )


@action_schema(
    "verify_flag", api.VerifyFlagSerializer,
    "Verify a flag (pharmacist, in review): how it was checked; stays in_review",
    conflict="Not in review, or a hard stop that cannot be verified (the patient's own answers, 50 mg or more).",
)  # fmt: skip
class VerifyFlagView(WorkflowActionView):
    action = Action.VERIFY_FLAG
    body_serializer = api.VerifyFlagSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_verify_flag(prescription_id=prescription_id, actor=signed_in(request), **data)


@action_schema(
    "request_rescreen", api.RescreenSerializer,
    "Ask the patient to answer again (pharmacist) → awaiting_questionnaire, with a new link",
)  # fmt: skip
class RequestRescreenView(WorkflowActionView):
    action = Action.REQUEST_RESCREEN
    body_serializer = api.RescreenSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_request_rescreen(
            prescription_id=prescription_id, actor=signed_in(request), message=data["message"]
        )


@action_schema("reject", api.ReasonSerializer, "Reject with a reason (pharmacist)")
class RejectView(WorkflowActionView):
    action = Action.REJECT
    body_serializer = api.ReasonSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_reject(
            prescription_id=prescription_id, actor=signed_in(request), reason=data["reason"]
        )


@action_schema("start_compounding", None, "Start compounding (pharmacist, technician): approved → compounding")
class StartCompoundingView(WorkflowActionView):
    action = Action.START_COMPOUNDING

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_start_compounding(prescription_id=prescription_id, actor=signed_in(request))


@action_schema(
    "record_compounding", api.RecordCompoundingSerializer,
    "Record the batch (pharmacist, technician) → final_check; sets beyond_use_date",
)  # fmt: skip
class RecordCompoundingView(WorkflowActionView):
    action = Action.RECORD_COMPOUNDING
    body_serializer = api.RecordCompoundingSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return compounding_record_create(prescription_id=prescription_id, actor=signed_in(request), **data)


@action_schema(
    "final_check", api.FinalCheckSerializer,
    "Final check (a pharmacist other than the one who recorded the compounding) → ready",
)  # fmt: skip
class FinalCheckView(WorkflowActionView):
    action = Action.FINAL_CHECK
    body_serializer = api.FinalCheckSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_final_check(
            prescription_id=prescription_id, actor=signed_in(request),
            confirmed=data.get("checklist"), scans=data.get("scans"),
        )  # fmt: skip


@action_schema(
    "ship", api.ShipSerializer,
    "Ship with carrier and tracking number, or a label bought from the carrier service (pharmacist, technician)",
    conflict="Not ready, past its beyond-use date, or the pharmacy holds no valid licence in the patient's state.",
)  # fmt: skip
class ShipView(WorkflowActionView):
    action = Action.SHIP
    body_serializer = api.ShipSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_ship(
            prescription_id=prescription_id, actor=signed_in(request),
            carrier=data.get("carrier", ""), tracking_number=data.get("tracking_number", ""),
            service=data.get("service", ""),
        )  # fmt: skip


@action_schema("complete", None, "Complete: picked up (from ready) or delivered (from shipped)")
class CompleteView(WorkflowActionView):
    action = Action.COMPLETE

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_complete(prescription_id=prescription_id, actor=signed_in(request))


@action_schema(
    "cancel", api.ReasonSerializer, "Cancel with a reason (the prescriber or a pharmacist), before compounding"
)
class CancelView(WorkflowActionView):
    action = Action.CANCEL
    body_serializer = api.ReasonSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return workflow.prescription_cancel(
            prescription_id=prescription_id, actor=signed_in(request), reason=data["reason"]
        )


ACTION_VIEWS: dict[str, type[WorkflowActionView]] = {
    view.action: view
    for view in (
        ClaimView, RequestClarificationView, RespondView, ApproveView, RejectView, StartCompoundingView,
        RecordCompoundingView, FinalCheckView, ShipView, CompleteView, CancelView, VerifyFlagView,
        RequestRescreenView,
    )
}  # fmt: skip


# --- Anything else under /api/ ---------------------------------------------------------------


class NotFoundView(JsonApiView):
    """A JSON 404 for any other path under /api/ (an unknown action, a non-numeric id)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise exceptions.NotFound()
