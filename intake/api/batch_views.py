"""Anticipatory batches on the API: list and make, read one, release it; and the workflow action
that fills a prescription from a released batch.

Pharmacy staff only (a prescriber gets 403). Each view parses, calls one service of
intake/services/batches.py, and renders.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role
from intake.api import batch_serializers as out
from intake.api.views import (
    FIELD_ERRORS,
    UNAUTHENTICATED,
    JsonApiView,
    WorkflowActionView,
    action_schema,
    refusal,
    signed_in,
)
from intake.audit import AuditAction, audit
from intake.models import Action, BatchStatus, Prescription
from intake.services.batches import (
    batch_detail,
    batch_make,
    batch_release,
    batches_listed,
    prescription_fill_from_batch,
)

OBJECT_TYPE = "batch"
NOT_STAFF = refusal("Only pharmacy staff (pharmacists, technicians) work with batches.")
BATCH_NOT_FOUND = refusal("No such batch.")
BATCH_ID = OpenApiParameter("batch_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The batch's id.")
MAX_LISTED = 200


class IsPharmacyStaff(BasePermission):
    """Pharmacy staff read batches; pharmacists and technicians make and release them (checked
    before the body, so a wrong body never hides a refusal)."""

    message = "Only pharmacy staff work with batches; pharmacists and technicians make and release them."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_pharmacy_staff):
            return False
        return request.method in ("GET", "HEAD", "OPTIONS") or user.has_role(Role.PHARMACIST, Role.TECHNICIAN)


class BatchListCreateView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="batches_list",
        summary="The batches, newest first (at most 200; pharmacy staff)",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=BatchStatus.values,
                required=False,
                description="Only the batches in this status.",
            ),
        ],  # fmt: skip
        responses={200: out.BatchSerializer(many=True), 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 403: NOT_STAFF},
        tags=["batches"],
    )
    def get(self, request: Request) -> Response:
        wanted = request.query_params.get("status", "")
        if wanted and wanted not in BatchStatus.values:
            raise exceptions.ValidationError({"status": [f"One of {', '.join(BatchStatus.values)}."]})
        batches = list(batches_listed(status=wanted)[:MAX_LISTED])
        return Response(out.BatchSerializer(batches, many=True).data)

    @extend_schema(
        operation_id="batches_create",
        summary="Record an anticipatory batch of capsules (pharmacist, technician); it waits for release",
        description=(
            "The lots are checked as a compounding's (complete, unexpired, the naltrexone lot named, none under "
            "recall) and taken from received stock. The beyond-use date is the master formulation's USP <795> "
            "rule from the day of compounding, capped by the earliest lot expiry. Liquids, drops and creams are "
            "made for each prescription: a formulation of theirs answers 400."
        ),
        request=out.BatchMakeSerializer,
        responses={
            201: out.BatchDetailSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: NOT_STAFF,
            415: refusal("The body is not JSON."),
        },
        tags=["batches"],
    )
    def post(self, request: Request) -> Response:
        body = out.BatchMakeSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        batch = batch_make(actor=signed_in(request), **body.validated_data)
        audit(request, AuditAction.CREATE, object_type=OBJECT_TYPE, object_id=batch.pk, description=batch.number)
        response = Response(out.BatchDetailSerializer(batch_detail(batch.pk)).data, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"{request.path.rstrip('/')}/{batch.pk}/")
        return response


class BatchDetailView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="batches_retrieve",
        summary="One batch: its record, lots, beyond-use date and the fills drawn from it (pharmacy staff)",
        parameters=[BATCH_ID],
        responses={200: out.BatchDetailSerializer, 401: UNAUTHENTICATED, 403: NOT_STAFF, 404: BATCH_NOT_FOUND},
        tags=["batches"],
    )
    def get(self, request: Request, batch_id: str) -> Response:
        batch = batch_detail(batch_id)
        # The fills name prescriptions: the read is audited.
        audit(request, AuditAction.VIEW, object_type=OBJECT_TYPE, object_id=batch.pk, description="read (API)")
        return Response(out.BatchDetailSerializer(batch).data)


class BatchReleaseView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="batches_release",
        summary="Release a batch for fills (a pharmacist other than the one who made it)",
        parameters=[BATCH_ID],
        request=out.BatchReleaseSerializer,
        responses={
            200: out.BatchDetailSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: refusal("Not a pharmacist, or the pharmacist who made the batch."),
            404: BATCH_NOT_FOUND,
            409: refusal("The batch is not waiting for release (released, quarantined, used up) or is past its BUD."),
            415: refusal("The body is not JSON."),
        },
        tags=["batches"],
    )
    def post(self, request: Request, batch_id: str) -> Response:
        batch = batch_detail(batch_id)
        body = out.BatchReleaseSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        batch_release(batch_id=batch.pk, actor=signed_in(request), note=body.validated_data["note"])
        audit(request, AuditAction.ACTION, object_type=OBJECT_TYPE, object_id=batch.pk, description="released")
        return Response(out.BatchDetailSerializer(batch_detail(batch.pk)).data)


@action_schema(
    "fill_from_batch", out.FillFromBatchSerializer,
    "Fill from a released batch (pharmacist, technician): approved or compounding → final_check",
    conflict="Not approved or compounding, or the batch is not released, quarantined, used up or past its BUD.",
)  # fmt: skip
class FillFromBatchView(WorkflowActionView):
    action = Action.FILL_FROM_BATCH
    body_serializer = out.FillFromBatchSerializer

    def perform(self, request: Request, prescription_id: int, data: dict[str, Any]) -> Prescription:
        return prescription_fill_from_batch(prescription_id=prescription_id, actor=signed_in(request),
                                            batch_id=data["batch"])  # fmt: skip


# The workflow actions of this module, routed beside intake.api.views.ACTION_VIEWS.
ACTION_VIEWS: dict[str, type[WorkflowActionView]] = {FillFromBatchView.action: FillFromBatchView}
