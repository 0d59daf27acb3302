"""In a browser: dispensed as written. A titration (1.5 mg, then 3 mg, then 4.5 mg) is compounded as
three containers; the compounder may not check it; a second pharmacist ticks the checklist and scans
each container's label (read from the labels PDF, as a scanner reads the printed label)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from intake.models import CompoundingRecord, FinalCheck, Prescription, PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from tests.e2e.conftest import assert_accessible, expect_console_errors, screenshot, sign_in
from tests.e2e.test_journeys_pharmacy import sign_out, staff  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, clean_answers, make_prescription
from tests.pdf_layout import pages

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = PrescriptionStatus


def test_a_titration_kit_is_compounded_as_three_strengths_and_checked_by_a_second_pharmacist(  # noqa: PLR0915
    page,
    staff,  # noqa: F811
):
    prescription = make_prescription(staff["prescriber"])  # 1.5 mg x 14 days, 3 mg x 14 days, then 4.5 mg
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=date(1980, 2, 29),
                         answers=clean_answers())  # fmt: skip

    # The pharmacist reviews: the plan shows three strengths, never 30 capsules of one.
    sign_in(page, "paula@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_role("button", name="Claim for review").click()
    plan = page.locator("#dispense-plan")
    plan.get_by_text("First fill: the titration, one container per strength.").wait_for()
    rows = [row.inner_text() for row in plan.locator("tbody tr").all()]
    assert [row.split("\t") for row in rows] == [
        ["1–14", "1.5 mg", "14 capsules"], ["15–28", "3 mg", "14 capsules"], ["29–30", "4.5 mg", "2 capsules"],
    ]  # fmt: skip
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Start compounding").click()
    page.get_by_role("link", name="Record compounding").click()

    # Compounding: one fieldset per container, with the naltrexone to weigh worked out beforehand.
    first = page.locator("#container-1")
    first.get_by_text("21.42 mg").first.wait_for()  # 1.5 mg x 14 x 1.02 overage
    assert page.locator("#container-3 legend").inner_text() == "Container 3 of 3: 4.5 mg capsules, days 29-30"
    first.get_by_label("Naltrexone HCl weighed (mg)").fill("21.4")
    first.get_by_label("Capsule fill weights (mg)").fill("201 199 150")  # one capsule far too light
    for row, (lot, days) in enumerate([("NTX-2291", 400), ("MCC-0042", 300)]):
        page.get_by_label("Lot number").nth(row).fill(lot)
        page.get_by_label("Expires").nth(row).fill((timezone.localdate() + timedelta(days=days)).isoformat())
    assert_accessible(page, "compounding a kit")
    page.get_by_role("button", name="Record compounding").click()
    page.get_by_text("capsule 3 weighs 150 mg").wait_for()  # refused, on the field
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPOUNDING
    expect_console_errors(page, 400)
    page.locator("#container-1").get_by_label("Capsule fill weights (mg)").fill("201 199 203")
    screenshot(page, "17-compounding-kit")
    page.get_by_role("button", name="Record compounding").click()
    page.wait_for_load_state()
    assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK

    # The compounder is turned away from the check, whoever else is on duty.
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/final-check/")
    page.get_by_text("You compounded this fill: another pharmacist must do its final check.").wait_for()
    assert page.get_by_role("button", name="Final check passed").count() == 0
    expect_console_errors(page, 403)

    # The labels: one per container, each with its strength, its days and its own code under the bars.
    labels = pages(page.request.get(f"/pharmacy/prescriptions/{prescription.pk}/label.pdf").body())
    assert len(labels) == 3
    for label, strength, days in zip(labels, ["1.5", "3", "4.5"], ["1-14", "15-28", "29-30"], strict=True):
        assert f"NALTREXONE HCL {strength} MG CAPSULES" in label.text
        assert f"Days {days}: take 1 capsule ({strength} mg) by mouth at bedtime." in label.text
        assert "Rx only" in label.text and "Do not take opioid pain medicine while taking this." in label.text
    printed = [label.line_with(f"{prescription.reference}-").text for label in labels]
    record = CompoundingRecord.objects.get(prescription=prescription)
    assert printed == [container.code for container in record.containers.order_by("number")]
    sign_out(page)

    # The second pharmacist: checklist, then a scan of each container (the scanner types and presses Enter).
    sign_in(page, "peter@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/final-check/")
    for box in page.get_by_role("checkbox").all():
        box.check()
    scan = [page.get_by_label(f"Scan container {n}") for n in (1, 2, 3)]
    scan[0].press_sequentially(printed[1])  # container 2's label, picked up by mistake
    scan[0].press("Enter")
    assert scan[1].evaluate("field => field === document.activeElement")  # Enter moved on, did not submit
    scan[1].press_sequentially(printed[1])
    scan[1].press("Enter")
    scan[2].press_sequentially(printed[2])
    scan[2].press("Enter")
    page.get_by_role("button", name="Final check passed").click()
    page.get_by_text("is container 2's label, not container 1's").wait_for()
    assert not FinalCheck.objects.exists()
    expect_console_errors(page, 400)
    scan[0].fill(printed[0])
    assert_accessible(page, "final check")
    screenshot(page, "18-final-check-scans")
    page.get_by_role("button", name="Final check passed").click()
    page.get_by_text("Final check passed: ready.").wait_for()

    ready = Prescription.objects.get(pk=prescription.pk)
    assert ready.status == S.READY
    check = FinalCheck.objects.get(record__prescription=prescription)
    assert check.checked_by == staff["checker"]
    assert [item.scanned_code for item in check.items.filter(item="scan")] == printed

    # The labels once checked name the checking pharmacist.
    checked = pages(page.request.get(f"/pharmacy/prescriptions/{prescription.pk}/label.pdf").body())
    assert all("RPh PC" in label.text and "made by PP" in label.text for label in checked)
