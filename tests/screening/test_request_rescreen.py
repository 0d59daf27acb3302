"""prescription_request_rescreen: a new questionnaire link for the patient, the old one stops working."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from intake.errors import Conflict, Forbidden, NotFound
from intake.links import questionnaire_url
from intake.models import Action, Notification, NotificationEvent, PrescriptionEvent, PrescriptionStatus
from intake.notifications.rendering import notification_link
from intake.services import workflow
from intake.services.questionnaire import questionnaire_prescription, questionnaire_submit
from tests.factories import clean_answers, make_prescription
from tests.screening.helpers import in_review, snapshot
from tests.workflow_helpers import advance

S = PrescriptionStatus
MESSAGE = "The patient called: the opioid answer was a mistake."


@pytest.fixture
def answered_yes(prescriber, pharmacist, technician):
    """In review with a hard stop only the patient can change: they answered yes to opioids."""
    return in_review(prescriber, pharmacist=pharmacist, technician=technician,
                     answers=clean_answers(takes_opioids=True))  # fmt: skip


def test_a_new_link_replaces_the_old_one_and_the_patient_is_told(answered_yes, pharmacist):
    old_token = answered_yes.questionnaire_token

    rescreened = workflow.prescription_request_rescreen(prescription_id=answered_yes.pk, actor=pharmacist,
                                                        message=MESSAGE)  # fmt: skip

    assert rescreened.status == S.AWAITING_QUESTIONNAIRE
    assert rescreened.claimed_by_id is None
    assert rescreened.questionnaire_token != old_token
    with pytest.raises(NotFound):
        questionnaire_prescription(old_token)
    assert questionnaire_prescription(rescreened.questionnaire_token).pk == answered_yes.pk
    event = PrescriptionEvent.objects.filter(prescription=answered_yes).latest("id")
    assert (event.action, event.from_status, event.to_status, event.actor, event.message) == (
        Action.REQUEST_RESCREEN, S.IN_REVIEW, S.AWAITING_QUESTIONNAIRE, pharmacist, MESSAGE
    )  # fmt: skip
    (told,) = Notification.objects.filter(prescription=answered_yes, event=NotificationEvent.RESCREEN_REQUESTED)
    assert told.audience == "patient"
    assert notification_link(notification=told) == questionnaire_url(rescreened)
    # the flags stay, with the hard stop, until the new answers are screened
    assert rescreened.has_hard_stop


def test_the_new_answers_go_back_to_review_screened_again(answered_yes, pharmacist):
    rescreened = workflow.prescription_request_rescreen(prescription_id=answered_yes.pk, actor=pharmacist,
                                                        message=MESSAGE)  # fmt: skip

    answered = questionnaire_submit(token=rescreened.questionnaire_token,
                                    date_of_birth=answered_yes.patient.date_of_birth,
                                    answers={"takes_opioids": False, "liver_condition": "none", "pregnancy": "no",
                                             "attestation": True})  # fmt: skip

    assert answered.status == S.PENDING_REVIEW
    # "yes" then "no": not silently cleared; the pharmacist verifies it (it comes from history)
    hard_stops = {(f["code"], f["source"]) for f in answered.flags if f["severity"] == "hard_stop"}
    assert hard_stops == {("opioid_disclosure_changed", "history")}


@pytest.mark.parametrize("message", ["", "   ", "x" * 1001])
def test_a_missing_or_long_message_is_refused_and_changes_nothing(answered_yes, pharmacist, message):
    before = snapshot(answered_yes)

    with pytest.raises(ValidationError) as refused:
        workflow.prescription_request_rescreen(prescription_id=answered_yes.pk, actor=pharmacist, message=message)

    assert set(refused.value.message_dict) == {"message"}
    assert snapshot(answered_yes) == before


def test_only_a_pharmacist_asks(answered_yes, technician, prescriber):
    before = snapshot(answered_yes)

    # The prescriber sees the prescription, but the action is not theirs.
    for actor in (technician, prescriber.user):
        with pytest.raises(Forbidden):
            workflow.prescription_request_rescreen(prescription_id=answered_yes.pk, actor=actor, message=MESSAGE)

    assert snapshot(answered_yes) == before


def test_not_once_approved(prescriber, pharmacist, technician):
    approved = advance(make_prescription(prescriber), S.APPROVED, pharmacist=pharmacist, technician=technician)
    before = snapshot(approved)

    with pytest.raises(Conflict):
        workflow.prescription_request_rescreen(prescription_id=approved.pk, actor=pharmacist, message=MESSAGE)

    assert snapshot(approved) == before
