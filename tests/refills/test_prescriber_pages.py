"""The prescriber's detail page: fills, refills left, the next fill's choices and the renewal's state."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from intake.models import AuditAction, AuditRecord, Fill, Prescription, RenewalRequest, RenewalStatus
from intake.services.prescriptions import Signature
from intake.services.refills import renewal_approve, renewal_deny
from intake.when import date_words
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed, waiting_renewal


def detail_url(prescription: Prescription) -> str:
    return f"/prescriber/prescriptions/{prescription.pk}/"


@pytest.fixture
def handed_over(prescriber, pharmacist, technician) -> Prescription:
    return dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=3)


@pytest.fixture
def out_of_refills(prescriber, pharmacist, technician) -> Prescription:
    return dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)


@pytest.fixture
def prescriber_client(client: Client, login, prescriber) -> Client:
    login(client, prescriber.user)
    return client


def fills_of(prescription: Prescription) -> list[int]:
    return list(Fill.objects.filter(prescription=prescription).values_list("number", flat=True))


def test_the_page_shows_fills_refills_and_validity(prescriber_client, handed_over):
    response = prescriber_client.get(detail_url(handed_over))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Fills" in html
    assert "Refills: 0 used, 3 left" in html
    written = timezone.localdate(handed_over.signed_at)
    valid_until = written.replace(year=written.year + 1) - timedelta(days=1)
    assert f"valid until {date_words(valid_until)}" in html
    assert date_words(handed_over.beyond_use_date) in html
    assert AuditRecord.objects.filter(action=AuditAction.VIEW, prescription_reference=handed_over.reference).exists()


def test_too_soon_shows_the_date_and_no_button(prescriber_client, handed_over):
    html = prescriber_client.get(detail_url(handed_over)).content.decode()

    possible = timezone.localdate() + timedelta(days=REFILL_AFTER_DAYS)
    assert f"you can ask for one from {date_words(possible)}" in html
    assert "Ask the pharmacy for a refill" not in html


def test_the_prescriber_asks_for_a_refill(prescriber_client, login, prescriber, handed_over):
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        login(prescriber_client, prescriber.user)  # a new session: the first one has expired by then
        page = prescriber_client.get(detail_url(handed_over)).content.decode()
        response = prescriber_client.post(f"{detail_url(handed_over)}refill/", follow=True)

    assert "Ask the pharmacy for a refill" in page
    assert response.status_code == 200
    assert "Refill asked for: fill 2" in response.content.decode()
    assert fills_of(handed_over) == [1, 2]
    assert Fill.objects.get(prescription=handed_over, number=2).requested_by == "prescriber"
    refreshed = Prescription.objects.get(pk=handed_over.pk)
    assert (refreshed.status, refreshed.refills_used) == ("awaiting_questionnaire", 1)


def test_a_refill_too_soon_is_refused_with_the_date_and_changes_nothing(prescriber_client, handed_over):
    response = prescriber_client.post(f"{detail_url(handed_over)}refill/", follow=True)

    assert "Too soon for a refill" in response.content.decode()
    assert fills_of(handed_over) == [1]
    assert Prescription.objects.get(pk=handed_over.pk).refills_used == 0


def test_no_refill_left_offers_a_renewal(prescriber_client, out_of_refills):
    html = prescriber_client.get(detail_url(out_of_refills)).content.decode()

    assert "No refills are left" in html
    assert "Renew this prescription" in html
    assert "Ask the pharmacy for a refill" not in html


def test_renewing_opens_the_approve_form_of_the_prescribers_own_request(prescriber_client, out_of_refills):
    response = prescriber_client.post(f"{detail_url(out_of_refills)}renew/")

    renewal = RenewalRequest.objects.get(prescription=out_of_refills)
    assert response.status_code == 302
    assert response["Location"] == f"/prescriber/renewals/{renewal.pk}/"
    assert renewal.requested_by == "prescriber"
    assert renewal.status == RenewalStatus.PENDING


def test_renewing_twice_goes_to_the_same_request(prescriber_client, out_of_refills):
    first = prescriber_client.post(f"{detail_url(out_of_refills)}renew/")
    second = prescriber_client.post(f"{detail_url(out_of_refills)}renew/")

    assert first["Location"] == second["Location"]
    assert RenewalRequest.objects.filter(prescription=out_of_refills).count() == 1


def test_renewing_with_refills_left_is_refused(prescriber_client, handed_over):
    response = prescriber_client.post(f"{detail_url(handed_over)}renew/", follow=True)

    assert "ask for a refill instead" in response.content.decode()
    assert not RenewalRequest.objects.exists()


def test_a_pending_renewal_shows_on_the_page(prescriber_client, out_of_refills):
    renewal = waiting_renewal(out_of_refills)

    html = prescriber_client.get(detail_url(out_of_refills)).content.decode()

    assert "waiting for your decision" in html
    assert f"/prescriber/renewals/{renewal.pk}/" in html
    assert "Renew this prescription" not in html


def test_an_approved_renewal_links_both_ways(prescriber, prescriber_client, out_of_refills):
    renewal = waiting_renewal(out_of_refills)
    new = renewal_approve(renewal_id=renewal.pk, actor=prescriber.user, refills=1,
                          signature=Signature(name="Grace Hopper", attested=True))  # fmt: skip

    old_page = prescriber_client.get(detail_url(out_of_refills)).content.decode()
    new_page = prescriber_client.get(detail_url(new)).content.decode()

    assert f'Renewed as <a href="{detail_url(new)}">{new.reference}</a>' in old_page
    assert f'Renewal of <a href="{detail_url(out_of_refills)}">{out_of_refills.reference}</a>' in new_page


def test_a_denied_renewal_shows_the_reason(prescriber, prescriber_client, out_of_refills):
    renewal = waiting_renewal(out_of_refills)
    renewal_deny(renewal_id=renewal.pk, actor=prescriber.user, reason="Needs a visit first.")

    html = prescriber_client.get(detail_url(out_of_refills)).content.decode()

    assert "Renewal denied" in html
    assert "Needs a visit first." in html


@pytest.mark.parametrize("action", ["refill", "renew"])
def test_another_prescriber_gets_404_and_nothing_changes(client, login, other_prescriber, out_of_refills, action):
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        login(client, other_prescriber.user)
        response = client.post(f"{detail_url(out_of_refills)}{action}/")

    assert response.status_code == 404
    assert fills_of(out_of_refills) == [1]
    assert not RenewalRequest.objects.exists()


@pytest.mark.parametrize("action", ["refill", "renew"])
def test_staff_get_403_on_the_prescribers_buttons(client, login, pharmacist, out_of_refills, action):
    login(client, pharmacist)

    response = client.post(f"{detail_url(out_of_refills)}{action}/")

    assert response.status_code == 403
    assert fills_of(out_of_refills) == [1]
    assert not RenewalRequest.objects.exists()


def test_the_buttons_take_only_post(prescriber_client, handed_over):
    response = prescriber_client.get(f"{detail_url(handed_over)}refill/")

    assert response.status_code == 405
