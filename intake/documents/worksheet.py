"""The compounding worksheet: the batch's record (USP <795> compounding record) on paper."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, Table, TableStyle

from intake.clinical.beyond_use import bud_rules
from intake.documents.common import COMPOUNDED_NOTICE, barcode, escape, medication_name, render, spacer, styles
from intake.models import CompoundingRecord, Prescription

GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])  # fmt: skip


def _person(user: object | None) -> str:
    return escape(str(user)) if user is not None else "________________________"


def compounding_worksheet_pdf(*, prescription: Prescription, record: CompoundingRecord, fill_label: str = "") -> bytes:
    """The batch `record`; `fill_label` ("Refill 1 of 3") says which fill of the prescription it was made for."""
    style = styles(9.5)
    fill_number = record.fill.number if record.fill_id and record.fill else prescription.fill_number
    formulation = record.master_formulation
    form = formulation.dosage_form
    rule = bud_rules().get(record.bud_rule)
    compounded = timezone.localtime(record.compounded_at)
    checked = timezone.localtime(record.checked_at) if record.checked_at else None

    def cell(text: object) -> Paragraph:
        return Paragraph(escape(text), style["small"])

    story = [
        Paragraph(f"Compounding worksheet · {escape(settings.PHARMACY_NAME)}", style["title"]),
        Paragraph(f"{escape(settings.PHARMACY_ADDRESS)} · {escape(settings.PHARMACY_PHONE)}", style["small"]),
        spacer(6),
        barcode(prescription.reference, bar_height=0.45 * inch, bar_width=1.1),
        spacer(4),
        Table(
            [
                [cell("Prescription"), cell(prescription.reference), cell("Batch"), cell(record.pk)],
                [
                    cell("Fill"),
                    cell(f"{fill_number}{f' ({fill_label})' if fill_label else ''}"),
                    cell("Refills"),
                    cell(f"{prescription.refills} authorised"),
                ],
                [
                    cell("Patient"),
                    cell(f"{prescription.patient.full_name}, born {prescription.patient.date_of_birth:%m/%d/%Y}"),
                    cell("Prescriber"),
                    cell(prescription.prescriber.display_name),
                ],
                [
                    cell("Preparation"),
                    cell(medication_name(prescription)),
                    cell("Quantity made"),
                    cell(f"{record.quantity_made} {form.quantity_unit}"),
                ],
                [
                    cell("Compounded"),
                    cell(f"{compounded:%m/%d/%Y %H:%M} by {record.compounded_by}"),
                    cell("Beyond-use date"),
                    cell(f"{record.beyond_use_date:%m/%d/%Y}"),
                ],
                [
                    cell("BUD rule"),
                    cell(rule.description if rule else record.bud_rule),
                    cell("Storage"),
                    cell(record.storage),
                ],
            ],
            colWidths=[1.1 * inch, 2.6 * inch, 1.1 * inch, 2.3 * inch],
            style=TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]),
        ),  # fmt: skip
        Paragraph("Master formulation", style["heading"]),
        Paragraph(
            f"{escape(formulation.name)} (record {formulation.pk}); filler: "
            f"{escape(formulation.filler or 'none')}; {'aqueous' if formulation.aqueous else 'non-aqueous'}, "
            f"{'preserved' if formulation.preserved else 'no preservative'}; container: "
            f"{escape(formulation.container or '-')}",
            style["body"],
        ),  # fmt: skip
        Paragraph(f"BUD reference: {escape(formulation.bud_reference)}", style["small"]),
        Paragraph("Ingredients (formula)", style["heading"]),
        Table(
            [[cell("Ingredient"), cell("Quantity"), cell("Unit")]]
            + [
                [cell(i.get("name", "")), cell(i.get("quantity", "")), cell(i.get("unit", ""))]
                for i in formulation.ingredients
            ],
            colWidths=[4 * inch, 2 * inch, 1.1 * inch],
            style=GRID,
            repeatRows=1,
        ),  # fmt: skip
        Paragraph("Ingredient lots used", style["heading"]),
        Table(
            [[cell("Ingredient"), cell("Manufacturer"), cell("Lot"), cell("Expires"), cell("Quantity used")]]
            + [
                [
                    cell(lot.ingredient),
                    cell(lot.manufacturer or "-"),
                    cell(lot.lot),
                    cell(f"{lot.expires:%m/%d/%Y}"),
                    cell(lot.quantity_used or ""),
                ]
                for lot in record.lots.all()
            ],
            colWidths=[2.3 * inch, 1.5 * inch, 1.2 * inch, 0.9 * inch, 1.2 * inch],
            style=GRID,
            repeatRows=1,
        ),  # fmt: skip
        Paragraph("Equipment", style["heading"]),
        Paragraph(escape(formulation.equipment or "-"), style["body"]),
        Paragraph("Steps", style["heading"]),
        *[
            Paragraph(f"{n}. {escape(line)}", style["body"])
            for n, line in enumerate([s for s in formulation.steps.splitlines() if s.strip()], start=1)
        ],
        Paragraph("Quality checks done", style["heading"]),
        Paragraph(escape(record.quality_checks or "-"), style["body"]),
        Paragraph("Deviations", style["heading"]),
        Paragraph(escape(record.deviations or "None"), style["body"]),
        Paragraph("Verification", style["heading"]),
        Paragraph(f"Compounded by: {_person(record.compounded_by)}", style["body"]),
        Paragraph(
            f"Final check by: {_person(record.checked_by)}{f' on {checked:%m/%d/%Y %H:%M}' if checked else ''}",
            style["body"],
        ),  # fmt: skip
        spacer(6),
        Paragraph(f"{COMPOUNDED_NOTICE}: label copy as printed for {escape(prescription.reference)}.", style["small"]),
    ]
    return render(story, pagesize=LETTER, margin=0.6 * inch, title=f"Compounding worksheet {prescription.reference}")
