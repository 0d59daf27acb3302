"""A prescription on hold: a daily reminder to its prescriber from 24 hours, and one escalation to
the lead pharmacist after 3 days. A new hold, after an answer, counts again from its own start."""

from __future__ import annotations

import pytest

from intake.models import NotificationEvent, PrescriptionEvent, PrescriptionStatus, TimerFiring
from intake.services import workflow
from intake.services.timers import pharmacy_clock
from tests.clock.conftest import at_status, sent

S = PrescriptionStatus
E = NotificationEvent


@pytest.fixture(autouse=True)
def _lead(settings):
    settings.LEAD_PHARMACIST_EMAIL = "lead@pharmacy.example.test"


def test_nothing_before_24_hours(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)

    clock.at(hours=23, minutes=59)
    run = pharmacy_clock()

    assert run.fired["holds_nagged"] == []
    assert sent(prescription, E.CLARIFICATION_REMINDER) == []


def test_the_prescriber_is_reminded_once_a_day(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)

    clock.at(days=1, minutes=1)
    day_one = pharmacy_clock()
    again = pharmacy_clock()
    clock.at(days=1, hours=20)
    same_day = pharmacy_clock()
    clock.at(days=2, minutes=1)
    day_two = pharmacy_clock()

    assert day_one.fired["holds_nagged"] == [prescription.pk]
    assert again.fired["holds_nagged"] == same_day.fired["holds_nagged"] == []
    assert day_two.fired["holds_nagged"] == [prescription.pk]
    reminders = sent(prescription, E.CLARIFICATION_REMINDER)
    assert [(n.audience, n.recipient) for n in reminders] == [("prescriber", prescriber.user.email)] * 2
    assert sent(prescription, E.HOLD_ESCALATED) == []


def test_escalated_to_the_lead_pharmacist_once_after_3_days(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)

    for day in (1, 2):
        clock.at(days=day, minutes=1)
        pharmacy_clock()
    clock.at(days=2, hours=23)
    pharmacy_clock()
    assert sent(prescription, E.HOLD_ESCALATED) == []
    clock.at(days=3, minutes=1)
    pharmacy_clock()
    pharmacy_clock()
    clock.at(days=4, minutes=1)
    pharmacy_clock()

    escalations = sent(prescription, E.HOLD_ESCALATED)
    assert [(n.audience, n.recipient) for n in escalations] == [("lead_pharmacist", "lead@pharmacy.example.test")]
    assert len(sent(prescription, E.CLARIFICATION_REMINDER)) == 4
    assert PrescriptionEvent.objects.filter(prescription=prescription, message__contains="escalated").count() == 1


def test_a_new_hold_after_an_answer_counts_from_its_own_start(clock, prescriber, pharmacist, technician):
    # given: a hold nagged for 3 days and escalated, then answered by the prescriber
    prescription = at_status(prescriber, S.ON_HOLD, pharmacist=pharmacist, technician=technician)
    for day in (1, 2, 3):
        clock.at(days=day, minutes=1)
        pharmacy_clock()
    clock.at(days=3, hours=2)
    workflow.prescription_respond(prescription_id=prescription.pk, actor=prescriber.user, message="4.5 mg is right.")
    pharmacy_clock()
    assert len(sent(prescription, E.CLARIFICATION_REMINDER)) == 3

    # when: the pharmacist asks again, and time passes
    workflow.prescription_claim(prescription_id=prescription.pk, actor=pharmacist)
    workflow.prescription_request_clarification(prescription_id=prescription.pk, actor=pharmacist,
                                                message="And the quantity?")  # fmt: skip
    clock.at(days=4, hours=1)
    early = pharmacy_clock()
    clock.at(days=4, hours=2, minutes=1)
    first_day = pharmacy_clock()
    clock.at(days=6, hours=1)  # day 2 of the new hold, not yet 3 days of it
    pharmacy_clock()

    # then: a day of the new hold nags again, and the escalation waits 3 days of the new hold
    assert early.fired["holds_nagged"] == []
    assert first_day.fired["holds_nagged"] == [prescription.pk]
    assert len(sent(prescription, E.CLARIFICATION_REMINDER)) == 5
    assert len(sent(prescription, E.HOLD_ESCALATED)) == 1  # the first hold's
    clock.at(days=6, hours=2, minutes=1)
    pharmacy_clock()
    assert len(sent(prescription, E.HOLD_ESCALATED)) == 2
    assert TimerFiring.objects.filter(prescription=prescription, kind="hold_escalation").count() == 2
