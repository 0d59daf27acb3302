"""In a browser: a patient in a state where the pharmacy holds no licence (and where the prescriber
holds none either). The pharmacist sees both licence flags and approves with a reason for each (the
patient will collect it); shipping is refused with the reason on the page, and the pickup completes."""

import pytest

from accounts.models import Role
from intake.models import Prescription, PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory, clean_answers, make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANCHORAGE = {"address_line1": "632 W 6th Ave", "city": "Anchorage", "state": "AK", "postal_code": "99501"}


def test_no_licence_in_alaska_approved_for_pickup_refused_for_shipping(page):
    prescriber = PrescriberFactory(user=UserFactory(role=Role.PRESCRIBER))  # licensed in TX only
    pharmacist = UserFactory(email="paula@example.test", role=Role.PHARMACIST)
    technician = UserFactory(email="tom@example.test", role=Role.TECHNICIAN)
    prescription = make_prescription(prescriber, titration=(), patient=ANCHORAGE)
    questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=prescription.patient.date_of_birth,
        answers=clean_answers(),
    )

    sign_in(page, "paula@example.test", PASSWORD)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_role("button", name="Claim for review").click()
    flags = page.locator("#flags-heading + *")
    assert "No licence for the patient's state" in flags.inner_text()
    assert "Prescriber not licensed in the patient's state" in flags.inner_text()
    assert page.get_by_text("The patient's address is in AK, and the prescriber's licences on file are for TX.").count()
    page.get_by_label("Why the “No licence for the patient's state” warning does not stop this prescription").fill(
        "Patient collects it at the counter while visiting family in Austin."
    )
    page.get_by_label(
        "Why the “Prescriber not licensed in the patient's state” warning does not stop this prescription"
    ).fill("Prescriber confirmed a current Alaska licence by phone; board lookup done.")
    assert_accessible(page, "approve with both licence reasons")
    screenshot(page, "16-licence-flags")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert Prescription.objects.get(pk=prescription.pk).status == PrescriptionStatus.APPROVED

    advance(prescription, PrescriptionStatus.READY, pharmacist=pharmacist, technician=technician)
    page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
    page.get_by_label("Carrier").fill("USPS")
    page.get_by_label("Tracking number").fill("9400111899223344556677")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_load_state()

    page.get_by_text("The pharmacy holds no valid licence in AK: it cannot ship there.").first.wait_for()
    assert_accessible(page, "shipping refused for want of a licence")
    assert Prescription.objects.get(pk=prescription.pk).status == PrescriptionStatus.READY

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Picked up: complete").click()
    page.wait_for_load_state()
    assert Prescription.objects.get(pk=prescription.pk).status == PrescriptionStatus.COMPLETED
