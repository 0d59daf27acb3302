"""The prescription labels, one 4 x 4 inch page per container: a titration kit
has a label per strength with the days it covers; a liquid's directions are in mL."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, KeepInFrame, PageBreak, Paragraph, Table, TableStyle

from accounts.models import User
from intake.clinical.dispensing import label_phrasing
from intake.clinical.dosing import format_mg
from intake.documents.common import (
    AUXILIARY_WARNING,
    COMPOUNDED_NOTICE,
    LABEL_WARNINGS,
    RX_ONLY,
    barcode,
    escape,
    render,
    spacer,
    styles,
)
from intake.models import BatchLot, CompoundingRecord, IngredientLot, Prescription
from intake.services.compounding import is_naltrexone
from intake.services.dispensing import ContainerDetails, recorded_containers

LABEL_SIZE = (4 * inch, 4 * inch)
MARGIN = 0.15 * inch


def initials(user: User | None) -> str:
    if user is None:
        return "____"
    letters = "".join(part[:1] for part in (user.first_name, user.last_name) if part)
    return letters.upper() or user.email[:2].upper()


def prescription_label_pdf(
    *, prescription: Prescription, record: CompoundingRecord, fill_number: int | None = None,
    refills_left: int | None = None, containers: Sequence[ContainerDetails] | None = None,
) -> bytes:  # fmt: skip
    """The labels of the batch `record` of `prescription`, one page per container: by default its
    current fill's; a past fill's gives its number and the refills that were left when it was filled."""
    fill_number = prescription.fill_number if fill_number is None else fill_number
    refills_left = prescription.refills_left if refills_left is None else refills_left
    shown = list(containers) if containers is not None else recorded_containers(prescription, record)
    story: list[Flowable] = []
    for position, container in enumerate(shown):
        if position:
            story.append(PageBreak())
        content = _one_label(prescription, record, container, count=len(shown), fill_number=fill_number,
                             refills_left=refills_left)  # fmt: skip
        # Everything of one container stays on its page: shrunk to fit, never spilled onto the next.
        story.append(KeepInFrame(LABEL_SIZE[0] - 2 * MARGIN, LABEL_SIZE[1] - 2 * MARGIN - 6, content, mode="shrink"))
    return render(story, pagesize=LABEL_SIZE, margin=MARGIN, title=f"Labels {prescription.reference}")


def _one_label(
    prescription: Prescription, record: CompoundingRecord, details: ContainerDetails, *, count: int,
    fill_number: int, refills_left: int,
) -> list[Flowable]:  # fmt: skip
    style = styles(7)
    centred = ParagraphStyle("centred", parent=style["small"], alignment=TA_CENTER)
    patient = prescription.patient
    container = details.container
    form = prescription.get_dosage_form_display()
    # Dates on the label stay numeric (MM/DD/YYYY) as US prescription labels write them: it fits the
    # small label. No rule fixes the format; USP <795> asks only that the beyond-use date be on it.
    filled_on = timezone.localtime(record.compounded_at).date()
    if container.strength_mg is not None:
        drug = f"Naltrexone HCl {_mg(container.strength_mg)} mg {form.lower()}s"
    else:
        drug = f"Naltrexone HCl {_mg(container.concentration)} mg/{container.unit} {form.lower()}"
    # A fill taken from an anticipatory batch carries the batch's lots and number.
    lots: list[BatchLot | IngredientLot] = (
        [*record.batch.lots.all()] if record.batch_id and record.batch else [*details.lots]
    )
    naltrexone_lots = [lot.lot for lot in lots if is_naltrexone(lot.ingredient)] or [lot.lot for lot in lots]
    batch_number = record.batch.number if record.batch_id and record.batch else str(record.pk)
    checker = record.checked_by if record.checked_by_id else None
    # A patient who reads Spanish gets the directions and warnings in Spanish, the English directions
    # under them for the pharmacist's check; the drug, strength and numbers stay as written.
    phrasing = label_phrasing(patient.language)
    patient_directions = list(details.patient_directions) if phrasing else list(details.directions)
    english_directions = list(details.directions) if phrasing else []
    compounded = phrasing.compounded_notice if phrasing else COMPOUNDED_NOTICE
    auxiliary = phrasing.auxiliary_warning if phrasing else AUXILIARY_WARNING
    warnings = phrasing.warnings if phrasing else LABEL_WARNINGS
    return [
        Paragraph(escape(settings.PHARMACY_NAME), style["title"]),
        Paragraph(f"{escape(settings.PHARMACY_ADDRESS)} · {escape(settings.PHARMACY_PHONE)}", style["small"]),
        spacer(2),
        Table(
            [
                [
                    Paragraph(f"<b>Rx</b> {escape(prescription.reference)}", style["body"]),
                    Paragraph(f"<b>Filled</b> {filled_on:%m/%d/%Y}", style["body"]),
                ]
            ],
            colWidths=[2.1 * inch, 1.5 * inch],
            style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]),
        ),  # fmt: skip
        Paragraph(f"<b>Patient</b> {escape(patient.full_name)} (born {patient.date_of_birth:%m/%d/%Y})", style["body"]),
        Paragraph(f"<b>Prescriber</b> {escape(prescription.prescriber.display_name)}", style["body"]),
        spacer(2),
        Paragraph(escape(drug).upper(), style["notice"]),
        Paragraph(
            f"<b>Container {container.number} of {count}</b> · days {container.first_day}-{container.last_day} · "
            f"<b>Qty</b> {container.quantity} {_unit(container.unit, container.quantity)}",
            style["body"],
        ),  # fmt: skip
        *[Paragraph(f"<b>{escape(line)}</b>", style["body"]) for line in patient_directions],
        *[Paragraph(f"English: {escape(line)}", style["small"]) for line in english_directions],
        Paragraph(f"Fill {fill_number} · refills left {refills_left}", style["small"]),
        Paragraph(
            f"<b>Use by (BUD)</b> {record.beyond_use_date:%m/%d/%Y} · <b>Storage</b> {escape(record.storage)}",
            style["body"],
        ),  # fmt: skip
        Paragraph(
            f"<b>Lot</b> {escape(', '.join(naltrexone_lots) or '-')} · <b>Batch</b> {escape(batch_number)} · "
            f"<b>RPh</b> {escape(initials(checker))} · made by {escape(initials(record.compounded_by))}",
            style["small"],
        ),  # fmt: skip
        spacer(2),
        Paragraph(f"{RX_ONLY} · {escape(compounded)}", style["notice"]),
        Paragraph(escape(auxiliary), style["bold"]),
        *[Paragraph(escape(line), style["small"]) for line in warnings],
        spacer(3),
        # The code's text on its own line under the bars: never drawn over them.
        barcode(details.code or prescription.reference, bar_height=0.3 * inch, bar_width=0.8),
        spacer(2),
        Paragraph(escape(details.code or prescription.reference), centred),
    ]


def _mg(amount: Decimal | None) -> str:
    return "?" if amount is None else format_mg(amount)


def _unit(unit: str, quantity: int) -> str:
    return f"capsule{'s' if quantity != 1 else ''}" if unit == "capsule" else unit
