"""The patient's status page with its refill and renewal buttons, and the questionnaire to confirm
before a late refill: the private link and the order-number lookup, time moved by time-machine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from intake.models import (
    AuditAction,
    AuditRecord,
    Fill,
    Prescriber,
    Prescription,
    PrescriptionStatus,
    Questionnaire,
    RenewalRequest,
    RenewalStatus,
)
from intake.services.prescriptions import Signature
from intake.services.refills import renewal_approve
from intake.when import date_words
from tests.factories import make_prescription
from tests.patient.conftest import assert_nothing_clinical
from tests.workflow_helpers import advance

S = PrescriptionStatus
BIRTH_DATE = "1980-02-29"  # tests.factories.patient_details
REFILL_AFTER_DAYS = 23  # 75% of a 30-day supply, rounded up (intake/clinical/data/refills.json)


@pytest.fixture(autouse=True)
def _clear_cache():
    # The throttles count in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


def dispensed(prescriber: Prescriber, pharmacist, technician, *, refills: int = 3) -> Prescription:
    """Shipped and delivered today: the first fill is handed over."""
    prescription = make_prescription(prescriber, refills=refills, days_supply=30)
    return advance(prescription, S.COMPLETED, pharmacist=pharmacist, technician=technician)


def days_later(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


def status_link(prescription: Prescription, suffix: str = "") -> str:
    """The page's own spelling (reverse() drops the optional trailing slash)."""
    return f"/status/{prescription.questionnaire_token}" + (f"/{suffix}" if suffix else "")


def unlocked(client: Client, prescription: Prescription) -> Client:
    """The patient's browser after confirming the birth date at the private link."""
    response = client.post(status_link(prescription), {"date_of_birth": BIRTH_DATE})
    assert response.status_code == 302
    return client


def looked_up(client: Client, prescription: Prescription) -> Any:
    """The patient's browser after the order number and birth date; returns the status page."""
    response = client.post("/status/", {"reference": prescription.reference, "date_of_birth": BIRTH_DATE})
    assert response.status_code == 200
    return response


def renewed(prescription: Prescription, prescriber: Prescriber) -> Prescription:
    """The prescriber approves the patient's waiting renewal request: the new prescription."""
    renewal = RenewalRequest.objects.get(prescription=prescription, status=RenewalStatus.PENDING)
    signature = Signature(name=prescriber.user.get_full_name(), attested=True, ip_address="127.0.0.1")
    return renewal_approve(renewal_id=renewal.pk, actor=prescriber.user, signature=signature, refills=3)


def state_of(prescription: Prescription) -> tuple[Any, ...]:
    fresh = Prescription.objects.get(pk=prescription.pk)
    fills = list(Fill.objects.filter(prescription=fresh).values_list("number", "status"))
    renewals = list(RenewalRequest.objects.filter(prescription=fresh).values_list("status", flat=True))
    return fresh.status, fresh.fill_number, fresh.refills_used, fills, renewals, fresh.events.count()


# --- what the status page shows ------------------------------------------------------------------


def test_an_order_in_progress_shows_its_fill_refills_and_validity_without_buttons(client, prescriber) -> None:
    prescription = make_prescription(prescriber, refills=3)

    body = unlocked(client, prescription).get(status_link(prescription)).content.decode()

    assert "Fill 1" in body
    assert "3 of 3 refills left" in body
    valid_until = prescription.written_on.replace(year=prescription.written_on.year + 1) - timedelta(days=1)
    assert f"Valid until {date_words(valid_until)}" in body
    assert "Ask for a refill" not in body
    assert "Ask your prescriber to renew" not in body
    assert_nothing_clinical(body)


def test_just_handed_over_is_too_soon_with_the_date(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)

    body = unlocked(client, prescription).get(status_link(prescription)).content.decode()

    earliest = timezone.localdate() + timedelta(days=REFILL_AFTER_DAYS)
    assert f"Too soon for a refill: you can ask for one from {date_words(earliest)}." in body
    assert "3 of 3 refills left" in body
    assert "Ask for a refill" not in body
    assert_nothing_clinical(body)


def test_once_75_percent_of_the_supply_has_passed_the_refill_button_shows(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)

    body = unlocked(client, prescription).get(status_link(prescription)).content.decode()

    assert "Ask for a refill" in body
    assert f'action="/status/{prescription.questionnaire_token}/refill"' in body
    assert "Too soon" not in body


