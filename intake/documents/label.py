"""The prescription labels, one 4 x 4 inch page per container: a titration kit
has a label per strength with the days it covers; a liquid's directions are in mL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.dates import format_date
from django.conf import settings
from django.utils import timezone
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, KeepInFrame, PageBreak, Paragraph, Table, TableStyle

from accounts.models import User
from intake.clinical.dispensing import CAPSULE, LabelWords, Phrasing, label_phrasing
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
from intake.when import babel_locale

LABEL_SIZE = (4 * inch, 4 * inch)
MARGIN = 0.15 * inch
# The label's own words in English; another language's are its phrasing's `label`.
ENGLISH_WORDS = LabelWords(
    filled="Filled", patient="Patient", born="born {date}", prescriber="Prescriber",
    container="Container {number} of {count}", container_days="days {first}-{last}", quantity="Qty",
    fill="Fill {number} · refills left {refills}", use_by="Use by (BUD)", storage="Storage", lot="Lot",
    batch="Batch", pharmacist="RPh", made_by="made by", rx_only=RX_ONLY,
)  # fmt: skip


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
    # A patient who reads Spanish gets the label's words in Spanish (directions, warnings, headings,
    # storage), the English directions and storage under them for the pharmacist's check; the drug,
    # strength and numbers stay as written.
    phrasing = label_phrasing(patient.language)
    words = phrasing.label if phrasing else ENGLISH_WORDS
    locale = babel_locale(patient.language) if phrasing else None
    filled_on = timezone.localtime(record.compounded_at).date()
    if phrasing:
        form = phrasing.dosage_forms[prescription.dosage_form]
    else:
        form = prescription.get_dosage_form_display().lower()
        form = f"{form}s" if container.strength_mg is not None else form
    if container.strength_mg is not None:
        drug = f"Naltrexone HCl {_mg(container.strength_mg)} mg {form}"
    else:
        drug = f"Naltrexone HCl {_mg(container.concentration)} mg/{container.unit} {form}"
    # A fill taken from an anticipatory batch carries the batch's lots and number.
    lots: list[BatchLot | IngredientLot] = (
        [*record.batch.lots.all()] if record.batch_id and record.batch else [*details.lots]
    )
    naltrexone_lots = [lot.lot for lot in lots if is_naltrexone(lot.ingredient)] or [lot.lot for lot in lots]
    batch_number = record.batch.number if record.batch_id and record.batch else str(record.pk)
    checker = record.checked_by if record.checked_by_id else None
    patient_directions = list(details.patient_directions) if phrasing else list(details.directions)
    english_directions = list(details.directions) if phrasing else []
    compounded = phrasing.compounded_notice if phrasing else COMPOUNDED_NOTICE
    auxiliary = phrasing.auxiliary_warning if phrasing else AUXILIARY_WARNING
    warnings = phrasing.warnings if phrasing else LABEL_WARNINGS
    storage = (phrasing.storage_words(record.storage) if phrasing else None) or record.storage
    english_storage = [record.storage] if storage != record.storage else []
    quantity = f"{container.quantity} {_unit(container.unit, container.quantity, phrasing)}"
    return [
        Paragraph(escape(settings.PHARMACY_NAME), style["title"]),
        Paragraph(f"{escape(settings.PHARMACY_ADDRESS)} · {escape(settings.PHARMACY_PHONE)}", style["small"]),
        spacer(2),
        Table(
            [
                [
                    Paragraph(f"<b>Rx</b> {escape(prescription.reference)}", style["body"]),
                    Paragraph(f"<b>{escape(words.filled)}</b> {_date(filled_on, locale)}", style["body"]),
                ]
            ],
            colWidths=[2.1 * inch, 1.5 * inch],
            style=TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]),
        ),  # fmt: skip
        Paragraph(
            f"<b>{escape(words.patient)}</b> {escape(patient.full_name)} "
            f"({escape(words.born.format(date=_date(patient.date_of_birth, locale)))})",
            style["body"],
        ),  # fmt: skip
        Paragraph(f"<b>{escape(words.prescriber)}</b> {escape(prescription.prescriber.display_name)}", style["body"]),
        spacer(2),
        Paragraph(escape(drug).upper(), style["notice"]),
        Paragraph(
            f"<b>{escape(words.container.format(number=container.number, count=count))}</b> · "
            f"{escape(words.container_days.format(first=container.first_day, last=container.last_day))} · "
            f"<b>{escape(words.quantity)}</b> {escape(quantity)}",
            style["body"],
        ),  # fmt: skip
        *[Paragraph(f"<b>{escape(line)}</b>", style["body"]) for line in patient_directions],
        *[Paragraph(f"English: {escape(line)}", style["small"]) for line in english_directions],
        Paragraph(escape(words.fill.format(number=fill_number, refills=refills_left)), style["small"]),
        Paragraph(
            f"<b>{escape(words.use_by)}</b> {_date(record.beyond_use_date, locale)} · "
            f"<b>{escape(words.storage)}</b> {escape(storage)}",
            style["body"],
        ),  # fmt: skip
        *[Paragraph(f"English: {escape(line)}", style["small"]) for line in english_storage],
        Paragraph(
            f"<b>{escape(words.lot)}</b> {escape(', '.join(naltrexone_lots) or '-')} · <b>{escape(words.batch)}</b> "
            f"{escape(batch_number)} · <b>{escape(words.pharmacist)}</b> {escape(initials(checker))} · "
            f"{escape(words.made_by)} {escape(initials(record.compounded_by))}",
            style["small"],
        ),  # fmt: skip
        spacer(2),
        Paragraph(f"{escape(words.rx_only)} · {escape(compounded)}", style["notice"]),
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


def _date(day: date, locale: str | None) -> str:
    """English labels write dates as US prescription labels do (MM/DD/YYYY: it fits the small label;
    USP <795> asks only that the beyond-use date be on it). US Spanish reads 12/01 as the 12th of
    January (CLDR's es_US writes the day first): its label names the month ("1 dic 2026")."""
    return f"{day:%m/%d/%Y}" if locale is None else format_date(day, "medium", locale=locale)


def _unit(unit: str, quantity: int, phrasing: Phrasing | None) -> str:
    if unit != CAPSULE:
        return unit
    if phrasing:
        return phrasing.capsule_one if quantity == 1 else phrasing.capsule_other
    return f"capsule{'s' if quantity != 1 else ''}"
