"""In a browser, at a phone's and a desktop's width: the pharmacist reads flags, severities, sources
and fields in words, never the codes the system keeps; dates read one way; and the patient of a
hard-stopped order is given no ready date, then one once the pharmacist has verified the stop."""

import json
import re
from datetime import date
from pathlib import Path

import pytest

from intake.models import PrescriptionStatus
from intake.services.questionnaire import questionnaire_submit
from intake.services.workflow import prescription_claim
from intake.when import date_words
from tests.e2e.conftest import assert_accessible, sign_in
from tests.e2e.test_journeys_pharmacy import staff  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, clean_answers, make_prescription

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
S = PrescriptionStatus
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
WORDS = json.loads((Path(__file__).resolve().parents[2] / "intake/clinical/data/words.json").read_text())
CODES = [*WORDS["flags"], *WORDS["severities"], *WORDS["sources"], *WORDS["methods"]]
RAW = re.compile(r"\b(" + "|".join(re.escape(code) for code in CODES if "_" in code) + r")\b|\w\[\d+\]")


def _hard_stopped(people: dict):
    prescription = make_prescription(people["prescriber"])
    questionnaire_submit(
        token=prescription.questionnaire_token,
        date_of_birth=date(1980, 2, 29),
        answers=clean_answers(thyroid_medication=True, current_medications=["vit D", "Norco 5/325 as needed"]),
    )
    return prescription_claim(prescription_id=prescription.pk, actor=people["pharmacist"])


def _context(browser, live_server, size: str):
    phone = size == "phone"
    return browser.new_context(base_url=live_server.url, viewport=SIZES[size], is_mobile=phone, has_touch=phone,
                               reduced_motion="reduce")  # fmt: skip


def _status_page(page, prescription) -> str:
    page.goto("/status/")
    page.get_by_label("Order number").fill(prescription.reference)
    page.locator('input[name="date_of_birth"]').fill("1980-02-29")
    page.get_by_role("button", name="Check my order").click()
    page.wait_for_load_state()
    return page.locator("main").inner_text()


@pytest.mark.parametrize("size", SIZES)
def test_the_pharmacist_reads_words_and_the_patient_no_date_until_the_stop_is_verified(
    browser,
    live_server,
    staff,  # noqa: F811
    size,
):
    prescription = _hard_stopped(staff)
    context = _context(browser, live_server, size)
    try:
        page = context.new_page()
        sign_in(page, staff["pharmacist"].email, PASSWORD)
        page.goto(f"/pharmacy/prescriptions/{prescription.pk}/")
        shown = page.locator("main").inner_text()

        assert RAW.search(shown) is None, RAW.search(shown)
        assert "Opioid use" in shown
        assert "Hard stop" in shown
        assert "Current medications, line 2" in shown
        assert date_words(date(1980, 2, 29)) in shown  # "February 29, 1980"
        assert_accessible(page, f"review words {size}")

        patient = context.browser.new_context(base_url=live_server.url, viewport=SIZES[size]).new_page()
        waiting = _status_page(patient, prescription)
        assert "Expected ready by" not in waiting

        # The pharmacist checks the medication list with the patient: the stop is verified.
        stop = page.locator('[data-flag-code="opioid_use"]')
        stop.get_by_text("Verify this flag").click()
        stop.get_by_label("How you checked it").select_option("patient_interview")
        stop.get_by_label("What you checked and what it showed").fill(
            "Called the patient: the Norco was stopped three weeks ago."
        )
        stop.get_by_role("button", name="Record verification").click()
        page.get_by_text("The flag “Opioid use” is verified.").wait_for()

        verified = _status_page(patient, prescription)
        assert "Expected ready by" in verified
        assert re.search(r"(Mon|Tues|Wednes|Thurs|Fri)day, [A-Z][a-z]+ \d{1,2}, \d{4}", verified), verified
        patient.context.close()
    finally:
        context.close()