def test_no_refills_left_offers_a_renewal(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=0)

    body = unlocked(client, prescription).get(status_link(prescription)).content.decode()

    assert "This prescription has no refills." in body
    assert "No refills are left on this prescription." in body
    assert "Ask your prescriber to renew" in body
    assert "Ask for a refill" not in body


def test_an_expired_prescription_offers_a_renewal_on_the_lookup_page(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=3)
    time_machine.move_to(days_later(366), tick=False)

    body = looked_up(client, prescription).content.decode()

    assert "cannot be refilled after that" in body
    assert "Ask your prescriber to renew" in body
    assert 'action="/status/renewal/"' in body
    assert f'name="reference" value="{prescription.reference}"' in body
    assert "Ask for a refill" not in body


def test_a_pending_renewal_says_when_it_was_asked(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=0)
    unlocked(client, prescription).post(status_link(prescription, "renewal"))

    body = client.get(status_link(prescription)).content.decode()

    assert f"Renewal asked on {date_words(timezone.localdate())}, waiting for your prescriber." in body
    assert "Ask your prescriber to renew" not in body


def test_a_renewed_prescription_gives_the_new_order_number(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=0)
    unlocked(client, prescription).post(status_link(prescription, "renewal"))
    new = renewed(prescription, prescriber)

    body = client.get(status_link(prescription)).content.decode()

    assert f"Renewed: your new order number is <strong>{new.reference}</strong>." in body
    assert "Ask your prescriber to renew" not in body
    assert "waiting for your prescriber" not in body


# --- asking for a refill ---------------------------------------------------------------------------


def test_patient_asks_for_a_refill_from_the_private_link(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    # given: three weeks and a bit after the first fill was handed over
    prescription = dispensed(prescriber, pharmacist, technician)
    old_token = prescription.questionnaire_token
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)
    unlocked(client, prescription)

    # when
    response = client.post(status_link(prescription, "refill"), follow=True)

    # then: the refill waits for the short re-screen, asked at once through the new link
    prescription.refresh_from_db()
    assert prescription.questionnaire_token != old_token
    assert response.redirect_chain[-1][0] == f"/questionnaire/{prescription.questionnaire_token}"
    body = response.content.decode()
    assert "We have your refill request. First, please answer four short health questions." in body
    assert "Before every refill we ask four questions again" in body
    status, fill_number, refills_used, fills, _renewals, _events = state_of(prescription)
    assert (status, fill_number, refills_used) == (S.AWAITING_QUESTIONNAIRE, 2, 1)
    assert fills == [(1, S.COMPLETED), (2, S.AWAITING_QUESTIONNAIRE)]
    assert Fill.objects.get(prescription=prescription, number=2).requested_by == "patient"
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, action=AuditAction.ACTION,
        description="refill asked by the patient",
    ).exists()  # fmt: skip


def test_patient_asks_for_a_refill_from_the_lookup_page(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)
    looked_up(client, prescription)

    response = client.post("/status/refill/", {"reference": prescription.reference})

    prescription.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"/questionnaire/{prescription.questionnaire_token}"
    assert state_of(prescription)[:3] == (S.AWAITING_QUESTIONNAIRE, 2, 1)
    page = client.get(response["Location"]).content.decode()
    assert "We have your refill request. First, please answer four short health questions." in page
    assert "Before every refill we ask four questions again" in page


def test_a_refill_post_without_the_proven_birth_date_changes_nothing(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)
    before = state_of(prescription)

    by_reference = client.post("/status/refill/", {"reference": prescription.reference})
    by_link = client.post(status_link(prescription, "refill"))

    assert by_reference.status_code == 404
    assert "We could not find an order" in by_reference.content.decode()
    assert prescription.reference not in by_reference.content.decode()
    assert by_link.status_code == 200
    assert 'name="date_of_birth"' in by_link.content.decode()
    assert "your request was not sent" in by_link.content.decode()
    assert "Fill" not in by_link.content.decode()
    assert state_of(prescription) == before
    assert AuditRecord.objects.filter(prescription_reference=prescription.reference, action=AuditAction.DENIED).exists()


