"""The refill cycle through the services, with time moved: 75% of the supply, a fill of its own
with its own batch and dates, a short re-screen before every refill, and no refill past a year from writing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.errors import Conflict
from intake.models import CompoundingRecord, Fill, Prescription, PrescriptionStatus, Requester
from intake.services.refills import refill_request
from intake.when import date_words
from tests.clock.conftest import at_status
from tests.workflow_helpers import advance

S = PrescriptionStatus


def test_a_refill_is_a_fill_of_its_own(clock, prescriber, pharmacist, technician):
    # given: the first fill (30 days' supply) handed over today
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    handed_over = timezone.localdate()

    # when: 22 days later it is too soon, with the date it becomes possible
    clock.at(days=22)
    with pytest.raises(Conflict) as too_soon:
        refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
    assert date_words(handed_over + timedelta(days=23)) in too_soon.value.message
    assert Prescription.objects.get(pk=prescription.pk).refills_used == 0

    # and on day 23 the refill opens fill 2, which waits for the patient's re-screen
    clock.at(days=23)
    refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)
    opened = Prescription.objects.get(pk=prescription.pk)
    assert (opened.status, opened.fill_number, opened.refills_used, opened.refills_left) == (
        S.AWAITING_QUESTIONNAIRE, 2, 1, 2
    )  # fmt: skip

    # then: it is reviewed, compounded, checked and handed over like the first
    clock.at(days=24)
    advance(prescription, S.READY, pharmacist=pharmacist, technician=technician)
    clock.at(days=25)
    advance(prescription, S.COMPLETED, pharmacist=pharmacist, technician=technician)

    first, second = Fill.objects.filter(prescription=prescription).order_by("number")
    batches = {record.fill.number: record for record in CompoundingRecord.objects.filter(prescription=prescription)}
    assert sorted(batches) == [1, 2]
    assert (first.status, second.status) == (S.COMPLETED, S.COMPLETED)
    assert timezone.localdate(first.dispensed_at) == handed_over
    assert timezone.localdate(second.dispensed_at) == handed_over + timedelta(days=25)
    assert first.beyond_use_date == batches[1].beyond_use_date
    assert second.beyond_use_date == batches[2].beyond_use_date
    assert second.beyond_use_date > first.beyond_use_date  # its own batch, its own date
    assert second.refill_reminder_on == handed_over + timedelta(days=25 + 30 - 7)
    assert first.ready_at < second.ready_at


@pytest.mark.parametrize("days", [23, 91])
def test_every_refill_asks_for_the_re_screen_first(clock, prescriber, pharmacist, technician, days):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    old_token = prescription.questionnaire_token

    clock.at(days=days)
    refill_request(prescription_id=prescription.pk, actor=None, requester=Requester.PATIENT)

    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.fill_number, fresh.refills_used) == (S.AWAITING_QUESTIONNAIRE, 2, 1)
    assert fresh.questionnaire_token != old_token
    assert fresh.questionnaire_expires_at == timezone.now() + timedelta(days=30)
    assert Fill.objects.get(prescription=prescription, number=2).status == S.AWAITING_QUESTIONNAIRE


def test_no_refill_past_a_year_from_writing(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    written_on = Prescription.objects.get(pk=prescription.pk).written_on

    clock.at(days=366)
    with pytest.raises(Conflict) as expired:
        refill_request(prescription_id=prescription.pk, actor=pharmacist, requester=Requester.PHARMACY)

    assert "cannot be refilled" in expired.value.message
    assert date_words(written_on.replace(year=written_on.year + 1) - timedelta(days=1)) in expired.value.message
    fresh = Prescription.objects.get(pk=prescription.pk)
    assert (fresh.status, fresh.fill_number, fresh.refills_used) == (S.COMPLETED, 1, 0)
