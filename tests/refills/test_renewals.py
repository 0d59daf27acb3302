"""The prescriber decides renewal requests on the web: the list at home, the page, approve and deny."""

from __future__ import annotations

import pytest
from django.test import Client

from intake.models import (
    AuditAction,
    AuditRecord,
    Notification,
    NotificationEvent,
    Prescription,
    RenewalRequest,
    RenewalStatus,
)
from tests.refills.dispensing import dispensed, waiting_renewal

SIGNED = {"approve-refills": "2", "approve-signature_name": "Grace Hopper", "approve-signature_attestation": "on"}


def page_url(renewal: RenewalRequest) -> str:
    return f"/prescriber/renewals/{renewal.pk}/"


@pytest.fixture
def out_of_refills(prescriber, pharmacist, technician) -> Prescription:
    return dispensed(prescriber, pharmacist=pharmacist, technician=technician, refills=0)


@pytest.fixture
def renewal(out_of_refills) -> RenewalRequest:
    return waiting_renewal(out_of_refills)


@pytest.fixture
def prescriber_client(client: Client, login, prescriber) -> Client:
    login(client, prescriber.user)
    return client


def test_home_lists_the_requests_waiting_for_the_prescriber(prescriber_client, renewal, out_of_refills):
    html = prescriber_client.get("/prescriber/").content.decode()

    assert "Renewal requests waiting for you" in html
    assert out_of_refills.reference in html
    assert out_of_refills.patient.full_name in html
    assert "by the patient" in html
    assert page_url(renewal) in html


def test_home_of_another_prescriber_lists_none(client, login, other_prescriber, renewal):
    login(client, other_prescriber.user)

    html = client.get("/prescriber/").content.decode()

    assert "Renewal requests waiting for you" not in html


def test_the_page_shows_the_prescription_and_both_forms(prescriber_client, renewal, out_of_refills):
    response = prescriber_client.get(page_url(renewal))

    assert response.status_code == 200
    html = response.content.decode()
    assert out_of_refills.directions in html
    assert "Sign and renew" in html
    assert "Deny renewal" in html
    assert 'name="approve-signature_name"' in html
    assert AuditRecord.objects.filter(
        action=AuditAction.VIEW, prescription_reference=out_of_refills.reference, description="renewal request"
    ).exists()


def test_approving_signs_a_new_prescription_and_opens_it(prescriber_client, renewal, out_of_refills):
    response = prescriber_client.post(f"{page_url(renewal)}approve/", SIGNED)

    new = Prescription.objects.get(renewed_from=out_of_refills)
    assert response.status_code == 302
    assert response["Location"] == f"/prescriber/prescriptions/{new.pk}/"
    assert new.refills == 2
    assert not new.is_altered
    assert new.status == "awaiting_questionnaire"
    assert new.signed_from_ip == "127.0.0.1"
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.APPROVED
    assert renewal.new_prescription_id == new.pk
    assert Notification.objects.filter(prescription=new, event=NotificationEvent.QUESTIONNAIRE_INVITATION).exists()
    assert AuditRecord.objects.filter(action=AuditAction.CREATE, prescription_reference=new.reference).exists()
    page = prescriber_client.get(response["Location"]).content.decode()
    assert f"Renewed as {new.reference}" in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"approve-signature_attestation": ""}, "signature_attestation", "Confirm the attestation"),
        ({"approve-signature_name": "Someone Else"}, "signature_name", "Sign with your own name"),
        ({"approve-refills": "12"}, "refills", "less than or equal to 11"),
        ({"approve-refills": "many"}, "refills", "whole number"),
    ],
)
def test_a_wrong_approval_shows_the_error_on_the_field(prescriber_client, renewal, change, field, message):
    count = Prescription.objects.count()

    response = prescriber_client.post(f"{page_url(renewal)}approve/", {**SIGNED, **change})

    assert response.status_code == 400
    form = response.context["approve_form"]
    assert any(message in error for error in form.errors[field])
    assert Prescription.objects.count() == count
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


def test_denying_needs_a_reason(prescriber_client, renewal):
    response = prescriber_client.post(f"{page_url(renewal)}deny/", {"deny-reason": "   "})

    assert response.status_code == 400
    assert response.context["deny_form"].errors["reason"]
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


def test_denying_records_the_reason_and_tells_the_patient(prescriber_client, renewal, out_of_refills):
    response = prescriber_client.post(f"{page_url(renewal)}deny/", {"deny-reason": "Needs a visit first."})

    assert response.status_code == 302
    assert response["Location"] == f"/prescriber/prescriptions/{out_of_refills.pk}/"
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.DENIED
    assert renewal.denial_reason == "Needs a visit first."
    assert Notification.objects.filter(
        prescription=out_of_refills, event=NotificationEvent.RENEWAL_DENIED, audience="patient"
    ).exists()


def test_a_decided_request_shows_its_outcome_and_refuses_a_second_decision(prescriber_client, renewal):
    prescriber_client.post(f"{page_url(renewal)}deny/", {"deny-reason": "Needs a visit first."})
    count = Prescription.objects.count()

    page = prescriber_client.get(page_url(renewal)).content.decode()
    again = prescriber_client.post(f"{page_url(renewal)}approve/", SIGNED, follow=True)

    assert "Denied on" in page and "Sign and renew" not in page
    assert "already denied" in again.content.decode()
    assert Prescription.objects.count() == count


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("post", "approve/"), ("post", "deny/")])
def test_another_prescriber_gets_404(client, login, other_prescriber, renewal, method, suffix):
    login(client, other_prescriber.user)
    count = Prescription.objects.count()

    response = getattr(client, method)(f"{page_url(renewal)}{suffix}", {**SIGNED, "deny-reason": "No."})

    assert response.status_code == 404
    assert Prescription.objects.count() == count
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


@pytest.mark.parametrize("persona", ["pharmacist", "technician"])
def test_staff_get_403(client, login, request, persona, renewal):
    login(client, request.getfixturevalue(persona))

    page = client.get(page_url(renewal))
    approve = client.post(f"{page_url(renewal)}approve/", SIGNED)

    assert page.status_code == approve.status_code == 403
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.PENDING


def test_anonymous_goes_to_the_login_page(client, renewal):
    response = client.get(page_url(renewal))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