def test_another_patients_proof_does_not_open_the_refill(
    client, prescriber, other_prescriber, pharmacist, technician, time_machine
) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)
    other = make_prescription(other_prescriber, patient={"first_name": "Otto", "date_of_birth": date(1990, 5, 5)})
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)
    client.post("/status/", {"reference": other.reference, "date_of_birth": "1990-05-05"})
    before = state_of(prescription)

    response = client.post("/status/refill/", {"reference": prescription.reference})

    assert response.status_code == 404
    assert state_of(prescription) == before


def test_unproven_refill_posts_are_throttled_like_the_lookup(client, prescriber, settings) -> None:
    prescription = make_prescription(prescriber)
    misses_allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["patient_lookup"].split("/")[0])

    for _ in range(misses_allowed):
        assert client.post("/status/refill/", {"reference": prescription.reference}).status_code == 404
    response = client.post("/status/refill/", {"reference": prescription.reference})

    assert response.status_code == 429


def test_too_soon_answers_with_the_date_and_changes_nothing(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician)
    earliest = date_words(timezone.localdate() + timedelta(days=REFILL_AFTER_DAYS))
    before = state_of(prescription)

    by_link = unlocked(client, prescription).post(status_link(prescription, "refill"), follow=True)
    by_lookup = client.post("/status/refill/", {"reference": prescription.reference})

    assert f"you can ask for one from {earliest}" in by_link.content.decode()
    assert by_lookup.status_code == 409
    assert f"you can ask for one from {earliest}" in by_lookup.content.decode()
    assert state_of(prescription) == before


def test_a_get_on_a_button_url_goes_back_to_the_status_page(client, prescriber) -> None:
    prescription = make_prescription(prescriber)
    before = state_of(prescription)

    by_link = unlocked(client, prescription).get(status_link(prescription, "refill"))
    by_lookup = client.get("/status/renewal/")

    assert by_link.status_code == 302
    assert by_link["Location"] == status_link(prescription)
    assert by_lookup.status_code == 302
    assert by_lookup["Location"] == "/status/"
    assert state_of(prescription) == before


# --- asking for a renewal --------------------------------------------------------------------------


def test_asking_twice_for_a_renewal_makes_one_request(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=0)

    first = unlocked(client, prescription).post(status_link(prescription, "renewal"), follow=True)
    second = client.post("/status/renewal/", {"reference": prescription.reference})

    assert "We asked your prescriber on" in first.content.decode()
    assert second.status_code == 200
    renewals = RenewalRequest.objects.filter(prescription=prescription)
    assert renewals.count() == 1
    assert renewals.get().status == RenewalStatus.PENDING
    assert renewals.get().requested_by == "patient"
    assert Prescription.objects.get(pk=prescription.pk).status == S.COMPLETED


def test_a_renewal_while_refills_are_left_is_refused_with_a_message(client, prescriber, pharmacist, technician) -> None:
    prescription = dispensed(prescriber, pharmacist, technician, refills=3)
    looked_up(client, prescription)
    before = state_of(prescription)

    response = client.post("/status/renewal/", {"reference": prescription.reference})

    assert response.status_code == 409
    assert "ask for a refill instead" in response.content.decode()
    assert state_of(prescription) == before


# --- the questionnaire to confirm --------------------------------------------------------------------


