"""Refills and renewals on the API: the prescriber's and the pharmacy's side.

Each view checks who may see what (404) and who may act (403) before reading the body, then calls
one service of intake/services/refills.py and renders. The patient's twins are in patient_views.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from intake.api import serializers as api
from intake.api.views import (
    FIELD_ERRORS,
    ID_PARAMETER,
    NOT_FOUND,
    UNAUTHENTICATED,
    JsonApiView,
    fresh,
    refusal,
    rendered,
    signed_in,
)
from intake.audit import AuditAction, audit, client_ip
from intake.errors import Forbidden, NotFound
from intake.models import Action, RenewalRequest, RenewalStatus, Requester
from intake.selectors import prescription_for_user
from intake.services.prescriptions import Signature
from intake.services.refills import (
    refill_request,
    renewal_approve,
    renewal_deny,
    renewal_request,
)
from intake.services.workflow import may_act

RENEWAL_NOT_FOUND = refusal("No such renewal request, or not one for the caller to decide (the same answer for both).")
# The service's names for the signature fields, as this endpoint's body spells them.
APPROVE_FIELDS = {"signature_name": "signature_name", "signature_attestation": "attestation", "refills": "refills"}


def requester_for(user: User) -> str:
    return Requester.PRESCRIBER if user.is_prescriber else Requester.PHARMACY


def renewals_visible_to(user: User) -> QuerySet[RenewalRequest]:
    """Staff see every renewal request; a prescriber those on their own prescriptions; anyone else none."""
    queryset = RenewalRequest.objects.select_related("prescription", "new_prescription")
    if user.is_pharmacy_staff:
        return queryset
    if user.is_prescriber:
        return queryset.filter(prescription__prescriber__user=user)
    return queryset.none()


def renewal_to_decide(user: User, renewal_id: str) -> RenewalRequest:
    """Only the old prescription's prescriber decides; for anyone else the request does not exist."""
    renewal = (
        RenewalRequest.objects.select_related("prescription")
        .filter(pk=int(renewal_id), prescription__prescriber__user=user)
        .first()
        if user.is_prescriber
        else None
    )
    if renewal is None:
        raise NotFound()
    return renewal


def renewal_rendered(renewal: RenewalRequest, **kwargs: object) -> Response:
    fresh_renewal = RenewalRequest.objects.select_related("prescription", "new_prescription").get(pk=renewal.pk)
    return Response(api.RenewalSerializer(fresh_renewal).data, **kwargs)  # type: ignore[arg-type]


class RefillView(JsonApiView):
    @extend_schema(
        operation_id="prescriptions_refill",
        summary="Ask for the next fill (the prescription's prescriber, a pharmacist or a technician)",
        description=(
            "Opens the next fill of a dispensed prescription. Refused (409, with the date where there is one) "
            "when too soon (before 75% of the last fill's days supply has passed), after the prescription's "
            "expiry (one year from writing), or with no refill left (ask for a renewal instead). Every refill "
            "then waits (awaiting_questionnaire) for the patient's short re-screen through a new private link "
            "(opioids in the last 10 days, liver, pregnancy, the medicines taken now), and its answers go to a "
            "pharmacist's review."
        ),
        parameters=[ID_PARAMETER],
        request=None,
        responses={
            201: api.PrescriptionSerializer,
            401: UNAUTHENTICATED,
            403: refusal("The caller's role may not ask for a refill."),
            404: NOT_FOUND,
            409: refusal("Not now: too soon (from which date), expired, no refill left, or not handed over yet."),
            415: refusal("The body is not JSON."),
        },
        tags=["refills"],
    )
    def post(self, request: Request, pk: str) -> Response:
        user = signed_in(request)
        prescription = prescription_for_user(user, pk)
        if not may_act(user, Action.REFILL_RESCREEN, prescription):
            raise Forbidden()
        refill_request(prescription_id=prescription.pk, actor=user, requester=requester_for(user))
        audit(request, AuditAction.ACTION, prescription=prescription, description="refill asked for (API)")
        return rendered(fresh(request, prescription.pk), status=status.HTTP_201_CREATED)


