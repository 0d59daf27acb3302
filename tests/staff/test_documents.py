from django.conf import settings

from intake.documents import compounding_worksheet_pdf, prescription_label_pdf
from intake.models import PrescriptionStatus
from intake.services.compounding import latest_record
from tests.factories import make_prescription
from tests.workflow_helpers import advance


def ready(prescriber, pharmacist, technician):
    prescription = advance(make_prescription(prescriber), PrescriptionStatus.READY, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip
    return prescription, latest_record(prescription)


def test_label_carries_what_clinical_md_lists(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    pdf = prescription_label_pdf(prescription=prescription, record=record)

    assert pdf.startswith(b"%PDF")
    for text in [
        prescription.reference,  # prescription number (and the barcode's human-readable line)
        "Ada Lovelace",  # patient
        prescriber.user.get_full_name(),  # prescriber
        settings.PHARMACY_NAME,
        settings.PHARMACY_PHONE,
        "NALTREXONE HCL 4.5 MG CAPSULE",  # drug, strength, dosage form
        "Take 1 capsule by mouth at bedtime",  # directions
        "30 capsules",  # quantity
        f"{record.beyond_use_date:%m/%d/%Y}",  # BUD
        record.storage,
        "COMPOUNDED PREPARATION",
        "Do not take with opioid pain medicine",
    ]:
        assert text.encode() in pdf, text


def test_label_has_a_code128_barcode(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    pdf = prescription_label_pdf(prescription=prescription, record=record)

    # The bars are filled rectangles drawn in the page stream ("re" operators), many of them.
    assert pdf.count(b" re f") > 20 or pdf.count(b"re\nf") > 20 or pdf.count(b" re") > 20


def test_label_is_the_same_bytes_for_the_same_batch(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    assert prescription_label_pdf(prescription=prescription, record=record) == prescription_label_pdf(
        prescription=prescription, record=record
    )


def test_worksheet_records_lots_people_and_bud(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    pdf = compounding_worksheet_pdf(prescription=prescription, record=record)

    assert pdf.startswith(b"%PDF")
    for text in [prescription.reference, "NTX-24001", "MCC-7781", "Medisca", str(technician), str(pharmacist),
                 "immediate-release capsules", f"{record.beyond_use_date:%m/%d/%Y}"]:  # fmt: skip
        assert text.encode() in pdf, text
