"""The prescription label (CLINICAL.md "Label"): everything a compounded LDN label carries."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, Table, TableStyle

from intake.documents.common import (
    COMPOUNDED_NOTICE,
    LABEL_WARNINGS,
    barcode,
    escape,
    medication_name,
    render,
    spacer,
    styles,
)
from intake.models import CompoundingRecord, Prescription

LABEL_SIZE = (4 * inch, 4 * inch)


def prescription_label_pdf(
    *, prescription: Prescription, record: CompoundingRecord, fill_number: int | None = None,
    refills_left: int | None = None,
) -> bytes:  # fmt: skip
    """A 4 x 4 inch label for the batch `record` of `prescription`: by default its current fill;
    a past fill's label gives its number and the refills that were left when it was filled."""
    style = styles(7.2)
    fill_number = prescription.fill_number if fill_number is None else fill_number
    refills_left = prescription.refills_left if refills_left is None else refills_left
    patient = prescription.patient
    prescriber = prescription.prescriber
    form = record.master_formulation.dosage_form
    filled_on = timezone.localtime(record.compounded_at).date()
    steps = list(prescription.titration_steps.all())
    story = [
        Paragraph(escape(settings.PHARMACY_NAME), style["title"]),
        Paragraph(f"{escape(settings.PHARMACY_ADDRESS)} · {escape(settings.PHARMACY_PHONE)}", style["small"]),
        spacer(3),
        Table(
            [
                [
                    Paragraph(f"<b>Rx</b> {escape(prescription.reference)}", style["body"]),
                    Paragraph(f"<b>Date</b> {filled_on:%m/%d/%Y}", style["body"]),
                ]
            ],
            colWidths=[2.1 * inch, 1.5 * inch],
            style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]),
        ),  # fmt: skip
        Paragraph(f"<b>Patient</b> {escape(patient.full_name)} (born {patient.date_of_birth:%m/%d/%Y})", style["body"]),
        Paragraph(f"<b>Prescriber</b> {escape(prescriber.display_name)}", style["body"]),
        spacer(2),
        Paragraph(escape(medication_name(prescription)).upper(), style["notice"]),
        Paragraph(
            f"<b>Dosage form</b> {escape(form.name)}  <b>Qty</b> {prescription.quantity} "
            f"{escape(form.quantity_unit)}  <b>Fill</b> {fill_number} · refills left {refills_left}",
            style["body"],
        ),  # fmt: skip
        Paragraph(f"<b>Directions</b> {escape(prescription.directions)}", style["body"]),
    ]
    if steps:
        schedule = " → ".join(f"{step.strength_mg.normalize():f} mg × {step.days} days" for step in steps)
        story.append(Paragraph(f"<b>Titration</b> {escape(schedule)}, then "
                               f"{prescription.strength_mg.normalize():f} mg", style["body"]))  # fmt: skip
    story += [
        Paragraph(
            f"<b>Use by (BUD)</b> {record.beyond_use_date:%m/%d/%Y}  <b>Storage</b> {escape(record.storage)}",
            style["body"],
        ),  # fmt: skip
        Paragraph(f"<b>Batch</b> {record.pk} · {escape(record.master_formulation.name)}", style["small"]),
        spacer(2),
        Paragraph(COMPOUNDED_NOTICE, style["notice"]),
        *[Paragraph(f"⚠ {escape(line)}", style["small"]) for line in LABEL_WARNINGS],
        spacer(3),
        barcode(prescription.reference, bar_height=0.32 * inch, bar_width=0.85),
    ]
    return render(story, pagesize=LABEL_SIZE, margin=0.15 * inch,
                  title=f"Label {prescription.reference}")  # fmt: skip
