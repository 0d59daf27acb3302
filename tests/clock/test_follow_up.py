"""The side-effect check-in: 14 days after a first fill is handed over, once, not for a renewal;
answers that need a pharmacist land in the follow-up list until reviewed."""

from __future__ import annotations

from intake.models import FollowUp, NotificationEvent, PrescriptionStatus, Requester
from intake.services.follow_up import follow_up_review, follow_up_submit, follow_ups_for_pharmacist
from intake.services.prescriptions import Signature
from intake.services.refills import renewal_approve, renewal_request
from intake.services.timers import pharmacy_clock
from tests.clock.conftest import at_status, sent
from tests.workflow_helpers import advance

S = PrescriptionStatus
E = NotificationEvent


def test_sent_14_days_after_the_first_fill_once(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)

    clock.at(days=13, hours=23)
    early = pharmacy_clock()
    clock.at(days=14)
    first = pharmacy_clock()
    second = pharmacy_clock()

    assert early.fired["follow_ups_sent"] == []
    assert first.fired["follow_ups_sent"] == [prescription.pk]
    assert second.fired["follow_ups_sent"] == []
    assert FollowUp.objects.filter(prescription=prescription).count() == 1
    assert [n.audience for n in sent(prescription, E.FOLLOW_UP_INVITATION)] == ["patient"]


def test_not_sent_for_a_renewal(clock, prescriber, pharmacist, technician):
    old = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician, refills=0)
    renewal = renewal_request(prescription_id=old.pk, actor=pharmacist, requester=Requester.PHARMACY)
    new = renewal_approve(renewal_id=renewal.pk, actor=prescriber.user, refills=2,
                          signature=Signature(name="Grace Hopper", attested=True, ip_address="127.0.0.1"))  # fmt: skip
    advance(new, S.COMPLETED, pharmacist=pharmacist, technician=technician)

    clock.at(days=15)
    run = pharmacy_clock()

    assert run.fired["follow_ups_sent"] == [old.pk]
    assert not FollowUp.objects.filter(prescription=new).exists()


def test_answers_that_need_a_pharmacist_wait_in_the_list_until_reviewed(clock, prescriber, pharmacist, technician):
    prescription = at_status(prescriber, S.COMPLETED, pharmacist=pharmacist, technician=technician)
    clock.at(days=14)
    pharmacy_clock()
    follow_up = FollowUp.objects.get(prescription=prescription)

    clock.at(days=15)
    follow_up_submit(
        token=follow_up.token, date_of_birth=prescription.patient.date_of_birth,
        symptoms={"sleep_problems": "bothersome", "vivid_dreams": "mild", "nausea": "none", "headache": "none"},
    )  # fmt: skip
    waiting = list(follow_ups_for_pharmacist())
    follow_up_review(follow_up_id=follow_up.pk, actor=pharmacist, note="Called: moving the dose to the morning.")

    assert waiting == [follow_up]
    assert list(follow_ups_for_pharmacist()) == []
    assert [n.audience for n in sent(prescription, E.FOLLOW_UP_FLAGGED)] == ["pharmacy"]
