"""In a browser: the prescriber's form chooses nothing for them, takes the patient's allergies, and
is sent once however often it is submitted; on a desktop and on a phone."""

import pytest

from accounts.models import Role
from intake.models import Prescription
from tests.e2e.conftest import assert_accessible, fill_new_prescription, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ALREADY_SENT = "This prescription was already sent: here it is."


@pytest.fixture
def grace(db):
    user = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    return PrescriberFactory(user=user)


def fill_and_sign(page) -> None:
    page.goto("/prescriber/prescriptions/new/")
    for select in ("#id_patient-sex", "#id_patient-state", "#id_rx-dosage_form"):
        assert page.locator(select).input_value() == "", select
    fill_new_prescription(page)
    page.get_by_label("The patient's allergies").fill("penicillin: rash\nsulfa")
    page.get_by_label("Type your full name to sign").fill("Grace Hopper")
    page.get_by_label("I am the prescriber named above", exact=False).check()


def test_back_and_submit_again_shows_the_prescription_already_sent(page, grace):
    sign_in(page, "grace@example.test", PASSWORD)
    fill_and_sign(page)
    assert_accessible(page, "new prescription form, allergies written")

    page.get_by_role("button", name="Sign and send to the pharmacy").click()
    page.get_by_role("heading", name="Prescription received").wait_for()
    prescription = Prescription.objects.get()
    assert prescription.prescriber_allergies == ["penicillin: rash", "sulfa"]

    page.go_back()
    page.wait_for_load_state()
    if not page.locator("#id_patient-first_name").input_value():
        # The browser fetched the form afresh rather than keep what was typed: type it again.
        fill_and_sign(page)
    page.get_by_role("button", name="Sign and send to the pharmacy").click()

    page.get_by_text(ALREADY_SENT).wait_for()
    assert Prescription.objects.count() == 1
    assert page.url.endswith(f"/prescriber/prescriptions/{prescription.pk}/")
    assert prescription.reference in page.content()
    assert_accessible(page, "prescription already sent")
    screenshot(page, "prescriber-already-sent")


def test_the_form_can_be_filled_and_sent_on_a_phone(phone_page, grace):
    page = phone_page
    sign_in(page, "grace@example.test", PASSWORD)
    fill_and_sign(page)

    # Nothing of the form lies beyond the screen's edge.
    form_width = page.evaluate("document.querySelector('main form').scrollWidth")
    assert form_width <= 390, form_width
    for field in ("#id_patient-sex", "#id_rx-allergies", "#id_sign-signature_name"):
        box = page.locator(field).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (field, box)
    assert_accessible(page, "new prescription form on a phone")
    screenshot(page, "prescriber-form-phone")

    page.get_by_role("button", name="Sign and send to the pharmacy").click()
    page.get_by_role("heading", name="Prescription received").wait_for()
    assert Prescription.objects.count() == 1
