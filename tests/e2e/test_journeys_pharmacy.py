"""In a browser: the patient's questionnaire, the pharmacist's review, compounding and hand-over."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from intake.models import CompoundingRecord, Prescription, PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory, clean_answers, make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(db):
    return {
        "prescriber": PrescriberFactory(
            user=UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
        ),
        "pharmacist": UserFactory(email="paula@example.test", first_name="Paula", last_name="Pharmacist",
                                  role=Role.PHARMACIST),
        "technician": UserFactory(email="tom@example.test", first_name="Tom", last_name="Technician",
                                  role=Role.TECHNICIAN),
        "checker": UserFactory(email="peter@example.test", first_name="Peter", last_name="Checker",
                               role=Role.PHARMACIST),
    }  # fmt: skip


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def answer(page, name: str, value: str) -> None:
    page.locator(f'input[name$="{name}"][value="{value}"]').check()


def test_patient_reports_an_opioid_and_the_pharmacist_cannot_approve(browser, live_server, page, phone_page, staff):
    prescription = make_prescription(staff["prescriber"])
    patient = phone_page

    # The patient, on a phone, opens the private link and confirms the birth date.
    patient.goto(f"/questionnaire/{prescription.questionnaire_token}")
    assert "Lovelace" not in patient.content()  # nothing shows before the birth date matches
    assert_accessible(patient, "questionnaire: birth date")
    screenshot(patient, "04-patient-birth-date")
    patient.get_by_label("Your date of birth").fill("1980-02-29")
    patient.get_by_role("button", name="Continue").click()

    answer(patient, "takes_opioids", "yes")
    answer(patient, "opioid_treatment_program", "no")
    answer(patient, "liver_condition", "none")
    answer(patient, "pregnancy", "no")
    patient.get_by_label("How many alcoholic drinks").fill("1")
    for name in ("naltrexone_allergy", "thyroid_medication", "immunosuppressants", "surgery_within_14_days"):
        answer(patient, name, "no")
    patient.get_by_label("Medicine, vitamin or herb").first.fill("Norco 5/325 as needed")
    patient.get_by_label("I confirm that my answers are true").check()
    assert_accessible(patient, "questionnaire: answers")
    screenshot(patient, "05-patient-questionnaire")
    patient.get_by_role("button", name="Send my answers").click()
    patient.wait_for_load_state()
    assert_accessible(patient, "questionnaire: thanks")

    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.PENDING_REVIEW
    assert {"opioid_use"} <= {f["code"] for f in prescription.flags if f["severity"] == "hard_stop"}

    # The pharmacist sees the hard stop in the queue and on the review page, and cannot approve.
    sign_in(page, "paula@example.test", PASSWORD)
    page.goto("/pharmacy/queue/")
    row = page.get_by_role("row").filter(has_text=prescription.reference)
    assert "Opioid use" in row.inner_text()
    assert row.locator(".flag-hard_stop").count() >= 1
    assert_accessible(page, "queue")
    screenshot(page, "06-pharmacy-queue")
    row.get_by_role("link", name=prescription.reference).click()
    page.get_by_role("button", name="Claim for review").click()
    page.get_by_text("A hard stop blocks approval").wait_for()
    assert page.get_by_role("button", name="Approve").is_disabled()
    assert "Norco 5/325 as needed" in page.content()
    assert_accessible(page, "review with hard stop")
    screenshot(page, "07-review-hard-stop")

    # A request made outside the page (no CSRF token) changes nothing either.
    response = page.request.post(f"/pharmacy/prescriptions/{prescription.pk}/approve/", fail_on_status_code=False)
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.IN_REVIEW
    assert response.status in (302, 403, 409)


def test_a_clean_prescription_is_approved_compounded_checked_labelled_and_shipped(page, phone_page, staff):
    prescription = make_prescription(staff["prescriber"], titration=())
    questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=date(1980, 2, 29),
        answers=clean_answers(thyroid_medication=True),
    )

    # The pharmacist approves with a written reason for the thyroid warning.
    sign_in(page, "paula@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_role("button", name="Claim for review").click()
    page.get_by_label("Why the “Thyroid medication” warning does not stop this prescription").fill(
        "Prescriber monitors TSH; patient told to report palpitations."
    )
    screenshot(page, "08-approve-with-reason")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("button", name="Start compounding").click()
    page.get_by_role("link", name="Record compounding").click()

    assert page.get_by_label("Quantity made").input_value() == "30"  # the plan's one container
    page.get_by_label("Naltrexone HCl weighed (mg)").fill("137.5")  # 4.5 mg x 30 x 1.02 = 137.7 mg
    # One row per ingredient of the master formulation: naltrexone, then the filler.
    lots = [("Medisca", "NTX-2291", 400), ("JRS Pharma", "MCC-0042", 300)]
    for row, (manufacturer, lot, days) in enumerate(lots):
        page.get_by_label("Manufacturer").nth(row).fill(manufacturer)
        page.get_by_label("Lot number").nth(row).fill(lot)
        page.get_by_label("Expires").nth(row).fill((timezone.localdate() + timedelta(days=days)).isoformat())
    assert_accessible(page, "compounding record")
    screenshot(page, "09-compounding-record")
    page.get_by_role("button", name="Record compounding").click()
    page.wait_for_load_state()

    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.FINAL_CHECK
    assert prescription.beyond_use_date == timezone.localdate() + timedelta(days=180)

    # The pharmacist who compounded may not check it; a second pharmacist does.
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_text("another pharmacist must do its final check").wait_for()
    sign_out(page)
    sign_in(page, "peter@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/final-check/")
    for box in page.get_by_role("checkbox").all():
        box.check()
    code = CompoundingRecord.objects.get(prescription=prescription).containers.get().code
    page.get_by_label("Scan container 1").fill(code)
    page.get_by_role("button", name="Final check passed").click()
    page.wait_for_load_state()
    label = page.request.get(f"/pharmacy/prescriptions/{prescription.pk}/label.pdf")
    assert label.status == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")

    page.get_by_label("Carrier").fill("USPS")
    page.get_by_label("Tracking number").fill("9400111899223100000000")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_load_state()
    assert_accessible(page, "shipped prescription")
    screenshot(page, "10-shipped")
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.SHIPPED
    page.goto("/pharmacy/dashboard/")
    page.get_by_role("heading", name="Prescriptions per status").first.wait_for()
    assert_accessible(page, "dashboard")
    screenshot(page, "12-dashboard")

    # The patient sees "shipped" and the tracking link, and nothing clinical.
    phone_page.goto("/status/")
    phone_page.get_by_label("Order number").fill(prescription.reference)
    phone_page.get_by_label("Your date of birth").fill("1980-02-29")
    phone_page.get_by_role("button", name="Check my order").click()
    phone_page.get_by_text("9400111899223100000000").wait_for()
    content = phone_page.content()
    assert "hipped" in content
    assert phone_page.get_by_role("link", name="Track your package").count() == 1
    for clinical in ("naltrexone", "Naltrexone", "4.5 mg", "fibromyalgia", "thyroid"):
        assert clinical not in content
    assert_accessible(phone_page, "patient status")
    screenshot(phone_page, "11-patient-status-shipped")


def test_label_and_worksheet_are_pdfs_for_staff_only(page, staff):
    prescription = advance(
        make_prescription(staff["prescriber"]), "ready", pharmacist=staff["pharmacist"], technician=staff["technician"]
    )
    sign_in(page, "grace@example.test", PASSWORD)

    refused = page.request.get(f"/pharmacy/prescriptions/{prescription.pk}/label.pdf", fail_on_status_code=False)

    assert refused.status == 403
    assert Prescription.objects.get(pk=prescription.pk).status == PrescriptionStatus.READY


def test_the_pharmacist_verifies_an_old_opioid_line_on_the_review_page_and_approves(page, staff):
    prescription = make_prescription(staff["prescriber"])
    questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=date(1980, 2, 29),
        answers=clean_answers(current_medications=["oxycodone 10 mg last year after surgery"]),
    )

    sign_in(page, "paula@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_role("button", name="Claim for review").click()
    page.get_by_text("A hard stop blocks approval until it is verified").wait_for()
    assert page.get_by_role("button", name="Approve").is_disabled()

    # The pharmacist checks the state PDMP and records how, with a note a colleague can act on.
    page.get_by_text("Verify this flag").click()
    page.get_by_label("How you checked it").select_option("pdmp_reviewed")
    page.get_by_label("What you checked and what it showed").fill(
        "PDMP report today: last oxycodone fill eleven months ago, none since."
    )
    assert_accessible(page, "review with a verify form")
    page.get_by_role("button", name="Record verification").click()
    page.get_by_text("The flag “Opioid use” is verified.").wait_for()
    assert "Verified by Paula Pharmacist" in page.locator(".verification").inner_text()
    assert_accessible(page, "review with a verified flag")
    screenshot(page, "07b-review-verified")

    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    prescription.refresh_from_db()
    assert prescription.status == PrescriptionStatus.APPROVED
    (stop,) = [flag for flag in prescription.flags if flag["code"] == "opioid_use"]
    assert stop["verification"]["method"] == "pdmp_reviewed"
