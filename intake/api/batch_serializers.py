"""The JSON shapes of anticipatory batches: one to make, one to release, one to read."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from intake.api.serializers import FreeText, LotSerializer, Milligrams, Text
from intake.models import Batch, BatchStatus
from intake.services.compounding import MAX_QUANTITY_MADE
from intake.services.lots import LotInput


class BatchMakeSerializer(serializers.Serializer):
    master_formulation_id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    strength_mg = Milligrams(required=False, help_text="Blank: the formulation's own strength.")
    quantity_made = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY_MADE, help_text="Capsules made.")
    lots = LotSerializer(many=True, allow_empty=False, max_length=20)  # type: ignore[call-arg]
    number = Text(max_length=40, required=False, allow_blank=True, default="", help_text="Blank: the next number.")
    quality_checks = FreeText(max_length=2000, required=False, allow_blank=True, default="")
    deviations = FreeText(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["lots"] = [LotInput(**lot) for lot in attrs["lots"]]
        return attrs


class BatchReleaseSerializer(serializers.Serializer):
    note = FreeText(max_length=2000, help_text="What was checked on the batch's record, in a sentence.")


class FillFromBatchSerializer(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The released batch's id.")


class BatchLotOutSerializer(serializers.Serializer):
    ingredient = serializers.CharField()
    manufacturer = serializers.CharField()
    lot = serializers.CharField()
    expires = serializers.DateField()
    quantity_used = serializers.CharField()


class BatchFillOutSerializer(serializers.Serializer):
    """A fill drawn from the batch: the prescription and how many capsules it took."""

    prescription = serializers.IntegerField(source="prescription_id")
    reference = serializers.CharField(source="prescription.reference")
    status = serializers.CharField(source="prescription.status")
    quantity = serializers.IntegerField(source="quantity_made")
    at = serializers.DateTimeField(source="compounded_at")


class BatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.ChoiceField(choices=BatchStatus.choices)
    master_formulation_id = serializers.IntegerField()
    master_formulation = serializers.CharField(source="master_formulation.name")
    dosage_form = serializers.CharField(source="master_formulation.dosage_form.code")
    strength_mg = serializers.DecimalField(max_digits=7, decimal_places=2, coerce_to_string=True)
    unit = serializers.CharField()
    quantity_made = serializers.IntegerField()
    units_left = serializers.IntegerField()
    compounded_by = serializers.CharField()
    compounded_at = serializers.DateTimeField()
    bud_rule = serializers.CharField()
    beyond_use_date = serializers.DateField()
    storage = serializers.CharField()
    quality_checks = serializers.CharField()
    deviations = serializers.CharField()
    released_by = serializers.CharField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)
    release_note = serializers.CharField()
    lots = BatchLotOutSerializer(many=True, source="lots.all")

    def to_representation(self, instance: Batch) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["released_by"] = str(instance.released_by) if instance.released_by_id else None
        return data


class BatchDetailSerializer(BatchSerializer):
    # Prefetched by the view (intake.selectors_batches.batch_detail), oldest first.
    fills = BatchFillOutSerializer(many=True, source="fill_records.all")
