"""In a browser: a naltrexone lot received into stock, a batch of 4.5 mg capsules made with it and
released by a second pharmacist, two prescriptions filled from the batch, then the lot recalled: the
recall reaches both patients, the one not yet handed over is made again, the other is asked to call."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from intake.models import (
    Batch,
    BatchStatus,
    CompoundingRecord,
    Notification,
    NotificationEvent,
    Prescription,
    PrescriptionStatus,
    Recall,
    RecallAffected,
    RecallOutcome,
    StockLot,
)
from intake.services.questionnaire import questionnaire_submit
from tests.e2e.conftest import assert_accessible, expect_console_errors, screenshot, sign_in
from tests.e2e.test_journeys_pharmacy import sign_out, staff  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, clean_answers, make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = PrescriptionStatus
LOT = "NTX-3107"
FILLER = "MCC-0042"


def _prescription_for(staff, first_name: str, last_name: str, born: date, email: str) -> Prescription:  # noqa: F811
    """4.5 mg capsules from the first day (no titration), the questionnaire answered cleanly."""
    prescription = make_prescription(
        staff["prescriber"],
        titration=(),
        patient={"first_name": first_name, "last_name": last_name, "date_of_birth": born, "email": email},
    )
    questionnaire_submit(token=prescription.questionnaire_token, date_of_birth=born,
                         answers=clean_answers(date_of_birth=born.isoformat()))  # fmt: skip
    return prescription


def _fill_from_the_batch(page, prescription: Prescription, batch_number: str) -> None:
    """On the compounding page, the released batch is chosen instead of compounding the fill alone."""
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_role("link", name="Fill from a released batch").click()
    offer = page.locator("#from-batch")
    offer.get_by_role("heading", name="Fill from a released batch").wait_for()
    offer.get_by_role("radio", name=f"Batch {batch_number}").check()
    page.get_by_role("button", name="Fill from the chosen batch").click()
    page.get_by_text("Filled from the batch; the fill now waits for the pharmacist's final check.").wait_for()


def _final_check(page, prescription: Prescription) -> None:
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/final-check/")
    for box in page.get_by_role("checkbox").all():
        box.check()
    code = CompoundingRecord.objects.get(prescription=prescription).containers.get().code
    page.get_by_label("Scan container 1").fill(code)
    page.get_by_role("button", name="Final check passed").click()
    page.get_by_text("Final check passed: ready.").wait_for()


def test_a_recalled_lot_reaches_both_patients_filled_from_a_batch_made_with_it(  # noqa: PLR0915
    page,
    phone_page,
    staff,  # noqa: F811
):
    today = timezone.localdate()
    lot_expires = today + timedelta(days=400)

    # 1. The pharmacist receives a naltrexone lot into stock, as printed on the supplier's label.
    sign_in(page, "paula@example.test", PASSWORD)
    page.get_by_role("link", name="Stock", exact=True).click()
    page.get_by_role("link", name="Receive a lot").click()
    page.get_by_label("Ingredient").fill("Naltrexone HCl USP")
    page.get_by_label("Manufacturer").fill("Medisca")
    page.get_by_label("Lot number").fill(LOT)
    page.get_by_label("Expires on").fill(lot_expires.isoformat())
    page.get_by_label("Unit").select_option("g")
    page.get_by_label("Quantity received").fill("25")
    assert_accessible(page, "receive a lot")
    screenshot(page, "30-stock-receive")
    page.get_by_role("button", name="Receive").click()
    page.get_by_text("25 g on hand.").wait_for()
    stock = StockLot.objects.get(lot=LOT)
    assert stock.quantity_on_hand == 25

    # 2. She makes a batch of 100 capsules of 4.5 mg with that lot and a filler lot.
    page.get_by_role("link", name="Batches", exact=True).click()
    page.get_by_role("link", name="Make a batch").click()
    page.get_by_label("Strength (mg per capsule)").fill("4.5")
    page.get_by_label("Capsules made").fill("100")
    page.get_by_label("Quality checks").fill("Weight variation of 10 capsules within limits")
    lots = [("Medisca", LOT, lot_expires, "459 mg"),  # 4.5 mg x 100 x 1.02 overage
            ("JRS Pharma", FILLER, today + timedelta(days=300), "")]  # fmt: skip
    for row, (manufacturer, lot, expires, used) in enumerate(lots):
        page.get_by_label("Manufacturer").nth(row).fill(manufacturer)
        page.get_by_label("Lot number").nth(row).fill(lot)
        page.get_by_label("Expires").nth(row).fill(expires.isoformat())
        page.get_by_label("Quantity used").nth(row).fill(used)
    assert page.get_by_label("Ingredient").nth(0).input_value() == "Naltrexone HCl USP"
    assert_accessible(page, "make a batch")
    screenshot(page, "31-batch-make")
    page.get_by_role("button", name="Record the batch").click()
    page.get_by_text("recorded: another pharmacist checks and releases it.").wait_for()
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.MADE
    assert (batch.strength_mg, batch.quantity_made, batch.units_left) == (4.5, 100, 100)

    # The maker may not release it: the page says so and offers no button.
    page.get_by_text("You made this batch: another pharmacist must check and release it.").wait_for()
    assert page.get_by_role("button", name="Release the batch").count() == 0
    assert_accessible(page, "batch made, waiting for release")
    screenshot(page, "32-batch-waiting-for-release")

    # The stock counts down by what the batch used.
    page.get_by_role("link", name="Stock", exact=True).click()
    page.get_by_role("link", name=LOT).click()
    assert page.locator("[data-on-hand]").inner_text() == "24.541 g"
    page.get_by_role("cell", name=f"Batch {batch.number}").wait_for()
    stock.refresh_from_db()
    assert str(stock.quantity_on_hand.normalize()) == "24.541"
    sign_out(page)

    # 3. A second pharmacist checks the batch's record and releases it.
    sign_in(page, "peter@example.test", PASSWORD)
    page.get_by_role("link", name="Batches", exact=True).click()
    page.get_by_role("link", name=batch.number).click()
    page.get_by_label("Release note").fill("Lots, fill weights and beyond-use date checked against the record.")
    assert_accessible(page, "batch release")
    page.get_by_role("button", name="Release the batch").click()
    page.get_by_text(f"Batch {batch.number} released: fills may take from it.").wait_for()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RELEASED
    assert batch.released_by == staff["checker"]

    # Two prescriptions of 4.5 mg capsules: Ada's reviewed and approved here, Mary's by the services.
    ada = _prescription_for(staff, "Ada", "Lovelace", date(1980, 2, 29), "ada@example.com")
    mary = _prescription_for(staff, "Mary", "Somerville", date(1975, 12, 26), "mary@example.com")
    advance(mary, S.APPROVED, pharmacist=staff["pharmacist"], technician=staff["technician"])
    page.goto(f"/pharmacy/prescriptions/{ada.pk}/")
    page.get_by_role("button", name="Claim for review").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("link", name="Fill from a released batch").wait_for()
    assert Prescription.objects.get(pk=ada.pk).status == S.APPROVED

    # Each is filled from the released batch on its compounding page.
    page.goto(f"/pharmacy/prescriptions/{ada.pk}/compounding/")
    page.locator("#from-batch").get_by_text("100 of 100 capsules left").wait_for()
    assert_accessible(page, "compounding page offering a batch")
    screenshot(page, "33-fill-from-batch")
    _fill_from_the_batch(page, ada, batch.number)
    _fill_from_the_batch(page, mary, batch.number)
    for prescription in (ada, mary):
        assert Prescription.objects.get(pk=prescription.pk).status == S.FINAL_CHECK
        record = CompoundingRecord.objects.get(prescription=prescription)
        assert (record.batch_id, record.quantity_made) == (batch.pk, 30)
    batch.refresh_from_db()
    assert batch.units_left == 40
    page.goto(f"/pharmacy/batches/{batch.pk}/")
    page.get_by_text("40 left of 100 made").wait_for()
    for prescription in (ada, mary):
        page.get_by_role("link", name=prescription.reference).wait_for()

    # Who filled them may not check them.
    page.goto(f"/pharmacy/prescriptions/{ada.pk}/final-check/")
    page.get_by_text("another pharmacist must do its final check").wait_for()
    assert page.get_by_role("button", name="Final check passed").count() == 0
    expect_console_errors(page, 403)
    sign_out(page)

    # The other pharmacist checks both; Ada's is shipped, Mary's waits on the shelf.
    sign_in(page, "paula@example.test", PASSWORD)
    _final_check(page, ada)
    page.get_by_label("Carrier").fill("USPS")
    page.get_by_label("Tracking number").fill("9400111899223100000000")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_load_state()
    _final_check(page, mary)
    assert Prescription.objects.get(pk=ada.pk).status == S.SHIPPED
    assert Prescription.objects.get(pk=mary.pk).status == S.READY

    # 4. The supplier recalls the lot: the pharmacist traces it, both fills are there, and recalls it.
    page.get_by_role("button", name="More").click()
    page.get_by_role("link", name="Lot trace").click()
    page.get_by_label("Lot number").fill(LOT.lower())  # as typed, in any case
    page.get_by_role("button", name="Trace").click()
    page.get_by_role("heading", name=f"Lot {LOT.lower()}: 2 fills").wait_for()
    for prescription in (ada, mary):
        assert batch.number in page.get_by_role("row").filter(has_text=prescription.reference).inner_text()
    page.get_by_role("link", name="Recall this lot").click()
    assert page.get_by_label("Lot number").input_value() == LOT  # as recorded, not as typed in the trace
    page.get_by_label("Lot number").fill(LOT)
    page.get_by_label("Ingredient").fill("Naltrexone HCl USP")
    page.get_by_label("Class").select_option("II")
    page.get_by_label("Reason").fill("Supplier notice: the lot failed its assay for potency.")
    assert_accessible(page, "recall a lot")
    screenshot(page, "34-recall-form")
    page.get_by_role("button", name="Open the recall").click()
    page.get_by_text(f"Lot {LOT} is quarantined; the recall reached 2 fill(s).").wait_for()

    # The recall page lists both patients with what was done for each.
    page.get_by_role("heading", name="Fills reached (2)").wait_for()
    ada_row = page.get_by_role("row").filter(has_text=ada.reference)
    mary_row = page.get_by_role("row").filter(has_text=mary.reference)
    assert "Ada Lovelace" in ada_row.inner_text()
    assert "Handed over: the patient was told to contact the pharmacy" in ada_row.inner_text()
    assert f"from batch {batch.number}" in ada_row.inner_text()
    assert ada_row.get_by_role("button", name="Mark called back").count() == 1
    assert "Mary Somerville" in mary_row.inner_text()
    assert "Not handed over: sent back to compounding" in mary_row.inner_text()
    assert "Not yet" in mary_row.inner_text()
    assert_accessible(page, "recall")
    screenshot(page, "35-recall")

    # The lot trace lists both under the recall.
    page.get_by_role("link", name="Trace the lot").click()
    page.get_by_text(f"Lot {LOT} is under recall").wait_for()
    assert page.get_by_role("link", name="Recall this lot").count() == 0
    for prescription in (ada, mary):
        page.get_by_role("row").filter(has_text=prescription.reference).wait_for()
    assert_accessible(page, "lot trace under recall")
    screenshot(page, "36-lot-trace")

    # The batch is quarantined, and the lot in stock too.
    page.get_by_role("link", name="Batches", exact=True).click()
    assert "Quarantined" in page.get_by_role("row").filter(has_text=batch.number).inner_text()
    page.get_by_role("link", name=batch.number).click()
    page.locator("h1 + .badge").filter(has_text="Quarantined").wait_for()
    page.get_by_role("link", name="Stock", exact=True).click()
    assert "Quarantined: recalled" in page.locator(f'tr[data-stock-lot="{stock.pk}"]').inner_text()
    assert_accessible(page, "stock with a quarantined lot")
    screenshot(page, "37-stock-quarantined")

    # In the database: the ready fill made again, the shipped one's patient to be contacted.
    recall = Recall.objects.get()
    assert recall.lot == LOT and recall.is_open
    assert Prescription.objects.get(pk=ada.pk).status == S.SHIPPED
    assert Prescription.objects.get(pk=mary.pk).status == S.COMPOUNDING
    outcomes = dict(RecallAffected.objects.filter(recall=recall).values_list("prescription_id", "outcome"))
    assert outcomes == {ada.pk: RecallOutcome.PATIENT_TOLD, mary.pk: RecallOutcome.REMADE}
    assert all(row.batch_id == batch.pk for row in RecallAffected.objects.filter(recall=recall))
    assert Notification.objects.filter(prescription=ada, event=NotificationEvent.RECALL_CONTACT).exists()
    assert not Notification.objects.filter(prescription=mary, event=NotificationEvent.RECALL_CONTACT).exists()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.QUARANTINED

    # Ada, on her phone, is asked to contact the pharmacy.
    phone_page.goto("/status/")
    phone_page.get_by_label("Order number").fill(ada.reference)
    phone_page.get_by_label("Your date of birth").fill("1980-02-29")
    phone_page.get_by_role("button", name="Check my order").click()
    phone_page.get_by_text("Please contact us.").wait_for()
    assert LOT not in phone_page.content()
    assert_accessible(phone_page, "patient status with a recall notice")
    screenshot(phone_page, "38-patient-recall-notice")
