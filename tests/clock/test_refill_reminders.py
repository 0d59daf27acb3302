"""The refill reminder: 7 days before the supply runs out, with refills left, once per fill."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from intake.models import Fill, NotificationEvent, Prescription, PrescriptionStatus, Requester
from intake.services.refills import refill_request
from intake.services.timers import pharmacy_clock
from tests.clock.conftest import at_status, sent
from tests.workflow_helpers import advance

S = PrescriptionStatus
E = NotificationEvent


def test_reminded_7_days_before_the_supply_runs_out_once(clock, prescriber, pharmacist, technician):
    # given: 30 days' supply handed over today
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    fill = Fill.objects.get(prescription=prescription, number=1)
    assert fill.refill_reminder_on == timezone.localdate() + timedelta(days=23)

    clock.at(days=22, hours=11)
    early = pharmacy_clock()
    clock.at(days=23)
    first = pharmacy_clock()
    second = pharmacy_clock()

    assert early.fired["refill_reminders"] == []
    assert first.fired["refill_reminders"] == [prescription.pk]
    assert second.fired["refill_reminders"] == []
    assert [n.audience for n in sent(prescription, E.REFILL_REMINDER)] == ["patient"]


def test_the_next_fill_is_reminded_again(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    clock.at(days=23)
    pharmacy_clock()
    refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
    advance(prescription, S.COMPLETED, pharmacist=pharmacist, technician=technician)

    clock.at(days=45)
    early = pharmacy_clock()
    clock.at(days=46)
    again = pharmacy_clock()
    pharmacy_clock()

    assert early.fired["refill_reminders"] == []
    assert again.fired["refill_reminders"] == [prescription.pk]
    assert len(sent(prescription, E.REFILL_REMINDER)) == 2


def test_no_reminder_without_refills_left(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician, refills=0)

    clock.at(days=23)
    run = pharmacy_clock()

    assert run.fired["refill_reminders"] == []
    assert sent(prescription, E.REFILL_REMINDER) == []


def test_no_reminder_past_the_prescriptions_expiry(clock, prescriber, pharmacist, technician):
    # given: written 350 days ago, so a year from writing passes before the reminder's day
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    Prescription.objects.filter(pk=prescription.pk).update(signed_at=timezone.now() - timedelta(days=350))

    clock.at(days=23)
    run = pharmacy_clock()

    assert run.fired["refill_reminders"] == []
    assert sent(prescription, E.REFILL_REMINDER) == []
