"""The bodies of the lot trace and the recall endpoints: a fill reached by a lot, a recall in and out."""

from __future__ import annotations

from rest_framework import serializers

from intake.api.serializers import FreeText, Text
from intake.models import PrescriptionStatus, Recall, RecallAffected, RecallClass, RecallOutcome
from intake.selectors_lots import MAX_LOT


class LotUseSerializer(serializers.Serializer):
    """One fill's compounding record that used the lot."""

    prescription = serializers.IntegerField(help_text="The prescription's id.")
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PrescriptionStatus.choices, help_text="The fill's status.")
    handed_over_at = serializers.DateTimeField(allow_null=True, help_text="Shipped or picked up; null: not yet.")
    fill = serializers.IntegerField(allow_null=True, help_text="Which fill: 1 is the first, 2 the first refill.")
    record = serializers.IntegerField(help_text="The compounding record's id.")
    compounded_at = serializers.DateTimeField()
    batch = serializers.CharField(allow_null=True, help_text="The batch's number when the fill was taken from one.")


class LotTraceSerializer(serializers.Serializer):
    lot = serializers.CharField()
    count = serializers.IntegerField(allow_null=True, help_text="Every use of the lot, with ?count=true; else null.")
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    results = LotUseSerializer(many=True)


class RecallOpenSerializer(serializers.Serializer):
    ingredient = Text(max_length=120, help_text="The ingredient recalled, e.g. Naltrexone HCl USP.")
    lot = Text(max_length=MAX_LOT, help_text="The lot number as the supplier prints it (compared without case).")
    reason = FreeText(max_length=1000, help_text="Why: the supplier's notice, in a sentence.")
    recall_class = serializers.ChoiceField(
        choices=RecallClass.choices, default=RecallClass.CLASS_II, help_text="FDA recall class: I, II or III."
    )


class RecallCloseSerializer(serializers.Serializer):
    note = FreeText(max_length=1000, help_text="Why the recall is closed; the lot may be used again.")


class RecallAffectedSerializer(serializers.ModelSerializer[RecallAffected]):
    prescription = serializers.IntegerField(source="prescription_id")
    reference = serializers.CharField(source="prescription.reference")
    status = serializers.SerializerMethodField(help_text="The fill's status now.")
    fill = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(choices=RecallOutcome.choices)

    class Meta:
        model = RecallAffected
        fields = ("id", "prescription", "reference", "status", "handed_over_at", "fill", "record", "batch",
                  "outcome", "resolved_at")  # fmt: skip
        read_only_fields = fields

    def get_status(self, affected: RecallAffected) -> str:
        return affected.fill.status if affected.fill is not None else affected.prescription.status

    def get_fill(self, affected: RecallAffected) -> int | None:
        return affected.fill.number if affected.fill is not None else None

    def get_batch(self, affected: RecallAffected) -> str | None:
        return affected.batch.number if affected.batch is not None else None


RECALL_FIELDS: tuple[str, ...] = (
    "id", "ingredient", "lot", "recall_class", "reason", "opened_by", "opened_at", "closed_by", "closed_at",
    "closing_note", "is_open",
)  # fmt: skip


class RecallSummarySerializer(serializers.ModelSerializer[Recall]):
    opened_by = serializers.CharField(source="opened_by.get_full_name", read_only=True)
    closed_by = serializers.CharField(source="closed_by.get_full_name", read_only=True, allow_null=True)
    is_open = serializers.BooleanField()

    class Meta:
        model = Recall
        fields = RECALL_FIELDS
        read_only_fields = fields


class RecallSerializer(RecallSummarySerializer):
    affected = RecallAffectedSerializer(many=True, help_text="Each fill the recall reached and what was done.")

    class Meta(RecallSummarySerializer.Meta):
        fields = (*RECALL_FIELDS, "affected")
        read_only_fields = fields
