"""A prescription's documents on the API: the prescriber attaches a file; the metadata is listed.

The files themselves are read by pharmacy staff only, on the pharmacy's pages (audited downloads).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from intake.api import document_serializers as docs
from intake.api.views import FIELD_ERRORS, NOT_FOUND, UNAUTHENTICATED, JsonApiView, refusal, signed_in
from intake.audit import AuditAction, AuditEntry, audit
from intake.selectors import documents_of, prescription_for_user
from intake.services.uploads import document_upload, prescription_for_upload


class DocumentListCreateView(JsonApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="prescription_documents_list",
        summary="The documents attached to a prescription: metadata only",
        responses={200: docs.DocumentSerializer(many=True), 401: UNAUTHENTICATED, 404: NOT_FOUND},
        tags=["prescriptions"],
    )
    def get(self, request: Request, pk: str) -> Response:
        prescription = prescription_for_user(signed_in(request), pk)
        documents = list(documents_of(prescription))
        audit(request, AuditAction.LIST, prescription=prescription, object_type="document",
              description=f"{len(documents)} documents listed (API)")  # fmt: skip
        return Response(docs.DocumentSerializer(documents, many=True).data)

    @extend_schema(
        operation_id="prescription_documents_create",
        summary="Attach a document (prior labs, PDF or image) to the caller's own prescription",
        description=(
            "multipart/form-data with `file` and `kind`. The file's bytes must be a PDF, PNG or JPEG, and its "
            "name's extension and declared type must say the same. Only pharmacy staff can read it back."
        ),
        request={"multipart/form-data": docs.DocumentUploadSerializer},
        responses={
            201: docs.DocumentSerializer,
            400: FIELD_ERRORS,
            401: UNAUTHENTICATED,
            403: refusal("Only the prescription's prescriber attaches documents."),
            404: NOT_FOUND,
            415: refusal("The body is not multipart/form-data."),
        },
        tags=["prescriptions"],
    )
    def post(self, request: Request, pk: str) -> Response:
        # Who may attach, before the body is read: a stranger's id answers 404 whatever it holds.
        prescription = prescription_for_upload(signed_in(request), int(pk))
        body = docs.DocumentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = document_upload(
            actor=signed_in(request),
            prescription_id=prescription.pk,
            upload=body.validated_data["file"],
            kind=body.validated_data["kind"],
            audit=AuditEntry.of(request, description="document attached (API)"),
        )
        return Response(docs.DocumentSerializer(document).data, status=status.HTTP_201_CREATED)