def test_a_refill_asks_the_short_re_screen_and_screens_the_answers_again(
    client, prescriber, pharmacist, technician, time_machine
) -> None:
    # given: a refill asked for a few weeks after the first fill (answers far younger than 90 days)
    prescription = dispensed(prescriber, pharmacist, technician)
    old_token = prescription.questionnaire_token
    time_machine.move_to(days_later(REFILL_AFTER_DAYS), tick=False)
    looked_up(client, prescription)

    # when: the patient asks for a refill
    asked = client.post("/status/refill/", {"reference": prescription.reference})

    # then: a new link, opened for this browser, with the four questions asked afresh
    prescription.refresh_from_db()
    assert prescription.status == S.AWAITING_QUESTIONNAIRE
    assert prescription.questionnaire_token != old_token
    assert asked.status_code == 302
    assert asked["Location"] == f"/questionnaire/{prescription.questionnaire_token}"
    page = client.get(asked["Location"]).content.decode()
    assert "Before every refill we ask four questions again" in page
    assert 'value="vitamin D 2000 IU"' in page  # the medicines listed before, to correct
    assert 'name="takes_opioids"' in page and not _checked(page, "takes_opioids", "no")
    assert 'name="liver_condition"' in page and 'name="pregnancy"' in page
    assert 'name="alcohol_drinks_per_week"' not in page and 'name="naltrexone_allergy"' not in page
    assert 'name="attestation"' in page and not _checked(page, "attestation", "on")

    # when: the patient now takes an opioid and says so
    answers = {
        "takes_opioids": "yes", "liver_condition": "none", "pregnancy": "no", "attestation": "on",
        "medications-TOTAL_FORMS": "2", "medications-INITIAL_FORMS": "2",
        "medications-0-text": "vitamin D 2000 IU", "medications-1-text": "tramadol 50 mg since last week",
    }  # fmt: skip
    sent = client.post(f"/questionnaire/{prescription.questionnaire_token}", answers)

    # then: on to review, screened again; the answers not asked carried over
    assert sent.status_code == 302
    prescription.refresh_from_db()
    assert prescription.status == S.PENDING_REVIEW
    assert prescription.fill_number == 2
    assert "opioid_use" in {flag["code"] for flag in prescription.flags}
    questionnaire = Questionnaire.objects.get(prescription=prescription)
    assert questionnaire.takes_opioids is True
    assert questionnaire.current_medications == ["vitamin D 2000 IU", "tramadol 50 mg since last week"]
    assert (questionnaire.alcohol_drinks_per_week, questionnaire.naltrexone_allergy) == (2, False)
    assert AuditRecord.objects.filter(
        prescription_reference=prescription.reference, description="re-screen answered"
    ).exists()


def test_a_renewals_questionnaire_starts_from_the_old_answers(client, prescriber, pharmacist, technician) -> None:
    old = dispensed(prescriber, pharmacist, technician, refills=0)
    unlocked(client, old).post(status_link(old, "renewal"))
    new = renewed(old, prescriber)
    browser = Client()
    browser.post(f"/questionnaire/{new.questionnaire_token}", {"date_of_birth": BIRTH_DATE})

    page = browser.get(f"/questionnaire/{new.questionnaire_token}").content.decode()
    sent = browser.post(f"/questionnaire/{new.questionnaire_token}", _page_answers())

    assert "Please confirm your answers are still right" in page
    assert 'value="vitamin D 2000 IU"' in page
    assert _checked(page, "takes_opioids", "no")
    assert sent.status_code == 302
    new.refresh_from_db()
    assert new.status == S.PENDING_REVIEW
    assert (
        Questionnaire.objects.get(prescription=old).submitted_at
        < Questionnaire.objects.get(prescription=new).submitted_at
    )


def test_a_first_questionnaire_shows_no_confirm_intro(client, prescriber) -> None:
    prescription = make_prescription(prescriber)
    client.post(f"/questionnaire/{prescription.questionnaire_token}", {"date_of_birth": BIRTH_DATE})

    page = client.get(f"/questionnaire/{prescription.questionnaire_token}").content.decode()

    assert "Please confirm your answers" not in page
    assert not _checked(page, "takes_opioids", "no")


def _checked(page: str, name: str, value: str) -> bool:
    """Is the input with this name and value checked in the page's HTML?"""
    for tag in page.split("<input")[1:]:
        tag = tag.split(">", 1)[0]
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return " checked" in tag
    return False


def _page_answers(**overrides: str) -> dict[str, str]:
    data = {
        "takes_opioids": "no", "opioid_treatment_program": "no", "liver_condition": "none", "pregnancy": "no",
        "alcohol_drinks_per_week": "2", "naltrexone_allergy": "no", "thyroid_medication": "no",
        "immunosuppressants": "no", "surgery_within_14_days": "no", "attestation": "on",
        "medications-TOTAL_FORMS": "2", "medications-INITIAL_FORMS": "2",
        "medications-0-text": "vitamin D 2000 IU", "medications-1-text": "",
        "allergies-TOTAL_FORMS": "1", "allergies-INITIAL_FORMS": "1", "allergies-0-text": "",
    }  # fmt: skip
    data.update(overrides)
    return data
