"""The independent final check of a batch: never by its compounder; a checklist and a barcode scan of
each container against the order, every item recorded with who and when.

workflow.prescription_final_check calls final_check_record under the prescription's row lock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import User
from intake.errors import Conflict, Forbidden
from intake.models import (
    CheckItem,
    CompoundedContainer,
    CompoundingRecord,
    FinalCheck,
    FinalCheckItem,
    FinalCheckMethod,
    Prescription,
)

# What the checker confirms, in the order the page asks it (the scans come apart, one per container).
CHECKLIST = tuple(item for item in CheckItem if item != CheckItem.SCAN)


@dataclass(frozen=True)
class CheckInput:
    """What the checker confirmed: checklist items, and each container's scanned code by its number.
    None for both: a check through the API without them (the checker's attestation, recorded so)."""

    confirmed: Collection[str] | None = None
    scans: Mapping[int, str] | None = None

    @property
    def attested_only(self) -> bool:
        return self.confirmed is None and self.scans is None


def batch_to_check(prescription: Prescription) -> CompoundingRecord:
    record = (
        CompoundingRecord.objects.filter(prescription=prescription)
        .select_related("compounded_by", "batch")
        .order_by("-compounded_at", "-id")
        .first()
    )
    if record is None:
        raise Conflict("There is no compounding record to check.")
    record.prescription = prescription  # the row already locked: no second read
    return record


def compounder_refusal(record: CompoundingRecord) -> str:
    """What the one who recorded the fill is told: a fill taken from a batch names the batch."""
    if record.batch is not None:
        return f"You filled this from batch {record.batch.number}: another pharmacist must do its final check."
    return "You compounded this fill: another pharmacist must do its final check."


def refuse_the_compounder(record: CompoundingRecord, actor: User | None) -> None:
    """Four eyes, whatever the staffing: the person who recorded a fill never checks it."""
    if actor is not None and record.compounded_by_id == actor.pk:
        raise Forbidden(compounder_refusal(record))


def normalised_code(code: str) -> str:
    # A scanner types the label's text; people may add spaces or type in lower case.
    return "".join(code.split()).upper()


def final_check_errors(
    *, record: CompoundingRecord, containers: list[CompoundedContainer], given: CheckInput
) -> dict[str, list[str]]:
    """What is missing or wrong, by field ("checklist", "scans.<container number>")."""
    errors: dict[str, list[str]] = {}
    confirmed = set(given.confirmed or ())
    unknown = sorted(confirmed - set(CHECKLIST))
    if unknown:
        errors["checklist"] = [f"Not an item of the checklist: {', '.join(unknown)}."]
    missing = [item for item in CHECKLIST if item not in confirmed]
    if missing:
        errors.setdefault("checklist", []).append(
            "Confirm every item of the checklist; not confirmed: "
            + "; ".join(CheckItem(item).label.lower() for item in missing)
            + "."
        )
    scans = dict(given.scans or {})
    numbers = {container.number for container in containers}
    for number in sorted(set(scans) - numbers):
        errors[f"scans.{number}"] = [f"This batch has no container {number}."]
    for container in containers:
        scanned = normalised_code(scans.get(container.number, ""))
        if not scanned:
            errors[f"scans.{container.number}"] = [f"Scan container {container.number}'s label."]
        elif scanned != container.code:
            errors[f"scans.{container.number}"] = [wrong_scan_message(scanned, container, record)]
    return errors


def wrong_scan_message(scanned: str, container: CompoundedContainer, record: CompoundingRecord) -> str:
    other = CompoundedContainer.objects.select_related("record__prescription").filter(code=scanned).first()
    expected = f"container {container.number} of {record.prescription.reference}"
    if other is None:
        return f"{scanned} is not a label of this pharmacy's containers; scan {expected}."
    if other.record.prescription_id != record.prescription_id:
        return (
            f"{scanned} belongs to another order ({other.record.prescription.reference}): keep it apart and "
            f"scan {expected}."
        )
    if other.record_id != record.pk:
        return f"{scanned} is a label of an earlier batch of this order: destroy it and scan {expected}."
    return f"{scanned} is container {other.number}'s label, not container {container.number}'s."


def final_check_record(*, prescription: Prescription, actor: User, given: CheckInput) -> dict[str, Any]:
    """Check the prescription's latest batch and record the check; the event's details are returned.
    Refused, nothing is written: the compounder (403), a missing item or a wrong scan (400)."""
    record = batch_to_check(prescription)
    refuse_the_compounder(record, actor)
    containers = list(record.containers.order_by("number"))
    if not given.attested_only:
        errors = final_check_errors(record=record, containers=containers, given=given)
        if errors:
            raise ValidationError(errors)
    now = timezone.now()
    method = FinalCheckMethod.API if given.attested_only else FinalCheckMethod.CHECKLIST
    check = FinalCheck.objects.create(record=record, checked_by=actor, checked_at=now, method=method)
    if not given.attested_only:
        items = [FinalCheckItem(check_record=check, item=item, confirmed_by=actor, confirmed_at=now)
                 for item in CHECKLIST]  # fmt: skip
        items += [
            FinalCheckItem(check_record=check, item=CheckItem.SCAN, container=container, scanned_code=container.code,
                           confirmed_by=actor, confirmed_at=now)
            for container in containers
        ]  # fmt: skip
        for item in items:
            # One by one (not bulk_create): each item gets its history row.
            item.save()
    record.checked_by = actor
    record.checked_at = now
    record.save(update_fields=["checked_by", "checked_at"])
    prescription.ready_at = now
    return {"record_id": record.pk, "check": method, "scanned": 0 if given.attested_only else len(containers)}
