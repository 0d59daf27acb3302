"""Lots and recalls on the API: a lot's trace (pharmacy staff), recalls opened and closed (a pharmacist).

Each view parses, calls one selector or service and renders; every read of the fills a lot reached
is audited, as the prescriptions themselves are.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api import recall_serializers as recalls
from intake.api.views import FIELD_ERRORS, UNAUTHENTICATED, JsonApiView, refusal, signed_in
from intake.audit import AuditAction, AuditEntry, audit
from intake.selectors_lots import (
    MAX_LOT,
    TRACE_PAGE,
    lot_key,
    lot_trace_count,
    lot_trace_page,
    recall_read,
    recalls_listed,
)
from intake.services.recalls import OBJECT_TYPE, recall_close, recall_open

NOT_STAFF = refusal("Only pharmacy staff trace lots and read recalls.")
NOT_PHARMACIST = refusal("Only a pharmacist opens or closes a recall.")
RECALL_NOT_FOUND = refusal("No such recall.")
LOT = OpenApiParameter("lot", OpenApiTypes.STR, OpenApiParameter.PATH, description="The lot number (any case).")
RECALL_ID = OpenApiParameter("recall_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The recall's id.")
AFTER = OpenApiParameter(
    "after", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
    description="The cursor from `next`: the uses after this compounding record.",
)  # fmt: skip
COUNT = OpenApiParameter(
    "count", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False,
    description="`true`: answer `count`, every use of the lot (one more query).",
)  # fmt: skip


class IsPharmacyStaff(BasePermission):
    message = "Only pharmacy staff trace lots and read recalls."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_pharmacy_staff)


def _after(request: Request) -> int:
    raw = request.query_params.get("after", "0")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise exceptions.ValidationError({"after": ["Send the cursor from `next`: a whole number."]})
    return int(raw)


def _wants_count(request: Request) -> bool:
    raw = request.query_params.get("count", "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise exceptions.ValidationError({"count": ["Send true or false."]})
    return raw in ("true", "1")


class LotTraceView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="lots_trace",
        summary="Every fill compounded with a lot, batches followed through (pharmacy staff)",
        description=(
            f"By compounding record, {TRACE_PAGE} a page; follow `next` for the rest. A fill taken from a "
            "batch that used the lot is a use of it too. The lot number is compared without case."
        ),
        parameters=[LOT, AFTER, COUNT],
        responses={200: recalls.LotTraceSerializer, 400: FIELD_ERRORS, 401: UNAUTHENTICATED, 403: NOT_STAFF},
        tags=["lots and recalls"],
    )
    def get(self, request: Request, lot: str) -> Response:
        if not lot_key(lot) or len(lot) > MAX_LOT:
            raise exceptions.ValidationError({"lot": [f"A lot number of 1 to {MAX_LOT} characters."]})
        page = lot_trace_page(lot, after=_after(request))
        count = lot_trace_count(lot) if _wants_count(request) else None
        following = None
        if page.next_after is not None:
            query = request.query_params.copy()
            query["after"] = str(page.next_after)
            following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        audit(request, AuditAction.LIST, object_type="lot_trace", object_id=lot[:40],
              description=f"lot {lot}: {len(page.rows)} shown (API)"[:200])  # fmt: skip
        body = {"lot": lot, "count": count, "next": following, "results": [row.as_json() for row in page.rows]}
        return Response(body)


class RecallListCreateView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="recalls_list",
        summary="Recalls, open ones first (pharmacy staff)",
        responses={200: recalls.RecallSummarySerializer(many=True), 401: UNAUTHENTICATED, 403: NOT_STAFF},
        tags=["lots and recalls"],
    )
    def get(self, request: Request) -> Response:
        listed = recalls_listed()
        audit(request, AuditAction.LIST, object_type=OBJECT_TYPE, description=f"{len(listed)} shown (API)")
        return Response(recalls.RecallSummarySerializer(listed, many=True).data)

    @extend_schema(
        operation_id="recalls_create",
        summary="Recall a lot (a pharmacist)",
        description=(
            "The lot is quarantined: `record_compounding` naming it answers 400 until the recall is closed. "
            "Each fill it reached that is not yet handed over goes back to `compounding` (made again); the "
            "patients who have the medicine are asked to contact the pharmacy. Batches holding the lot are "
            "quarantined. One open recall per lot number."
        ),
        request=recalls.RecallOpenSerializer,
        responses={
            201: recalls.RecallSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: NOT_PHARMACIST,
            415: refusal("The body is not JSON."),
        },
        tags=["lots and recalls"],
    )
    def post(self, request: Request) -> Response:
        if not signed_in(request).is_pharmacist:
            raise exceptions.PermissionDenied("Only a pharmacist opens a recall.")
        body = recalls.RecallOpenSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        entry = AuditEntry.of(request, description="recall opened (API)")
        recall = recall_open(actor=signed_in(request), entry=entry, **body.validated_data)
        return Response(recalls.RecallSerializer(recall_read(recall.pk)).data, status=status.HTTP_201_CREATED)


class RecallDetailView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="recalls_retrieve",
        summary="One recall and each fill it reached (pharmacy staff)",
        parameters=[RECALL_ID],
        responses={
            200: recalls.RecallSerializer,
            401: UNAUTHENTICATED,
            403: NOT_STAFF,
            404: RECALL_NOT_FOUND,
        },
        tags=["lots and recalls"],
    )
    def get(self, request: Request, recall_id: str) -> Response:
        recall = recall_read(recall_id)
        audit(request, AuditAction.VIEW, object_type=OBJECT_TYPE, object_id=recall.pk,
              description=f"{len(recall.affected.all())} fills shown (API)")  # fmt: skip
        return Response(recalls.RecallSerializer(recall).data)


class RecallCloseView(JsonApiView):
    permission_classes = [IsPharmacyStaff]

    @extend_schema(
        operation_id="recalls_close",
        summary="Close a recall with a note: the lot may be used again (a pharmacist)",
        parameters=[RECALL_ID],
        request=recalls.RecallCloseSerializer,
        responses={
            200: recalls.RecallSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: NOT_PHARMACIST,
            404: RECALL_NOT_FOUND,
            409: refusal("The recall is already closed."),
            415: refusal("The body is not JSON."),
        },
        tags=["lots and recalls"],
    )
    def post(self, request: Request, recall_id: str) -> Response:
        recall = recall_read(recall_id)
        if not signed_in(request).is_pharmacist:
            raise exceptions.PermissionDenied("Only a pharmacist closes a recall.")
        body = recalls.RecallCloseSerializer(data=request.data if request.data is not None else {})
        body.is_valid(raise_exception=True)
        entry = AuditEntry.of(request, description="recall closed (API)")
        recall_close(actor=signed_in(request), recall_id=recall.pk, note=body.validated_data["note"], entry=entry)
        return Response(recalls.RecallSerializer(recall_read(recall.pk)).data)
