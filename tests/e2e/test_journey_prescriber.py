"""In a browser: a prescriber signs in and submits a titration prescription."""

import pytest

from accounts.models import Role
from intake.models import Prescription, PrescriptionStatus
from tests.e2e.conftest import assert_accessible, fill_new_prescription, screenshot, sign_in
from tests.factories import PASSWORD, PrescriberFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_prescriber_submits_a_titration_prescription(page):
    user = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    PrescriberFactory(user=user)

    sign_in(page, "grace@example.test", PASSWORD)
    assert_accessible(page, "prescriber home")
    screenshot(page, "01-prescriber-home")

    page.get_by_role("link", name="New prescription").first.click()
    fill_new_prescription(page)
    page.get_by_label("Refills").fill("2")
    page.get_by_label("ICD-10 code").fill("M79.7")
    for index, (strength, days) in enumerate([("1.5", "14"), ("3", "14")]):
        page.get_by_role("button", name="Add a titration step").click()
        page.locator(f"#id_titration-{index}-strength_mg").fill(strength)
        page.locator(f"#id_titration-{index}-days").fill(days)
    page.get_by_label("Type your full name to sign").fill("Grace Hopper")
    page.get_by_label("I am the prescriber named above", exact=False).check()
    assert_accessible(page, "new prescription form")
    screenshot(page, "02-new-prescription")

    page.get_by_role("button", name="Sign and send to the pharmacy").click()

    page.get_by_role("heading", name="Prescription received").wait_for()
    prescription = Prescription.objects.get()
    assert prescription.status == PrescriptionStatus.AWAITING_QUESTIONNAIRE
    assert [(str(s.strength_mg), s.days) for s in prescription.titration_steps.all()] == [("1.50", 14), ("3.00", 14)]
    assert prescription.reference in page.content()
    assert f"/questionnaire/{prescription.questionnaire_token}" in page.content()
    assert_accessible(page, "submission confirmation")
    screenshot(page, "03-prescription-received")


def test_a_wrong_field_is_marked_in_the_browser(page):
    user = UserFactory(email="grace@example.test", first_name="Grace", last_name="Hopper", role=Role.PRESCRIBER)
    PrescriberFactory(user=user)
    sign_in(page, "grace@example.test", PASSWORD)

    page.goto("/prescriber/prescriptions/new/")
    page.get_by_role("button", name="Sign and send to the pharmacy").click()

    page.get_by_text("Some fields need your attention").wait_for()
    assert page.locator("[aria-invalid=true], .is-invalid").count() > 5
    assert Prescription.objects.count() == 0
    assert_accessible(page, "form with errors")
