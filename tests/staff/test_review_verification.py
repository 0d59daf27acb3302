"""The review page: a verify form per flag, the verification shown afterwards with who and when, the
approve form saying which warnings are verified, and a new questionnaire link for the patient."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from intake.models import AuditRecord, PrescriptionEvent, PrescriptionStatus
from tests.factories import clean_answers
from tests.screening.helpers import NOTE, flags_of, in_review, snapshot

S = PrescriptionStatus
OLD_LINE = clean_answers(current_medications=["oxycodone 10 mg last year"], thyroid_medication=True)


@pytest.fixture
def old_line(prescriber, pharmacist, technician):
    """In review: an opioid line of history (a verifiable hard stop) and a thyroid warning."""
    return in_review(prescriber, pharmacist=pharmacist, technician=technician, answers=OLD_LINE)


def review(client, prescription):
    return client.get(reverse("staff:review", args=[prescription.pk]))


def verify(client, prescription, **fields):
    data = {"verify-code": "opioid_use", "verify-field": "current_medications[0]", "verify-method": "pdmp_reviewed",
            "verify-note": NOTE, **fields}  # fmt: skip
    return client.post(reverse("staff:verify_flag", args=[prescription.pk]), data)


def test_each_verifiable_flag_has_a_verify_form_with_the_methods(client, login, old_line, pharmacist):
    login(client, pharmacist)

    body = review(client, old_line).content.decode()

    assert body.count('action="' + reverse("staff:verify_flag", args=[old_line.pk]) + '"') == 2
    for label in ("Checked the state PDMP report", "Confirmed with the prescriber", "Spoke with the patient",
                  "Reviewed the patient&#x27;s records"):  # fmt: skip
        assert label in body
    assert 'name="verify-note"' in body
    assert 'id="id_verify0_verify-method"' in body and 'id="id_verify1_verify-method"' in body  # one id per form
    assert "A hard stop blocks approval until it is verified: Opioid use" in body
    assert 'name="approve-reason_thyroid"' in body


def test_a_pharmacist_verifies_on_the_page_and_sees_who_how_and_when(client, login, old_line, pharmacist):
    login(client, pharmacist)

    response = verify(client, old_line)

    assert response.status_code == 302
    (stop,) = [flag for flag in flags_of(old_line) if flag["code"] == "opioid_use"]
    assert stop["verification"]["method"] == "pdmp_reviewed"
    body = review(client, old_line).content.decode()
    assert "The flag “Opioid use” is verified." in body
    assert "Verified</strong> by Paula Pharmacist on" in body
    assert "Checked the state PDMP report." in body
    assert NOTE in body
    assert "A hard stop blocks approval" not in body
    # the history (audit trail) names it too
    assert "Flag verified" in body
    assert AuditRecord.objects.filter(actor=pharmacist, description="verified the flag “Opioid use”").exists()


def test_the_approve_form_says_which_warnings_are_verified(client, login, old_line, pharmacist):
    login(client, pharmacist)
    verify(client, old_line)
    thyroid = {"verify-code": "thyroid", "verify-field": "thyroid_medication", "verify-method": "patient_interview",
               "verify-note": "Spoke with the patient: TSH checked last month, dose stable."}  # fmt: skip
    verify(client, old_line, **thyroid)

    body = review(client, old_line).content.decode()

    assert 'Thyroid medication (Thyroid medication): <span class="text-success">verified by Paula Pharmacist' in body
    assert 'name="approve-reason_thyroid"' not in body
    approved = client.post(reverse("staff:approve", args=[old_line.pk]), {})
    assert approved.status_code == 302
    old_line.refresh_from_db()
    assert old_line.status == S.APPROVED


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"verify-note": "ok"}, "Write a sentence a colleague could act on"),
        ({"verify-note": ""}, "This field is required."),
        ({"verify-method": ""}, "This field is required."),
        ({"verify-method": "vibes"}, "Select a valid choice."),
    ],
)
def test_a_bad_verification_comes_back_on_its_field_and_changes_nothing(
    client, login, old_line, pharmacist, fields, message
):
    login(client, pharmacist)
    before = snapshot(old_line)

    response = verify(client, old_line, **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot(old_line) == before


def test_a_hard_stop_from_the_answers_shows_no_verify_form(client, login, prescriber, pharmacist, technician):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician,
                             answers=clean_answers(takes_opioids=True))  # fmt: skip
    login(client, pharmacist)

    body = review(client, prescription).content.decode()

    assert "Cannot be verified: it comes from the patient's own answers" in body
    assert 'name="verify-code"' not in body
    assert "Send a new questionnaire link" in body
    # and a forged post is refused by the service, nothing changed
    before = snapshot(prescription)
    refused = verify(client, prescription, **{"verify-field": "takes_opioids"})
    assert refused.status_code == 302
    assert snapshot(prescription) == before


def test_a_strength_above_the_range_asks_for_the_prescribers_confirmation(
    client, login, prescriber, pharmacist, technician
):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("6"),
                             titration=())  # fmt: skip
    login(client, pharmacist)
    before = snapshot(prescription)

    body = review(client, prescription).content.decode()
    refused = verify(client, prescription, **{"verify-code": "dose_range", "verify-field": "strength_mg",
                                              "verify-method": "patient_interview"})  # fmt: skip

    assert "needs the prescriber's confirmation" in body
    assert 'name="approve-reason_dose_range"' not in body
    assert refused.status_code == 400
    assert "verified only by confirming it with the prescriber: choose “Confirmed with the prescriber”" in (
        refused.content.decode()
    )
    assert snapshot(prescription) == before


def test_approving_a_strength_above_the_range_says_how_to_clear_it_in_words(
    client, login, prescriber, pharmacist, technician
):
    prescription = in_review(prescriber, pharmacist=pharmacist, technician=technician, strength_mg=Decimal("6"),
                             titration=())  # fmt: skip
    login(client, pharmacist)
    before = snapshot(prescription)

    refused = client.post(reverse("staff:approve", args=[prescription.pk]),
                          {"approve-reason_dose_range": "Prescriber wants a higher dose for pain."})  # fmt: skip

    body = refused.content.decode()
    assert refused.status_code == 400
    assert "approved only once the prescriber has confirmed it" in body
    assert "Verify the flag with “Confirmed with the prescriber”" in body
    assert "verify_flag" not in body
    assert snapshot(prescription) == before


def test_a_technician_may_not_verify(client, login, old_line, technician):
    login(client, technician)
    before = snapshot(old_line)

    body = review(client, old_line).content.decode()
    response = verify(client, old_line)

    assert 'name="verify-code"' not in body
    assert response.status_code == 403
    assert snapshot(old_line) == before


def test_the_pharmacist_sends_a_new_questionnaire_link(client, login, old_line, pharmacist):
    login(client, pharmacist)
    old_token = old_line.questionnaire_token

    response = client.post(reverse("staff:request_rescreen", args=[old_line.pk]),
                           {"rescreen-message": "Please list the medicines you take now."})  # fmt: skip

    assert response.status_code == 302
    old_line.refresh_from_db()
    assert old_line.status == S.AWAITING_QUESTIONNAIRE
    assert old_line.questionnaire_token != old_token
    event = PrescriptionEvent.objects.filter(prescription=old_line).latest("id")
    assert event.message == "Please list the medicines you take now."


def test_a_rescreen_without_a_message_changes_nothing(client, login, old_line, pharmacist):
    login(client, pharmacist)
    before = snapshot(old_line)

    response = client.post(reverse("staff:request_rescreen", args=[old_line.pk]), {"rescreen-message": " "})

    assert response.status_code == 400
    assert snapshot(old_line) == before
