"""The compounding worksheet: the batch's record (USP <795> compounding record) on paper."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from intake.clinical.beyond_use import bud_rules
from intake.clinical.dispensing import CAPSULE, dispensing_rules
from intake.clinical.dosing import format_mg
from intake.documents.common import COMPOUNDED_NOTICE, barcode, escape, medication_name, render, spacer, styles
from intake.models import BatchLot, CompoundingRecord, IngredientLot, Prescription
from intake.services.dispensing import ContainerDetails, recorded_containers, titrates_this_fill
from intake.when import date_words, datetime_words

GRID = TableStyle([
    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])  # fmt: skip


def _person(user: object | None) -> str:
    return escape(str(user)) if user is not None else "________________________"


def compounding_worksheet_pdf(
    *, prescription: Prescription, record: CompoundingRecord, fill_label: str = "",
    containers: Sequence[ContainerDetails] | None = None,
) -> bytes:  # fmt: skip
    """The batch `record`; `fill_label` ("Refill 1 of 3") says which fill of the prescription it was made for."""
    style = styles(9.5)
    shown = list(containers) if containers is not None else recorded_containers(prescription, record)
    fill_number = record.fill.number if record.fill_id and record.fill else prescription.fill_number
    formulation = record.master_formulation
    form = formulation.dosage_form
    rule = bud_rules().get(record.bud_rule)
    compounded = timezone.localtime(record.compounded_at)
    checked = timezone.localtime(record.checked_at) if record.checked_at else None
    # A fill taken from an anticipatory batch: the batch's number and lots are the fill's.
    batch = record.batch if record.batch_id else None
    batch_shown = f"{batch.number} (fill record {record.pk})" if batch else record.pk
    lots: list[BatchLot | IngredientLot] = [*batch.lots.all()] if batch else [*record.lots.all()]

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
                [cell("Prescription"), cell(prescription.reference), cell("Batch"), cell(batch_shown)],
                [
                    cell("Fill"),
                    cell(f"{fill_number}{f' ({fill_label})' if fill_label else ''}"),
                    cell("Refills"),
                    cell(f"{prescription.refills} authorised"),
                ],
                [
                    cell("Patient"),
                    cell(f"{prescription.patient.full_name}, born {date_words(prescription.patient.date_of_birth)}"),
                    cell("Prescriber"),
                    cell(prescription.prescriber.display_name),
                ],
                [
                    cell("Preparation"),
                    cell(_preparation(prescription, shown)),
                    cell("Quantity made"),
                    cell(f"{record.quantity_made} {form.quantity_unit}"),
                ],
                [
                    cell("Compounded"),
                    cell(f"{datetime_words(compounded)} by {record.compounded_by}"),
                    cell("Beyond-use date"),
                    cell(date_words(record.beyond_use_date)),
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
        Paragraph("Dispense plan and calculation", style["heading"]),
        Paragraph(escape(_plan_line(prescription, fill_number, shown)), style["body"]),
        *[flowable for details in shown for flowable in _container_section(details, len(shown), cell, style)],
        Paragraph(f"Tolerance: {escape(dispensing_rules().weight_tolerance_reference)}", style["small"]),
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
        Paragraph(
            f"Ingredient lots used (taken from batch {escape(batch.number)})" if batch else "Ingredient lots used",
            style["heading"],
        ),
        Table(
            [[cell("Ingredient"), cell("Manufacturer"), cell("Lot"), cell("Expires"), cell("Quantity used")]]
            + [
                [
                    cell(lot.ingredient),
                    cell(lot.manufacturer or "-"),
                    cell(lot.lot),
                    cell(date_words(lot.expires)),
                    cell(lot.quantity_used or ""),
                ]
                for lot in lots
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
            f"Final check by: {_person(record.checked_by)}{f' on {datetime_words(checked)}' if checked else ''}",
            style["body"],
        ),  # fmt: skip
        spacer(6),
        Paragraph(
            f"{COMPOUNDED_NOTICE}: label copies as printed for {escape(prescription.reference)}, one per container.",
            style["small"],
        ),  # fmt: skip
    ]
    return render(story, pagesize=LETTER, margin=0.6 * inch, title=f"Compounding worksheet {prescription.reference}")


BLANK = "________"


def _plan_line(prescription: Prescription, fill_number: int, shown: Sequence[ContainerDetails]) -> str:
    count = len(shown)
    what = f"{count} container{'s' if count != 1 else ''}: " + "; ".join(
        f"{details.number}. {details.title}, {_count(details)}" for details in shown
    )
    steps = prescription.titration_steps.all()
    if steps and fill_number > 1:
        titrated = titrates_this_fill(prescription, fill_number)
        what += (
            " (a refill: the titration again, as the prescription asks)"
            if titrated
            else " (a refill: the prescribed strength only; the titration was the first fill's)"
        )
    return what


def _container_section(details: ContainerDetails, count: int, cell: Any, style: Any) -> list[Flowable]:
    container, calc = details.container, details.calc
    low, high = calc.naltrexone_range
    overage = f"(1 + {format_mg(details.overage_percent)}% overage)"
    salt = f"salt factor {format_mg(details.salt_factor)}"
    weighed = _measured(details.naltrexone_weighed_mg, "mg")
    rows = [[cell("Calculation"), cell("Needed"), cell(f"Allowed (±{format_mg(calc.tolerance_percent)}%)"),
             cell("Measured")]]  # fmt: skip
    if container.unit == CAPSULE and container.strength_mg is not None:
        rows.append([
            cell(f"Naltrexone HCl: {format_mg(container.strength_mg)} mg x {container.quantity} capsules x {salt} "
                 f"x {overage}"),
            cell(f"{_mg(calc.naltrexone_mg)} mg"), cell(f"{_mg(low)}-{_mg(high)} mg"), cell(weighed),
        ])  # fmt: skip
        if calc.filler_mg is not None and calc.target_fill_mg is not None:
            fill_low, fill_high = calc.allowed(calc.target_fill_mg)
            rows.append([
                cell(f"Filler: {format_mg(calc.target_fill_mg)} mg fill x {container.quantity} x {overage}, "
                     "less the naltrexone"),
                cell(f"{_mg(calc.filler_mg)} mg"), cell(""), cell(f"{BLANK} mg"),
            ])  # fmt: skip
            sampled = ", ".join(format_mg(w) for w in details.capsule_weights_mg)
            weights = f"{sampled} mg" if sampled else f"{BLANK} mg (10 capsules)"
            rows.append([
                cell("Net fill weight of each capsule sampled"), cell(f"{format_mg(calc.target_fill_mg)} mg"),
                cell(f"{_mg(fill_low)}-{_mg(fill_high)} mg"), cell(weights),
            ])  # fmt: skip
        else:
            rows.append([cell("Filler: no capsule fill weight on the master formulation"), cell("-"), cell(""),
                         cell(f"{BLANK} mg")])  # fmt: skip
    else:
        concentration = format_mg(container.concentration) if container.concentration else "?"
        rows.append([
            cell(f"Naltrexone HCl: {concentration} mg/{container.unit} x {container.quantity} {container.unit} x {salt}"
                 f" x {overage}"),
            cell(f"{_mg(calc.naltrexone_mg)} mg"), cell(f"{_mg(low)}-{_mg(high)} mg"), cell(weighed),
        ])  # fmt: skip
        rows.append([
            cell(f"Vehicle: q.s. to the total ({container.quantity} {container.unit} x {overage})"),
            cell(f"{format_mg(calc.batch_quantity)} {container.unit}"), cell(""), cell(f"{BLANK} {container.unit}"),
        ])  # fmt: skip
    section: list[Flowable] = [
        Paragraph(
            f"Container {details.number} of {count}: {escape(details.title)}, {escape(_count(details))}"
            + (f" · label {escape(details.code)}" if details.code else ""),
            style["bold"],
        ),
        Table(rows, colWidths=[3.4 * inch, 1.1 * inch, 1.3 * inch, 1.3 * inch], style=GRID),
    ]
    if container.unit != CAPSULE:
        steps = [[cell("Days"), cell("Strength"), cell(f"Dose ({container.unit})"), cell(f"Total ({container.unit})")]]
        steps += [
            [cell(f"{entry.first_day}-{entry.last_day}"), cell(f"{format_mg(entry.strength_mg)} mg"),
             cell("?" if entry.dose is None else format_mg(entry.dose)), cell(format_mg(entry.quantity))]
            for entry in container.entries
        ]  # fmt: skip
        section.append(Table(steps, colWidths=[1.2 * inch, 1.4 * inch, 1.4 * inch, 1.4 * inch], style=GRID))
    section.append(spacer(4))
    return section


def _measured(value: Decimal | None, unit: str) -> str:
    return f"{BLANK} {unit}" if value is None else f"{format_mg(value)} {unit}"


def _mg(amount: Decimal) -> str:
    return format_mg(amount.quantize(Decimal("0.01")))


def _count(details: ContainerDetails) -> str:
    quantity, unit = details.container.quantity, details.container.unit
    return f"{quantity} capsule{'s' if quantity != 1 else ''}" if unit == CAPSULE else f"{quantity} {unit}"


def _preparation(prescription: Prescription, shown: Sequence[ContainerDetails]) -> str:
    strengths = [details.container.strength_mg for details in shown if details.container.strength_mg is not None]
    if len(strengths) > 1:
        listed = ", ".join(format_mg(strength) for strength in strengths)
        return f"Naltrexone HCl capsules, titration kit of {listed} mg"
    return medication_name(prescription)
