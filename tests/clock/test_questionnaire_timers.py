"""The questionnaire's timers: a reminder 48 hours after it was asked for, expiry after 30 days."""

from __future__ import annotations

from intake.models import Fill, NotificationEvent, Prescription, PrescriptionEvent, PrescriptionStatus, Requester
from intake.services.refills import refill_request
from intake.services.timers import pharmacy_clock
from tests.clock.conftest import at_status, sent
from tests.factories import make_prescription

S = PrescriptionStatus
E = NotificationEvent


def test_reminder_48_hours_after_the_questionnaire_was_asked_for_once(clock, prescriber):
    prescription = make_prescription(prescriber)

    clock.at(hours=47)
    early = pharmacy_clock()
    clock.at(hours=48, minutes=1)
    first = pharmacy_clock()
    second = pharmacy_clock()

    assert early.fired["questionnaire_reminders"] == []
    assert first.fired["questionnaire_reminders"] == [prescription.pk]
    assert second.fired["questionnaire_reminders"] == []
    assert {n.audience for n in sent(prescription, E.QUESTIONNAIRE_REMINDER)} == {"patient"}
    assert len(sent(prescription, E.QUESTIONNAIRE_REMINDER)) == 1


def test_an_unanswered_first_fill_is_cancelled_after_30_days(clock, prescriber):
    prescription = make_prescription(prescriber)

    clock.at(days=29, hours=23)
    early = pharmacy_clock()
    clock.at(days=30, minutes=1)
    first = pharmacy_clock()
    second = pharmacy_clock()

    assert early.fired["questionnaires_expired"] == []
    assert first.fired["questionnaires_expired"] == [prescription.pk]
    assert second.fired["questionnaires_expired"] == []
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert fresh.status == S.CANCELLED
    assert Fill.objects.get(prescription=prescription, number=1).status == S.CANCELLED
    assert {n.audience for n in sent(prescription, E.QUESTIONNAIRE_EXPIRED)} == {"patient", "prescriber"}
    assert PrescriptionEvent.objects.filter(prescription=prescription, action="expire").count() == 1


def test_an_unanswered_re_screen_gives_the_refill_back(clock, prescriber, pharmacist, technician):
    # given: a first fill handed over today, and a refill asked for three months later
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    clock.at(days=91)
    refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)
    waiting = Prescription.objects.get(pk=prescription.pk)
    assert (waiting.status, waiting.fill_number, waiting.refills_used) == (S.AWAITING_QUESTIONNAIRE, 2, 1)

    # when: its re-screen is not answered within 30 days (reminded once on the way)
    clock.at(days=93, hours=1)
    reminded = pharmacy_clock()
    clock.at(days=121, minutes=1)
    first = pharmacy_clock()
    second = pharmacy_clock()

    # then: the prescription is back to its completed first fill, the refill is given back
    assert reminded.fired["questionnaire_reminders"] == [prescription.pk]
    assert first.fired["questionnaires_expired"] == [prescription.pk]
    assert second.fired["questionnaires_expired"] == []
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.fill_number, fresh.refills_used) == (S.COMPLETED, 1, 0)
    assert Fill.objects.get(prescription=prescription, number=2).status == S.CANCELLED
    assert Fill.objects.get(prescription=prescription, number=1).status == S.COMPLETED
    assert {n.audience for n in sent(prescription, E.QUESTIONNAIRE_EXPIRED)} == {"patient", "prescriber"}
