"""The bodies of a prescription's documents: a file in (multipart), its metadata out (never the bytes)."""

from __future__ import annotations

from rest_framework import serializers

from intake.models import DocumentKind, PrescriptionDocument


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A PDF, PNG or JPEG file, at most DOCUMENT_MAX_MB (10 MB unless set); its bytes, "
        "its name's extension and its declared type must agree."
    )
    kind = serializers.ChoiceField(choices=DocumentKind.choices, default=DocumentKind.LABS)


class DocumentSerializer(serializers.ModelSerializer[PrescriptionDocument]):
    content_type = serializers.CharField(read_only=True, help_text="As read from the file's bytes.")

    class Meta:
        model = PrescriptionDocument
        fields = ("id", "kind", "original_filename", "content_type", "size", "sha256", "uploaded_at")
        read_only_fields = fields
