"""Every refill asks the patient a short re-screen first, through a new private link; its answers are
screened by the same engine with the earlier answers as history, then a pharmacist reviews them."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from intake.errors import Conflict
from intake.links import questionnaire_url
from intake.models import Notification, NotificationEvent, Prescription, PrescriptionStatus, Questionnaire, Requester
from intake.notifications.rendering import notification_link, notification_render
from intake.services import workflow
from intake.services.refills import refill_request
from tests.factories import clean_answers, make_prescription
from tests.refills.dispensing import REFILL_AFTER_DAYS, days_later, dispensed
from tests.workflow_helpers import advance

S = PrescriptionStatus
BIRTH_DATE = "1980-02-29"
SHORT = {"date_of_birth": BIRTH_DATE, "takes_opioids": False, "liver_condition": "none", "pregnancy": "no",
         "attestation": True}  # fmt: skip


def refilled(prescriber, pharmacist, technician, **answers: Any) -> Prescription:
    """Handed over (first answered with these changes to clean answers), then a refill asked for by
    the patient once it may be."""
    prescription = advance(make_prescription(prescriber, days_supply=30), S.COMPLETED, pharmacist=pharmacist,
                           technician=technician, answers=clean_answers(**answers))  # fmt: skip
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        return refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)


def answer(api, prescription: Prescription, body: dict[str, Any]):
    return api.post(f"/api/v1/questionnaires/{prescription.questionnaire_token}/", body, format="json")


def test_the_refill_sends_a_new_link_for_the_re_screen(prescriber, pharmacist, technician, api):
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    old_token = prescription.questionnaire_token

    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        waiting = refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)

    assert waiting.status == S.AWAITING_QUESTIONNAIRE
    assert waiting.questionnaire_token != old_token
    (invitation,) = Notification.objects.filter(prescription=prescription, event=NotificationEvent.RESCREEN_INVITATION)
    assert notification_link(notification=invitation) == questionnaire_url(waiting)
    assert "four short health questions" in notification_render(notification=invitation).text
    old = api.post(f"/api/v1/questionnaires/{old_token}/", SHORT, format="json")
    assert old.status_code == 404


def test_the_short_set_answers_the_re_screen_and_the_rest_carries_over(prescriber, pharmacist, technician, api):
    waiting = refilled(prescriber, pharmacist, technician, thyroid_medication=True, allergies=["penicillin: rash"])

    response = answer(api, waiting, SHORT)

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_review"
    questionnaire = Questionnaire.objects.get(prescription=waiting)
    assert questionnaire.thyroid_medication is True
    assert questionnaire.allergies == ["penicillin: rash"]
    assert questionnaire.current_medications == ["vitamin D 2000 IU"]
    fresh = Prescription.objects.get(pk=waiting.pk)
    assert (fresh.status, fresh.fill_number) == (S.PENDING_REVIEW, 2)
    assert "thyroid" in {flag["code"] for flag in fresh.flags}


def test_the_full_set_answers_a_re_screen_too(prescriber, pharmacist, technician, api):
    waiting = refilled(prescriber, pharmacist, technician)

    response = answer(api, waiting, clean_answers(alcohol_drinks_per_week=20))

    assert response.status_code == 201
    assert Questionnaire.objects.get(prescription=waiting).alcohol_drinks_per_week == 20


def test_new_medicines_are_added_to_the_list(prescriber, pharmacist, technician, api):
    waiting = refilled(prescriber, pharmacist, technician)

    response = answer(api, waiting, {**SHORT, "new_medications": ["tramadol 50 mg for a tooth"]})

    assert response.status_code == 201
    assert Questionnaire.objects.get(prescription=waiting).current_medications == [
        "vitamin D 2000 IU", "tramadol 50 mg for a tooth"
    ]  # fmt: skip
    fresh = Prescription.objects.get(pk=waiting.pk)
    assert fresh.status == S.PENDING_REVIEW
    assert any(f["code"] == "opioid_use" and f["source"] == "medications" for f in fresh.flags)


def test_a_re_screen_with_a_hard_stop_goes_to_the_pharmacist_and_cannot_be_approved(
    prescriber, pharmacist, technician, api
):
    waiting = refilled(prescriber, pharmacist, technician)

    answer(api, waiting, {**SHORT, "takes_opioids": True})

    fresh = Prescription.objects.get(pk=waiting.pk)
    assert fresh.status == S.PENDING_REVIEW
    assert fresh.flag_level == "hard_stop"
    workflow.prescription_claim(prescription_id=fresh.pk, actor=pharmacist)
    with pytest.raises(Conflict, match="opioid_use"):
        workflow.prescription_approve(prescription_id=fresh.pk, actor=pharmacist, override_reasons={})


def test_a_re_answer_never_silently_clears_a_disclosed_opioid(prescriber, pharmacist, technician, api):
    # given: the refill's re-screen lists tramadol; the pharmacist verifies it and asks again
    prescription = dispensed(prescriber, pharmacist=pharmacist, technician=technician)
    with time_machine.travel(days_later(REFILL_AFTER_DAYS), tick=False):
        waiting = refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
    answer(api, waiting, {**SHORT, "current_medications": ["tramadol 50 mg at night", "vitamin D 2000 IU"]})
    assert "opioid_use" in {flag["code"] for flag in Prescription.objects.get(pk=waiting.pk).flags}
    reviewed = Prescription.objects.get(pk=waiting.pk)
    workflow.prescription_claim(prescription_id=reviewed.pk, actor=pharmacist)
    workflow.prescription_verify_flag(prescription_id=reviewed.pk, actor=pharmacist, code="opioid_use",
                                      method="pdmp_reviewed",
                                      note="PDMP: one tramadol fill in March, none since.")  # fmt: skip
    workflow.prescription_request_rescreen(prescription_id=reviewed.pk, actor=pharmacist,
                                           message="Please confirm the medicines you take now.")  # fmt: skip

    # when: the next answer leaves tramadol out
    again = Prescription.objects.get(pk=waiting.pk)
    answer(api, again, {**SHORT, "current_medications": ["vitamin D 2000 IU"]})

    # then
    flags = Prescription.objects.get(pk=waiting.pk).flags
    (changed,) = [flag for flag in flags if flag["code"] == "opioid_disclosure_changed"]
    assert (changed["severity"], changed["source"], changed["verification"]) == ("hard_stop", "history", None)
    assert "tramadol" in changed["value"]


def test_the_short_set_does_not_answer_a_first_questionnaire(prescriber, api):
    prescription = make_prescription(prescriber)

    response = answer(api, prescription, SHORT)

    assert response.status_code == 400
    assert {"opioid_treatment_program", "alcohol_drinks_per_week", "naltrexone_allergy", "current_medications",
            "allergies"} <= set(response.json())  # fmt: skip
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.AWAITING_QUESTIONNAIRE
    assert not Questionnaire.objects.filter(prescription=prescription).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**SHORT, "takes_opioids": "no"}, "takes_opioids"),
        ({key: value for key, value in SHORT.items() if key != "takes_opioids"}, "takes_opioids"),
        ({**SHORT, "pregnancy": "maybe"}, "pregnancy"),
        ({**SHORT, "new_medications": "tramadol"}, "new_medications"),
        ({**SHORT, "attestation": False}, "attestation"),
    ],
)
def test_a_bad_re_screen_is_400_and_changes_nothing(prescriber, pharmacist, technician, api, body, field):
    waiting = refilled(prescriber, pharmacist, technician)
    before = Questionnaire.objects.get(prescription=waiting).submitted_at

    response = answer(api, waiting, body)

    assert response.status_code == 400
    assert field in response.json()
    assert Prescription.objects.get(pk=waiting.pk).status == S.AWAITING_QUESTIONNAIRE
    assert Questionnaire.objects.get(prescription=waiting).submitted_at == before
