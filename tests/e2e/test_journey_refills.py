"""The repeat business in a real browser. A patient asks for a refill and, when none is
left, for a renewal that the prescriber signs; the side-effect check-in suggests morning dosing and
lands in the pharmacist's follow-up list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import Fill, FollowUp, Prescription, PrescriptionStatus, RenewalRequest
from intake.services.timers import follow_up_send
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.e2e.test_journeys_pharmacy import answer, staff  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, make_prescription
from tests.workflow_helpers import advance

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = PrescriptionStatus


def handed_over_days_ago(prescription: Prescription, days: int) -> None:
    """Given: the current fill went out `days` ago (set in the data, as the pharmacy's history would be)."""
    then = timezone.now() - timedelta(days=days)
    Fill.objects.filter(prescription=prescription, number=prescription.fill_number).update(dispensed_at=then)


def look_up(phone_page, reference: str) -> None:
    phone_page.goto("/status/")
    phone_page.get_by_label("Order number").fill(reference)
    phone_page.get_by_label("Your date of birth").fill("1980-02-29")
    phone_page.get_by_role("button", name="Check my order").click()
    phone_page.wait_for_load_state()


def test_refill_then_renewal_signed_by_the_prescriber(page, phone_page, staff):  # noqa: F811
    people = {"pharmacist": staff["pharmacist"], "technician": staff["technician"]}
    prescription = advance(make_prescription(staff["prescriber"], refills=1), S.COMPLETED, **people)
    handed_over_days_ago(prescription, 25)  # a 30-day supply: 75% has passed after 23 days

    # The patient asks for the refill from the status page.
    look_up(phone_page, prescription.reference)
    phone_page.get_by_text("1 of 1 refill left").wait_for()
    assert_accessible(phone_page, "status with a refill left")
    screenshot(phone_page, "13-patient-refill")
    phone_page.get_by_role("button", name="Ask for a refill").click()
    phone_page.wait_for_load_state()
    prescription.refresh_from_db()
    assert (prescription.status, prescription.fill_number, prescription.refills_left) == (
        S.AWAITING_QUESTIONNAIRE, 2, 0
    )  # fmt: skip

    # First the short re-screen, at the new link this browser lands on: four questions.
    phone_page.get_by_text("Before every refill we ask four questions again").wait_for()
    assert_accessible(phone_page, "refill re-screen")
    screenshot(phone_page, "13b-patient-rescreen")
    answer(phone_page, "takes_opioids", "no")
    answer(phone_page, "liver_condition", "none")
    answer(phone_page, "pregnancy", "no")
    phone_page.get_by_label("I confirm that my answers are true").check()
    phone_page.get_by_role("button", name="Send my answers").click()
    phone_page.wait_for_load_state()
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW

    # Fill 2 goes through the pharmacy like the first; then no refill is left.
    prescription = advance(prescription, S.COMPLETED, **people)
    handed_over_days_ago(prescription, 25)
    look_up(phone_page, prescription.reference)
    phone_page.get_by_text("No refills are left").wait_for()
    phone_page.get_by_role("button", name="Ask your prescriber to renew").click()
    phone_page.get_by_text("waiting for your prescriber").wait_for()
    assert_accessible(phone_page, "status with a renewal asked")
    renewal = RenewalRequest.objects.get(prescription=prescription)

    # The prescriber finds the request on their home page and signs the renewal.
    sign_in(page, "grace@example.test", PASSWORD)
    page.get_by_role("link", name=prescription.reference).first.wait_for()
    page.goto(f"/prescriber/renewals/{renewal.pk}/")
    assert_accessible(page, "renewal request")
    page.get_by_label("Refills").fill("5")
    page.get_by_label("Type your full name to sign").fill("Grace Hopper")
    page.get_by_label("I am the prescriber named above").check()
    screenshot(page, "14-prescriber-renewal")
    page.get_by_role("button", name="Sign and renew").click()
    page.wait_for_load_state()

    renewal.refresh_from_db()
    new = renewal.new_prescription
    assert renewal.status == "approved" and new is not None
    assert (new.renewed_from_id, new.refills, new.status) == (prescription.pk, 5, S.AWAITING_QUESTIONNAIRE)
    assert not new.is_altered
    page.get_by_text(f"Renewal of {prescription.reference}").wait_for()


def test_check_in_suggests_morning_dosing_and_reaches_the_pharmacist(page, phone_page, staff):  # noqa: F811
    people = {"pharmacist": staff["pharmacist"], "technician": staff["technician"]}
    prescription = advance(make_prescription(staff["prescriber"]), S.COMPLETED, **people)
    assert follow_up_send(prescription_id=prescription.pk, now=timezone.now())
    follow_up = FollowUp.objects.get(prescription=prescription)

    phone_page.goto(f"/check-in/{follow_up.token}")
    assert "Lovelace" not in phone_page.content()
    phone_page.get_by_label("Your date of birth").fill("1980-02-29")
    phone_page.get_by_role("button", name="Continue").click()
    for code, level in (("sleep_problems", "bothersome"), ("vivid_dreams", "mild"), ("nausea", "none"),
                        ("headache", "none")):  # fmt: skip
        phone_page.locator(f'label[for="id_{code}_{("none", "mild", "bothersome").index(level)}"]').click()
    assert_accessible(phone_page, "check-in")
    screenshot(phone_page, "15-patient-check-in")
    phone_page.get_by_role("button", name="Send my answers").click()
    phone_page.get_by_text("morning").first.wait_for()
    assert_accessible(phone_page, "check-in thanks")

    sign_in(page, "paula@example.test", PASSWORD)
    page.goto("/pharmacy/follow-ups/")
    page.get_by_role("link", name=prescription.reference).wait_for()
    assert "Trouble sleeping" in page.content()
    assert_accessible(page, "follow-up list")
    screenshot(page, "16-pharmacy-follow-ups")
