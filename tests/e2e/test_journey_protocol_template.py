"""In a browser: a prescriber applies their protocol template on the new-prescription form, adds
the patient, signs and sends; the prescription is the template's medication, signed by them."""

from decimal import Decimal

import pytest

from accounts.models import Role
from intake.models import Prescription
from intake.services.prescriptions import PrescribedContent, Step
from intake.services.protocols import protocol_template_save
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

KIT = PrescribedContent(
    dosage_form="capsule",
    strength_mg=Decimal("4.5"),
    directions="Take 1 capsule by mouth at bedtime: 1.5 mg for 14 days, then 3 mg for 14 days, then 4.5 mg.",
    quantity=90,
    days_supply=90,
    refills=3,
    indication="",
    titration=(Step(Decimal("1.5"), 14), Step(Decimal("3"), 14)),
)


@pytest.fixture
def grace(db):
    user = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    prescriber = PrescriberFactory(user=user)
    protocol_template_save(prescriber=prescriber, name="LDN 1.5→3→4.5 mg capsules, 90 days", content=KIT)
    return prescriber


def fill_patient(page) -> None:
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Date of birth").fill("1980-02-29")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Email").fill("ada@example.com")
    page.locator("#id_patient-address_line1").fill("1 Main St")
    page.get_by_label("City").fill("Austin")
    page.locator("#id_patient-state").select_option("TX")
    page.get_by_label("ZIP code").fill("78701")


def test_a_prescriber_applies_a_template_signs_and_sends(page, grace):
    sign_in(page, "grace@example.test", PASSWORD)
    page.goto("/prescriber/prescriptions/new/")

    # when the prescriber applies the template
    page.get_by_label("Template", exact=True).select_option(label="LDN 1.5→3→4.5 mg capsules, 90 days")
    page.get_by_role("button", name="Apply template").click()
    page.get_by_text("Template applied.").wait_for()

    # then the medication is filled, the titration as rows, and nothing is signed
    assert page.locator("#id_rx-dosage_form").input_value() == "capsule"
    assert page.locator("#id_rx-strength_mg").input_value() == "4.50"
    assert page.locator("#id_rx-quantity").input_value() == "90"
    assert page.locator("#id_rx-days_supply").input_value() == "90"
    assert page.locator("#id_rx-refills").input_value() == "3"
    assert page.locator(".titration-row").count() == 2
    assert page.locator("#id_titration-0-strength_mg").input_value() == "1.50"
    assert page.locator("#id_titration-1-days").input_value() == "14"
    assert page.locator("#id_sign-signature_name").input_value() == ""
    assert not page.locator("#id_sign-signature_attestation").is_checked()
    assert_accessible(page, "new prescription form, template applied")

    # when they add the patient, sign and send
    fill_patient(page)
    page.get_by_label("Indication").fill("fibromyalgia")
    page.get_by_label("Type your full name to sign").fill("Grace Hopper")
    page.get_by_label("I am the prescriber named above", exact=False).check()
    screenshot(page, "prescriber-template-applied")
    page.get_by_role("button", name="Sign and send to the pharmacy").click()
    page.get_by_role("heading", name="Prescription received").wait_for()

    # then the prescription sent is the template's medication, signed by the prescriber
    sent = Prescription.objects.get()
    assert sent.prescriber == grace
    assert (sent.dosage_form, sent.strength_mg, sent.quantity, sent.days_supply, sent.refills) == (
        "capsule", Decimal("4.50"), 90, 90, 3)  # fmt: skip
    assert sent.directions == KIT.directions
    assert [(s.strength_mg, s.days) for s in sent.titration_steps.all()] == [
        (Decimal("1.50"), 14), (Decimal("3.00"), 14)]  # fmt: skip
    assert sent.signature_name == "Grace Hopper"
    assert sent.patient.last_name == "Lovelace"
