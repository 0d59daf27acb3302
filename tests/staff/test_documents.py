"""The labels and the worksheet, rendered and read back: text per page, and positions for the layout."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from intake.documents import compounding_worksheet_pdf, prescription_label_pdf
from intake.models import PrescriptionStatus
from intake.services.compounding import ContainerInput, compounding_record_create, latest_record
from intake.services.lots import LotInput
from intake.services.workflow import prescription_final_check
from intake.when import date_words
from tests.factories import make_prescription
from tests.pdf_layout import pages, text
from tests.workflow_helpers import advance

S = PrescriptionStatus


def ready(prescriber, pharmacist, technician, **content):
    prescription = advance(make_prescription(prescriber, **content), S.READY, pharmacist=pharmacist,
                           technician=technician)  # fmt: skip
    return prescription, latest_record(prescription)


def test_a_titration_kit_has_a_label_per_container_with_its_strength_and_days(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    labels = pages(prescription_label_pdf(prescription=prescription, record=record))

    assert len(labels) == 3
    expected = [
        ("NALTREXONE HCL 1.5 MG CAPSULES", "Container 1 of 3 · days 1-14 · Qty 14 capsules",
         "Days 1-14: take 1 capsule (1.5 mg) by mouth at bedtime."),
        ("NALTREXONE HCL 3 MG CAPSULES", "Container 2 of 3 · days 15-28 · Qty 14 capsules",
         "Days 15-28: take 1 capsule (3 mg) by mouth at bedtime."),
        ("NALTREXONE HCL 4.5 MG CAPSULES", "Container 3 of 3 · days 29-30 · Qty 2 capsules",
         "Days 29-30: take 1 capsule (4.5 mg) by mouth at bedtime."),
    ]  # fmt: skip
    for page, lines in zip(labels, expected, strict=True):
        for line in lines:
            assert line in page.text, f"{line!r} not on the label:\n{page.text}"
    # Never the maintenance strength with directions for another.
    assert "4.5 MG" not in labels[0].text


def test_every_label_carries_what_a_compounded_ldn_label_needs(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)
    naltrexone_lot = record.lots.get(ingredient__icontains="naltrexone").lot

    labels = pages(prescription_label_pdf(prescription=prescription, record=record))

    codes = [container.code for container in record.containers.order_by("number")]
    for page, code in zip(labels, codes, strict=True):
        for needed in [
            settings.PHARMACY_NAME, settings.PHARMACY_PHONE, prescription.reference, "Ada Lovelace",
            prescriber.user.get_full_name(), "Rx only", "This is a compounded drug",
            "Do not take opioid pain medicine while taking this.", f"{record.beyond_use_date:%m/%d/%Y}",
            record.storage, f"Lot {naltrexone_lot}", f"Batch {record.pk}",
            "RPh PP",  # the checking pharmacist's initials (Paula Pharmacist)
            code,
        ]:  # fmt: skip
            assert needed in page.text, f"{needed!r} missing:\n{page.text}"


def test_the_barcode_text_sits_apart_from_the_bars(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    for page, container in zip(
        pages(prescription_label_pdf(prescription=prescription, record=record)),
        record.containers.order_by("number"),
        strict=True,
    ):
        bars = page.bars()
        code = page.line_with(container.code)
        # The code's own line is below the bars and touches none of them; nothing else overlaps them.
        assert code.box.y1 <= bars.y0
        assert not any(line.box.overlaps(bars) for line in page.lines)
        # No two lines of text overlap, and everything is on the label.
        for n, line in enumerate(page.lines):
            assert line.box.within(page.box), line.text
            assert not any(line.box.overlaps(other.box) for other in page.lines[n + 1 :]), line.text


def test_a_liquid_label_gives_each_dose_in_ml(prescriber, pharmacist, technician):
    # 1 mg/mL: 21 + 42 + 9 = 72 mL for the reference titration
    prescription, record = ready(prescriber, pharmacist, technician, dosage_form="oral_liquid", quantity=72)

    labels = pages(prescription_label_pdf(prescription=prescription, record=record))

    assert len(labels) == 1  # one bottle
    label = labels[0].text
    assert "NALTREXONE HCL 1 MG/ML ORAL LIQUID" in label
    assert "Qty 72 mL" in label
    for line in ["Days 1-14: take 1.5 mL (1.5 mg) by mouth at bedtime.",
                 "Days 15-28: take 3 mL (3 mg) by mouth at bedtime.",
                 "Days 29-30: take 4.5 mL (4.5 mg) by mouth at bedtime."]:  # fmt: skip
        assert line in label


def test_a_label_is_the_same_bytes_for_the_same_batch(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    assert prescription_label_pdf(prescription=prescription, record=record) == prescription_label_pdf(
        prescription=prescription, record=record
    )


def test_a_refill_of_a_titration_is_labelled_at_the_prescribed_strength(prescriber, pharmacist, technician):
    prescription, _ = ready(prescriber, pharmacist, technician)
    prescription = advance(prescription, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    from intake.models import Fill, Requester
    from intake.services.refills import refill_request

    Fill.objects.filter(prescription=prescription).update(dispensed_at=timezone.now() - timedelta(days=25))
    refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
    refill = advance(prescription, S.READY, pharmacist=pharmacist, technician=technician)

    labels = pages(prescription_label_pdf(prescription=refill, record=latest_record(refill)))

    assert len(labels) == 1
    assert "NALTREXONE HCL 4.5 MG CAPSULES" in labels[0].text
    assert "Take 1 capsule (4.5 mg) by mouth at bedtime." in labels[0].text
    assert "Qty 30 capsules" in labels[0].text


def test_the_worksheet_shows_each_containers_calculation_and_tolerance(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician)

    sheet = text(compounding_worksheet_pdf(prescription=prescription, record=record))

    for needed in [
        prescription.reference, "NTX-24001", "MCC-7781", "Medisca", str(technician), str(pharmacist),
        date_words(record.beyond_use_date), "titration kit of",
        "Container 1 of 3: 1.5 mg capsules, days 1-14, 14 capsules",
        # 1.5 mg x 14 x salt factor 1 x 1.02 (the demo formulation's 2% overage)
        "21.42 mg", "19.28-23.56 mg",
        "Container 3 of 3: 4.5 mg capsules, days 29-30, 2 capsules", "9.18 mg",
        "180-220 mg",  # 200 mg capsule fill ± 10%
        "Allowed (±10%)", "USP <795>",
        "________ mg",  # the space for the weights measured
    ]:  # fmt: skip
        assert needed in sheet, f"{needed!r} missing"


def test_the_worksheet_of_a_liquid_shows_concentration_volume_and_doses(prescriber, pharmacist, technician):
    prescription, record = ready(prescriber, pharmacist, technician, dosage_form="oral_liquid", quantity=72)

    sheet = text(compounding_worksheet_pdf(prescription=prescription, record=record))

    for needed in ["1 mg/mL, days 1-30, 72 mL", "1 mg/mL x 72 mL", "72 mg", "q.s. to the total",
                   "Dose (mL)", "1.5", "4.5"]:  # fmt: skip
        assert needed in sheet, f"{needed!r} missing"


@pytest.fixture
def weighed(prescriber, pharmacist, technician, second_pharmacist):
    prescription = advance(make_prescription(prescriber), S.COMPOUNDING, pharmacist=pharmacist, technician=technician)
    today = timezone.localdate()
    compounding_record_create(
        prescription_id=prescription.pk, actor=technician, quantity_made=30,
        lots=[LotInput("Naltrexone HCl USP", "NTX-5", today + timedelta(days=300))],
        containers=[ContainerInput(14, Decimal("21.4"), (Decimal("199.5"), Decimal("203"))), ContainerInput(14),
                    ContainerInput(2)],
    )  # fmt: skip
    prescription_final_check(prescription_id=prescription.pk, actor=second_pharmacist)
    return prescription


def test_the_worksheet_shows_the_weights_recorded(weighed):
    sheet = text(compounding_worksheet_pdf(prescription=weighed, record=latest_record(weighed)))

    assert "21.4 mg" in sheet
    assert "199.5, 203 mg" in sheet
    assert "Peter Checker" in sheet  # the final check


def test_the_label_names_the_checker_not_the_compounder_as_pharmacist(weighed):
    label = pages(prescription_label_pdf(prescription=weighed, record=latest_record(weighed)))[0].text

    assert "RPh PC" in label  # Peter Checker
    assert "made by TT" in label  # Tom Technician
