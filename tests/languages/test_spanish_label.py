"""A Spanish-reading patient's label: every word around the drug, strength and numbers in Spanish,
the English directions and storage under them for the pharmacist's check."""

import re

import pytest
from django.utils import timezone

from intake.clinical.dispensing import label_phrasing
from intake.documents import prescription_label_pdf
from intake.documents.label import ENGLISH_WORDS
from intake.models import Language, PrescriptionStatus
from intake.services.compounding import latest_record
from tests.factories import make_prescription
from tests.pdf_layout import pages
from tests.workflow_helpers import advance

pytestmark = pytest.mark.django_db

# The English label's words and phrases a patient reads; none is left on a Spanish label outside
# the pharmacist's "English:" lines.
ENGLISH_ON_THE_LABEL = (
    "Filled", "Patient", "born", "Prescriber", "Container", "days", "Qty", "capsule", "Fill ", "refills left",
    "Use by", "BUD", "Storage", "Batch", "RPh", "made by", "Rx only", "This is a compounded drug",
    "Do not take opioid", "Keep out of the reach", "Take ", "by mouth", "at bedtime",
)  # fmt: skip


def _labels(prescriber, pharmacist, technician, **content):
    prescription = make_prescription(
        prescriber, patient={"first_name": "Lupe", "last_name": "Quintanilla", "language": Language.SPANISH},
        **content,
    )  # fmt: skip
    prescription = advance(prescription, PrescriptionStatus.READY, pharmacist=pharmacist, technician=technician)
    record = latest_record(prescription)
    return record, pages(prescription_label_pdf(prescription=prescription, record=record))


def _patient_lines(page_text: str) -> str:
    """The label without the small lines kept in English for the pharmacist."""
    return "\n".join(line for line in page_text.splitlines() if not line.startswith("English: "))


def test_a_spanish_label_has_no_english_heading_left(prescriber, pharmacist, technician):
    _record, labels = _labels(prescriber, pharmacist, technician)

    assert len(labels) == 3
    for page in labels:
        read = _patient_lines(page.text)
        left = [words for words in ENGLISH_ON_THE_LABEL if re.search(rf"\b{re.escape(words)}", read)]
        assert left == [], f"English on a Spanish label: {left}\n{page.text}"


def test_a_spanish_label_names_each_value_in_spanish(prescriber, pharmacist, technician):
    record, labels = _labels(prescriber, pharmacist, technician)
    first = " ".join(labels[0].text.split())  # a long line wraps on the label
    filled_on = timezone.localtime(record.compounded_at).date()

    for expected in [
        "NALTREXONE HCL 1.5 MG CÁPSULAS",
        "Envase 1 de 3 · días 1-14 · Cantidad 14 cápsulas",
        "Días 1-14: tome 1 cápsula (1.5 mg) por vía oral a la hora de acostarse.",
        "Paciente Lupe Quintanilla (nació el 29 feb 1980)",
        "Recetado por",
        "Surtido 1 · resurtidos restantes 3",
        "Solo con receta médica · Este es un medicamento preparado (compuesto) en farmacia",
        "No tome analgésicos opioides mientras toma este medicamento.",
        "Manténgase fuera del alcance de los niños.",
        "Lote ",
        "Farmacéutico PP",
        "preparado por TT",
    ]:
        assert expected in first, f"{expected!r} not on the label:\n{first}"
    # Day first in US Spanish: a numeric 12/01 would read as January the 12th, so the month is named.
    assert f"{record.beyond_use_date:%m/%d/%Y}" not in first
    assert f"{filled_on:%m/%d/%Y}" not in first
    assert "Usar antes de " in first


def test_the_storage_is_in_spanish_with_the_recorded_words_under_it(prescriber, pharmacist, technician):
    record, labels = _labels(prescriber, pharmacist, technician, dosage_form="oral_liquid", quantity=72)
    spanish = label_phrasing(Language.SPANISH)
    assert spanish is not None
    words = spanish.storage_words(record.storage)

    label = " ".join(labels[0].text.split())
    assert words is not None, f"no Spanish words for the storage {record.storage!r}"
    assert f"Consérvese {words}" in label
    assert f"English: {record.storage}" in label
    assert "NALTREXONE HCL 1 MG/ML LÍQUIDO ORAL" in label
    assert "Cantidad 72 mL" in label


def test_every_storage_the_formulary_and_usp_table_write_has_spanish_words():
    import json
    from pathlib import Path

    from intake.clinical.beyond_use import bud_rules

    spanish = label_phrasing(Language.SPANISH)
    assert spanish is not None
    formulary = json.loads((Path(__file__).resolve().parents[2] / "intake" / "data" / "formulary.json").read_text())
    written = {rule.storage for rule in bud_rules().values()} | {entry["storage"] for entry in _formulations(formulary)}

    assert {storage for storage in written if spanish.storage_words(storage) is None} == set()


def _formulations(formulary) -> list[dict]:
    """Every object of the formulary file that names a storage, wherever it sits."""
    if isinstance(formulary, dict):
        own = [formulary] if "storage" in formulary else []
        return own + [found for value in formulary.values() for found in _formulations(value)]
    if isinstance(formulary, list):
        return [found for value in formulary for found in _formulations(value)]
    return []


def test_the_english_label_keeps_its_words(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), PrescriptionStatus.READY, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip
    record = latest_record(prescription)

    label = pages(prescription_label_pdf(prescription=prescription, record=record))[0].text

    assert "Container 1 of 3 · days 1-14 · Qty 14 capsules" in label
    assert f"{ENGLISH_WORDS.use_by} {record.beyond_use_date:%m/%d/%Y} · Storage {record.storage}" in label
    assert "English:" not in label