class RenewalRequestView(JsonApiView):
    @extend_schema(
        operation_id="prescriptions_renewal_request",
        summary="Ask the prescriber to renew a prescription with no refill left (its prescriber, or the pharmacy)",
        description=("Asking again while a request waits answers the waiting request (200) instead of a second one."),
        parameters=[ID_PARAMETER],
        request=None,
        responses={
            201: api.RenewalSerializer,
            200: api.RenewalSerializer,
            401: UNAUTHENTICATED,
            403: refusal("The caller may not ask for a renewal."),
            404: NOT_FOUND,
            409: refusal("Refills are still left, the prescription was already renewed, or it was never filled."),
            415: refusal("The body is not JSON."),
        },
        tags=["refills"],
    )
    def post(self, request: Request, pk: str) -> Response:
        user = signed_in(request)
        prescription = prescription_for_user(user, pk)
        waiting = set(prescription.renewal_requests.filter(status=RenewalStatus.PENDING).values_list("pk", flat=True))
        renewal = renewal_request(prescription_id=prescription.pk, actor=user, requester=requester_for(user))
        audit(request, AuditAction.ACTION, prescription=prescription, description="renewal asked for (API)")
        return renewal_rendered(
            renewal, status=status.HTTP_200_OK if renewal.pk in waiting else status.HTTP_201_CREATED
        )


class RenewalListView(JsonApiView):
    @extend_schema(
        operation_id="renewals_list",
        summary="Renewal requests waiting for a decision",
        description="A prescriber sees those waiting for them; pharmacy staff see every waiting request. Oldest first.",
        responses={200: api.RenewalSerializer(many=True), 401: UNAUTHENTICATED},
        tags=["refills"],
    )
    def get(self, request: Request) -> Response:
        renewals = renewals_visible_to(signed_in(request)).filter(status=RenewalStatus.PENDING).order_by("requested_at")
        page = list(renewals)
        audit(request, AuditAction.LIST, object_type="renewal_request", description=f"{len(page)} waiting (API)")
        return Response(api.RenewalSerializer(page, many=True).data)


RENEWAL_PARAMETER = OpenApiParameter(
    "renewal_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The renewal request's id."
)


class RenewalApproveView(JsonApiView):
    @extend_schema(
        operation_id="renewals_approve",
        summary="Renew: sign a new prescription with the same content (the old prescription's prescriber)",
        description=(
            "The new prescription continues the maintenance dose (no titration), is linked to the old one "
            "(`renewed_from`), and invites the patient to confirm the questionnaire."
        ),
        parameters=[RENEWAL_PARAMETER],
        request=api.RenewalApproveSerializer,
        responses={
            201: api.PrescriptionSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: refusal("The prescriber may not sign now (the reason is given)."),
            404: RENEWAL_NOT_FOUND,
            409: refusal("Already decided."),
            415: refusal("The body is not JSON."),
        },
        tags=["refills"],
    )
    def post(self, request: Request, renewal_id: str) -> Response:
        user = signed_in(request)
        renewal = renewal_to_decide(user, renewal_id)
        body = api.RenewalApproveSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            new = renewal_approve(
                renewal_id=renewal.pk,
                actor=user,
                signature=Signature(name=data["signature_name"], attested=data["attestation"],
                                    ip_address=client_ip(request)),
                refills=data["refills"],
            )  # fmt: skip
        except ValidationError as exc:
            # This body names the signature's fields on its own level; the service's names differ.
            raise exceptions.ValidationError(
                {APPROVE_FIELDS.get(key, "non_field_errors"): problems for key, problems in exc.message_dict.items()}
            ) from None
        audit(request, AuditAction.CREATE, prescription=new, description=f"renewal of {renewal.prescription.reference}")
        response = rendered(fresh(request, new.pk), status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v1/prescriptions/{new.pk}/")
        return response


class RenewalDenyView(JsonApiView):
    @extend_schema(
        operation_id="renewals_deny",
        summary="Deny a renewal with a reason (the old prescription's prescriber); the patient is told",
        parameters=[RENEWAL_PARAMETER],
        request=api.ReasonSerializer,
        responses={
            200: api.RenewalSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            404: RENEWAL_NOT_FOUND,
            409: refusal("Already decided."),
            415: refusal("The body is not JSON."),
        },
        tags=["refills"],
    )
    def post(self, request: Request, renewal_id: str) -> Response:
        user = signed_in(request)
        renewal = renewal_to_decide(user, renewal_id)
        body = api.ReasonSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        denied = renewal_deny(renewal_id=renewal.pk, actor=user, reason=body.validated_data["reason"])
        audit(request, AuditAction.UPDATE, prescription=renewal.prescription, description="renewal denied (API)")
        return renewal_rendered(denied)
